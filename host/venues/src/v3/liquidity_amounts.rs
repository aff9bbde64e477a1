//! Liquidity a deposit buys, and ticks for human prices.

use alloy_primitives::U256;

use super::{amount0_delta, amount1_delta, q96, sqrt_ratio_at_tick};
use crate::VenueError;
use crate::math::{mul_div, to_u128};

fn liquidity_for_amount0(sqrt_a: U256, sqrt_b: U256, amount0: u128) -> Result<U256, VenueError> {
    let overflow = VenueError::Overflow {
        what: "liquidity for amount0",
    };
    let intermediate = mul_div(sqrt_a, sqrt_b, q96()).ok_or(overflow.clone())?;
    mul_div(U256::from(amount0), intermediate, sqrt_b - sqrt_a).ok_or(overflow)
}

fn liquidity_for_amount1(sqrt_a: U256, sqrt_b: U256, amount1: u128) -> Result<U256, VenueError> {
    mul_div(U256::from(amount1), q96(), sqrt_b - sqrt_a).ok_or(VenueError::Overflow {
        what: "liquidity for amount1",
    })
}

/// The most liquidity that at most `amount0` and `amount1` can provide in
/// the range `[sqrt_a, sqrt_b]` at the current price `sqrt_price`.
pub fn liquidity_for_amounts(
    sqrt_price: U256,
    sqrt_a: U256,
    sqrt_b: U256,
    amount0: u128,
    amount1: u128,
) -> Result<u128, VenueError> {
    let (sqrt_a, sqrt_b) = if sqrt_a > sqrt_b {
        (sqrt_b, sqrt_a)
    } else {
        (sqrt_a, sqrt_b)
    };
    if sqrt_a == sqrt_b {
        return Err(VenueError::InvalidRange {
            detail: "empty range".into(),
        });
    }
    let liquidity = if sqrt_price <= sqrt_a {
        liquidity_for_amount0(sqrt_a, sqrt_b, amount0)?
    } else if sqrt_price < sqrt_b {
        liquidity_for_amount0(sqrt_price, sqrt_b, amount0)?
            .min(liquidity_for_amount1(sqrt_a, sqrt_price, amount1)?)
    } else {
        liquidity_for_amount1(sqrt_a, sqrt_b, amount1)?
    };
    to_u128(liquidity, "liquidity")
}

/// The token amounts `liquidity` over `[lower, upper)` is worth in a pool at
/// `sqrt_price` (whose tick is `tick`), as `UniswapV3Pool._modifyPosition`
/// computes them: rounded up for a deposit (`round_up`), down for a
/// withdrawal.
pub fn amounts_for_liquidity(
    (sqrt_price, tick): (U256, i32),
    lower: i32,
    upper: i32,
    liquidity: u128,
    round_up: bool,
) -> Result<(U256, U256), VenueError> {
    let (sqrt_lower, sqrt_upper) = (sqrt_ratio_at_tick(lower)?, sqrt_ratio_at_tick(upper)?);
    Ok(if tick < lower {
        (
            amount0_delta(sqrt_lower, sqrt_upper, liquidity, round_up)?,
            U256::ZERO,
        )
    } else if tick < upper {
        (
            amount0_delta(sqrt_price, sqrt_upper, liquidity, round_up)?,
            amount1_delta(sqrt_lower, sqrt_price, liquidity, round_up)?,
        )
    } else {
        (
            U256::ZERO,
            amount1_delta(sqrt_lower, sqrt_upper, liquidity, round_up)?,
        )
    })
}

/// The tick at or just below a price of token1 per token0 (in base units),
/// aligned down to `spacing`.
pub fn tick_for_price(price: f64, spacing: i32) -> Result<i32, VenueError> {
    if !(price.is_finite() && price > 0.0) || spacing <= 0 {
        return Err(VenueError::InvalidRange {
            detail: format!("price {price} / spacing {spacing}"),
        });
    }
    let raw = (price.ln() / 1.0001f64.ln()).floor();
    let tick = raw.clamp(f64::from(super::MIN_TICK), f64::from(super::MAX_TICK)) as i32;
    Ok(tick.div_euclid(spacing) * spacing)
}
