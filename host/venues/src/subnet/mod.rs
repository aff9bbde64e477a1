//! Bittensor dTAO subnet pools, where staking is a swap.
//!
//! A [`SubnetNetwork`] holds subnets, each a constant-product pool of TAO
//! (9 decimals, base unit rao) against the subnet's alpha token (9
//! decimals). Staking TAO buys alpha from the pool and unstaking sells it
//! back, with [`crate::v2::ConstantProductPool`]'s exact-in math (output
//! rounded down, an optional fee in pips kept by the pool), so the slippage
//! is what the pool gives.
//!
//! Each block ([`SubnetNetwork::step_block`]):
//!
//! 1. `tao_per_block` (plus TAO left over from earlier blocks' rounding) is
//!    split across the subnets by weight: by default each subnet's price
//!    `floor(tao_reserve * 1e18 / alpha_reserve)`, or fixed weights. Each
//!    subnet gets `floor(pot * weight / total_weight)`; what the floors leave
//!    stays in [`SubnetNetwork::tao_dust`] and joins the next block's pot.
//!    A subnet's TAO is added to its pool's TAO reserve.
//! 2. Each subnet mints `alpha_per_block`: `floor(alpha * alpha_to_pool_bps
//!    / 10_000)` (half by default) goes into the pool's alpha reserve, the
//!    rest, plus the subnet's alpha dust from earlier blocks, to its
//!    participants: owner, miners and stakers by [`ParticipantShares`]
//!    (18/41/41% by default), each share rounded down. The stakers' part is
//!    paid pro rata (rounded down) to the alpha staked by every tracked
//!    account and by the untracked "others", and is credited as stake (it
//!    compounds). Every remainder goes to the subnet's alpha dust, which is
//!    paid out with the next block's participant pot. No alpha is created or
//!    lost: see [`AlphaAccounting`].
//!
//! Holders of alpha on a subnet ([`Holder`]): tracked accounts by name (the
//! strategy's among them), the untracked other stakers as one total, the
//! subnet owner and the miners. Owner and miner alpha is held but does not
//! earn stakers' dividends. The network does not hold TAO balances: a
//! stake returns the alpha bought and an unstake the TAO received, and the
//! caller (the backtester) debits and credits the account's TAO.
//!
//! Not modelled: the root subnet and its TAO weight, alpha injection
//! matched to the TAO injection's price (the chain injects
//! `tao_in / price` alpha and emits the rest to participants; here the pool
//! share of the alpha emission is a fixed fraction), flow-based emission,
//! emission halvings, validator take, per-hotkey stake and the stake
//! weights of Yuma consensus. Prices are exact ratios of reserves; `f64` is
//! only for display.
//!
//! [`synthetic`] generates seeded multi-subnet scenarios and tapes.

use std::collections::BTreeMap;

use alloy_primitives::U256;
use serde::{Deserialize, Serialize};

use crate::VenueError;
use crate::math::{mul_div, to_u128};
use crate::v2::{ConstantProductPool, PIPS};

pub mod synthetic;
#[cfg(test)]
mod tests;

/// Rao per TAO (TAO has 9 decimals).
pub const RAO_PER_TAO: u128 = 1_000_000_000;
/// Base units per alpha (alpha has 9 decimals).
pub const ALPHA_UNIT: u128 = 1_000_000_000;
/// Basis points in a whole.
pub const BPS: u32 = 10_000;
/// Scale of the exact integer prices ([`SubnetView::price_scaled`] and the
/// price emission weights): TAO per alpha times 1e18.
pub const PRICE_SCALE: u128 = 1_000_000_000_000_000_000;
/// Bittensor's block time, ms.
pub const DEFAULT_BLOCK_MS: u64 = 12_000;

fn default_tao_per_block() -> u128 {
    RAO_PER_TAO
}

fn default_alpha_per_block() -> u128 {
    ALPHA_UNIT
}

fn default_alpha_to_pool_bps() -> u32 {
    BPS / 2
}

fn default_block_ms() -> u64 {
    DEFAULT_BLOCK_MS
}

fn invalid(detail: String) -> VenueError {
    VenueError::InvalidRange { detail }
}

fn overflow(what: &'static str) -> VenueError {
    VenueError::Overflow { what }
}

/// `floor(a * b / d)` in 256-bit intermediates, as `u128`.
fn mul_div_u128(a: u128, b: u128, d: u128, what: &'static str) -> Result<u128, VenueError> {
    let value = mul_div(U256::from(a), U256::from(b), U256::from(d)).ok_or(overflow(what))?;
    to_u128(value, what)
}

/// `v` as `u128`, saturating (for exposed weights only).
fn saturate(v: U256) -> u128 {
    u128::try_from(v).unwrap_or(u128::MAX)
}

/// How the TAO emission of a block is split across subnets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EmissionWeighting {
    /// In proportion to each subnet's alpha price in TAO,
    /// `floor(tao_reserve * 1e18 / alpha_reserve)` (dTAO's price-based
    /// emission). The default; JSON `"price"`.
    #[default]
    Price,
    /// Fixed weights, one per subnet in the order of
    /// [`NetworkConfig::subnets`]; at least one positive. JSON
    /// `{"fixed": [1, 2]}`.
    Fixed(Vec<u128>),
}

