//! The state of a simulated market: tapes, the account's balances, pools,
//! lending markets and vaults, advanced one candle at a time.

use std::collections::BTreeMap;

use alloy_primitives::U256;
use stratbox_runtime::types::{ActionId, ActionOutcome, MarketCandle};
use stratbox_tape::Tape;
use stratbox_venues::lending::{InterestRateModel, LendingPool, RAY, ReserveConfig};
use stratbox_venues::v2::ConstantProductPool;
use stratbox_venues::v3::{self, Pool, PositionId};
use stratbox_venues::vault::{AsyncRedemptionVault, Vault4626};

use super::config::{PoolKind, SimConfig};
use super::error::SimError;
use crate::fill::FillQueue;
use crate::market::wit_candle;
use crate::metrics::ClosedTrade;
use crate::report::RoundTrip;

/// The strategy's account in venues that track accounts by name.
pub(crate) const ACCOUNT: &str = "strategy";
/// The third party providing the markets' liquidity.
pub(crate) const THIRD_PARTY: &str = "market";

pub(crate) enum AmmPool {
    ConstantProduct(ConstantProductPool),
    Concentrated(Pool),
}

pub(crate) enum VaultKind {
    Instant(Vault4626),
    Queued(AsyncRedemptionVault),
}

pub(crate) struct VaultHolding {
    pub(crate) vault: VaultKind,
    pub(crate) shares: u128,
    /// Pending redemption requests of the account.
    pub(crate) requests: Vec<u64>,
}

/// Realized-PnL bookkeeping of one asset, average-cost method.
#[derive(Default, Clone, Copy)]
pub(crate) struct CostBasis {
    pub(crate) units: u128,
    pub(crate) cost_in_quote: f64,
    /// When the position was opened (bought while none was held), ms,
    /// and by which action: the entry of its round trips.
    pub(crate) opened_ms: u64,
    pub(crate) opened_by: Option<ActionId>,
}

/// A simulated market driven by one or more tapes.
pub struct SimMarket {
    pub(crate) config: SimConfig,
    /// The tape that defines the ticks, then the others.
    pub(crate) tapes: Vec<Tape>,
    pub(crate) cursors: Vec<usize>,
    pub(crate) index: usize,
    pub(crate) balances: BTreeMap<String, u128>,
    pub(crate) pools: BTreeMap<String, AmmPool>,
    /// Account LP positions: position id -> (pool id, position in pool).
    pub(crate) lp_positions: BTreeMap<String, (String, PositionId)>,
    pub(crate) lending: BTreeMap<String, LendingPool>,
    pub(crate) vaults: BTreeMap<String, VaultHolding>,
    pub(crate) fees_in_quote: f64,
    pub(crate) gas_in_quote: f64,
    pub(crate) trades: Vec<ClosedTrade>,
    /// The same sales as `trades`, with their entries, for the report.
    pub(crate) round_trips: Vec<RoundTrip>,
    /// The action being executed and when (ms), for the round trips.
    pub(crate) executing: Option<(ActionId, u64)>,
    pub(crate) basis: BTreeMap<String, CostBasis>,
    /// Liquidations suffered, for the report.
    pub(crate) liquidations: usize,
    /// When released actions execute, and those waiting for their fill
    /// point.
    pub(crate) queue: FillQueue,
    /// Prices of the tapes (by position) that stand in for their current
    /// closes while queued actions fill at the next candle's open; empty
    /// otherwise.
    pub(crate) marks: Vec<Option<f64>>,
    /// The candle a settlement already moved to (to fill queued actions
    /// at its close), which the tick's `begin_tick` then does not redo.
    pub(crate) entered: Option<usize>,
    /// The candle of the last tick begun.
    pub(crate) ticked: Option<usize>,
    /// Why a settlement could not move the market, reported by the next
    /// `begin_tick`.
    pub(crate) deferred: Option<SimError>,
    /// The queued actions the last settlement executed, with their
    /// outcomes and when they executed (ms).
    pub(crate) settled: Vec<(ActionId, ActionOutcome, u64)>,
}

