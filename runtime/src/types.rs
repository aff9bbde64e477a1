//! The WIT world's types as Rust values, with conveniences.

pub use crate::bindings::exports::stratbox::strategy::strategy::{ActionOutcome, Failure, Fill};
pub use crate::bindings::stratbox::strategy::actions::{
    Action, Denial, LendingOp, LpClose, LpCollect, LpOpen, LpRange, Rejection, Swap, SwapAmount,
    VaultOp,
};
pub use crate::bindings::stratbox::strategy::oracle::{
    DeploymentInfo, LendingState, OracleError, PoolState, Position, PositionKind, VaultState,
};
pub use crate::bindings::stratbox::strategy::types::{
    ActionId, Amount, AssetAmount, BlockInfo, Candle, Level, Uint256,
};

/// A candle that closed since the previous tick, for a market named in
/// full. The runtime hands the guest the market's interned id instead
/// (`name-id` in the world), so no text crosses the boundary per tick.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MarketCandle {
    /// The market, e.g. `ETH/BTC`.
    pub market: String,
    /// The candle.
    pub candle: Candle,
}

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

    /// The amount as a decimal number of whole tokens with `decimals`
    /// decimals, without trailing zeros (`150000000` with 8 decimals is
    /// `1.5`).
    pub fn to_decimal_string(self, decimals: u8) -> String {
        let units = self.to_u128();
        let Some(scale) = 10u128.checked_pow(u32::from(decimals)) else {
            return units.to_string();
        };
        let (whole, fraction) = (units / scale, units % scale);
        if fraction == 0 {
            return whole.to_string();
        }
        let digits = format!("{fraction:0width$}", width = usize::from(decimals));
        format!("{whole}.{}", digits.trim_end_matches('0'))
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

#[cfg(test)]
mod tests {
    use super::Amount;

    #[test]
    fn amounts_split_and_join_128_bits() {
        for value in [0u128, 1, u64::MAX as u128, u64::MAX as u128 + 1, u128::MAX] {
            assert_eq!(Amount::from_u128(value).to_u128(), value);
        }
        assert_eq!(Amount::from_u128(1 << 64), Amount { hi: 1, lo: 0 });
    }

    #[test]
    fn decimal_strings_are_exact() {
        assert_eq!(Amount::from_u128(150_000_000).to_decimal_string(8), "1.5");
        assert_eq!(
            Amount::from_u128(1).to_decimal_string(18),
            "0.000000000000000001"
        );
        assert_eq!(Amount::from_u128(42).to_decimal_string(0), "42");
        assert_eq!(
            Amount::from_u128(u128::MAX).to_decimal_string(40),
            u128::MAX.to_string()
        );
    }
}
