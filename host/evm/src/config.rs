//! The chain a deployment runs on, as a user writes it (TOML): where the
//! node is, which account acts, and the assets, pools, price feeds and
//! contracts the deployment may touch. Nothing outside this file is
//! reachable from a strategy.

use std::collections::BTreeMap;
use std::path::Path;

use alloy::primitives::Address;
use serde::Deserialize;

use crate::error::ConfigError;
use crate::redact::RpcUrl;

/// A chain and what a deployment may use on it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// JSON-RPC endpoint (`http://` or `https://`). Required. Often holds
    /// an API key: it is shown redacted everywhere ([`RpcUrl`]).
    pub rpc_url: RpcUrl,
    /// Seconds any one RPC request may take before it fails with a timeout
    /// ([`crate::ChainError::Timeout`]); default 30. Must be at least 1.
    #[serde(default = "default_rpc_timeout")]
    pub rpc_timeout_secs: u64,
    /// EIP-155 chain id the node must report (guards against a wrong URL).
    pub chain_id: u64,
    /// Symbol the strategy uses for the chain's native asset (gas); default
    /// `ETH`.
    #[serde(default = "default_native_asset")]
    pub native_asset: String,
    /// Who executes: the deployment key itself (the default), or a Safe it
    /// co-owns.
    #[serde(default)]
    pub account: AccountMode,
    /// Uniswap v3 periphery contracts.
    pub contracts: Contracts,
    /// ERC-20 assets by the symbol strategies use.
    #[serde(default)]
    pub assets: BTreeMap<String, AssetConfig>,
    /// Uniswap v3 pools by name (e.g. `WETH/USDC`).
    #[serde(default)]
    pub pools: BTreeMap<String, PoolConfig>,
    /// Chainlink-style price feeds by `BASE/QUOTE`.
    #[serde(default)]
    pub feeds: BTreeMap<String, FeedConfig>,
    /// Seconds to wait for a receipt before giving up on this run (the
    /// intent stays pending and is reconciled later); default 120.
    #[serde(default = "default_receipt_timeout")]
    pub receipt_timeout_secs: u64,
    /// Seconds a swap or LP call stays valid (its `deadline`); default 600.
    #[serde(default = "default_deadline")]
    pub deadline_secs: u64,
    /// The most a transaction may bid for gas, whatever the node suggests.
    #[serde(default)]
    pub fees: FeeCaps,
    /// Slippage bound of LP actions, in basis points; default 50 (0.5%).
    /// LP actions carry no bound of their own: `lp-open`'s `mint` and
    /// `lp-close`'s `decreaseLiquidity` require at least the token amounts
    /// a fresh quote of the pool (`slot0` at the latest block) gives, less
    /// this bound, so a pool moved against the position between quote and
    /// execution fails the call ("Price slippage check") instead of
    /// filling at the mover's price. At most 10,000.
    #[serde(default = "default_lp_slippage")]
    pub lp_slippage_bps: u32,
}

/// Caps on the EIP-1559 fees of every transaction: the node's suggestion
/// is used up to these, never above (a lying or spiking node cannot make a
/// deployment pay an unbounded fee). A transaction still pending after
/// `bump_after_secs` is replaced (same nonce, same call) with fees raised by
/// [`FeeCaps::BUMP_PERCENT`], again after each further `bump_after_secs`,
/// up to the caps; at the caps it waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeeCaps {
    /// Highest `maxFeePerGas`, in gwei; default 500.
    pub max_fee_per_gas_gwei: u64,
    /// Highest `maxPriorityFeePerGas`, in gwei; default 5.
    pub max_priority_fee_per_gas_gwei: u64,
    /// Seconds a transaction may stay pending before it is replaced with a
    /// higher fee; default 60. At least 1.
    pub bump_after_secs: u64,
}

impl Default for FeeCaps {
    fn default() -> Self {
        FeeCaps {
            max_fee_per_gas_gwei: 500,
            max_priority_fee_per_gas_gwei: 5,
            bump_after_secs: 60,
        }
    }
}

impl FeeCaps {
    /// How much a replacement raises both fees, in percent: above the 10%
    /// nodes require to accept a replacement.
    pub const BUMP_PERCENT: u128 = 13;

    /// The fees of a replacement for a transaction that bid `max_fee` and
    /// `priority_fee`: each raised by [`FeeCaps::BUMP_PERCENT`] (or to the
    /// node's current suggestion, if higher), then capped. `None` when the
    /// caps leave no room for a bump a node would accept.
    pub fn bumped(
        &self,
        (max_fee, priority_fee): (u128, u128),
        (suggested_max, suggested_priority): (u128, u128),
    ) -> Option<(u128, u128)> {
        let raise = |fee: u128| fee.saturating_mul(100 + Self::BUMP_PERCENT).div_ceil(100);
        let (new_max, new_priority) = self.cap(
            raise(max_fee).max(suggested_max),
            raise(priority_fee).max(suggested_priority),
        );
        // Nodes replace only when both fees rise by at least 10%.
        let enough = |new: u128, old: u128| new.saturating_mul(10) >= old.saturating_mul(11);
        (enough(new_max, max_fee) && enough(new_priority, priority_fee))
            .then_some((new_max, new_priority))
    }

    /// `(max_fee, priority_fee)` in wei, each at most its cap, the priority
    /// fee at most the max fee.
    pub fn cap(&self, max_fee: u128, priority_fee: u128) -> (u128, u128) {
        const GWEI: u128 = 1_000_000_000;
        let max_fee = max_fee.min(u128::from(self.max_fee_per_gas_gwei) * GWEI);
        let priority_fee = priority_fee
            .min(u128::from(self.max_priority_fee_per_gas_gwei) * GWEI)
            .min(max_fee);
        (max_fee, priority_fee)
    }
}