impl std::fmt::Debug for SimMarket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimMarket")
            .field("index", &self.index)
            .field("balances", &self.balances)
            .finish_non_exhaustive()
    }
}

fn ray(fraction: f64) -> u128 {
    (fraction.max(0.0) * RAY as f64) as u128
}

impl SimMarket {
    /// Build the market at the first candle of `tapes[0]`.
    pub fn new(config: SimConfig, tapes: Vec<Tape>) -> Result<Self, SimError> {
        if tapes.is_empty() {
            return Err(SimError::Config("at least one tape is needed".into()));
        }
        let declared: std::collections::BTreeSet<String> = config.assets.keys().cloned().collect();
        let known = |asset: &str, place: String| -> Result<(), SimError> {
            if declared.contains(asset) {
                Ok(())
            } else {
                Err(SimError::UnknownAsset {
                    asset: asset.to_owned(),
                    place,
                })
            }
        };
        known(&config.quote, "quote".into())?;
        if let Some(native) = &config.native {
            known(native, "native".into())?;
        }
        let mut balances = BTreeMap::new();
        for (asset, amount) in &config.balances {
            known(asset, format!("balances.{asset}"))?;
            let decimals = config.assets[asset].decimals;
            balances.insert(
                asset.clone(),
                parse_units(amount, decimals)
                    .map_err(|reason| SimError::Config(format!("balances.{asset}: {reason}")))?,
            );
        }
        let mut market = SimMarket {
            cursors: vec![0; tapes.len()],
            tapes,
            index: 0,
            balances,
            pools: BTreeMap::new(),
            lp_positions: BTreeMap::new(),
            lending: BTreeMap::new(),
            vaults: BTreeMap::new(),
            fees_in_quote: 0.0,
            gas_in_quote: 0.0,
            trades: Vec::new(),
            round_trips: Vec::new(),
            executing: None,
            basis: BTreeMap::new(),
            liquidations: 0,
            queue: FillQueue::default(),
            marks: Vec::new(),
            entered: None,
            ticked: None,
            deferred: None,
            settled: Vec::new(),
            config,
        };
        let now = market.now_ms();
        for (id, pool) in market.config.pools.clone() {
            known(&pool.token0, format!("pools.{id}.token0"))?;
            known(&pool.token1, format!("pools.{id}.token1"))?;
            let price = market.market_price(&pool.market).ok_or_else(|| {
                SimError::Config(format!("pools.{id}.market: no tape named {}", pool.market))
            })?;
            let raw = market.raw_price(&pool.token0, &pool.token1, price);
            let amm = match pool.kind {
                PoolKind::ConstantProduct => {
                    let reserve1 = market.units(&pool.token1, pool.depth / 2.0);
                    let reserve0 = (reserve1 as f64 / raw) as u128;
                    AmmPool::ConstantProduct(ConstantProductPool::new(
                        reserve0,
                        reserve1,
                        pool.fee_pips,
                    ))
                }
                PoolKind::Concentrated => {
                    let spacing = v3::tick_spacing_for_fee(pool.fee_pips).ok_or_else(|| {
                        SimError::Config(format!(
                            "pools.{id}.fee_pips: {} is not a v3 fee tier",
                            pool.fee_pips
                        ))
                    })?;
                    let tick =
                        v3::tick_for_price(raw, 1).map_err(|e| SimError::Venue(e.to_string()))?;
                    let mut amm = Pool::new(
                        v3::sqrt_ratio_at_tick(tick).map_err(venue)?,
                        pool.fee_pips,
                        spacing,
                    )
                    .map_err(venue)?;
                    let lower =
                        v3::tick_for_price(raw / (1.0 + pool.range), spacing).map_err(venue)?;
                    let upper = v3::tick_for_price(raw * (1.0 + pool.range), spacing)
                        .map_err(venue)?
                        + spacing;
                    let half1 = market.units(&pool.token1, pool.depth / 2.0);
                    let half0 = (half1 as f64 / raw) as u128;
                    let liquidity = v3::liquidity_for_amounts(
                        amm.sqrt_price_x96(),
                        v3::sqrt_ratio_at_tick(lower).map_err(venue)?,
                        v3::sqrt_ratio_at_tick(upper).map_err(venue)?,
                        half0,
                        half1,
                    )
                    .map_err(venue)?;
                    amm.mint(lower, upper, liquidity.max(1)).map_err(venue)?;
                    AmmPool::Concentrated(amm)
                }
            };
            market.pools.insert(id, amm);
        }
        for (id, assets) in market.config.lending.clone() {
            let mut pool = LendingPool::new();
            for (asset, c) in &assets {
                known(asset, format!("lending.{id}.{asset}"))?;
                let reserve = ReserveConfig {
                    decimals: market.config.assets[asset].decimals,
                    ltv_bps: c.ltv_bps,
                    liquidation_threshold_bps: c.liquidation_threshold_bps,
                    liquidation_bonus_bps: c.liquidation_bonus_bps,
                    reserve_factor_bps: c.reserve_factor_bps,
                    rates: InterestRateModel {
                        base_rate: ray(c.base_rate),
                        slope1: ray(c.slope1),
                        slope2: ray(c.slope2),
                        optimal_utilization: ray(c.optimal_utilization),
                    },
                };
                pool.add_reserve(asset, reserve, now);
                let supplied = market.units(asset, c.supplied);
                if supplied > 0 {
                    pool.supply(THIRD_PARTY, asset, supplied, now)
                        .map_err(venue)?;
                }
            }
            for (asset, c) in &assets {
                let borrowed = market.units(asset, c.borrowed);
                if borrowed > 0 {
                    pool.add_external_debt(asset, borrowed, now)
                        .map_err(venue)?;
                }
            }
            market.lending.insert(id, pool);
        }
        for (id, v) in market.config.vaults.clone() {
            known(&v.asset, format!("vaults.{id}.asset"))?;
            let tvl = market.units(&v.asset, v.tvl);
            let vault = match v.redemption_days {
                Some(days) => {
                    let mut q =
                        AsyncRedemptionVault::new(ray(v.apy), u64::from(days) * 86_400_000, now);
                    if tvl > 0 {
                        q.vault.deposit(tvl, now).map_err(venue)?;
                    }
                    VaultKind::Queued(q)
                }
                None => {
                    let mut i = Vault4626::new(ray(v.apy), now);
                    if tvl > 0 {
                        i.deposit(tvl, now).map_err(venue)?;
                    }
                    VaultKind::Instant(i)
                }
            };
            market.vaults.insert(
                id,
                VaultHolding {
                    vault,
                    shares: 0,
                    requests: Vec::new(),
                },
            );
        }
        Ok(market)
    }