/// How a subnet's participant alpha is shared, in basis points summing to
/// 10_000. Default: dTAO's owner 18%, miners 41%, validators and stakers
/// 41%.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantShares {
    /// Subnet owner's share, bps. Default 1_800.
    pub owner_bps: u32,
    /// Miners' share, bps. Default 4_100.
    pub miners_bps: u32,
    /// Validators' and stakers' share, paid pro rata to stake, bps.
    /// Default 4_100.
    pub stakers_bps: u32,
}

impl Default for ParticipantShares {
    fn default() -> Self {
        ParticipantShares {
            owner_bps: 1_800,
            miners_bps: 4_100,
            stakers_bps: 4_100,
        }
    }
}

/// One subnet at genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubnetConfig {
    /// Subnet id, unique in the network. Required.
    pub netuid: u16,
    /// Display name. Default empty.
    #[serde(default)]
    pub name: String,
    /// TAO in the pool, rao; positive. Required.
    pub tao_reserve: u128,
    /// Alpha in the pool, base units; positive. Required.
    pub alpha_reserve: u128,
    /// Alpha minted per block, base units. Default 1 alpha
    /// (1_000_000_000).
    #[serde(default = "default_alpha_per_block")]
    pub alpha_per_block: u128,
    /// Swap fee kept by the pool, pips (1_000_000 = 100%); below 1_000_000.
    /// Default 0.
    #[serde(default)]
    pub fee_pips: u32,
    /// Alpha staked by untracked participants at genesis. Default 0.
    #[serde(default)]
    pub other_stake: u128,
    /// Alpha staked by tracked accounts at genesis, by account. Default
    /// none.
    #[serde(default)]
    pub stakes: BTreeMap<String, u128>,
}

impl SubnetConfig {
    /// A subnet with the given reserves and the defaults for the rest.
    pub fn new(netuid: u16, name: &str, tao_reserve: u128, alpha_reserve: u128) -> Self {
        SubnetConfig {
            netuid,
            name: name.to_owned(),
            tao_reserve,
            alpha_reserve,
            alpha_per_block: default_alpha_per_block(),
            fee_pips: 0,
            other_stake: 0,
            stakes: BTreeMap::new(),
        }
    }
}

/// A network of subnets at genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// TAO emitted per block across all subnets, rao. Default 1 TAO
    /// (1_000_000_000).
    #[serde(default = "default_tao_per_block")]
    pub tao_per_block: u128,
    /// How the TAO emission is split. Default [`EmissionWeighting::Price`].
    #[serde(default)]
    pub weighting: EmissionWeighting,
    /// How participant alpha is shared. Default 18/41/41%.
    #[serde(default)]
    pub shares: ParticipantShares,
    /// Part of each block's alpha emission added to the pool, bps; the rest
    /// goes to participants. Default 5_000 (half).
    #[serde(default = "default_alpha_to_pool_bps")]
    pub alpha_to_pool_bps: u32,
    /// Block time, ms; positive. Default 12_000.
    #[serde(default = "default_block_ms")]
    pub block_ms: u64,
    /// Genesis time, ms since the epoch; block `n` is produced at
    /// `start_ms + n * block_ms`. Default 0.
    #[serde(default)]
    pub start_ms: u64,
    /// The subnets; at least one, unique netuids. Required.
    pub subnets: Vec<SubnetConfig>,
}

impl NetworkConfig {
    /// A network of `subnets` with the defaults for the rest.
    pub fn new(subnets: Vec<SubnetConfig>) -> Self {
        NetworkConfig {
            tao_per_block: default_tao_per_block(),
            weighting: EmissionWeighting::default(),
            shares: ParticipantShares::default(),
            alpha_to_pool_bps: default_alpha_to_pool_bps(),
            block_ms: default_block_ms(),
            start_ms: 0,
            subnets,
        }
    }
}

/// Who holds alpha on a subnet.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Holder {
    /// A tracked account, by name (e.g. the strategy's).
    Account(String),
    /// All untracked stakers, as one total.
    Others,
    /// The subnet owner (not a staker: earns no dividends).
    Owner,
    /// The miners (not stakers: earn no dividends).
    Miners,
}

/// Pool reserves at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reserves {
    /// TAO, rao.
    pub tao: u128,
    /// Alpha, base units.
    pub alpha: u128,
}

impl Reserves {
    /// Alpha price in TAO (`tao / alpha`), for display.
    pub fn price(&self) -> f64 {
        self.tao as f64 / self.alpha as f64
    }

    /// Alpha price in TAO times [`PRICE_SCALE`], rounded down; saturates
    /// at `u128::MAX`.
    pub fn price_scaled(&self) -> u128 {
        saturate(price_weight(self.tao, self.alpha))
    }
}

/// `floor(tao * 1e18 / alpha)` (zero for an empty alpha side).
fn price_weight(tao: u128, alpha: u128) -> U256 {
    if alpha == 0 {
        return U256::ZERO;
    }
    // tao * 1e18 < 2^188: the product cannot overflow 256 bits.
    U256::from(tao) * U256::from(PRICE_SCALE) / U256::from(alpha)
}

/// A stake (TAO -> alpha), done or quoted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeResult {
    /// Subnet.
    pub netuid: u16,
    /// TAO paid, rao, fee included.
    pub tao_in: u128,
    /// Alpha received, base units (rounded down).
    pub alpha_out: u128,
    /// Part of `tao_in` kept by the pool as fee, rao.
    pub fee_tao: u128,
    /// Reserves before.
    pub before: Reserves,
    /// Reserves after.
    pub after: Reserves,
}

impl StakeResult {
    /// TAO paid per alpha received, for display.
    pub fn average_price(&self) -> f64 {
        self.tao_in as f64 / self.alpha_out as f64
    }
}

