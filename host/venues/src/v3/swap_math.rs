//! One step of a swap within a range of constant liquidity.

use alloy_primitives::U256;

use super::sqrt_price_math::{
    amount0_delta, amount1_delta, next_sqrt_price_from_input, next_sqrt_price_from_output,
};
use crate::VenueError;
use crate::math::{mul_div, mul_div_rounding_up};
use crate::v2::PIPS;

/// Result of [`compute_swap_step`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwapStep {
    /// Price after the step.
    pub sqrt_price_next: U256,
    /// Input consumed, fee excluded.
    pub amount_in: U256,
    /// Output produced.
    pub amount_out: U256,
    /// Fee taken from the input.
    pub fee_amount: U256,
}

/// Swap from `sqrt_current` towards `sqrt_target` with `liquidity`, using at
/// most `remaining` (input for exact-in, output for exact-out).
pub fn compute_swap_step(
    sqrt_current: U256,
    sqrt_target: U256,
    liquidity: u128,
    remaining: U256,
    exact_in: bool,
    fee_pips: u32,
) -> Result<SwapStep, VenueError> {
    let zero_for_one = sqrt_current >= sqrt_target;
    let pips = U256::from(PIPS);
    let fee = U256::from(fee_pips);
    let overflow = VenueError::Overflow { what: "swap step" };

    let (sqrt_next, reach_in, reach_out) = if exact_in {
        let remaining_less_fee = mul_div(remaining, pips - fee, pips).ok_or(overflow.clone())?;
        let to_target = if zero_for_one {
            amount0_delta(sqrt_target, sqrt_current, liquidity, true)?
        } else {
            amount1_delta(sqrt_current, sqrt_target, liquidity, true)?
        };
        let next = if remaining_less_fee >= to_target {
            sqrt_target
        } else {
            next_sqrt_price_from_input(sqrt_current, liquidity, remaining_less_fee, zero_for_one)?
        };
        (next, Some(to_target), None)
    } else {
        let to_target = if zero_for_one {
            amount1_delta(sqrt_target, sqrt_current, liquidity, false)?
        } else {
            amount0_delta(sqrt_current, sqrt_target, liquidity, false)?
        };
        let next = if remaining >= to_target {
            sqrt_target
        } else {
            next_sqrt_price_from_output(sqrt_current, liquidity, remaining, zero_for_one)?
        };
        (next, None, Some(to_target))
    };

    let reached = sqrt_next == sqrt_target;
    let (amount_in, mut amount_out) = if zero_for_one {
        (
            match reach_in {
                Some(a) if reached => a,
                _ => amount0_delta(sqrt_next, sqrt_current, liquidity, true)?,
            },
            match reach_out {
                Some(a) if reached => a,
                _ => amount1_delta(sqrt_next, sqrt_current, liquidity, false)?,
            },
        )
    } else {
        (
            match reach_in {
                Some(a) if reached => a,
                _ => amount1_delta(sqrt_current, sqrt_next, liquidity, true)?,
            },
            match reach_out {
                Some(a) if reached => a,
                _ => amount0_delta(sqrt_current, sqrt_next, liquidity, false)?,
            },
        )
    };
    if !exact_in && amount_out > remaining {
        amount_out = remaining;
    }
    let fee_amount = if exact_in && !reached {
        // The price stopped inside the range: whatever is left of the input
        // is the fee.
        remaining - amount_in
    } else {
        mul_div_rounding_up(amount_in, fee, pips - fee).ok_or(overflow)?
    };
    Ok(SwapStep {
        sqrt_price_next: sqrt_next,
        amount_in,
        amount_out,
        fee_amount,
    })
}
