//! Shape checks on actions, before any policy sees them. A failure is an
//! `invalid` rejection returned to the guest.

use crate::types::{Action, Amount, Denial, LpRange, SwapAmount};

/// Most slippage a swap may tolerate: 100%.
const MAX_SLIPPAGE_BPS: u32 = 10_000;

/// Check that an action is well formed; `Err` carries the invalid denial.
pub(crate) fn validate(action: &Action) -> Result<(), Denial> {
    match action {
        Action::Swap(swap) => {
            non_empty("swap.sell", &swap.sell)?;
            non_empty("swap.buy", &swap.buy)?;
            if swap.sell == swap.buy {
                return Err(Denial::new(
                    "SAME_ASSET",
                    "swap",
                    &[("sell", &swap.sell), ("buy", &swap.buy)],
                ));
            }
            let amount = match swap.amount {
                SwapAmount::ExactIn(a) | SwapAmount::ExactOut(a) => a,
            };
            positive("swap.amount", amount)?;
            if swap.max_slippage_bps > MAX_SLIPPAGE_BPS {
                return Err(Denial::new(
                    "SLIPPAGE_OUT_OF_RANGE",
                    "swap.max_slippage_bps",
                    &[("bps", &swap.max_slippage_bps), ("max", &MAX_SLIPPAGE_BPS)],
                ));
            }
            if let Some(venue) = &swap.venue {
                non_empty("swap.venue", venue)?;
            }
        }
        Action::LpOpen(open) => {
            non_empty("lp_open.pool", &open.pool)?;
            if open.amount0.is_zero() && open.amount1.is_zero() {
                return Err(Denial::new(
                    "ZERO_AMOUNT",
                    "lp_open.amount",
                    &[("pool", &open.pool)],
                ));
            }
            let ordered = match open.range {
                LpRange::Price((lower, upper)) => {
                    lower.is_finite() && upper.is_finite() && lower > 0.0 && lower < upper
                }
                LpRange::Ticks((lower, upper)) => lower < upper,
            };
            if !ordered {
                return Err(Denial::new(
                    "BAD_RANGE",
                    "lp_open.range",
                    &[("range", &format_range(&open.range))],
                ));
            }
        }
        Action::LpClose(close) => non_empty("lp_close.position", &close.position)?,
        Action::LpCollect(collect) => non_empty("lp_collect.position", &collect.position)?,
        Action::Supply(op) | Action::Withdraw(op) | Action::Borrow(op) | Action::Repay(op) => {
            let kind = action.kind();
            non_empty(kind, &op.market)?;
            non_empty(kind, &op.asset)?;
            positive(kind, op.amount)?;
        }
        Action::VaultDeposit(op) | Action::VaultRequestRedeem(op) => {
            let kind = action.kind();
            non_empty(kind, &op.vault)?;
            positive(kind, op.amount)?;
        }
        Action::Hold(_) => {}
    }
    Ok(())
}

fn non_empty(field: &str, value: &str) -> Result<(), Denial> {
    if value.trim().is_empty() {
        return Err(Denial::new("EMPTY_FIELD", field, &[("field", &field)]));
    }
    Ok(())
}

fn positive(field: &str, amount: Amount) -> Result<(), Denial> {
    if amount.is_zero() {
        return Err(Denial::new("ZERO_AMOUNT", field, &[("amount", &0)]));
    }
    Ok(())
}

fn format_range(range: &LpRange) -> String {
    match range {
        LpRange::Price((lower, upper)) => format!("{lower}..{upper}"),
        LpRange::Ticks((lower, upper)) => format!("{lower}..{upper}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{LendingOp, LpOpen, Swap};

    fn swap(sell: &str, buy: &str, amount: u128, bps: u32) -> Action {
        Action::Swap(Swap {
            sell: sell.into(),
            buy: buy.into(),
            amount: SwapAmount::ExactIn(amount.into()),
            max_slippage_bps: bps,
            venue: None,
        })
    }

    fn code(action: &Action) -> Option<String> {
        validate(action).err().map(|d| d.code)
    }

    #[test]
    fn well_formed_actions_pass() {
        assert_eq!(code(&swap("ETH", "USDC", 1, 50)), None);
        assert_eq!(code(&Action::Hold("flat".into())), None);
    }

    #[test]
    fn malformed_actions_are_named() {
        assert_eq!(
            code(&swap("ETH", "ETH", 1, 50)).as_deref(),
            Some("SAME_ASSET")
        );
        assert_eq!(
            code(&swap("ETH", "USDC", 0, 50)).as_deref(),
            Some("ZERO_AMOUNT")
        );
        assert_eq!(
            code(&swap("ETH", "USDC", 1, 10_001)).as_deref(),
            Some("SLIPPAGE_OUT_OF_RANGE")
        );
        assert_eq!(
            code(&swap("", "USDC", 1, 50)).as_deref(),
            Some("EMPTY_FIELD")
        );
        let inverted = Action::LpOpen(LpOpen {
            pool: "ETH/USDC".into(),
            range: LpRange::Ticks((10, -10)),
            amount0: 1u64.into(),
            amount1: 1u64.into(),
        });
        assert_eq!(code(&inverted).as_deref(), Some("BAD_RANGE"));
        let nan_range = Action::LpOpen(LpOpen {
            pool: "ETH/USDC".into(),
            range: LpRange::Price((f64::NAN, 2.0)),
            amount0: 1u64.into(),
            amount1: 0u64.into(),
        });
        assert_eq!(code(&nan_range).as_deref(), Some("BAD_RANGE"));
        let zero_borrow = Action::Borrow(LendingOp {
            market: "aave".into(),
            asset: "USDC".into(),
            amount: Amount::ZERO,
        });
        assert_eq!(code(&zero_borrow).as_deref(), Some("ZERO_AMOUNT"));
    }

    #[test]
    fn denial_detail_is_code_key_value() {
        let d = validate(&swap("ETH", "USDC", 1, 20_000)).unwrap_err();
        assert_eq!(d.detail, "SLIPPAGE_OUT_OF_RANGE: bps=20000 max=10000");
        assert_eq!(d.rule, "swap.max_slippage_bps");
    }
}