/// An unstake (alpha -> TAO), done or quoted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnstakeResult {
    /// Subnet.
    pub netuid: u16,
    /// Alpha sold, base units, fee included.
    pub alpha_in: u128,
    /// TAO received, rao (rounded down).
    pub tao_out: u128,
    /// Part of `alpha_in` kept by the pool as fee, base units.
    pub fee_alpha: u128,
    /// Reserves before.
    pub before: Reserves,
    /// Reserves after.
    pub after: Reserves,
}

impl UnstakeResult {
    /// TAO received per alpha sold, for display.
    pub fn average_price(&self) -> f64 {
        self.tao_out as f64 / self.alpha_in as f64
    }
}

/// What one block emitted on one subnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetEmission {
    /// Subnet.
    pub netuid: u16,
    /// This subnet's emission weight in the block (saturates at
    /// `u128::MAX`, unreachable with real prices).
    pub weight: u128,
    /// Sum of all subnets' weights (saturates likewise).
    pub weight_total: u128,
    /// TAO added to the pool's TAO reserve, rao.
    pub tao_in: u128,
    /// Alpha minted (`alpha_per_block`).
    pub alpha_minted: u128,
    /// Alpha added to the pool's alpha reserve.
    pub alpha_to_pool: u128,
    /// Alpha paid to the owner.
    pub alpha_owner: u128,
    /// Alpha paid to the miners.
    pub alpha_miners: u128,
    /// Stakers' dividends paid to tracked accounts (non-zero ones).
    pub dividends: BTreeMap<String, u128>,
    /// Stakers' dividends paid to the untracked stakers.
    pub alpha_others: u128,
    /// Subnet's alpha dust after the block (carried to the next block).
    pub alpha_dust: u128,
}

impl SubnetEmission {
    /// Fraction of the block's TAO pot this subnet was weighted for.
    pub fn emission_share(&self) -> f64 {
        if self.weight_total == 0 {
            0.0
        } else {
            self.weight as f64 / self.weight_total as f64
        }
    }

    /// Dividends paid to all stakers, tracked and not.
    pub fn alpha_stakers(&self) -> u128 {
        self.dividends.values().sum::<u128>() + self.alpha_others
    }

    /// Alpha paid to participants (owner, miners, stakers).
    pub fn alpha_distributed(&self) -> u128 {
        self.alpha_owner + self.alpha_miners + self.alpha_stakers()
    }
}

/// What one block emitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockEmission {
    /// Block number (the first block is 1).
    pub block: u64,
    /// When it was produced, ms since the epoch.
    pub time_ms: u64,
    /// TAO pot of the block: `tao_per_block` plus dust carried in.
    pub tao_pot: u128,
    /// TAO left undistributed by rounding, carried to the next block.
    pub tao_dust: u128,
    /// Per subnet, in network order.
    pub subnets: Vec<SubnetEmission>,
}

/// Where all of a subnet's alpha is. Balanced when
/// `genesis + minted == pool + tracked + others + owner + miners + dust`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlphaAccounting {
    /// Alpha existing at genesis (pool plus genesis stakes).
    pub genesis: u128,
    /// Alpha minted by emission since genesis.
    pub minted: u128,
    /// In the pool.
    pub pool: u128,
    /// Staked by tracked accounts.
    pub tracked: u128,
    /// Staked by untracked participants.
    pub others: u128,
    /// Held by the owner.
    pub owner: u128,
    /// Held by the miners.
    pub miners: u128,
    /// Rounding remainders awaiting the next block's payout.
    pub dust: u128,
}

impl AlphaAccounting {
    /// Whether no alpha was created or lost.
    pub fn is_balanced(&self) -> bool {
        let held = [
            self.pool,
            self.tracked,
            self.others,
            self.owner,
            self.miners,
            self.dust,
        ]
        .iter()
        .try_fold(0u128, |sum, v| sum.checked_add(*v));
        held.is_some() && held == self.genesis.checked_add(self.minted)
    }
}

/// A read-only view of one subnet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubnetView {
    /// Subnet.
    pub netuid: u16,
    /// Display name.
    pub name: String,
    /// TAO in the pool, rao.
    pub tao_reserve: u128,
    /// Alpha in the pool, base units.
    pub alpha_reserve: u128,
    /// Alpha price in TAO, for display.
    pub price: f64,
    /// Alpha price in TAO times 1e18, rounded down (exact).
    pub price_scaled: u128,
    /// Swap fee, pips.
    pub fee_pips: u32,
    /// Alpha minted per block.
    pub alpha_per_block: u128,
    /// Emission weight the next block would use (numerator).
    pub emission_weight: u128,
    /// Sum of all subnets' emission weights (denominator).
    pub emission_weight_total: u128,
    /// `emission_weight / emission_weight_total`: the fraction of the
    /// next block's TAO emission this subnet would get.
    pub emission_share: f64,
    /// Alpha staked by tracked accounts.
    pub stakes: BTreeMap<String, u128>,
    /// Alpha staked by untracked participants.
    pub other_stake: u128,
    /// Alpha held by the owner.
    pub owner_alpha: u128,
    /// Alpha held by the miners.
    pub miner_alpha: u128,
    /// Alpha dust awaiting the next block's payout.
    pub alpha_dust: u128,
    /// TAO emitted into this pool since genesis, rao.
    pub tao_emitted: u128,
}

