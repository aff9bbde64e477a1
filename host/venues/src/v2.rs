//! Constant-product pools with Uniswap v2 math and any fee tier.
//!
//! Matches Uniswap v2 periphery `UniswapV2Library` (v1.0.1) `getAmountOut`
//! and `getAmountIn` to the wei for the standard 0.30% pool
//! (`fee_pips = 3000`).
//!
//! The same math models pools where staking is a swap: a Bittensor dTAO
//! subnet pool is a constant-product pool of TAO and the subnet's alpha
//! token, so "stake" is a swap TAO -> alpha and "unstake" the reverse
//! (`fee_pips` 0 or the subnet's fee).

use alloy_primitives::U256;
use serde::{Deserialize, Serialize};

use crate::VenueError;
use crate::math::{mul_div, to_u128};

/// One million: fees are in hundredths of a basis point ("pips").
pub const PIPS: u32 = 1_000_000;

/// A constant-product pool `x * y = k`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConstantProductPool {
    /// Reserve of token0, base units.
    pub reserve0: u128,
    /// Reserve of token1, base units.
    pub reserve1: u128,
    /// Fee taken from the input, in pips (3000 = 0.30%, Uniswap v2's fee).
    pub fee_pips: u32,
}

/// Result of a swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwapResult {
    /// Input paid, fee included.
    pub amount_in: u128,
    /// Output received.
    pub amount_out: u128,
    /// Part of the input kept as fee.
    pub fee: u128,
}

impl ConstantProductPool {
    /// A pool with the given reserves and fee.
    pub fn new(reserve0: u128, reserve1: u128, fee_pips: u32) -> Self {
        ConstantProductPool {
            reserve0,
            reserve1,
            fee_pips,
        }
    }

    fn reserves(&self, zero_for_one: bool) -> (u128, u128) {
        if zero_for_one {
            (self.reserve0, self.reserve1)
        } else {
            (self.reserve1, self.reserve0)
        }
    }

    /// Spot price of token0 in token1 (reserve1 / reserve0), for display.
    pub fn price(&self) -> f64 {
        self.reserve1 as f64 / self.reserve0 as f64
    }

    /// Output for exactly `amount_in` of the input token (token0 if
    /// `zero_for_one`), as Uniswap v2's `UniswapV2Library.getAmountOut`:
    /// `out = floor(in * (1e6 - fee_pips) * R_out / (R_in * 1e6 + in * (1e6 - fee_pips)))`.
    /// With `fee_pips = 3000` this equals the library's
    /// `in*997 * R_out / (R_in*1000 + in*997)` exactly.
    pub fn quote_exact_in(&self, amount_in: u128, zero_for_one: bool) -> Result<u128, VenueError> {
        if amount_in == 0 {
            return Err(VenueError::ZeroAmount);
        }
        let (reserve_in, reserve_out) = self.reserves(zero_for_one);
        if reserve_in == 0 || reserve_out == 0 {
            return Err(VenueError::InsufficientLiquidity {
                detail: "empty pool".into(),
            });
        }
        let in_with_fee = U256::from(amount_in) * U256::from(PIPS - self.fee_pips.min(PIPS));
        let denominator = U256::from(reserve_in) * U256::from(PIPS) + in_with_fee;
        let out = mul_div(in_with_fee, U256::from(reserve_out), denominator).ok_or(
            VenueError::Overflow {
                what: "v2 amount out",
            },
        )?;
        to_u128(out, "v2 amount out")
    }