    /// Candles in the driving tape.
    pub fn len(&self) -> usize {
        self.tapes[0].len()
    }

    /// Whether the driving tape is empty.
    pub fn is_empty(&self) -> bool {
        self.tapes[0].is_empty()
    }

    /// The driving tape.
    pub fn tape(&self) -> &Tape {
        &self.tapes[0]
    }

    /// Close time of the current candle, ms.
    pub fn now_ms(&self) -> u64 {
        let tape = &self.tapes[0];
        let interval = tape.interval_ms().unwrap_or(0);
        tape.candles()
            .get(self.index)
            .map_or(0, |c| c.timestamp_ms + interval)
    }

    /// The candles of every tape that closed during the current tick, as
    /// the guest sees them: the driving tape's current candle, and each
    /// other tape's latest candle if it closed after the previous tick.
    pub fn closed_candles(&self) -> Vec<MarketCandle> {
        let now = self.now_ms();
        let step = self.tapes[0].interval_ms().unwrap_or(0);
        self.tapes
            .iter()
            .zip(&self.cursors)
            .filter_map(|(tape, cursor)| {
                let candle = tape.candles().get(*cursor)?;
                let close = candle.timestamp_ms + tape.interval_ms().unwrap_or(0);
                (close <= now && close + step.max(1) > now).then(|| MarketCandle {
                    market: tape.market().to_owned(),
                    candle: wit_candle(candle),
                })
            })
            .collect()
    }