impl SubnetView {
    /// Alpha staked by `account` (0 if none).
    pub fn stake_of(&self, account: &str) -> u128 {
        self.stakes.get(account).copied().unwrap_or(0)
    }

    /// Alpha staked by all stakers (tracked and others).
    pub fn total_staked(&self) -> u128 {
        self.stakes.values().sum::<u128>() + self.other_stake
    }
}

/// What an external participant does, in an [`ExternalFlow`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowAction {
    /// Stake this much TAO, rao.
    Stake {
        /// TAO paid, rao.
        tao_in: u128,
    },
    /// Unstake this much alpha.
    Unstake {
        /// Alpha sold, base units.
        alpha_in: u128,
    },
    /// Unstake this fraction of the holder's alpha at the time it is
    /// applied, in millionths (rounded down); always within the balance,
    /// whatever other traders did before.
    UnstakeFraction {
        /// Fraction, ppm (1_000_000 = all).
        ppm: u32,
    },
}

/// A stake or unstake by someone other than the strategy, applied without
/// a slippage bound.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalFlow {
    /// Subnet.
    pub netuid: u16,
    /// Who trades.
    pub holder: Holder,
    /// What they do.
    pub action: FlowAction,
}

/// What an [`ExternalFlow`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowOutcome {
    /// A stake went through.
    Staked(StakeResult),
    /// An unstake went through.
    Unstaked(UnstakeResult),
    /// Refused (too small to buy anything, nothing to sell, unknown subnet,
    /// ...); the network is unchanged.
    Refused {
        /// The flow's subnet.
        netuid: u16,
        /// Why.
        reason: String,
    },
}

/// What [`SubnetNetwork::run_block`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockReport {
    /// One outcome per flow, in order.
    pub flows: Vec<FlowOutcome>,
    /// The block's emission, after the flows.
    pub emission: BlockEmission,
}

/// One subnet's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Subnet {
    netuid: u16,
    name: String,
    /// reserve0 is TAO, reserve1 alpha: staking is `zero_for_one`.
    pool: ConstantProductPool,
    alpha_per_block: u128,
    stakes: BTreeMap<String, u128>,
    other_stake: u128,
    owner_alpha: u128,
    miner_alpha: u128,
    alpha_dust: u128,
    alpha_genesis: u128,
    alpha_minted: u128,
    tao_emitted: u128,
}

impl Subnet {
    fn reserves(&self) -> Reserves {
        Reserves {
            tao: self.pool.reserve0,
            alpha: self.pool.reserve1,
        }
    }

    fn balance(&self, holder: &Holder) -> u128 {
        match holder {
            Holder::Account(name) => self.stakes.get(name).copied().unwrap_or(0),
            Holder::Others => self.other_stake,
            Holder::Owner => self.owner_alpha,
            Holder::Miners => self.miner_alpha,
        }
    }

    fn set_balance(&mut self, holder: &Holder, amount: u128) {
        match holder {
            Holder::Account(name) => {
                if amount == 0 {
                    self.stakes.remove(name);
                } else {
                    self.stakes.insert(name.clone(), amount);
                }
            }
            Holder::Others => self.other_stake = amount,
            Holder::Owner => self.owner_alpha = amount,
            Holder::Miners => self.miner_alpha = amount,
        }
    }

    /// Swap `amount_in` into the pool, TAO for alpha (`tao_in`) or alpha
    /// for TAO, without changing it: the output, the fee (in the input
    /// token) and the reserves before and after.
    fn quote_leg(
        &self,
        amount_in: u128,
        tao_in: bool,
    ) -> Result<(u128, u128, Reserves, Reserves), VenueError> {
        if amount_in == 0 {
            return Err(VenueError::ZeroAmount);
        }
        let out = self.pool.quote_exact_in(amount_in, tao_in)?;
        if out == 0 {
            let (what, gives) = if tao_in {
                ("a stake", "rao buys no alpha")
            } else {
                ("an unstake", "alpha returns no TAO")
            };
            return Err(VenueError::InsufficientLiquidity {
                detail: format!("{what} of {amount_in} {gives} on subnet {}", self.netuid),
            });
        }
        let before = self.reserves();
        let (reserve_in, reserve_out, name) = if tao_in {
            (before.tao, before.alpha, "subnet TAO reserve")
        } else {
            (before.alpha, before.tao, "subnet alpha reserve")
        };
        let grown = reserve_in.checked_add(amount_in).ok_or(overflow(name))?;
        let shrunk = reserve_out - out;
        let after = if tao_in {
            Reserves {
                tao: grown,
                alpha: shrunk,
            }
        } else {
            Reserves {
                tao: shrunk,
                alpha: grown,
            }
        };
        let fee = mul_div_u128(
            amount_in,
            u128::from(self.pool.fee_pips),
            u128::from(PIPS),
            "fee",
        )?;
        Ok((out, fee, before, after))
    }

    fn quote_stake(&self, tao_in: u128) -> Result<StakeResult, VenueError> {
        let (alpha_out, fee_tao, before, after) = self.quote_leg(tao_in, true)?;
        Ok(StakeResult {
            netuid: self.netuid,
            tao_in,
            alpha_out,
            fee_tao,
            before,
            after,
        })
    }

    fn quote_unstake(&self, alpha_in: u128) -> Result<UnstakeResult, VenueError> {
        let (tao_out, fee_alpha, before, after) = self.quote_leg(alpha_in, false)?;
        Ok(UnstakeResult {
            netuid: self.netuid,
            alpha_in,
            tao_out,
            fee_alpha,
            before,
            after,
        })
    }

