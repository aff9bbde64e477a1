//! A backtest: the deployment loop ([`Runner`]) against a [`SimMarket`],
//! turned into a [`BacktestReport`] (equity curve, trades, denials,
//! failures, metrics). By default it stops at the first failed tick.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use stratbox_runtime::types::{Action, ActionId, ActionOutcome, Rejection, SwapAmount};
use stratbox_runtime::{
    DeploymentSpec, JournalSink, Policy, Runtime, StrategyComponent, TickError, TickReport,
};

use crate::benchmark::BenchmarkStream;
use crate::curve::EquityCurve;
use crate::curve::bars;
use crate::format::format_amount;
use crate::metrics::{MetricsInput, MetricsStream};
use crate::report::{
    AssetUnits, BacktestReport, DenialRecord, EquityPoint, FailureRecord, MAX_DENIAL_RECORDS, Side,
    TradeRecord,
};
use crate::risk::RiskCollector;
use crate::series::SeriesCurves;
use crate::sim::{SimMarket, SimOracle};
use stratbox_engine::{RunError, Runner, TickRecord, lock};

/// A sensible snapshot interval for backtests (`DeploymentSpec::commit_every`,
/// what `stratbox backtest --commit-every` defaults to): one snapshot per
/// 100 successful ticks. A clean run's report (but for fuel: a tick that
/// snapshots pays for it) and its replay are the same at any interval; a
/// failed tick rolls the strategy back to the last snapshot, up to 99
/// ticks here, which matters only when continuing past failures (a
/// backtest stops at the first one by default). Snapshotting
/// every tick, a live deployment's crash-safe default, made a
/// 1,000,000-candle backtest of the RSI example 4.5 times slower (3.9 µs a
/// tick instead of 0.88, release build); every 100 ticks costs what every
/// 1,000 does, within noise (`BENCHMARKS.md`).
pub const DEFAULT_COMMIT_EVERY: u32 = 100;

/// What a backtest runs, how it names it in the report, and what it does
/// when a tick fails.
#[derive(Debug, Clone)]
pub struct Backtest<'a> {
    /// The runtime.
    pub runtime: &'a Runtime,
    /// The strategy.
    pub component: &'a StrategyComponent,
    /// Strategy name for the report.
    pub strategy: String,
    /// Deployment (id, config, limits, `commit_every`: how often the
    /// strategy is snapshotted, as given; [`DEFAULT_COMMIT_EVERY`] is a
    /// backtest's sensible value, the spec's own default of 1 a live
    /// deployment's).
    pub spec: DeploymentSpec,
    /// Run past failed ticks instead of stopping at the first one. A failed
    /// tick releases nothing and rolls the strategy back to its last
    /// snapshot, so the rest of such a run is not the run the strategy
    /// would have had; every failure is listed in the report either way.
    /// Default ([`Backtest::new`]): `false`, stop with
    /// [`BacktestError::TickFailed`].
    pub continue_on_failure: bool,
    /// Compute the report's risk figures (VaR and expected shortfall,
    /// historical, parametric and Monte Carlo, stressed too). Default
    /// ([`Backtest::new`]): `true`. Optimisers, which rank runs by other
    /// metrics, turn it off: the Monte Carlo tables cost more than a short
    /// run itself. Without them the report's `risk` is `None`.
    pub risk_figures: bool,
}

/// Why a backtest produced no (complete) report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BacktestError {
    /// The deployment loop could not go on (the deployment could not be
    /// created, the journal or the venue failed).
    #[error(transparent)]
    Run(#[from] RunError),
    /// A tick failed and the backtest was not told to continue past
    /// failures: it stopped there. The report of the ticks run so far,
    /// the failed one included, comes with it.
    #[error("{0}")]
    TickFailed(Box<FailedTick>),
}

/// The tick a backtest stopped at, and the report up to it.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedTick {
    /// Tick sequence.
    pub sequence: u64,
    /// Candle index (0-based) in the tape.
    pub candle: usize,
    /// Candles in the tape.
    pub candles: usize,
    /// Close time of the tick's candle, ms since the Unix epoch.
    pub timestamp_ms: u64,
    /// Why the tick failed, as the runtime reported it; limit failures
    /// carry the limit. A guest's error message is guest-controlled text.
    pub cause: TickError,
    /// The report of the ticks run, the failed one last
    /// (`report.stopped` is set).
    pub report: BacktestReport,
}

impl fmt::Display for FailedTick {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the backtest stopped at a failed tick: tick {} (candle {} of {}, closing {}) failed: {}",
            self.sequence,
            self.candle + 1,
            self.candles,
            utc(self.timestamp_ms),
            self.cause
        )
    }
}

