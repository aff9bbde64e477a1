//! Simulated venues for backtests, with exact integer accounting in token
//! base units. Slippage and fees come from the venue math itself:
//!
//! - [`v2::ConstantProductPool`]: Uniswap v2 math (`UniswapV2Library`'s
//!   `getAmountOut`/`getAmountIn`) with any fee tier; also
//!   models pools where staking is a swap (e.g. Bittensor dTAO subnet pools).
//! - [`v3::Pool`]: Uniswap v3 concentrated liquidity: ticks, Q64.96 sqrt
//!   prices, range positions, fees accrued only while in range.
//! - [`lending::LendingPool`]: Aave-v3-style supply and borrow rates from
//!   utilization, interest indices, health factor, liquidation, in integer
//!   math matching Aave v3.0's formulas.
//! - [`vault::Vault4626`] and [`vault::AsyncRedemptionVault`]: share
//!   accounting and redemption queues.
//! - [`gas::GasModel`]: gas cost per action.

mod error;
pub mod gas;
pub mod lending;
mod math;
pub mod redemption;
pub mod subnet;
pub mod v2;
pub mod v3;
pub mod vault;

pub use error::{CapKind, VenueError};
pub use math::{mul_div, mul_div_rounding_up};