    /// Input needed to receive exactly `amount_out`, as Uniswap v2's
    /// `UniswapV2Library.getAmountIn`:
    /// `in = floor(R_in * out * 1e6 / ((R_out - out) * (1e6 - fee_pips))) + 1`.
    /// The `+ 1` is added even when the division is exact, as the router
    /// does. With `fee_pips = 3000` this equals the library's
    /// `R_in * out * 1000 / ((R_out - out) * 997) + 1` (both sides of the
    /// fraction are scaled by the same 1000).
    pub fn quote_exact_out(
        &self,
        amount_out: u128,
        zero_for_one: bool,
    ) -> Result<u128, VenueError> {
        if amount_out == 0 {
            return Err(VenueError::ZeroAmount);
        }
        let (reserve_in, reserve_out) = self.reserves(zero_for_one);
        if amount_out >= reserve_out {
            return Err(VenueError::InsufficientLiquidity {
                detail: format!("asked {amount_out} of a reserve of {reserve_out}"),
            });
        }
        let numerator = U256::from(reserve_in) * U256::from(amount_out) * U256::from(PIPS);
        let denominator =
            U256::from(reserve_out - amount_out) * U256::from(PIPS - self.fee_pips.min(PIPS));
        if denominator.is_zero() {
            return Err(VenueError::InsufficientLiquidity {
                detail: "a 100% fee leaves nothing to buy".into(),
            });
        }
        let amount_in = numerator / denominator + U256::from(1u8);
        to_u128(amount_in, "v2 amount in")
    }

    fn apply(
        &mut self,
        zero_for_one: bool,
        amount_in: u128,
        amount_out: u128,
    ) -> Result<(), VenueError> {
        let overflow = VenueError::Overflow {
            what: "v2 reserves",
        };
        if zero_for_one {
            self.reserve0 = self.reserve0.checked_add(amount_in).ok_or(overflow)?;
            self.reserve1 -= amount_out;
        } else {
            self.reserve1 = self.reserve1.checked_add(amount_in).ok_or(overflow)?;
            self.reserve0 -= amount_out;
        }
        Ok(())
    }

    fn fee_of(&self, amount_in: u128) -> u128 {
        let fee = U256::from(amount_in) * U256::from(self.fee_pips) / U256::from(PIPS);
        u128::try_from(fee).unwrap_or(u128::MAX)
    }

    /// Sell exactly `amount_in`; the fee stays in the pool.
    pub fn swap_exact_in(
        &mut self,
        amount_in: u128,
        zero_for_one: bool,
    ) -> Result<SwapResult, VenueError> {
        let amount_out = self.quote_exact_in(amount_in, zero_for_one)?;
        self.apply(zero_for_one, amount_in, amount_out)?;
        Ok(SwapResult {
            amount_in,
            amount_out,
            fee: self.fee_of(amount_in),
        })
    }