/// `ms` since the Unix epoch as `YYYY-MM-DD HH:MM:SS UTC`.
pub(crate) fn utc(ms: u64) -> String {
    let seconds = ms / 1000;
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    // Days to a civil date (proleptic Gregorian), after Howard Hinnant's
    // `civil_from_days`.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

impl<'a> Backtest<'a> {
    /// A backtest of `component` under `spec`, named `strategy`, that stops
    /// at the first failed tick.
    pub fn new(
        runtime: &'a Runtime,
        component: &'a StrategyComponent,
        strategy: impl Into<String>,
        spec: DeploymentSpec,
    ) -> Self {
        Backtest {
            runtime,
            component,
            strategy: strategy.into(),
            spec,
            continue_on_failure: false,
            risk_figures: true,
        }
    }

    /// Run over every candle of `market`, judging actions with `policy` and
    /// journaling to `journal`; `progress` is called after each tick with
    /// the number of ticks done. Stops at the first failed tick
    /// ([`BacktestError::TickFailed`]) unless `continue_on_failure`. Each
    /// tick is folded into the report as it ends and then dropped: memory
    /// does not grow with the number of candles (the equity curve and the
    /// buy-and-hold benchmark's are downsampled to
    /// [`MAX_EQUITY_POINTS`](crate::report::MAX_EQUITY_POINTS), metrics are
    /// computed from every tick as the run goes). Actions execute as the
    /// market's [`FillModel`](crate::FillModel) says; those still waiting
    /// for their fill point when the run ends fail with
    /// [`NOT_FILLED_BEFORE_END`](crate::NOT_FILLED_BEFORE_END), journaled
    /// after the last tick.
    pub fn run(
        &self,
        market: SimMarket,
        policy: impl Policy + 'static,
        journal: &mut dyn JournalSink,
        mut progress: impl FnMut(usize),
    ) -> Result<BacktestReport, BacktestError> {
        let driving = market.tape().market().to_owned();
        let priced = driving.split('/').next().unwrap_or_default().to_owned();
        let quote = market.quote().to_owned();
        let candles = market.len();
        let fill_model = market.fill_model();
        let benchmark = BenchmarkStream::start(&market, &priced, candles);
        let market = Arc::new(Mutex::new(market));
        let oracle = SimOracle::new(Arc::clone(&market));
        let mut collector = Collector::new(priced, driving.clone(), candles, benchmark);
        let started = Instant::now();
        let mut runner = Runner::start(
            self.runtime,
            self.component,
            self.spec.clone(),
            market,
            oracle,
            policy,
            &mut *journal,
        )?;
        let mut stopped = None;
        let mut ran = 0;
        for index in 0..candles {
            let mut timestamp_ms = 0;
            let record = runner.step(index, |record, market| {
                timestamp_ms = collector.record(record, market);
            })?;
            progress(index + 1);
            ran = index + 1;
            if let Err(failure) = record.result
                && !self.continue_on_failure
            {
                stopped = Some((index, failure, timestamp_ms));
                break;
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        // Actions still waiting for their fill point never fill: failed,
        // journaled after the last tick, and listed so in the report.
        let last = runner.deployment().sequence().saturating_sub(1);
        let venue = Arc::clone(runner.venue());
        drop(runner);
        let mut market = lock(&venue);
        let unfilled = market.unfilled();
        if !unfilled.is_empty() {
            journal
                .outcomes(last, &unfilled)
                .map_err(|source| RunError::Journal {
                    what: format!("actions not filled before the end, after tick {last}"),
                    source,
                })?;
            for (id, outcome) in &unfilled {
                collector.resolve(*id, outcome, None, &market);
            }
        }
        let mut metrics = collector.metrics.finish(&MetricsInput {
            trades: market.closed_trades(),
            fees_paid: market.fees_paid(),
            gas_paid: market.gas_paid(),
            actions: collector.trades.len(),
            seconds,
            ..MetricsInput::default()
        });
        let benchmark = collector.benchmark.map(|stream| {
            let result = stream.finish();
            metrics.benchmark_return = Some(result.total_return);
            metrics.benchmark_max_drawdown = Some(result.max_drawdown);
            result.benchmark
        });
        // The candles the run ticked over, for the price chart.
        let (bars, candles_per_bar) = bars(&market.tape().candles()[..ran]);
        let report = BacktestReport {
            strategy: self.strategy.clone(),
            component_sha256: self.component.info().sha256.clone(),
            config: self.spec.config.clone(),
            market: driving,
            quote,
            fill_model,
            metrics,
            equity: collector.equity.finish(),
            benchmark,
            risk: self.risk_figures.then(|| collector.risk.finish()),
            candles: bars,
            candles_per_bar,
            series: collector.series.finish(),
            trades: collector.trades,
            round_trips: market.round_trips().to_vec(),
            denials: collector.denials,
            failures: collector.failures,
            stopped: stopped.is_some(),
            liquidations: market.liquidations(),
        };
        match stopped {
            None => Ok(report),
            Some((candle, failure, timestamp_ms)) => {
                Err(BacktestError::TickFailed(Box::new(FailedTick {
                    sequence: failure.sequence,
                    candle,
                    candles,
                    timestamp_ms,
                    cause: failure.error,
                    report,
                })))
            }
        }
    }
}

/// Folds each tick into what the report keeps: the metrics (from every
/// tick), the downsampled equity curve and benchmark, every released
/// action, the first [`MAX_DENIAL_RECORDS`] denials (all of them counted by
/// rule) and every failed tick. Nothing here grows with the number of
/// ticks except the trades (one per released action) and the failures (a
/// paused run is one record).
struct Collector {
    priced: String,
    /// The driving market's quote asset (`BTC` of `ETH/BTC`).
    counter: String,
    driving: String,
    peak: f64,
    metrics: MetricsStream,
    risk: RiskCollector,
    equity: EquityCurve,
    benchmark: Option<BenchmarkStream>,
    trades: Vec<TradeRecord>,
    /// Trades (by index) whose action waits for its fill point.
    queued: BTreeMap<ActionId, usize>,
    denials: Vec<DenialRecord>,
    failures: Vec<FailureRecord>,
    /// The strategy's series (a failed tick's points are dropped with the
    /// rest of what it did).
    series: SeriesCurves,
}

/// The outcome of a trade whose action waits for its fill point.
const QUEUED: &str = "queued";

impl Collector {
    fn new(
        priced: String,
        driving: String,
        candles: usize,
        benchmark: Option<BenchmarkStream>,
    ) -> Self {
        Collector {
            priced,
            counter: driving.split('/').nth(1).unwrap_or_default().to_owned(),
            driving,
            peak: f64::MIN,
            metrics: MetricsStream::new(),
            risk: RiskCollector::default(),
            equity: EquityCurve::new(candles),
            benchmark,
            trades: Vec::new(),
            queued: BTreeMap::new(),
            denials: Vec::new(),
            failures: Vec::new(),
            series: SeriesCurves::default(),
        }
    }

    /// What became of a queued action: its trade's outcome, and when it
    /// executed (`None`: it never did).
    fn resolve(
        &mut self,
        id: ActionId,
        outcome: &ActionOutcome,
        executed_ms: Option<u64>,
        market: &SimMarket,
    ) {
        if let Some(index) = self.queued.remove(&id)
            && let Some(mut trade) = self.trades.get(index).cloned()
        {
            trade.outcome = outcome_text(outcome);
            trade.executed_ms = executed_ms;
            self.fill_details(&mut trade, outcome, market);
            self.trades[index] = trade;
        }
    }

    /// A filled action's amounts, fees and (for a swap of the driving
    /// market's two assets) execution price, on its trade.
    fn fill_details(&self, trade: &mut TradeRecord, outcome: &ActionOutcome, market: &SimMarket) {
        let ActionOutcome::Filled(fill) = outcome else {
            return;
        };
        let units = |amounts: &[stratbox_runtime::types::AssetAmount]| -> Vec<AssetUnits> {
            amounts
                .iter()
                .map(|a| AssetUnits {
                    asset: a.asset.clone(),
                    units: a.amount.to_u128() as f64
                        / 10f64.powi(i32::from(market.decimals(&a.asset))),
                })
                .collect()
        };
        trade.spent = units(&fill.spent);
        trade.received = units(&fill.received);
        trade.fees = units(&fill.fees);
        let of = |list: &[AssetUnits], asset: &str| {
            list.iter()
                .find(|a| a.asset == asset)
                .map(|a| a.units)
                .filter(|u| *u > 0.0)
        };
        trade.price = match trade.side {
            Side::Buy => of(&trade.spent, &self.counter)
                .zip(of(&trade.received, &self.priced))
                .map(|(paid, got)| paid / got),
            Side::Sell => of(&trade.received, &self.counter)
                .zip(of(&trade.spent, &self.priced))
                .map(|(got, paid)| got / paid),
            Side::Other => None,
        };
    }

    /// Fold one tick; the close time of its candle.
    fn record(&mut self, record: &TickRecord, market: &SimMarket) -> u64 {
        for (id, outcome, executed_ms) in market.settled() {
            self.resolve(*id, outcome, Some(*executed_ms), market);
        }
        let timestamp_ms = market.now_ms();
        let equity = market.equity();
        let price = market.market_price(&self.driving).unwrap_or(0.0);
        self.peak = self.peak.max(equity);
        self.metrics.equity(timestamp_ms, equity);
        self.risk.equity(timestamp_ms, equity);
        self.equity.push(EquityPoint {
            timestamp_ms,
            equity,
            drawdown: if self.peak > 0.0 {
                (self.peak - equity) / self.peak
            } else {
                0.0
            },
            price,
        });
        if let Some(benchmark) = &mut self.benchmark {
            benchmark.push(market, timestamp_ms, price);
        }
        match &record.result {
            Ok(report) => self.record_report(report, record, market, timestamp_ms),
            Err(failure) => {
                self.metrics.failed_tick();
                FailureRecord::push(
                    &mut self.failures,
                    FailureRecord::new(failure, timestamp_ms),
                );
            }
        }
        timestamp_ms
    }

    fn record_report(
        &mut self,
        report: &TickReport,
        record: &TickRecord,
        market: &SimMarket,
        timestamp_ms: u64,
    ) {
        self.metrics.tick(report.trace.fuel_used);
        self.series.record(timestamp_ms, &report.trace.series);
        for emission in &report.trace.emissions {
            match &emission.verdict {
                Ok(id) => {
                    let done = record.outcomes.iter().find(|(done, _)| done == id);
                    let outcome = match done {
                        Some((_, outcome)) => outcome_text(outcome),
                        None if market.is_queued(*id) => {
                            self.queued.insert(*id, self.trades.len());
                            QUEUED.to_owned()
                        }
                        None => "none".to_owned(),
                    };
                    let mut trade = TradeRecord {
                        sequence: report.sequence,
                        timestamp_ms,
                        id: *id,
                        kind: emission.action.kind().to_owned(),
                        side: self.side(&emission.action),
                        summary: describe(&emission.action, market),
                        outcome,
                        executed_ms: None,
                        spent: Vec::new(),
                        received: Vec::new(),
                        fees: Vec::new(),
                        price: None,
                    };
                    if let Some((_, outcome)) = done {
                        self.fill_details(&mut trade, outcome, market);
                    }
                    self.trades.push(trade);
                }
                Err(Rejection::Denied(denial) | Rejection::Invalid(denial)) => {
                    self.metrics.denial(&denial.rule);
                    if self.denials.len() < MAX_DENIAL_RECORDS {
                        self.denials.push(DenialRecord {
                            sequence: report.sequence,
                            timestamp_ms,
                            code: denial.code.clone(),
                            rule: denial.rule.clone(),
                            detail: denial.detail.clone(),
                        });
                    }
                }
            }
        }
    }

    fn side(&self, action: &Action) -> Side {
        match action {
            Action::Swap(swap) if swap.buy == self.priced => Side::Buy,
            Action::Swap(swap) if swap.sell == self.priced => Side::Sell,
            _ => Side::Other,
        }
    }
}

/// A trade's outcome: `filled` or the failure code.
fn outcome_text(outcome: &ActionOutcome) -> String {
    match outcome {
        ActionOutcome::Filled(_) => "filled".to_owned(),
        ActionOutcome::Failed(failure) => failure.code.clone(),
    }
}

/// One line for the trade list: the kind, and a swap's amounts in whole
/// units ([`format_amount`]: an 18-decimal token's amount is not shown to
/// the wei).
fn describe(action: &Action, market: &SimMarket) -> String {
    let units = |amount: stratbox_runtime::types::Amount, asset: &str| {
        let whole = amount.to_u128() as f64 / 10f64.powi(i32::from(market.decimals(asset)));
        format!("{} {asset}", format_amount(whole))
    };
    match action {
        Action::Swap(swap) => match swap.amount {
            SwapAmount::ExactIn(a) => format!("swap {} for {}", units(a, &swap.sell), swap.buy),
            SwapAmount::ExactOut(a) => format!("swap {} for {}", swap.sell, units(a, &swap.buy)),
        },
        other => other.kind().replace('_', " "),
    }
}

#[cfg(test)]
mod tests {
    use super::utc;

    #[test]
    fn times_are_printed_as_utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_735_689_599_999), "2024-12-31 23:59:59 UTC");
    }
}