    fn stake(
        &mut self,
        holder: &Holder,
        tao_in: u128,
        min_alpha_out: u128,
    ) -> Result<StakeResult, VenueError> {
        let quote = self.quote_stake(tao_in)?;
        if quote.alpha_out < min_alpha_out {
            return Err(VenueError::InsufficientLiquidity {
                detail: format!(
                    "slippage: staking {tao_in} rao on subnet {} gives {} alpha, below the minimum {min_alpha_out}",
                    self.netuid, quote.alpha_out
                ),
            });
        }
        let balance = self
            .balance(holder)
            .checked_add(quote.alpha_out)
            .ok_or(overflow("alpha stake"))?;
        let swap = self.pool.swap_exact_in(tao_in, true)?;
        debug_assert_eq!(swap.amount_out, quote.alpha_out);
        self.set_balance(holder, balance);
        Ok(quote)
    }

    fn unstake(
        &mut self,
        holder: &Holder,
        alpha_in: u128,
        min_tao_out: u128,
    ) -> Result<UnstakeResult, VenueError> {
        if alpha_in == 0 {
            return Err(VenueError::ZeroAmount);
        }
        let available = self.balance(holder);
        if available < alpha_in {
            return Err(VenueError::InsufficientBalance {
                needed: alpha_in,
                available,
            });
        }
        let quote = self.quote_unstake(alpha_in)?;
        if quote.tao_out < min_tao_out {
            return Err(VenueError::InsufficientLiquidity {
                detail: format!(
                    "slippage: unstaking {alpha_in} alpha on subnet {} gives {} rao, below the minimum {min_tao_out}",
                    self.netuid, quote.tao_out
                ),
            });
        }
        let swap = self.pool.swap_exact_in(alpha_in, false)?;
        debug_assert_eq!(swap.amount_out, quote.tao_out);
        self.set_balance(holder, available - alpha_in);
        Ok(quote)
    }

    /// This block's emission for the subnet, computed without changing
    /// anything (every sum checked), so a block applies all or nothing.
    fn plan_emission(
        &self,
        tao_in: u128,
        weight: (u128, u128),
        shares: &ParticipantShares,
        alpha_to_pool_bps: u32,
    ) -> Result<SubnetEmission, VenueError> {
        let what = "subnet emission";
        let minted = self.alpha_per_block;
        let alpha_to_pool =
            mul_div_u128(minted, u128::from(alpha_to_pool_bps), u128::from(BPS), what)?;
        let pot = (minted - alpha_to_pool)
            .checked_add(self.alpha_dust)
            .ok_or(overflow(what))?;
        let share = |bps: u32| mul_div_u128(pot, u128::from(bps), u128::from(BPS), what);
        let alpha_owner = share(shares.owner_bps)?;
        let alpha_miners = share(shares.miners_bps)?;
        let stakers = share(shares.stakers_bps)?;
        // Shares sum to 10_000 bps, so the floors leave 0 to 2 units.
        let mut dust = pot - alpha_owner - alpha_miners - stakers;

        let staked = self
            .stakes
            .values()
            .try_fold(self.other_stake, |sum, v| sum.checked_add(*v))
            .ok_or(overflow(what))?;
        let mut dividends = BTreeMap::new();
        let mut alpha_others = 0;
        if staked == 0 {
            dust += stakers;
        } else {
            let mut paid = 0u128;
            for (account, stake) in &self.stakes {
                let dividend = mul_div_u128(stakers, *stake, staked, what)?;
                stake.checked_add(dividend).ok_or(overflow(what))?;
                if dividend > 0 {
                    dividends.insert(account.clone(), dividend);
                }
                paid += dividend;
            }
            alpha_others = mul_div_u128(stakers, self.other_stake, staked, what)?;
            self.other_stake
                .checked_add(alpha_others)
                .ok_or(overflow(what))?;
            paid += alpha_others;
            // Each floor is at most the exact share, so paid <= stakers.
            dust += stakers - paid;
        }
        self.pool
            .reserve0
            .checked_add(tao_in)
            .ok_or(overflow("subnet TAO reserve"))?;
        self.pool
            .reserve1
            .checked_add(alpha_to_pool)
            .ok_or(overflow("subnet alpha reserve"))?;
        self.owner_alpha
            .checked_add(alpha_owner)
            .ok_or(overflow(what))?;
        self.miner_alpha
            .checked_add(alpha_miners)
            .ok_or(overflow(what))?;
        self.alpha_minted
            .checked_add(minted)
            .ok_or(overflow(what))?;
        self.tao_emitted.checked_add(tao_in).ok_or(overflow(what))?;
        Ok(SubnetEmission {
            netuid: self.netuid,
            weight: weight.0,
            weight_total: weight.1,
            tao_in,
            alpha_minted: minted,
            alpha_to_pool,
            alpha_owner,
            alpha_miners,
            dividends,
            alpha_others,
            alpha_dust: dust,
        })
    }

    /// Apply a plan from [`Subnet::plan_emission`] (whose sums were
    /// checked).
    fn apply_emission(&mut self, e: &SubnetEmission) {
        self.pool.reserve0 += e.tao_in;
        self.pool.reserve1 += e.alpha_to_pool;
        self.owner_alpha += e.alpha_owner;
        self.miner_alpha += e.alpha_miners;
        for (account, dividend) in &e.dividends {
            if let Some(stake) = self.stakes.get_mut(account) {
                *stake += dividend;
            }
        }
        self.other_stake += e.alpha_others;
        self.alpha_dust = e.alpha_dust;
        self.alpha_minted += e.alpha_minted;
        self.tao_emitted += e.tao_in;
    }
}