    /// Buy exactly `amount_out`.
    pub fn swap_exact_out(
        &mut self,
        amount_out: u128,
        zero_for_one: bool,
    ) -> Result<SwapResult, VenueError> {
        let amount_in = self.quote_exact_out(amount_out, zero_for_one)?;
        self.apply(zero_for_one, amount_in, amount_out)?;
        Ok(SwapResult {
            amount_in,
            amount_out,
            fee: self.fee_of(amount_in),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const E18: u128 = 1_000_000_000_000_000_000;

    #[test]
    fn exact_in_matches_the_v2_formula_by_hand() {
        // 1000/1000 pool, 0.30% fee, sell 10:
        // out = 10e18*997000 * 1000e18 / (1000e18*1e6 + 10e18*997000)
        //     = 9969700000000e36 / 1009970000000e18 ... evaluated exactly:
        //     = 9_871_580_343_970_612_988 (floor)
        let pool = ConstantProductPool::new(1_000 * E18, 1_000 * E18, 3_000);
        assert_eq!(
            pool.quote_exact_in(10 * E18, true).unwrap(),
            9_871_580_343_970_612_988
        );
    }

    #[test]
    fn exact_out_is_the_inverse_rounded_up() {
        let pool = ConstantProductPool::new(1_000 * E18, 1_000 * E18, 3_000);
        let needed = pool
            .quote_exact_out(9_871_580_343_970_612_988, true)
            .unwrap();
        // Paying what exact-out asks must give at least the amount asked.
        assert!(pool.quote_exact_in(needed, true).unwrap() >= 9_871_580_343_970_612_988);
        assert!(needed <= 10 * E18);
        assert!(pool.quote_exact_in(needed - 1, true).unwrap() < 9_871_580_343_970_612_988);
    }

    #[test]
    fn exact_out_adds_one_even_when_the_division_is_exact() {
        // UniswapV2Library.getAmountIn(1000, 997, 2000):
        // numerator = 997 * 1000 * 1000 = 997_000_000,
        // denominator = (2000 - 1000) * 997 = 997_000,
        // 997_000_000 / 997_000 = 1000 exactly, so amountIn = 1000 + 1.
        let pool = ConstantProductPool::new(997, 2_000, 3_000);
        assert_eq!(pool.quote_exact_out(1_000, true).unwrap(), 1_001);
        // getAmountOut(1001, 997, 2000) = 1001*997*2000 / (997*1000 + 1001*997)
        //   = 1_995_994_000 / 1_994_997 = 1000 (floor of 1000.4997...).
        assert_eq!(pool.quote_exact_in(1_001, true).unwrap(), 1_000);
        // The reverse direction reads the reserves the other way round:
        // getAmountIn(497, 2000, 997) = 2000*497*1000 / ((997-497)*997)
        //   = 994_000_000 / 498_500 = 1993.98... -> 1993 + 1 = 1994.
        assert_eq!(pool.quote_exact_out(497, false).unwrap(), 1_994);
    }

    #[test]
    fn exact_out_adds_one_when_the_division_is_inexact_too() {
        // getAmountIn(100, 10_000, 10_000): 10_000*100*1000 / (9_900*997)
        //   = 1_000_000_000 / 9_870_300 = 101.31... -> 101 + 1 = 102.
        let pool = ConstantProductPool::new(10_000, 10_000, 3_000);
        assert_eq!(pool.quote_exact_out(100, true).unwrap(), 102);
        // A swap charges exactly what the quote says.
        let mut pool = pool;
        let result = pool.swap_exact_out(100, true).unwrap();
        assert_eq!(result.amount_in, 102);
        assert_eq!((pool.reserve0, pool.reserve1), (10_102, 9_900));
    }

    #[test]
    fn swaps_keep_k_growing_and_charge_the_fee() {
        let mut pool = ConstantProductPool::new(5_000 * E18, 2_000_000 * 1_000_000, 3_000);
        let k0 = U256::from(pool.reserve0) * U256::from(pool.reserve1);
        let result = pool.swap_exact_in(E18, true).unwrap();
        let k1 = U256::from(pool.reserve0) * U256::from(pool.reserve1);
        assert!(k1 >= k0);
        assert_eq!(result.fee, 3 * E18 / 1_000);
        assert_eq!(pool.reserve0, 5_001 * E18);
    }

    #[test]
    fn zero_fee_pool_models_staking_as_a_swap() {
        // A dTAO-style pool: 1,000 TAO against 50,000 alpha, no fee.
        let mut subnet = ConstantProductPool::new(1_000 * E18, 50_000 * E18, 0);
        let staked = subnet.swap_exact_in(10 * E18, true).unwrap();
        // out = 10 * 50000 / (1000 + 10) = 495.049504950495049504...
        assert_eq!(staked.amount_out, 495_049_504_950_495_049_504);
        assert_eq!(staked.fee, 0);
        let unstaked = subnet.swap_exact_in(staked.amount_out, false).unwrap();
        assert!(unstaked.amount_out <= 10 * E18, "no free money round trip");
    }

    #[test]
    fn refuses_what_the_pool_cannot_give() {
        let pool = ConstantProductPool::new(100, 100, 3_000);
        assert_eq!(pool.quote_exact_in(0, true), Err(VenueError::ZeroAmount));
        assert!(matches!(
            pool.quote_exact_out(100, true),
            Err(VenueError::InsufficientLiquidity { .. })
        ));
    }
}
