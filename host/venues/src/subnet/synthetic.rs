//! Seeded synthetic multi-subnet scenarios and their tapes.
//!
//! [`SubnetScenario::new`] builds a genesis network from a
//! [`SyntheticSubnetsConfig`] (varied reserves and prices, drawn from the
//! seed) and [`SubnetScenario::flows`] yields, block by block, the stakes
//! and unstakes of the other participants ([`ExternalFlow`]s):
//!
//! - each subnet has a regime (bear, neutral, bull) that switches with a
//!   small probability per block, so subnets trend for hours at a time;
//! - per block and subnet, the number of stakes and of unstakes by the
//!   untracked stakers are Poisson, tilted by the regime (a bull regime
//!   has more stakes and fewer unstakes);
//! - a stake pays a lognormal amount of TAO around a median proportional to
//!   the subnet's genesis TAO reserve; an unstake sells a lognormal
//!   fraction of the untracked stakers' alpha at that moment
//!   ([`FlowAction::UnstakeFraction`]), so it is always within their
//!   balance;
//! - the miners and the owner sell a fixed fraction of their emitted alpha
//!   every block.
//!
//! The flows depend only on the seed and the configuration, never on the
//! network's state, so a backtest in which the strategy also trades
//! replays exactly the same flows (their effect on prices, of course, then
//! differs). [`SubnetScenario::run`] replays them with no strategy and
//! records a [`SubnetTape`]. A backtest does the same with the strategy's
//! actions first in each block:
//!
//! ```
//! use stratbox_venues::subnet::synthetic::{SubnetScenario, SyntheticSubnetsConfig, TapeRecorder};
//!
//! let scenario = SubnetScenario::new(SyntheticSubnetsConfig::new(4, 50, 7)).unwrap();
//! let mut network = scenario.initial_network().clone();
//! let mut recorder = TapeRecorder::new(&network, 10).unwrap();
//! for block in scenario.flows() {
//!     // 1. The strategy acts on the state after the previous block.
//!     if block.block == 1 {
//!         network.stake("strategy", 1, 5_000_000_000, 0).unwrap();
//!     }
//!     recorder.observe(&network);
//!     // 2. Everyone else's flows, then the block's emission.
//!     let report = network.run_block(&block.flows).unwrap();
//!     recorder.record_block(&report, &network);
//! }
//! let tape = recorder.finish();
//! assert_eq!(tape.subnets[0].candles.len(), 5);
//! assert!(network.stake_of("strategy", 1) > 0);
//! ```
//!
//! Determinism: same configuration (seed included), same network, flows
//! and tape, on the same platform (the samplers use `f64` `ln`/`exp`).

use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Poisson};
use serde::{Deserialize, Serialize};

use super::{
    ALPHA_UNIT, BPS, BlockReport, DEFAULT_BLOCK_MS, EmissionWeighting, ExternalFlow, FlowAction,
    FlowOutcome, Holder, NetworkConfig, ParticipantShares, RAO_PER_TAO, SubnetConfig,
    SubnetNetwork,
};
use crate::VenueError;
use crate::v2::PIPS;

/// ChaCha stream of the genesis draws.
const GENESIS_STREAM: u64 = 0;
/// ChaCha stream of the flow draws.
const FLOW_STREAM: u64 = 1;

