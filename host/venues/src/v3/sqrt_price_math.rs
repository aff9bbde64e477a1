//! Token amounts between two square-root prices for a given liquidity, and
//! the price an amount moves to. Rounding always favours the pool.

use alloy_primitives::{U256, U512};

use super::q96;
use crate::VenueError;
use crate::math::{div_rounding_up, mul_div, mul_div_rounding_up, narrow};

fn sorted(a: U256, b: U256) -> (U256, U256) {
    if a > b { (b, a) } else { (a, b) }
}

/// Token0 between two prices: `L * (sqrt_b - sqrt_a) / (sqrt_a * sqrt_b)`
/// in Q96 terms.
pub fn amount0_delta(
    sqrt_a: U256,
    sqrt_b: U256,
    liquidity: u128,
    round_up: bool,
) -> Result<U256, VenueError> {
    let (sqrt_a, sqrt_b) = sorted(sqrt_a, sqrt_b);
    if sqrt_a.is_zero() {
        return Err(VenueError::InvalidRange {
            detail: "zero square-root price".into(),
        });
    }
    let numerator1 = U256::from(liquidity) << 96;
    let numerator2 = sqrt_b - sqrt_a;
    let overflow = VenueError::Overflow {
        what: "amount0 delta",
    };
    if round_up {
        let step = mul_div_rounding_up(numerator1, numerator2, sqrt_b).ok_or(overflow)?;
        Ok(div_rounding_up(step, sqrt_a))
    } else {
        Ok(mul_div(numerator1, numerator2, sqrt_b).ok_or(overflow)? / sqrt_a)
    }
}

/// Token1 between two prices: `L * (sqrt_b - sqrt_a) / 2^96`.
pub fn amount1_delta(
    sqrt_a: U256,
    sqrt_b: U256,
    liquidity: u128,
    round_up: bool,
) -> Result<U256, VenueError> {
    let (sqrt_a, sqrt_b) = sorted(sqrt_a, sqrt_b);
    let overflow = VenueError::Overflow {
        what: "amount1 delta",
    };
    let liquidity = U256::from(liquidity);
    if round_up {
        mul_div_rounding_up(liquidity, sqrt_b - sqrt_a, q96()).ok_or(overflow)
    } else {
        mul_div(liquidity, sqrt_b - sqrt_a, q96()).ok_or(overflow)
    }
}

/// Price after adding (or removing) `amount` of token0, rounded up.
fn next_from_amount0(
    sqrt: U256,
    liquidity: u128,
    amount: U256,
    add: bool,
) -> Result<U256, VenueError> {
    if amount.is_zero() {
        return Ok(sqrt);
    }
    // 512-bit throughout: amount * sqrt can exceed 256 bits.
    let numerator = U512::from(U256::from(liquidity)) << 96;
    let product = U512::from(amount) * U512::from(sqrt);
    let denominator: U512 = if add {
        numerator + product
    } else if numerator > product {
        numerator - product
    } else {
        return Err(VenueError::InsufficientLiquidity {
            detail: "not enough token0 in range".into(),
        });
    };
    let full: U512 = numerator * U512::from(sqrt);
    let quotient = full / denominator;
    let rounded = if (full % denominator).is_zero() {
        quotient
    } else {
        quotient + U512::from(1u8)
    };
    narrow(rounded).ok_or(VenueError::Overflow {
        what: "next sqrt price",
    })
}

/// Price after adding (or removing) `amount` of token1, rounded down.
fn next_from_amount1(
    sqrt: U256,
    liquidity: u128,
    amount: U256,
    add: bool,
) -> Result<U256, VenueError> {
    let liquidity = U256::from(liquidity);
    let overflow = VenueError::Overflow {
        what: "next sqrt price",
    };
    if add {
        let quotient = mul_div(amount, q96(), liquidity).ok_or(overflow)?;
        sqrt.checked_add(quotient).ok_or(VenueError::Overflow {
            what: "next sqrt price",
        })
    } else {
        let quotient = mul_div_rounding_up(amount, q96(), liquidity).ok_or(overflow)?;
        if sqrt <= quotient {
            return Err(VenueError::InsufficientLiquidity {
                detail: "not enough token1 in range".into(),
            });
        }
        Ok(sqrt - quotient)
    }
}

/// Price after swapping `amount_in` into the pool.
pub(crate) fn next_sqrt_price_from_input(
    sqrt: U256,
    liquidity: u128,
    amount_in: U256,
    zero_for_one: bool,
) -> Result<U256, VenueError> {
    if zero_for_one {
        next_from_amount0(sqrt, liquidity, amount_in, true)
    } else {
        next_from_amount1(sqrt, liquidity, amount_in, true)
    }
}

/// Price after taking `amount_out` out of the pool.
pub(crate) fn next_sqrt_price_from_output(
    sqrt: U256,
    liquidity: u128,
    amount_out: U256,
    zero_for_one: bool,
) -> Result<U256, VenueError> {
    if zero_for_one {
        next_from_amount1(sqrt, liquidity, amount_out, false)
    } else {
        next_from_amount0(sqrt, liquidity, amount_out, false)
    }
}
