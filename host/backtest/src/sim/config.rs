//! What a simulated market contains, as a user writes it (TOML or JSON).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use stratbox_venues::gas::GasModel;

/// A token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetConfig {
    /// Decimals of its base unit.
    pub decimals: u8,
}

/// Which AMM math a pool uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolKind {
    /// Uniswap v2 constant product.
    ConstantProduct,
    /// Uniswap v3 concentrated liquidity.
    Concentrated,
}

/// An AMM pool whose price follows a tape market through arbitrage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolConfig {
    /// AMM math.
    pub kind: PoolKind,
    /// Token0 (the priced asset of the tape market).
    pub token0: String,
    /// Token1 (the quote asset of the tape market).
    pub token1: String,
    /// Fee in pips (3000 = 0.30%).
    pub fee_pips: u32,
    /// Tape market that drives the price (`token0` priced in `token1`).
    pub market: String,
    /// Value of the pool's third-party liquidity, in `token1` whole units.
    pub depth: f64,
    /// For concentrated pools: the third-party liquidity spans the price
    /// times `1/(1+r)` to `(1+r)` (0.5 = -33%..+50%).
    #[serde(default = "default_range")]
    pub range: f64,
}

fn default_range() -> f64 {
    0.5
}

/// One asset of a lending market.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LendingAssetConfig {
    /// Max loan-to-value as collateral, bps.
    pub ltv_bps: u32,
    /// Liquidation threshold, bps.
    pub liquidation_threshold_bps: u32,
    /// Liquidation bonus, bps.
    #[serde(default = "default_bonus")]
    pub liquidation_bonus_bps: u32,
    /// Reserve factor, bps.
    #[serde(default = "default_reserve_factor")]
    pub reserve_factor_bps: u32,
    /// Borrow rate at zero utilization, annual fraction.
    #[serde(default)]
    pub base_rate: f64,
    /// Rate added up to the optimal utilization.
    pub slope1: f64,
    /// Rate added above it.
    pub slope2: f64,
    /// The kink, fraction.
    pub optimal_utilization: f64,
    /// Third-party supply, whole units.
    pub supplied: f64,
    /// Third-party borrows, whole units (sets the starting utilization).
    pub borrowed: f64,
}

fn default_bonus() -> u32 {
    500
}

fn default_reserve_factor() -> u32 {
    1_000
}

/// A vault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultConfig {
    /// Asset deposited.
    pub asset: String,
    /// Annual yield, fraction.
    pub apy: f64,
    /// Redemption queue length in days; absent: ERC-4626 instant
    /// redemptions through `vault-request-redeem`.
    #[serde(default)]
    pub redemption_days: Option<u32>,
    /// Third-party deposits, whole units.
    #[serde(default)]
    pub tvl: f64,
}

/// A whole simulated market.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    /// Chain id shown to strategies.
    #[serde(default)]
    pub chain_id: u64,
    /// Asset in which equity, fees and gas are valued.
    pub quote: String,
    /// Native asset paying gas (valued through a tape market or 0).
    #[serde(default)]
    pub native: Option<String>,
    /// Tokens by symbol.
    pub assets: BTreeMap<String, AssetConfig>,
    /// Starting balances, whole units as decimal strings.
    #[serde(default)]
    pub balances: BTreeMap<String, String>,
    /// AMM pools by id.
    #[serde(default)]
    pub pools: BTreeMap<String, PoolConfig>,
    /// Lending markets by id, then by asset.
    #[serde(default)]
    pub lending: BTreeMap<String, BTreeMap<String, LendingAssetConfig>>,
    /// Vaults by id.
    #[serde(default)]
    pub vaults: BTreeMap<String, VaultConfig>,
    /// Gas per action.
    #[serde(default = "GasModel::free")]
    pub gas: GasModel,
}