/// Parameters of a synthetic scenario. Every field has a default (JSON or
/// TOML may give any subset); unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyntheticSubnetsConfig {
    /// Number of subnets, netuids `1..=subnets`; at least 1. Default 8.
    pub subnets: u16,
    /// Blocks to simulate. Default 7_200 (a day of 12 s blocks).
    pub blocks: u64,
    /// Random seed: same seed, same scenario. Default 0.
    pub seed: u64,
    /// Genesis time, ms since the epoch. Default 1_700_000_000_000.
    pub start_ms: u64,
    /// Block time, ms; positive. Default 12_000.
    pub block_ms: u64,
    /// Blocks per candle of the tape; at least 1. Default 25 (5 minutes).
    pub candle_blocks: u64,
    /// TAO emitted per block across all subnets (split by price), rao.
    /// Default 1 TAO.
    pub tao_per_block: u128,
    /// Alpha minted per block on each subnet, base units. Default 1 alpha.
    pub alpha_per_block: u128,
    /// Part of the alpha emission added to the pool, bps. Default 5_000.
    pub alpha_to_pool_bps: u32,
    /// Participant shares. Default 18/41/41%.
    pub shares: ParticipantShares,
    /// Pool fee, pips. Default 0.
    pub fee_pips: u32,
    /// Median genesis TAO reserve of a subnet, TAO; positive. Default
    /// 20_000.
    pub median_tao_reserve: f64,
    /// Log-space standard deviation of the genesis TAO reserves. Default
    /// 0.8.
    pub tao_reserve_sigma: f64,
    /// Median genesis alpha price, TAO; positive. Default 0.02.
    pub median_price: f64,
    /// Log-space standard deviation of the genesis prices. Default 0.8.
    pub price_sigma: f64,
    /// Alpha staked by untracked stakers at genesis, as a multiple of the
    /// pool's alpha reserve. Default 1.0.
    pub other_stake_ratio: f64,
    /// Expected stakes per subnet per block in the neutral regime.
    /// Default 0.5.
    pub stake_rate: f64,
    /// Expected unstakes per subnet per block in the neutral regime.
    /// Default 0.5.
    pub unstake_rate: f64,
    /// Median stake, ppm of the subnet's genesis TAO reserve. Default 200.
    pub stake_size_ppm: f64,
    /// Median unstake, ppm of the untracked stakers' alpha at the time.
    /// Default 200.
    pub unstake_size_ppm: f64,
    /// Log-space standard deviation of stake and unstake sizes. Default
    /// 1.0.
    pub size_sigma: f64,
    /// Probability per block that a subnet's regime switches, in [0, 1].
    /// Default 0.0005 (regimes last about 7 hours).
    pub regime_switch_prob: f64,
    /// How much a regime tilts the rates, in [0, 1]: a bull regime
    /// multiplies the stake rate by `1 + tilt` and the unstake rate by
    /// `1 - tilt`, a bear regime the reverse. Default 0.2.
    pub regime_tilt: f64,
    /// Fraction of their alpha the miners sell every block, ppm. Default
    /// 5_000.
    pub miner_sell_ppm: u32,
    /// Fraction of its alpha the owner sells every block, ppm. Default
    /// 1_000.
    pub owner_sell_ppm: u32,
}

impl Default for SyntheticSubnetsConfig {
    fn default() -> Self {
        SyntheticSubnetsConfig {
            subnets: 8,
            blocks: 7_200,
            seed: 0,
            start_ms: 1_700_000_000_000,
            block_ms: DEFAULT_BLOCK_MS,
            candle_blocks: 25,
            tao_per_block: RAO_PER_TAO,
            alpha_per_block: ALPHA_UNIT,
            alpha_to_pool_bps: BPS / 2,
            shares: ParticipantShares::default(),
            fee_pips: 0,
            median_tao_reserve: 20_000.0,
            tao_reserve_sigma: 0.8,
            median_price: 0.02,
            price_sigma: 0.8,
            other_stake_ratio: 1.0,
            stake_rate: 0.5,
            unstake_rate: 0.5,
            stake_size_ppm: 200.0,
            unstake_size_ppm: 200.0,
            size_sigma: 1.0,
            regime_switch_prob: 0.0005,
            regime_tilt: 0.2,
            miner_sell_ppm: 5_000,
            owner_sell_ppm: 1_000,
        }
    }
}

impl SyntheticSubnetsConfig {
    /// `subnets` subnets over `blocks` blocks from `seed`, defaults for
    /// the rest.
    pub fn new(subnets: u16, blocks: u64, seed: u64) -> Self {
        SyntheticSubnetsConfig {
            subnets,
            blocks,
            seed,
            ..SyntheticSubnetsConfig::default()
        }
    }

