//! The WIT world's types as Rust values, with conveniences.

pub use crate::bindings::exports::stratbox::strategy::strategy::{
    ActionOutcome, Failure, Fill, TickContext,
};
pub use crate::bindings::stratbox::strategy::actions::{
    Action, Denial, LendingOp, LpClose, LpCollect, LpOpen, LpRange, Rejection, Swap, SwapAmount,
    VaultOp,
};
pub use crate::bindings::stratbox::strategy::oracle::{
    DeploymentInfo, LendingState, OracleError, PoolState, Position, PositionKind, VaultState,
};
pub use crate::bindings::stratbox::strategy::types::{
    ActionId, Amount, AssetAmount, BlockInfo, Candle, Level, MarketCandle, Uint256,
};

impl Amount {
    /// Zero.
    pub const ZERO: Amount = Amount { hi: 0, lo: 0 };

    /// From a 128-bit integer.
    pub const fn from_u128(value: u128) -> Amount {
        Amount {
            hi: (value >> 64) as u64,
            lo: value as u64,
        }
    }

    /// As a 128-bit integer.
    pub const fn to_u128(self) -> u128 {
        ((self.hi as u128) << 64) | self.lo as u128
    }

    /// Whether the amount is zero.
    pub const fn is_zero(self) -> bool {
        self.hi == 0 && self.lo == 0
    }
}

impl From<u128> for Amount {
    fn from(value: u128) -> Self {
        Amount::from_u128(value)
    }
}

impl From<u64> for Amount {
    fn from(value: u64) -> Self {
        Amount { hi: 0, lo: value }
    }
}

impl From<Amount> for u128 {
    fn from(value: Amount) -> Self {
        value.to_u128()
    }
}

impl std::fmt::Display for Amount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_u128())
    }
}

impl Action {
    /// The action's kind as written in policies and journals (`swap`,
    /// `lp_open`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Swap(_) => "swap",
            Action::LpOpen(_) => "lp_open",
            Action::LpClose(_) => "lp_close",
            Action::LpCollect(_) => "lp_collect",
            Action::Supply(_) => "supply",
            Action::Withdraw(_) => "withdraw",
            Action::Borrow(_) => "borrow",
            Action::Repay(_) => "repay",
            Action::VaultDeposit(_) => "vault_deposit",
            Action::VaultRequestRedeem(_) => "vault_request_redeem",
            Action::Hold(_) => "hold",
        }
    }
}

impl Denial {
    /// A denial with a stable `code`, the `rule` path that produced it and a
    /// `CODE: key=value` detail built from `fields`.
    pub fn new(code: &str, rule: &str, fields: &[(&str, &dyn std::fmt::Display)]) -> Denial {
        use std::fmt::Write;
        let mut detail = format!("{code}:");
        for (key, value) in fields {
            let _ = write!(detail, " {key}={value}");
        }
        Denial {
            code: code.to_owned(),
            rule: rule.to_owned(),
            detail,
        }
    }
}

impl std::fmt::Display for Denial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (rule {})", self.detail, self.rule)
    }
}
