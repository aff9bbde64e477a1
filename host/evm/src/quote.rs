//! Exact integer quotes at the pool's spot price, and the slippage bounds
//! derived from them. Price impact counts against the strategy's
//! `max-slippage-bps`: a swap too large for the pool's liquidity fails in
//! simulation instead of filling far from the price the strategy saw.

use alloy::primitives::{U256, U512};

const FEE_DENOMINATOR: u64 = 1_000_000;
const BPS_DENOMINATOR: u64 = 10_000;

/// Spot price of a Uniswap v3 pool as `sqrtPriceX96`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpotPrice {
    /// Q64.96 square root of token1 per token0 in base units.
    pub sqrt_price_x96: U256,
    /// Pool fee in hundredths of a basis point.
    pub fee_pips: u32,
}

impl SpotPrice {
    fn price_x192(&self) -> U512 {
        let sqrt = U512::from(self.sqrt_price_x96);
        sqrt * sqrt
    }

    /// What `amount_in` buys at spot after the pool fee (rounded down).
    pub fn amount_out(&self, amount_in: U256, zero_for_one: bool) -> U256 {
        let one_x192 = U512::from(1) << 192;
        let price = self.price_x192();
        if price.is_zero() {
            return U256::ZERO;
        }
        let gross = if zero_for_one {
            U512::from(amount_in) * price / one_x192
        } else {
            U512::from(amount_in) * one_x192 / price
        };
        let net = gross * U512::from(FEE_DENOMINATOR - u64::from(self.fee_pips))
            / U512::from(FEE_DENOMINATOR);
        saturate(net)
    }

    /// What buying `amount_out` costs at spot including the pool fee
    /// (rounded up).
    pub fn amount_in(&self, amount_out: U256, zero_for_one: bool) -> U256 {
        let one_x192 = U512::from(1) << 192;
        let price = self.price_x192();
        if price.is_zero() {
            return U256::MAX;
        }
        let net = if zero_for_one {
            div_up(U512::from(amount_out) * one_x192, price)
        } else {
            div_up(U512::from(amount_out) * price, one_x192)
        };
        let gross = div_up(
            net * U512::from(FEE_DENOMINATOR),
            U512::from(FEE_DENOMINATOR - u64::from(self.fee_pips)),
        );
        saturate(gross)
    }
}

/// The least output a swap may accept: `quote` less `bps`.
pub fn minimum_out(quote: U256, bps: u32) -> U256 {
    let bps = u64::from(bps.min(10_000));
    saturate(U512::from(quote) * U512::from(BPS_DENOMINATOR - bps) / U512::from(BPS_DENOMINATOR))
}

/// The most input a swap may spend: `quote` plus `bps` (rounded up).
pub fn maximum_in(quote: U256, bps: u32) -> U256 {
    saturate(div_up(
        U512::from(quote) * U512::from(BPS_DENOMINATOR + u64::from(bps)),
        U512::from(BPS_DENOMINATOR),
    ))
}

/// Human price of token0 in token1 (decimals applied).
pub fn spot_price(sqrt_price_x96: U256, decimals0: u8, decimals1: u8) -> f64 {
    let sqrt = f64::from(sqrt_price_x96) / 2f64.powi(96);
    sqrt * sqrt * 10f64.powi(i32::from(decimals0) - i32::from(decimals1))
}

/// The Uniswap v3 tick at or below a human price of token0 in token1,
/// rounded down (`round_up` false) or up to a multiple of `spacing`.
pub fn price_to_tick(
    price: f64,
    decimals0: u8,
    decimals1: u8,
    spacing: i32,
    round_up: bool,
) -> Option<i32> {
    if !(price.is_finite() && price > 0.0) || spacing <= 0 {
        return None;
    }
    let raw = price * 10f64.powi(i32::from(decimals1) - i32::from(decimals0));
    let tick = (raw.ln() / 1.0001f64.ln()).floor();
    if !(-887_272.0..=887_272.0).contains(&tick) {
        return None;
    }
    // Bounded above, so the cast is exact.
    #[allow(clippy::cast_possible_truncation)]
    let tick = tick as i32;
    let floor = tick.div_euclid(spacing) * spacing;
    Some(if round_up && floor != tick {
        floor + spacing
    } else {
        floor
    })
}

fn div_up(numerator: U512, denominator: U512) -> U512 {
    numerator.div_ceil(denominator)
}

fn saturate(value: U512) -> U256 {
    let limbs = value.as_limbs();
    if limbs[4..].iter().any(|limb| *limb != 0) {
        return U256::MAX;
    }
    U256::from_limbs([limbs[0], limbs[1], limbs[2], limbs[3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q96: u128 = 1 << 96;

    #[test]
    fn price_one_with_fee() {
        let spot = SpotPrice {
            sqrt_price_x96: U256::from(Q96),
            fee_pips: 3000,
        };
        assert_eq!(
            spot.amount_out(U256::from(1_000_000u64), true),
            U256::from(997_000u64)
        );
        assert_eq!(
            spot.amount_out(U256::from(1_000_000u64), false),
            U256::from(997_000u64)
        );
        assert_eq!(
            spot.amount_in(U256::from(997_000u64), true),
            U256::from(1_000_000u64)
        );
    }

    #[test]
    fn price_four_both_directions() {
        // sqrt(4) = 2: one token0 is four token1.
        let spot = SpotPrice {
            sqrt_price_x96: U256::from(2 * Q96),
            fee_pips: 0,
        };
        assert_eq!(
            spot.amount_out(U256::from(100u64), true),
            U256::from(400u64)
        );
        assert_eq!(
            spot.amount_out(U256::from(400u64), false),
            U256::from(100u64)
        );
        assert_eq!(spot.amount_in(U256::from(400u64), true), U256::from(100u64));
    }

    #[test]
    fn slippage_bounds() {
        assert_eq!(minimum_out(U256::from(10_000u64), 50), U256::from(9_950u64));
        assert_eq!(maximum_in(U256::from(10_000u64), 50), U256::from(10_050u64));
        assert_eq!(maximum_in(U256::from(1u64), 1), U256::from(2u64));
    }

    #[test]
    fn ticks_round_to_spacing() {
        assert_eq!(price_to_tick(1.0, 18, 18, 60, false), Some(0));
        assert_eq!(
            price_to_tick(1.0001f64.powf(61.5), 18, 18, 60, false),
            Some(60)
        );
        assert_eq!(
            price_to_tick(1.0001f64.powf(61.5), 18, 18, 60, true),
            Some(120)
        );
        assert_eq!(price_to_tick(-1.0, 18, 18, 60, false), None);
    }
}
