//! Uniswap v3 concentrated liquidity: Q64.96 square-root prices, ticks of
//! 1.0001^(1/2) price steps, range positions, and fees that accrue to a
//! position only while the price is inside its range.

mod liquidity_amounts;
mod pool;
mod sqrt_price_math;
mod swap_math;
mod tick_math;

pub use liquidity_amounts::{amounts_for_liquidity, liquidity_for_amounts, tick_for_price};
pub use pool::{Pool, Position, PositionId, SwapOutcome, TickInfo};
pub use sqrt_price_math::{amount0_delta, amount1_delta};
pub use swap_math::{SwapStep, compute_swap_step};
pub use tick_math::{
    MAX_TICK, MIN_TICK, max_sqrt_ratio, min_sqrt_ratio, sqrt_ratio_at_tick, tick_at_sqrt_ratio,
};

use alloy_primitives::U256;

/// 2^96: the fixed-point scale of square-root prices.
pub fn q96() -> U256 {
    U256::from(1u8) << 96
}

/// 2^128: the fixed-point scale of fee growth.
pub fn q128() -> U256 {
    U256::from(1u8) << 128
}

/// Tick spacing of the standard fee tiers (fee in pips).
pub fn tick_spacing_for_fee(fee_pips: u32) -> Option<i32> {
    match fee_pips {
        100 => Some(1),
        500 => Some(10),
        3_000 => Some(60),
        10_000 => Some(200),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
