//! Action kinds as policies name them.

use serde::{Deserialize, Serialize};

use crate::types::Action;

/// The kind of an action, as written in policy files and journals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)] // one variant per action of the WIT world
pub enum ActionKind {
    Swap,
    LpOpen,
    LpClose,
    LpCollect,
    Supply,
    Withdraw,
    Borrow,
    Repay,
    VaultDeposit,
    VaultRequestRedeem,
    Hold,
}

impl ActionKind {
    /// Every kind, in declaration order.
    pub const ALL: [ActionKind; 11] = [
        ActionKind::Swap,
        ActionKind::LpOpen,
        ActionKind::LpClose,
        ActionKind::LpCollect,
        ActionKind::Supply,
        ActionKind::Withdraw,
        ActionKind::Borrow,
        ActionKind::Repay,
        ActionKind::VaultDeposit,
        ActionKind::VaultRequestRedeem,
        ActionKind::Hold,
    ];

    /// The kind of `action`.
    pub fn of(action: &Action) -> ActionKind {
        match action {
            Action::Swap(_) => ActionKind::Swap,
            Action::LpOpen(_) => ActionKind::LpOpen,
            Action::LpClose(_) => ActionKind::LpClose,
            Action::LpCollect(_) => ActionKind::LpCollect,
            Action::Supply(_) => ActionKind::Supply,
            Action::Withdraw(_) => ActionKind::Withdraw,
            Action::Borrow(_) => ActionKind::Borrow,
            Action::Repay(_) => ActionKind::Repay,
            Action::VaultDeposit(_) => ActionKind::VaultDeposit,
            Action::VaultRequestRedeem(_) => ActionKind::VaultRequestRedeem,
            Action::Hold(_) => ActionKind::Hold,
        }
    }

    /// The name used in policy files (`swap`, `lp_open`, ...), the same as
    /// [`Action::kind`].
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Swap => "swap",
            ActionKind::LpOpen => "lp_open",
            ActionKind::LpClose => "lp_close",
            ActionKind::LpCollect => "lp_collect",
            ActionKind::Supply => "supply",
            ActionKind::Withdraw => "withdraw",
            ActionKind::Borrow => "borrow",
            ActionKind::Repay => "repay",
            ActionKind::VaultDeposit => "vault_deposit",
            ActionKind::VaultRequestRedeem => "vault_request_redeem",
            ActionKind::Hold => "hold",
        }
    }

    /// Position in [`ActionKind::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// Whether actions of this kind name token amounts (and so can be
    /// limited by amount, value and allowances).
    pub fn moves_tokens(self) -> bool {
        matches!(
            self,
            ActionKind::Swap
                | ActionKind::LpOpen
                | ActionKind::Supply
                | ActionKind::Withdraw
                | ActionKind::Borrow
                | ActionKind::Repay
                | ActionKind::VaultDeposit
        )
    }
}

impl std::fmt::Display for ActionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ActionKind;

    #[test]
    fn names_match_the_runtime_and_serde() {
        for (i, kind) in ActionKind::ALL.iter().enumerate() {
            assert_eq!(kind.index(), i);
            let json = serde_json::to_string(kind).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
    }
}