/// Subnets with dTAO pools and per-block emission. Construct with
/// [`SubnetNetwork::new`]; serializable as a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetNetwork {
    tao_per_block: u128,
    weighting: EmissionWeighting,
    shares: ParticipantShares,
    alpha_to_pool_bps: u32,
    block_ms: u64,
    start_ms: u64,
    block: u64,
    tao_dust: u128,
    tao_emitted: u128,
    subnets: Vec<Subnet>,
}

impl SubnetNetwork {
    /// A network at genesis (block 0). Refuses (`InvalidRange`) no
    /// subnets, duplicate netuids, empty reserves, a fee of 100% or more,
    /// shares not summing to 10_000 bps, `alpha_to_pool_bps` above 10_000,
    /// a zero block time, and fixed weights not one per subnet or all zero.
    pub fn new(config: NetworkConfig) -> Result<Self, VenueError> {
        let NetworkConfig {
            tao_per_block,
            weighting,
            shares,
            alpha_to_pool_bps,
            block_ms,
            start_ms,
            subnets,
        } = config;
        if subnets.is_empty() {
            return Err(invalid("a network needs at least one subnet".into()));
        }
        if block_ms == 0 {
            return Err(invalid("block_ms must be positive".into()));
        }
        let share_sum = u64::from(shares.owner_bps)
            + u64::from(shares.miners_bps)
            + u64::from(shares.stakers_bps);
        if share_sum != u64::from(BPS) {
            return Err(invalid(format!(
                "participant shares sum to {share_sum} bps, not 10000"
            )));
        }
        if alpha_to_pool_bps > BPS {
            return Err(invalid(format!(
                "alpha_to_pool_bps {alpha_to_pool_bps} above 10000"
            )));
        }
        if let EmissionWeighting::Fixed(weights) = &weighting {
            if weights.len() != subnets.len() {
                return Err(invalid(format!(
                    "{} fixed weights for {} subnets",
                    weights.len(),
                    subnets.len()
                )));
            }
            if weights.iter().all(|w| *w == 0) {
                return Err(invalid("fixed weights are all zero".into()));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut states = Vec::with_capacity(subnets.len());
        for s in subnets {
            if !seen.insert(s.netuid) {
                return Err(invalid(format!("duplicate netuid {}", s.netuid)));
            }
            if s.tao_reserve == 0 || s.alpha_reserve == 0 {
                return Err(invalid(format!(
                    "subnet {}: reserves must be positive",
                    s.netuid
                )));
            }
            if s.fee_pips >= PIPS {
                return Err(invalid(format!(
                    "subnet {}: fee {} pips is 100% or more",
                    s.netuid, s.fee_pips
                )));
            }
            let stakes: BTreeMap<String, u128> =
                s.stakes.into_iter().filter(|(_, v)| *v > 0).collect();
            let alpha_genesis = stakes
                .values()
                .try_fold(s.alpha_reserve, |sum, v| sum.checked_add(*v))
                .and_then(|sum| sum.checked_add(s.other_stake))
                .ok_or(overflow("alpha supply"))?;
            states.push(Subnet {
                netuid: s.netuid,
                name: s.name,
                pool: ConstantProductPool::new(s.tao_reserve, s.alpha_reserve, s.fee_pips),
                alpha_per_block: s.alpha_per_block,
                stakes,
                other_stake: s.other_stake,
                owner_alpha: 0,
                miner_alpha: 0,
                alpha_dust: 0,
                alpha_genesis,
                alpha_minted: 0,
                tao_emitted: 0,
            });
        }
        Ok(SubnetNetwork {
            tao_per_block,
            weighting,
            shares,
            alpha_to_pool_bps,
            block_ms,
            start_ms,
            block: 0,
            tao_dust: 0,
            tao_emitted: 0,
            subnets: states,
        })
    }

    fn find(&self, netuid: u16) -> Result<&Subnet, VenueError> {
        self.subnets
            .iter()
            .find(|s| s.netuid == netuid)
            .ok_or_else(|| unknown(netuid))
    }

    fn find_mut(&mut self, netuid: u16) -> Result<&mut Subnet, VenueError> {
        self.subnets
            .iter_mut()
            .find(|s| s.netuid == netuid)
            .ok_or_else(|| unknown(netuid))
    }

    /// Blocks produced since genesis.
    pub fn block(&self) -> u64 {
        self.block
    }

    /// Block time, ms.
    pub fn block_ms(&self) -> u64 {
        self.block_ms
    }

    /// Genesis time, ms.
    pub fn start_ms(&self) -> u64 {
        self.start_ms
    }

    /// Time of the last block produced (genesis time at block 0), ms.
    pub fn now_ms(&self) -> u64 {
        self.start_ms
            .saturating_add(self.block.saturating_mul(self.block_ms))
    }

    /// TAO emitted per block, rao.
    pub fn tao_per_block(&self) -> u128 {
        self.tao_per_block
    }

    /// TAO left undistributed by rounding, joining the next block's pot.
    pub fn tao_dust(&self) -> u128 {
        self.tao_dust
    }

    /// TAO injected into pools since genesis. Always
    /// `tao_emitted + tao_dust == block * tao_per_block`.
    pub fn tao_emitted(&self) -> u128 {
        self.tao_emitted
    }

    /// Participant shares.
    pub fn shares(&self) -> ParticipantShares {
        self.shares
    }

    /// Emission weighting.
    pub fn weighting(&self) -> &EmissionWeighting {
        &self.weighting
    }

    /// Netuids, in network order.
    pub fn netuids(&self) -> Vec<u16> {
        self.subnets.iter().map(|s| s.netuid).collect()
    }

    /// Emission weights of all subnets now, in network order, and their
    /// sum (exact, 256 bits).
    fn weights(&self) -> (Vec<U256>, U256) {
        let weights: Vec<U256> = match &self.weighting {
            EmissionWeighting::Price => self
                .subnets
                .iter()
                .map(|s| price_weight(s.pool.reserve0, s.pool.reserve1))
                .collect(),
            EmissionWeighting::Fixed(fixed) => fixed.iter().map(|w| U256::from(*w)).collect(),
        };
        // At most 65_536 weights below 2^188 each: the sum fits.
        let total = weights.iter().fold(U256::ZERO, |sum, w| sum + *w);
        (weights, total)
    }

    /// A view of subnet `netuid`.
    pub fn subnet(&self, netuid: u16) -> Option<SubnetView> {
        let (weights, total) = self.weights();
        let index = self.subnets.iter().position(|s| s.netuid == netuid)?;
        Some(self.view(index, weights[index], total))
    }

    /// Views of all subnets, in network order.
    pub fn subnets(&self) -> Vec<SubnetView> {
        let (weights, total) = self.weights();
        (0..self.subnets.len())
            .map(|i| self.view(i, weights[i], total))
            .collect()
    }

    fn view(&self, index: usize, weight: U256, total: U256) -> SubnetView {
        let s = &self.subnets[index];
        let reserves = s.reserves();
        let (emission_weight, emission_weight_total) = (saturate(weight), saturate(total));
        SubnetView {
            netuid: s.netuid,
            name: s.name.clone(),
            tao_reserve: reserves.tao,
            alpha_reserve: reserves.alpha,
            price: reserves.price(),
            price_scaled: reserves.price_scaled(),
            fee_pips: s.pool.fee_pips,
            alpha_per_block: s.alpha_per_block,
            emission_weight,
            emission_weight_total,
            emission_share: if emission_weight_total == 0 {
                0.0
            } else {
                emission_weight as f64 / emission_weight_total as f64
            },
            stakes: s.stakes.clone(),
            other_stake: s.other_stake,
            owner_alpha: s.owner_alpha,
            miner_alpha: s.miner_alpha,
            alpha_dust: s.alpha_dust,
            tao_emitted: s.tao_emitted,
        }
    }

    /// Reserves of subnet `netuid`.
    pub fn reserves(&self, netuid: u16) -> Option<Reserves> {
        self.find(netuid).ok().map(Subnet::reserves)
    }

    /// Alpha price of subnet `netuid` in TAO, for display.
    pub fn price(&self, netuid: u16) -> Option<f64> {
        self.reserves(netuid).map(|r| r.price())
    }

    /// Alpha staked by tracked `account` on subnet `netuid` (0 if none or
    /// unknown subnet).
    pub fn stake_of(&self, account: &str, netuid: u16) -> u128 {
        self.find(netuid)
            .map(|s| s.stakes.get(account).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// Alpha held by `holder` on subnet `netuid` (0 if unknown subnet).
    pub fn balance_of(&self, holder: &Holder, netuid: u16) -> u128 {
        self.find(netuid).map(|s| s.balance(holder)).unwrap_or(0)
    }

    /// Spot value of `alpha` on subnet `netuid` in rao,
    /// `floor(alpha * tao_reserve / alpha_reserve)` (no slippage; what an
    /// unstake gives is [`SubnetNetwork::quote_unstake`]).
    pub fn spot_value(&self, netuid: u16, alpha: u128) -> Result<u128, VenueError> {
        let r = self.find(netuid)?.reserves();
        mul_div_u128(alpha, r.tao, r.alpha, "spot value")
    }

    /// Where subnet `netuid`'s alpha is.
    pub fn alpha_accounting(&self, netuid: u16) -> Option<AlphaAccounting> {
        let s = self.find(netuid).ok()?;
        Some(AlphaAccounting {
            genesis: s.alpha_genesis,
            minted: s.alpha_minted,
            pool: s.pool.reserve1,
            tracked: s.stakes.values().sum(),
            others: s.other_stake,
            owner: s.owner_alpha,
            miners: s.miner_alpha,
            dust: s.alpha_dust,
        })
    }

    /// What staking `tao_in` rao on `netuid` would give now; no change.
    pub fn quote_stake(&self, netuid: u16, tao_in: u128) -> Result<StakeResult, VenueError> {
        self.find(netuid)?.quote_stake(tao_in)
    }

    /// What unstaking `alpha_in` on `netuid` would give now (regardless of
    /// who holds it); no change.
    pub fn quote_unstake(&self, netuid: u16, alpha_in: u128) -> Result<UnstakeResult, VenueError> {
        self.find(netuid)?.quote_unstake(alpha_in)
    }

    /// Tracked `account` stakes `tao_in` rao on `netuid`, buying alpha from
    /// the pool (rounded down); refused with `InsufficientLiquidity` if it
    /// would give less than `min_alpha_out` or nothing, `ZeroAmount` for
    /// zero, `Unknown` for an unknown subnet. The caller debits the TAO.
    pub fn stake(
        &mut self,
        account: &str,
        netuid: u16,
        tao_in: u128,
        min_alpha_out: u128,
    ) -> Result<StakeResult, VenueError> {
        self.stake_as(
            &Holder::Account(account.to_owned()),
            netuid,
            tao_in,
            min_alpha_out,
        )
    }

    /// Tracked `account` unstakes `alpha_in` from `netuid`, selling it to
    /// the pool (TAO rounded down); refused with `InsufficientBalance` if
    /// the account holds less, `InsufficientLiquidity` if it would give
    /// less than `min_tao_out` or nothing. The caller credits the TAO.
    pub fn unstake(
        &mut self,
        account: &str,
        netuid: u16,
        alpha_in: u128,
        min_tao_out: u128,
    ) -> Result<UnstakeResult, VenueError> {
        self.unstake_as(
            &Holder::Account(account.to_owned()),
            netuid,
            alpha_in,
            min_tao_out,
        )
    }

    /// [`SubnetNetwork::stake`] for any holder.
    pub fn stake_as(
        &mut self,
        holder: &Holder,
        netuid: u16,
        tao_in: u128,
        min_alpha_out: u128,
    ) -> Result<StakeResult, VenueError> {
        self.find_mut(netuid)?.stake(holder, tao_in, min_alpha_out)
    }

    /// [`SubnetNetwork::unstake`] for any holder.
    pub fn unstake_as(
        &mut self,
        holder: &Holder,
        netuid: u16,
        alpha_in: u128,
        min_tao_out: u128,
    ) -> Result<UnstakeResult, VenueError> {
        self.find_mut(netuid)?
            .unstake(holder, alpha_in, min_tao_out)
    }

    /// Apply one external flow without a slippage bound; a refused flow
    /// changes nothing.
    pub fn apply_flow(&mut self, flow: &ExternalFlow) -> FlowOutcome {
        let result = match flow.action {
            FlowAction::Stake { tao_in } => self
                .stake_as(&flow.holder, flow.netuid, tao_in, 0)
                .map(FlowOutcome::Staked),
            FlowAction::Unstake { alpha_in } => self
                .unstake_as(&flow.holder, flow.netuid, alpha_in, 0)
                .map(FlowOutcome::Unstaked),
            FlowAction::UnstakeFraction { ppm } => {
                let held = self.balance_of(&flow.holder, flow.netuid);
                mul_div_u128(held, u128::from(ppm.min(PIPS)), u128::from(PIPS), "flow")
                    .and_then(|alpha_in| self.unstake_as(&flow.holder, flow.netuid, alpha_in, 0))
                    .map(FlowOutcome::Unstaked)
            }
        };
        result.unwrap_or_else(|e| FlowOutcome::Refused {
            netuid: flow.netuid,
            reason: e.to_string(),
        })
    }

    /// Produce the next block: split the TAO pot across subnets, inject it,
    /// mint and distribute alpha. All or nothing: on `Overflow` nothing
    /// changed.
    pub fn step_block(&mut self) -> Result<BlockEmission, VenueError> {
        let (weights, total) = self.weights();
        let tao_pot = self
            .tao_per_block
            .checked_add(self.tao_dust)
            .ok_or(overflow("TAO pot"))?;
        let mut plans = Vec::with_capacity(self.subnets.len());
        let mut tao_paid = 0u128;
        for (subnet, weight) in self.subnets.iter().zip(&weights) {
            let tao_in = if total.is_zero() {
                0
            } else {
                let v =
                    mul_div(U256::from(tao_pot), *weight, total).ok_or(overflow("TAO split"))?;
                to_u128(v, "TAO split")?
            };
            // Floors of shares of the pot: their sum never exceeds it.
            tao_paid += tao_in;
            plans.push(subnet.plan_emission(
                tao_in,
                (saturate(*weight), saturate(total)),
                &self.shares,
                self.alpha_to_pool_bps,
            )?);
        }
        let tao_emitted = self
            .tao_emitted
            .checked_add(tao_paid)
            .ok_or(overflow("TAO emitted"))?;
        let block = self.block.checked_add(1).ok_or(overflow("block number"))?;
        for (subnet, plan) in self.subnets.iter_mut().zip(&plans) {
            subnet.apply_emission(plan);
        }
        self.block = block;
        self.tao_dust = tao_pot - tao_paid;
        self.tao_emitted = tao_emitted;
        Ok(BlockEmission {
            block,
            time_ms: self.now_ms(),
            tao_pot,
            tao_dust: self.tao_dust,
            subnets: plans,
        })
    }

    /// Produce every whole block due by `now_ms` (block `n` is due at
    /// `start_ms + n * block_ms`); none if `now_ms` is before the next one.
    pub fn advance_to(&mut self, now_ms: u64) -> Result<Vec<BlockEmission>, VenueError> {
        let due = now_ms.saturating_sub(self.start_ms) / self.block_ms;
        let mut emitted = Vec::new();
        while self.block < due {
            emitted.push(self.step_block()?);
        }
        Ok(emitted)
    }

    /// One block as a backtest runs it: `flows` in order (each refused
    /// flow is reported and skipped), then [`SubnetNetwork::step_block`].
    /// Strategy actions for the block go before this call.
    pub fn run_block(&mut self, flows: &[ExternalFlow]) -> Result<BlockReport, VenueError> {
        let flows = flows.iter().map(|f| self.apply_flow(f)).collect();
        let emission = self.step_block()?;
        Ok(BlockReport { flows, emission })
    }
}

fn unknown(netuid: u16) -> VenueError {
    VenueError::Unknown {
        what: "subnet",
        name: netuid.to_string(),
    }
}