    fn validate(&self) -> Result<(), VenueError> {
        let bad = |detail: String| Err(VenueError::InvalidRange { detail });
        if self.subnets == 0 {
            return bad("at least one subnet".into());
        }
        if self.candle_blocks == 0 {
            return bad("candle_blocks must be positive".into());
        }
        let positive = [
            ("median_tao_reserve", self.median_tao_reserve),
            ("median_price", self.median_price),
        ];
        for (name, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return bad(format!("{name} must be positive, got {v}"));
            }
        }
        let non_negative = [
            ("tao_reserve_sigma", self.tao_reserve_sigma),
            ("price_sigma", self.price_sigma),
            ("other_stake_ratio", self.other_stake_ratio),
            ("stake_rate", self.stake_rate),
            ("unstake_rate", self.unstake_rate),
            ("stake_size_ppm", self.stake_size_ppm),
            ("unstake_size_ppm", self.unstake_size_ppm),
            ("size_sigma", self.size_sigma),
        ];
        for (name, v) in non_negative {
            if !(v.is_finite() && v >= 0.0) {
                return bad(format!("{name} must be finite and non-negative, got {v}"));
            }
        }
        for (name, v) in [
            ("regime_switch_prob", self.regime_switch_prob),
            ("regime_tilt", self.regime_tilt),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return bad(format!("{name} must be in [0, 1], got {v}"));
            }
        }
        for (name, v) in [
            ("miner_sell_ppm", self.miner_sell_ppm),
            ("owner_sell_ppm", self.owner_sell_ppm),
        ] {
            if v > PIPS {
                return bad(format!("{name} {v} above 1000000"));
            }
        }
        Ok(())
    }

    /// The genesis network configuration drawn from the seed.
    pub fn network_config(&self) -> Result<NetworkConfig, VenueError> {
        self.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(GENESIS_STREAM);
        let tao_spread = lognormal(self.tao_reserve_sigma)?;
        let price_spread = lognormal(self.price_sigma)?;
        let subnets = (1..=self.subnets)
            .map(|netuid| {
                let tao = self.median_tao_reserve * tao_spread.sample(&mut rng);
                let tao_reserve = to_units(tao * RAO_PER_TAO as f64).max(RAO_PER_TAO);
                let price = self.median_price * price_spread.sample(&mut rng);
                let alpha_reserve = to_units(tao_reserve as f64 / price).max(1);
                SubnetConfig {
                    alpha_per_block: self.alpha_per_block,
                    fee_pips: self.fee_pips,
                    other_stake: to_units(alpha_reserve as f64 * self.other_stake_ratio),
                    ..SubnetConfig::new(netuid, &format!("sn{netuid}"), tao_reserve, alpha_reserve)
                }
            })
            .collect();
        Ok(NetworkConfig {
            tao_per_block: self.tao_per_block,
            weighting: EmissionWeighting::Price,
            shares: self.shares,
            alpha_to_pool_bps: self.alpha_to_pool_bps,
            block_ms: self.block_ms,
            start_ms: self.start_ms,
            subnets,
        })
    }
}

fn lognormal(sigma: f64) -> Result<LogNormal<f64>, VenueError> {
    LogNormal::new(0.0, sigma).map_err(|e| VenueError::InvalidRange {
        detail: format!("lognormal sigma {sigma}: {e}"),
    })
}

/// A non-negative `f64` rounded to base units (saturating).
fn to_units(v: f64) -> u128 {
    v.round() as u128
}

/// A genesis network and the external flows of every block, both from one
/// configuration. Cheap to clone; the flows are generated on demand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubnetScenario {
    config: SyntheticSubnetsConfig,
    initial: SubnetNetwork,
}

impl SubnetScenario {
    /// Build the genesis network of `config`; refuses invalid parameters
    /// with `InvalidRange`.
    pub fn new(config: SyntheticSubnetsConfig) -> Result<Self, VenueError> {
        let initial = SubnetNetwork::new(config.network_config()?)?;
        Ok(SubnetScenario { config, initial })
    }

    /// The configuration.
    pub fn config(&self) -> &SyntheticSubnetsConfig {
        &self.config
    }

    /// The network at genesis (block 0).
    pub fn initial_network(&self) -> &SubnetNetwork {
        &self.initial
    }

    /// The external flows of blocks `1..=blocks`, one item per block, from
    /// the start each time it is called.
    pub fn flows(&self) -> FlowStream {
        FlowStream::new(&self.config, &self.initial)
    }

    /// Run every block with no strategy: each block's flows, then its
    /// emission, recording candles of `config.candle_blocks` blocks.
    pub fn run(&self) -> Result<SyntheticRun, VenueError> {
        let mut network = self.initial.clone();
        let mut recorder = TapeRecorder::new(&network, self.config.candle_blocks)?;
        for block in self.flows() {
            let report = network.run_block(&block.flows)?;
            recorder.record_block(&report, &network);
        }
        Ok(SyntheticRun {
            tape: recorder.finish(),
            initial: self.initial.clone(),
            final_network: network,
        })
    }
}

/// Generate a scenario and run it with no strategy
/// ([`SubnetScenario::run`]).
pub fn generate(config: SyntheticSubnetsConfig) -> Result<SyntheticRun, VenueError> {
    SubnetScenario::new(config)?.run()
}

/// The external flows of one block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockFlows {
    /// Block number (from 1).
    pub block: u64,
    /// When the block is produced, ms since the epoch.
    pub time_ms: u64,
    /// Flows to apply in order before the block's emission.
    pub flows: Vec<ExternalFlow>,
}