fn default_native_asset() -> String {
    "ETH".into()
}

fn default_rpc_timeout() -> u64 {
    30
}

fn default_receipt_timeout() -> u64 {
    120
}

fn default_deadline() -> u64 {
    600
}

fn default_lp_slippage() -> u32 {
    50
}

fn default_feed_max_age() -> u64 {
    3600
}

/// How transactions reach the chain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum AccountMode {
    /// The deployment key's own address holds the funds and sends.
    #[default]
    Eoa,
    /// Funds stay in a Safe; the deployment key, one of its owners,
    /// executes each call through `execTransaction` (threshold 1).
    Safe {
        /// The Safe's address.
        safe: Address,
    },
}

/// Uniswap v3 periphery.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contracts {
    /// `SwapRouter`.
    pub swap_router: Address,
    /// `NonfungiblePositionManager`.
    pub position_manager: Address,
}

/// An ERC-20 token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetConfig {
    /// Token contract.
    pub address: Address,
    /// Its `decimals()`.
    pub decimals: u8,
}

/// A Uniswap v3 pool.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolConfig {
    /// Pool contract.
    pub address: Address,
    /// Symbol of token0 (the lower address).
    pub token0: String,
    /// Symbol of token1.
    pub token1: String,
    /// Fee tier in hundredths of a basis point (3000 = 0.30%).
    pub fee: u32,
}

/// A price feed with the Chainlink aggregator interface.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    /// Aggregator (or proxy) contract.
    pub aggregator: Address,
    /// Oldest answer served, in seconds before the block read; default
    /// 3600. An answer whose `updatedAt` is older than this relative to
    /// the block's timestamp (or from an unfinished round: `updatedAt` 0 or
    /// `answeredInRound < roundId`, or not positive) is `unavailable` to
    /// the strategy. Set it to the feed's heartbeat plus a margin. At
    /// least 1.
    #[serde(default = "default_feed_max_age")]
    pub max_age_secs: u64,
}

impl ChainConfig {
    /// Parse and check a chain file's text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<ChainConfig, ConfigError> {
        let config: ChainConfig = toml::from_str(text).map_err(|source| ConfigError::Toml {
            origin: origin.to_owned(),
            source: Box::new(source),
        })?;
        config.check(origin)?;
        Ok(config)
    }

    /// Read and check a chain file.
    pub fn load(path: &Path) -> Result<ChainConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        ChainConfig::parse(&text, &path.display().to_string())
    }

    fn check(&self, origin: &str) -> Result<(), ConfigError> {
        let invalid = |field: String, reason: String| ConfigError::Invalid {
            origin: origin.to_owned(),
            field,
            reason,
        };
        let url = self.rpc_url.expose();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(invalid(
                "rpc_url".into(),
                format!("`{}` is not an http(s) URL", self.rpc_url),
            ));
        }
        if self.rpc_timeout_secs == 0 {
            return Err(invalid(
                "rpc_timeout_secs".into(),
                "must be at least 1".into(),
            ));
        }
        if self.fees.bump_after_secs == 0 {
            return Err(invalid(
                "fees.bump_after_secs".into(),
                "must be at least 1".into(),
            ));
        }
        if self.assets.contains_key(&self.native_asset) {
            return Err(invalid(
                format!("assets.{}", self.native_asset),
                "the native asset is not an ERC-20 token".into(),
            ));
        }
        for (name, pool) in &self.pools {
            for (side, symbol) in [("token0", &pool.token0), ("token1", &pool.token1)] {
                if !self.assets.contains_key(symbol) {
                    return Err(invalid(
                        format!("pools.\"{name}\".{side}"),
                        format!("unknown asset `{symbol}` (not in [assets])"),
                    ));
                }
            }
            let (a0, a1) = (&self.assets[&pool.token0], &self.assets[&pool.token1]);
            if a0.address >= a1.address {
                return Err(invalid(
                    format!("pools.\"{name}\""),
                    "token0 must be the token with the lower address".into(),
                ));
            }
        }
        if self.lp_slippage_bps > 10_000 {
            return Err(invalid(
                "lp_slippage_bps".into(),
                "at most 10000 (100%)".into(),
            ));
        }
        for (name, feed) in &self.feeds {
            if name
                .split_once('/')
                .is_none_or(|(b, q)| b.is_empty() || q.is_empty())
            {
                return Err(invalid(
                    format!("feeds.\"{name}\""),
                    "a feed is named BASE/QUOTE".into(),
                ));
            }
            if feed.max_age_secs == 0 {
                return Err(invalid(
                    format!("feeds.\"{name}\".max_age_secs"),
                    "must be at least 1".into(),
                ));
            }
        }
        Ok(())
    }

    /// How long one RPC request may take.
    pub fn rpc_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.rpc_timeout_secs)
    }

    /// The token of `symbol`.
    pub fn asset(&self, symbol: &str) -> Option<&AssetConfig> {
        self.assets.get(symbol)
    }

    /// The pool trading `a` against `b` (either order), with its name.
    pub fn pool_for(&self, a: &str, b: &str) -> Option<(&str, &PoolConfig)> {
        self.pools
            .iter()
            .find(|(_, p)| (p.token0 == a && p.token1 == b) || (p.token0 == b && p.token1 == a))
            .map(|(name, pool)| (name.as_str(), pool))
    }
}
