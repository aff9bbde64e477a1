//! A simulated market for backtests: tapes drive prices, AMM pools follow
//! them through arbitrage, lending markets accrue interest, vaults accrue
//! yield and pay out redemption queues, and the strategy's actions execute
//! against all of it with exact integer balances.

mod config;
mod error;
mod execute;
mod fill;
mod market;
mod oracle;

pub use config::{AssetConfig, LendingAssetConfig, PoolConfig, PoolKind, SimConfig, VaultConfig};
pub use error::SimError;
pub use market::SimMarket;
pub use oracle::SimOracle;

#[cfg(test)]
mod tests;
