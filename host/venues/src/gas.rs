//! Gas cost of actions: gas units per action kind times a gas price.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Gas units per action kind (keys are `Action::kind()` names) and a gas
/// price in wei of the chain's native asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GasModel {
    /// Price of one gas unit, in wei.
    pub gas_price_wei: u128,
    /// Gas units by action kind.
    pub units: BTreeMap<String, u64>,
    /// Extra units when an ERC-20 approval precedes the action.
    pub approval_units: u64,
}

impl Default for GasModel {
    /// Typical mainnet gas use at 20 gwei.
    fn default() -> Self {
        let units = [
            ("swap", 150_000),
            ("lp_open", 450_000),
            ("lp_close", 200_000),
            ("lp_collect", 120_000),
            ("supply", 200_000),
            ("withdraw", 220_000),
            ("borrow", 250_000),
            ("repay", 180_000),
            ("vault_deposit", 150_000),
            ("vault_request_redeem", 120_000),
            ("hold", 0),
        ]
        .into_iter()
        .map(|(kind, units)| (kind.to_owned(), units))
        .collect();
        GasModel {
            gas_price_wei: 20_000_000_000,
            units,
            approval_units: 46_000,
        }
    }
}

impl GasModel {
    /// A model where nothing costs gas (off-chain venues).
    pub fn free() -> Self {
        GasModel {
            gas_price_wei: 0,
            ..GasModel::default()
        }
    }

    /// Cost in wei of an action of `kind`, with or without an approval.
    pub fn cost_wei(&self, kind: &str, with_approval: bool) -> u128 {
        let units = self.units.get(kind).copied().unwrap_or(0)
            + if with_approval {
                self.approval_units
            } else {
                0
            };
        u128::from(units) * self.gas_price_wei
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swap_with_approval_at_20_gwei() {
        let model = GasModel::default();
        assert_eq!(model.cost_wei("swap", false), 150_000 * 20_000_000_000);
        assert_eq!(model.cost_wei("swap", true), 196_000 * 20_000_000_000);
        assert_eq!(GasModel::free().cost_wei("borrow", true), 0);
        assert_eq!(model.cost_wei("unknown", false), 0);
    }
}