    /// Close of the current candle of `market`, aligned by time.
    pub fn market_price(&self, market: &str) -> Option<f64> {
        self.close_where(|name| name == market)
    }

    /// Close of the current candle of the first tape whose market name
    /// `matches`.
    fn close_where(&self, matches: impl Fn(&str) -> bool) -> Option<f64> {
        close_where(&self.tapes, &self.cursors, &self.marks, matches)
    }

    /// Price of one whole `asset` in the quote asset, from the tapes (direct
    /// or inverse market) or a pool.
    pub fn price_in_quote(&self, asset: &str) -> Option<f64> {
        self.price(asset, &self.config.quote)
    }

    /// Price of one whole `base` in `quote`.
    pub fn price(&self, base: &str, quote: &str) -> Option<f64> {
        if base == quote {
            return Some(1.0);
        }
        // `BASE/QUOTE` or `QUOTE/BASE`, compared without building the name
        // (this runs for every asset at every tick).
        if let Some(p) = self.close_where(|name| is_pair(name, base, quote)) {
            return Some(p);
        }
        if let Some(p) = self.close_where(|name| is_pair(name, quote, base)) {
            return (p > 0.0).then(|| 1.0 / p);
        }
        self.config.pools.iter().find_map(|(id, pool)| {
            let human = self.pool_price(id)?;
            if pool.token0 == base && pool.token1 == quote {
                Some(human)
            } else if pool.token1 == base && pool.token0 == quote {
                Some(1.0 / human)
            } else {
                None
            }
        })
    }

    /// Human price of token0 in token1 of a pool.
    pub(crate) fn pool_price(&self, id: &str) -> Option<f64> {
        let config = self.config.pools.get(id)?;
        let raw = match self.pools.get(id)? {
            AmmPool::ConstantProduct(p) => p.price(),
            AmmPool::Concentrated(p) => p.price(),
        };
        Some(raw * self.scale(&config.token0) / self.scale(&config.token1))
    }

    /// Decimals of an asset (18 if undeclared).
    pub fn decimals(&self, asset: &str) -> u8 {
        self.config.assets.get(asset).map_or(18, |a| a.decimals)
    }

    pub(crate) fn scale(&self, asset: &str) -> f64 {
        10f64.powi(i32::from(self.decimals(asset)))
    }

    /// Whole units to base units (floor).
    pub(crate) fn units(&self, asset: &str, whole: f64) -> u128 {
        (whole.max(0.0) * self.scale(asset)) as u128
    }

    /// Base units to quote value.
    pub(crate) fn value(&self, asset: &str, units: u128) -> f64 {
        units as f64 / self.scale(asset) * self.price_in_quote(asset).unwrap_or(0.0)
    }

    /// Human price of token0 in token1 as base units of token1 per base
    /// unit of token0.
    pub(crate) fn raw_price(&self, token0: &str, token1: &str, human: f64) -> f64 {
        human * self.scale(token1) / self.scale(token0)
    }

    /// The asset equity is valued in.
    pub fn quote(&self) -> &str {
        &self.config.quote
    }

    /// Balance of `asset`, base units.
    pub fn balance(&self, asset: &str) -> u128 {
        self.balances.get(asset).copied().unwrap_or(0)
    }

    /// Move to candle `index`: align the other tapes, accrue interest and
    /// yield, pay out matured redemptions, let arbitrageurs move the pools
    /// to the tape prices, and liquidate the account if it is unhealthy.
    pub fn advance(&mut self, index: usize) -> Result<(), SimError> {
        self.index = index.min(self.len().saturating_sub(1));
        let now = self.now_ms();
        let interval = self.tapes[0].interval_ms().unwrap_or(0);
        for (tape, cursor) in self.tapes.iter().zip(self.cursors.iter_mut()) {
            let candles = tape.candles();
            while *cursor + 1 < candles.len() && candles[*cursor + 1].timestamp_ms + interval <= now
            {
                *cursor += 1;
            }
        }
        for pool in self.lending.values_mut() {
            pool.accrue(now).map_err(venue)?;
        }
        let mut matured = Vec::new();
        for (id, holding) in &mut self.vaults {
            match &mut holding.vault {
                VaultKind::Instant(v) => v.accrue(now).map_err(venue)?,
                VaultKind::Queued(q) => {
                    q.vault.accrue(now).map_err(venue)?;
                    let asset = self.config.vaults[id].asset.clone();
                    holding
                        .requests
                        .retain(|request| match q.claim(*request, now) {
                            Ok(assets) => {
                                matured.push((asset.clone(), assets));
                                false
                            }
                            Err(_) => true,
                        });
                }
            }
        }
        for (asset, assets) in matured {
            *self.balances.entry(asset).or_default() += assets;
        }
        self.arbitrage()?;
        self.liquidate()
    }