/// A market regime of one subnet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Regime {
    /// Fewer stakes, more unstakes.
    Bear,
    /// Balanced.
    Neutral,
    /// More stakes, fewer unstakes.
    Bull,
}

impl Regime {
    const ALL: [Regime; 3] = [Regime::Bear, Regime::Neutral, Regime::Bull];

    fn index(self) -> usize {
        self as usize
    }

    fn sign(self) -> f64 {
        match self {
            Regime::Bear => -1.0,
            Regime::Neutral => 0.0,
            Regime::Bull => 1.0,
        }
    }
}

/// Poisson counts with rate `lambda` (`None` for a zero rate).
fn poisson(lambda: f64) -> Result<EventCount, VenueError> {
    if lambda <= 0.0 {
        return Ok(None);
    }
    Poisson::new(lambda)
        .map(Some)
        .map_err(|e| VenueError::InvalidRange {
            detail: format!("Poisson rate {lambda}: {e}"),
        })
}

/// Poisson number of events per block (`None`: never).
type EventCount = Option<Poisson<f64>>;

/// Iterator over the [`BlockFlows`] of a scenario, independent of any
/// network state.
#[derive(Debug, Clone)]
pub struct FlowStream {
    rng: ChaCha8Rng,
    next_block: u64,
    blocks: u64,
    start_ms: u64,
    block_ms: u64,
    netuids: Vec<u16>,
    regimes: Vec<Regime>,
    /// Median stake per subnet, rao.
    stake_medians: Vec<f64>,
    unstake_median_ppm: f64,
    size: Option<LogNormal<f64>>,
    /// Per regime: stake and unstake counts.
    counts: [(EventCount, EventCount); 3],
    switch_prob: f64,
    miner_sell_ppm: u32,
    owner_sell_ppm: u32,
}

impl FlowStream {
    fn new(config: &SyntheticSubnetsConfig, initial: &SubnetNetwork) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        rng.set_stream(FLOW_STREAM);
        let netuids = initial.netuids();
        let regimes = netuids
            .iter()
            .map(|_| Regime::ALL[rng.random_range(0..3usize)])
            .collect();
        let stake_medians = initial
            .subnets()
            .iter()
            .map(|s| s.tao_reserve as f64 * config.stake_size_ppm / f64::from(PIPS))
            .collect();
        // The configuration was validated when the scenario was built, so
        // the constructors below succeed; a failure disables that draw.
        let counts = Regime::ALL.map(|r| {
            let tilt = config.regime_tilt * r.sign();
            (
                poisson(config.stake_rate * (1.0 + tilt)).ok().flatten(),
                poisson(config.unstake_rate * (1.0 - tilt)).ok().flatten(),
            )
        });
        FlowStream {
            rng,
            next_block: 1,
            blocks: config.blocks,
            start_ms: config.start_ms,
            block_ms: config.block_ms,
            netuids,
            regimes,
            stake_medians,
            unstake_median_ppm: config.unstake_size_ppm,
            size: lognormal(config.size_sigma).ok(),
            counts,
            switch_prob: config.regime_switch_prob,
            miner_sell_ppm: config.miner_sell_ppm,
            owner_sell_ppm: config.owner_sell_ppm,
        }
    }

    /// Current regime of each subnet, in network order.
    pub fn regimes(&self) -> &[Regime] {
        &self.regimes
    }

    fn size(&mut self) -> f64 {
        match &self.size {
            Some(d) => d.sample(&mut self.rng),
            None => 1.0,
        }
    }

    fn count(&mut self, d: EventCount) -> u64 {
        d.map(|d| d.sample(&mut self.rng) as u64).unwrap_or(0)
    }

    fn subnet_flows(&mut self, index: usize, flows: &mut Vec<ExternalFlow>) {
        let netuid = self.netuids[index];
        if self.switch_prob > 0.0 && self.rng.random_bool(self.switch_prob) {
            let current = self.regimes[index].index();
            let shift = self.rng.random_range(1..3usize);
            self.regimes[index] = Regime::ALL[(current + shift) % 3];
        }
        let (stakes, unstakes) = self.counts[self.regimes[index].index()];
        let first = flows.len();
        for _ in 0..self.count(stakes) {
            let tao_in = to_units(self.stake_medians[index] * self.size());
            if tao_in > 0 {
                flows.push(ExternalFlow {
                    netuid,
                    holder: Holder::Others,
                    action: FlowAction::Stake { tao_in },
                });
            }
        }
        for _ in 0..self.count(unstakes) {
            let ppm = (self.unstake_median_ppm * self.size())
                .round()
                .min(f64::from(PIPS)) as u32;
            if ppm > 0 {
                flows.push(ExternalFlow {
                    netuid,
                    holder: Holder::Others,
                    action: FlowAction::UnstakeFraction { ppm },
                });
            }
        }
        for (holder, ppm) in [
            (Holder::Miners, self.miner_sell_ppm),
            (Holder::Owner, self.owner_sell_ppm),
        ] {
            if ppm > 0 {
                flows.push(ExternalFlow {
                    netuid,
                    holder,
                    action: FlowAction::UnstakeFraction { ppm },
                });
            }
        }
        flows[first..].shuffle(&mut self.rng);
    }
}

