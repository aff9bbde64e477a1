//! Conveniences on actions.

use crate::types::Action;

impl Action {
    /// The action's kind as policies and journals name it (`swap`,
    /// `lp_open`, ...), the same names the host uses.
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