    pub(crate) fn arbitrage(&mut self) -> Result<(), SimError> {
        // Field by field: the configs are read while the pools move.
        for (id, config) in &self.config.pools {
            let Some(target_human) = close_where(&self.tapes, &self.cursors, &self.marks, |name| {
                name == config.market
            }) else {
                continue;
            };
            let decimals = |asset: &str| {
                self.config
                    .assets
                    .get(asset)
                    .map_or(18, |asset| asset.decimals)
            };
            let target = target_human * 10f64.powi(i32::from(decimals(&config.token1)))
                / 10f64.powi(i32::from(decimals(&config.token0)));
            match self.pools.get_mut(id) {
                Some(AmmPool::Concentrated(pool)) => {
                    let Ok(tick) = v3::tick_for_price(target, 1) else {
                        continue;
                    };
                    let limit = v3::sqrt_ratio_at_tick(tick).map_err(venue)?;
                    let current = pool.sqrt_price_x96();
                    if limit == current {
                        continue;
                    }
                    // An arbitrageur with deep pockets trades the pool to the
                    // market price; LPs in range earn the fees.
                    let zero_for_one = limit < current;
                    if let Err(e) = pool.swap(zero_for_one, true, u128::MAX / 4, Some(limit)) {
                        tracing::debug!(pool = %id, error = %e, "arbitrage skipped");
                    }
                }
                Some(AmmPool::ConstantProduct(pool)) => {
                    let k = pool.reserve0 as f64 * pool.reserve1 as f64;
                    let new0 = (k / target).sqrt();
                    let keep = 1.0 - f64::from(pool.fee_pips) / 1e6;
                    let result = if new0 > pool.reserve0 as f64 {
                        let amount = ((new0 - pool.reserve0 as f64) / keep) as u128;
                        (amount > 0).then(|| pool.swap_exact_in(amount, true))
                    } else {
                        let new1 = (k * target).sqrt();
                        let amount = ((new1 - pool.reserve1 as f64) / keep) as u128;
                        (amount > 0).then(|| pool.swap_exact_in(amount, false))
                    };
                    if let Some(Err(e)) = result {
                        tracing::debug!(pool = %id, error = %e, "arbitrage skipped");
                    }
                }
                None => {}
            }
        }
        Ok(())
    }

    fn liquidate(&mut self) -> Result<(), SimError> {
        if self.lending.is_empty() {
            return Ok(());
        }
        let now = self.now_ms();
        let prices: BTreeMap<String, u128> = self
            .config
            .assets
            .keys()
            .filter_map(|a| {
                let price = stratbox_venues::lending::price_from_f64(self.price_in_quote(a)?)?;
                Some((a.clone(), price))
            })
            .collect();
        let price = |asset: &str| prices.get(asset).copied();
        for pool in self.lending.values_mut() {
            if let Some(liquidation) = pool.liquidate(ACCOUNT, now, &price).map_err(venue)? {
                tracing::info!(?liquidation, "account liquidated");
                self.liquidations += 1;
            }
        }
        Ok(())
    }