impl Iterator for FlowStream {
    type Item = BlockFlows;

    fn next(&mut self) -> Option<BlockFlows> {
        if self.next_block > self.blocks {
            return None;
        }
        let block = self.next_block;
        self.next_block += 1;
        let mut flows = Vec::new();
        for index in 0..self.netuids.len() {
            self.subnet_flows(index, &mut flows);
        }
        Some(BlockFlows {
            block,
            time_ms: self
                .start_ms
                .saturating_add(block.saturating_mul(self.block_ms)),
            flows,
        })
    }
}

/// One candle of one subnet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubnetCandle {
    /// Start of the candle, ms since the epoch.
    pub open_ms: u64,
    /// Alpha price in TAO at the start.
    pub open: f64,
    /// Highest price seen (after each trade and each emission).
    pub high: f64,
    /// Lowest price seen.
    pub low: f64,
    /// Price at the end.
    pub close: f64,
    /// TAO reserve at the end, rao.
    pub tao_reserve: u128,
    /// Alpha reserve at the end, base units.
    pub alpha_reserve: u128,
    /// This subnet's fraction of the TAO emitted during the candle.
    pub emission_share: f64,
    /// TAO emitted into the pool during the candle, rao.
    pub tao_emission: u128,
    /// TAO staked by external flows during the candle, rao.
    pub tao_staked: u128,
    /// TAO paid out to external unstakes during the candle, rao.
    pub tao_unstaked: u128,
}

/// The candles of one subnet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubnetSeries {
    /// Subnet.
    pub netuid: u16,
    /// Display name.
    pub name: String,
    /// Candles in time order.
    pub candles: Vec<SubnetCandle>,
}

/// Candles of every subnet of a network, on the same time grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubnetTape {
    /// Open time of the first candle, ms since the epoch.
    pub start_ms: u64,
    /// Candle length, ms (`candle_blocks * block_ms`).
    pub interval_ms: u64,
    /// Blocks per candle (the last candle may have fewer).
    pub candle_blocks: u64,
    /// One series per subnet, in network order.
    pub subnets: Vec<SubnetSeries>,
}

/// A scenario run with no strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyntheticRun {
    /// The recorded candles.
    pub tape: SubnetTape,
    /// The network at genesis.
    pub initial: SubnetNetwork,
    /// The network after the last block.
    pub final_network: SubnetNetwork,
}

/// A candle being built.
#[derive(Debug, Clone)]
struct OpenCandle {
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    tao_reserve: u128,
    alpha_reserve: u128,
    tao_emission: u128,
    tao_staked: u128,
    tao_unstaked: u128,
}

impl OpenCandle {
    fn new(price: f64, tao_reserve: u128, alpha_reserve: u128) -> Self {
        OpenCandle {
            open: price,
            high: price,
            low: price,
            close: price,
            tao_reserve,
            alpha_reserve,
            tao_emission: 0,
            tao_staked: 0,
            tao_unstaked: 0,
        }
    }

    fn see(&mut self, price: f64) {
        self.high = self.high.max(price);
        self.low = self.low.min(price);
    }
}

/// Records candles of every subnet while a network runs: call
/// [`TapeRecorder::observe`] after trades made outside
/// [`SubnetNetwork::run_block`] (the strategy's) and
/// [`TapeRecorder::record_block`] after each block.
#[derive(Debug, Clone)]
pub struct TapeRecorder {
    start_ms: u64,
    block_ms: u64,
    candle_blocks: u64,
    blocks_in_candle: u64,
    index: BTreeMap<u16, usize>,
    series: Vec<SubnetSeries>,
    open: Vec<OpenCandle>,
}

