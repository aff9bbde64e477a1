//! The most an exact-out swap may spend, worked out in one place for
//! everyone who needs it: the policy charges it against allowances when
//! the swap is emitted, the simulated venue refuses to fill a swap that
//! would pay more, and the EVM compiler writes it into the router call's
//! `amountInMaximum` (so the chain reverts rather than pay more).
//!
//! The bound is the bought amount at a reference price plus the swap's
//! slippage tolerance; pool fees and price impact count against that
//! tolerance. Each caller passes the reference price it has (the policy
//! and the simulator ask their oracle for `price(buy, sell)`; the EVM
//! compiler reads the pool's spot price), so the same inputs give the same
//! bound everywhere, bit for bit.

use super::decimal::POW10;

/// Basis points in one.
const BPS: f64 = 10_000.0;

/// An exact-out swap, as needed to bound what it may spend.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExactOutBound {
    /// Base units of the bought token the swap asks for.
    pub amount_out: u128,
    /// Reference price: whole sold tokens per whole bought token (what an
    /// oracle answers to `price(buy, sell)`).
    pub price: f64,
    /// Decimals of the sold token.
    pub sell_decimals: u8,
    /// Decimals of the bought token.
    pub buy_decimals: u8,
    /// The swap's slippage tolerance, in basis points.
    pub max_slippage_bps: u32,
}

/// Why the most an exact-out swap may spend cannot be worked out. A policy
/// denies such a swap (`MAX_SPEND_UNKNOWN`); a venue refuses to fill it.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MaxInputError {
    /// The reference price is zero, negative, infinite or NaN.
    #[error("the price {0} is not a positive finite number")]
    BadPrice(f64),
    /// A token has more decimals than 128-bit amounts can scale.
    #[error("{0} decimals are more than a 128-bit amount can hold")]
    Decimals(u8),
    /// The bound does not fit in 128 bits.
    #[error("the maximum input does not fit in 128 bits")]
    Overflow,
}

impl MaxInputError {
    /// A short stable name for denial details (`bad_price`, `decimals`,
    /// `overflow`).
    pub fn reason(&self) -> &'static str {
        match self {
            MaxInputError::BadPrice(_) => "bad_price",
            MaxInputError::Decimals(_) => "decimals",
            MaxInputError::Overflow => "overflow",
        }
    }
}

impl ExactOutBound {
    /// The most the swap may spend, in base units of the sold token:
    /// `amount_out` at `price`, plus `max_slippage_bps`, rounded up.
    pub fn max_input(&self) -> Result<u128, MaxInputError> {
        if !(self.price.is_finite() && self.price > 0.0) {
            return Err(MaxInputError::BadPrice(self.price));
        }
        let scale = |decimals: u8| {
            POW10
                .get(usize::from(decimals))
                .copied()
                .ok_or(MaxInputError::Decimals(decimals))
        };
        let (sell_scale, buy_scale) = (scale(self.sell_decimals)?, scale(self.buy_decimals)?);
        // Rounding each step to the nearest f64 is the same on every
        // platform, so the bound is too.
        let whole_out = self.amount_out as f64 / buy_scale;
        let at_price = whole_out * self.price * sell_scale;
        let bound = (at_price * (BPS + f64::from(self.max_slippage_bps)) / BPS).ceil();
        // 2^128 is exactly representable; anything at or above it does not fit.
        if !bound.is_finite() || bound >= 340_282_366_920_938_463_463_374_607_431_768_211_456.0 {
            return Err(MaxInputError::Overflow);
        }
        // In range and integral: the cast is exact.
        Ok(bound as u128)
    }
}

#[cfg(test)]
mod tests {
    use super::{ExactOutBound, MaxInputError};

    fn bound(amount_out: u128, price: f64, sell: u8, buy: u8, bps: u32) -> ExactOutBound {
        ExactOutBound {
            amount_out,
            price,
            sell_decimals: sell,
            buy_decimals: buy,
            max_slippage_bps: bps,
        }
    }

    #[test]
    fn the_bought_amount_at_the_price_plus_slippage_rounded_up() {
        // 1 ETH (18 decimals) at 0.05 BTC (8 decimals), 50 bps: 0.05025 BTC.
        let one_eth = 1_000_000_000_000_000_000;
        assert_eq!(bound(one_eth, 0.05, 8, 18, 50).max_input(), Ok(5_025_000));
        // 1 USDC (6 decimals) at 1/3000 ETH, no slippage: rounded up.
        assert_eq!(
            bound(1_000_000, 1.0 / 3000.0, 18, 6, 0).max_input(),
            Ok(333_333_333_333_334)
        );
        // One base unit of anything costs at least one base unit.
        assert_eq!(bound(1, 1e-30, 6, 18, 0).max_input(), Ok(1));
    }

    #[test]
    fn no_usable_price_or_no_room_is_an_error() {
        for price in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                bound(1, price, 8, 8, 0).max_input(),
                Err(MaxInputError::BadPrice(_))
            ));
        }
        assert_eq!(
            bound(u128::MAX, 2.0, 8, 8, 0).max_input(),
            Err(MaxInputError::Overflow)
        );
        assert_eq!(
            bound(1, 1.0, 39, 8, 0).max_input(),
            Err(MaxInputError::Decimals(39))
        );
    }
}