    /// Value of everything the account holds, in the quote asset.
    pub fn equity(&self) -> f64 {
        let mut total: f64 = self.balances.iter().map(|(a, u)| self.value(a, *u)).sum();
        for (pool_id, position) in self.lp_positions.values() {
            if let Some(AmmPool::Concentrated(pool)) = self.pools.get(pool_id)
                && let Some(p) = pool.position(*position)
            {
                let config = &self.config.pools[pool_id];
                let (a0, a1) = pool
                    .amounts_for_liquidity(p.tick_lower, p.tick_upper, p.liquidity, false)
                    .unwrap_or((0, 0));
                let (f0, f1) = pool.uncollected_fees(*position).unwrap_or((0, 0));
                total += self.value(&config.token0, a0 + f0 + p.tokens_owed0)
                    + self.value(&config.token1, a1 + f1 + p.tokens_owed1);
            }
        }
        for pool in self.lending.values() {
            for asset in self.config.assets.keys() {
                total += self.value(asset, pool.supplied(ACCOUNT, asset));
                total -= self.value(asset, pool.borrowed(ACCOUNT, asset));
            }
        }
        for (id, holding) in &self.vaults {
            let asset = &self.config.vaults[id].asset;
            let (shares_value, pending) = match &holding.vault {
                VaultKind::Instant(v) => (v.convert_to_assets(holding.shares).unwrap_or(0), 0),
                VaultKind::Queued(q) => (
                    q.vault.convert_to_assets(holding.shares).unwrap_or(0),
                    holding
                        .requests
                        .iter()
                        .filter_map(|r| q.pending(*r))
                        .map(|r| r.assets)
                        .sum(),
                ),
            };
            total += self.value(asset, shares_value + pending);
        }
        total
    }

    /// Fees paid, in the quote asset.
    pub fn fees_paid(&self) -> f64 {
        self.fees_in_quote
    }

    /// Gas paid, in the quote asset.
    pub fn gas_paid(&self) -> f64 {
        self.gas_in_quote
    }

    /// Closed trades (sells that realized profit or loss).
    pub fn closed_trades(&self) -> &[ClosedTrade] {
        &self.trades
    }

    /// Every sale of an asset the account had bought, with its entry: the
    /// closed trades of [`SimMarket::closed_trades`], in the same order.
    pub fn round_trips(&self) -> &[RoundTrip] {
        &self.round_trips
    }

    /// Times the account was liquidated.
    pub fn liquidations(&self) -> usize {
        self.liquidations
    }
}

/// Close of the current candle of the first of `tapes` whose market name
/// `matches`, or the price `marks` holds for that tape instead.
fn close_where(
    tapes: &[Tape],
    cursors: &[usize],
    marks: &[Option<f64>],
    matches: impl Fn(&str) -> bool,
) -> Option<f64> {
    let position = tapes.iter().position(|t| matches(t.market()))?;
    if let Some(Some(mark)) = marks.get(position) {
        return Some(*mark);
    }
    tapes[position]
        .candles()
        .get(*cursors.get(position)?)
        .map(|c| c.close)
}

/// Whether `name` is `base/quote`.
fn is_pair(name: &str, base: &str, quote: &str) -> bool {
    name.len() == base.len() + 1 + quote.len()
        && name.starts_with(base)
        && name.ends_with(quote)
        && name.as_bytes()[base.len()] == b'/'
}

pub(crate) fn venue(error: stratbox_venues::VenueError) -> SimError {
    SimError::Venue(error.to_string())
}

/// `"1.5"` with 6 decimals is 1_500_000: exact, no floats.
pub(crate) fn parse_units(text: &str, decimals: u8) -> Result<u128, String> {
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!("`{text}` is not a non-negative decimal number"));
    }
    if fraction.len() > usize::from(decimals) {
        return Err(format!("`{text}` has more than {decimals} decimals"));
    }
    let digits = format!("{whole}{fraction:0<width$}", width = usize::from(decimals));
    digits
        .parse::<u128>()
        .map_err(|_| format!("`{text}` is too large"))
}

/// Q64.96 square-root price as the WIT `uint256`.
pub(crate) fn uint256(value: U256) -> stratbox_runtime::types::Uint256 {
    let limbs = value.as_limbs();
    stratbox_runtime::types::Uint256 {
        hi: stratbox_runtime::types::Amount {
            hi: limbs[3],
            lo: limbs[2],
        },
        lo: stratbox_runtime::types::Amount {
            hi: limbs[1],
            lo: limbs[0],
        },
    }
}