impl TapeRecorder {
    /// Start recording at the network's current state, `candle_blocks`
    /// blocks per candle (positive, else `InvalidRange`).
    pub fn new(network: &SubnetNetwork, candle_blocks: u64) -> Result<Self, VenueError> {
        if candle_blocks == 0 {
            return Err(VenueError::InvalidRange {
                detail: "candle_blocks must be positive".into(),
            });
        }
        let views = network.subnets();
        Ok(TapeRecorder {
            start_ms: network.now_ms(),
            block_ms: network.block_ms(),
            candle_blocks,
            blocks_in_candle: 0,
            index: views
                .iter()
                .enumerate()
                .map(|(i, v)| (v.netuid, i))
                .collect(),
            series: views
                .iter()
                .map(|v| SubnetSeries {
                    netuid: v.netuid,
                    name: v.name.clone(),
                    candles: Vec::new(),
                })
                .collect(),
            open: views
                .iter()
                .map(|v| OpenCandle::new(v.price, v.tao_reserve, v.alpha_reserve))
                .collect(),
        })
    }

    /// Take the network's current prices into the candles' high and low
    /// and close.
    pub fn observe(&mut self, network: &SubnetNetwork) {
        for netuid in network.netuids() {
            let (Some(&i), Some(r)) = (self.index.get(&netuid), network.reserves(netuid)) else {
                continue;
            };
            let candle = &mut self.open[i];
            candle.see(r.price());
            candle.close = r.price();
            candle.tao_reserve = r.tao;
            candle.alpha_reserve = r.alpha;
        }
    }

    /// Record a block run by [`SubnetNetwork::run_block`]: every trade's
    /// price, the flow volumes and the emission; closes the candle after
    /// `candle_blocks` blocks.
    pub fn record_block(&mut self, report: &BlockReport, network: &SubnetNetwork) {
        for outcome in &report.flows {
            let (netuid, price, staked, unstaked) = match outcome {
                FlowOutcome::Staked(s) => (s.netuid, s.after.price(), s.tao_in, 0),
                FlowOutcome::Unstaked(u) => (u.netuid, u.after.price(), 0, u.tao_out),
                FlowOutcome::Refused { .. } => continue,
            };
            if let Some(&i) = self.index.get(&netuid) {
                let candle = &mut self.open[i];
                candle.see(price);
                candle.tao_staked = candle.tao_staked.saturating_add(staked);
                candle.tao_unstaked = candle.tao_unstaked.saturating_add(unstaked);
            }
        }
        for e in &report.emission.subnets {
            if let Some(&i) = self.index.get(&e.netuid) {
                let candle = &mut self.open[i];
                candle.tao_emission = candle.tao_emission.saturating_add(e.tao_in);
            }
        }
        self.observe(network);
        self.blocks_in_candle += 1;
        if self.blocks_in_candle == self.candle_blocks {
            self.close_candles();
        }
    }

    fn close_candles(&mut self) {
        let total: u128 = self
            .open
            .iter()
            .fold(0u128, |sum, c| sum.saturating_add(c.tao_emission));
        let number = self.series.first().map_or(0, |s| s.candles.len()) as u64;
        let open_ms = self.start_ms.saturating_add(
            number
                .saturating_mul(self.candle_blocks)
                .saturating_mul(self.block_ms),
        );
        for (series, candle) in self.series.iter_mut().zip(&mut self.open) {
            series.candles.push(SubnetCandle {
                open_ms,
                open: candle.open,
                high: candle.high,
                low: candle.low,
                close: candle.close,
                tao_reserve: candle.tao_reserve,
                alpha_reserve: candle.alpha_reserve,
                emission_share: if total == 0 {
                    0.0
                } else {
                    candle.tao_emission as f64 / total as f64
                },
                tao_emission: candle.tao_emission,
                tao_staked: candle.tao_staked,
                tao_unstaked: candle.tao_unstaked,
            });
            *candle = OpenCandle::new(candle.close, candle.tao_reserve, candle.alpha_reserve);
        }
        self.blocks_in_candle = 0;
    }

    /// The tape, with a last, shorter candle if blocks are left over.
    pub fn finish(mut self) -> SubnetTape {
        if self.blocks_in_candle > 0 {
            self.close_candles();
        }
        SubnetTape {
            start_ms: self.start_ms,
            interval_ms: self.candle_blocks.saturating_mul(self.block_ms),
            candle_blocks: self.candle_blocks,
            subnets: self.series,
        }
    }
}
