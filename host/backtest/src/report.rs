//! The result of a backtest as data: what the terminal table, the JSON file
//! and the HTML report are rendered from.

use serde::{Deserialize, Serialize};
/// The runtime's cause of a failed tick, as a [`FailureRecord`] holds it.
pub use stratbox_runtime::TickError;
use stratbox_runtime::TickFailure;

pub use crate::curve::MAX_EQUITY_POINTS;
use crate::fill::FillModel;
use crate::metrics::Metrics;
use crate::risk::RiskReport;

/// Most denials a report lists ([`BacktestReport::denials`]): the first
/// ones. Every denial is counted by rule in
/// [`Metrics::denials_by_rule`], however many there are.
pub const MAX_DENIAL_RECORDS: usize = 1_000;

/// Which way a trade went, for chart markers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Bought the priced asset (or added exposure).
    Buy,
    /// Sold it (or removed exposure).
    Sell,
    /// Anything else (liquidity, lending, vaults).
    Other,
}

/// One released action and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeRecord {
    /// Tick sequence.
    pub sequence: u64,
    /// Candle close time, ms.
    pub timestamp_ms: u64,
    /// Action id.
    pub id: u64,
    /// Action kind (`swap`, `lp_open`...).
    pub kind: String,
    /// Direction, for markers.
    pub side: Side,
    /// One-line description.
    pub summary: String,
    /// `filled` or the failure code (`NOT_FILLED_BEFORE_END`: the tape
    /// ended before the fill model's fill point).
    pub outcome: String,
    /// When the venue executed it, ms, if not at the close of the tick's
    /// candle (`timestamp_ms`): under a delayed fill model, the next
    /// candle's open time or a later candle's close time. Absent for
    /// [`FillModel::Close`] and for actions that never executed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executed_ms: Option<u64>,
}

/// One denial the strategy received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DenialRecord {
    /// Tick sequence.
    pub sequence: u64,
    /// Candle close time, ms.
    pub timestamp_ms: u64,
    /// Stable code.
    pub code: String,
    /// Rule path.
    pub rule: String,
    /// `CODE: key=value` detail.
    pub detail: String,
}

/// Most log lines of a failed tick a [`FailureRecord`] keeps (the last
/// ones: a panic's message is logged just before the trap).
pub const FAILURE_LOG_LINES: usize = 5;

/// A failed tick: nothing it emitted was released, and the strategy
/// resumed from its last committed snapshot. A deployment paused after
/// too many consecutive failures fails every later tick the same way; one
/// record covers that whole run of ticks (`count`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureRecord {
    /// Tick sequence.
    pub sequence: u64,
    /// Close time of the tick's candle, ms.
    pub timestamp_ms: u64,
    /// Consecutive failed ticks (candles) this record covers: 1, except
    /// for the ticks of a paused deployment; `timestamp_ms` is the first
    /// one's.
    pub count: u64,
    /// Why the tick failed, as the runtime reported it (the limit, for a
    /// limit).
    pub cause: TickError,
    /// `cause` as text. Guest-controlled (a strategy's error message):
    /// escape it before printing it to a terminal.
    pub message: String,
    /// Whether the deployment is paused after this tick: set on the
    /// failure that paused it and on the ticks refused while paused.
    pub paused: bool,
    /// The last [`FAILURE_LOG_LINES`] log lines of the tick, oldest first
    /// (a panic's message, for instance). Guest-controlled.
    pub logs: Vec<String>,
}

impl FailureRecord {
    /// The record of `failure`, whose candle closed at `timestamp_ms`.
    pub fn new(failure: &TickFailure, timestamp_ms: u64) -> FailureRecord {
        let logs = &failure.trace.logs;
        FailureRecord {
            sequence: failure.sequence,
            timestamp_ms,
            count: 1,
            cause: failure.error.clone(),
            message: failure.error.to_string(),
            paused: failure.paused,
            logs: logs[logs.len().saturating_sub(FAILURE_LOG_LINES)..]
                .iter()
                .map(|line| line.message.clone())
                .collect(),
        }
    }

    /// Whether `next` is one more tick of the same paused run, which this
    /// record then counts instead of a new record (a paused deployment
    /// refuses ticks without advancing its sequence, so every tick of a
    /// pause has the same one).
    fn continues_with(&self, next: &FailureRecord) -> bool {
        matches!(next.cause, TickError::Paused { .. })
            && self.cause == next.cause
            && self.sequence == next.sequence
    }

    /// Add `next` to `failures`: a new record, or one more tick of the last
    /// record's paused run.
    pub fn push(failures: &mut Vec<FailureRecord>, next: FailureRecord) {
        match failures.last_mut() {
            Some(last) if last.continues_with(&next) => last.count += 1,
            _ => failures.push(next),
        }
    }
}

/// One point of the equity curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EquityPoint {
    /// Candle close time, ms.
    pub timestamp_ms: u64,
    /// Equity in the quote asset.
    pub equity: f64,
    /// Fall from the running peak, fraction.
    pub drawdown: f64,
    /// Close of the driving market.
    pub price: f64,
}

/// What holding the starting portfolio would have done: its value at the
/// first candle's close (the strategy's starting equity) converted into
/// the driving market's base asset at that close, without fees, and held
/// to the end. [`Metrics::benchmark_return`] (the last close over the
/// first, less 1, when the equity is valued in the market's quote asset)
/// and [`Metrics::benchmark_max_drawdown`] are its metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Benchmark {
    /// The asset held: the base asset of the driving market (`ETH` of
    /// `ETH/BTC`).
    pub asset: String,
    /// Whole units of `asset` held.
    pub units: f64,
    /// Its value over time in the report's quote asset, downsampled as
    /// [`BacktestReport::equity`] is (at most [`MAX_EQUITY_POINTS`]
    /// points, the extremes of each stretch of candles kept); `drawdown`
    /// is from its own running peak.
    pub equity: Vec<EquityPoint>,
}

/// Everything a backtest produced. Serializing it twice for the same run
/// gives identical bytes: nothing here depends on wall-clock time except
/// `metrics.ticks_per_second`, which the JSON writer zeroes unless asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestReport {
    /// Strategy name (file or directory stem).
    pub strategy: String,
    /// SHA-256 of the component.
    pub component_sha256: String,
    /// Strategy config, JSON text.
    pub config: String,
    /// Driving market.
    pub market: String,
    /// Asset equity is valued in.
    pub quote: String,
    /// When the venue executed released actions (`close`, the default,
    /// in reports written before fill models were chosen).
    #[serde(default)]
    pub fill_model: FillModel,
    /// Computed metrics.
    pub metrics: Metrics,
    /// The equity curve: every candle's point for runs of up to
    /// [`MAX_EQUITY_POINTS`] candles, else that many at most, the extremes
    /// of each stretch of candles kept (see [`MAX_EQUITY_POINTS`]).
    pub equity: Vec<EquityPoint>,
    /// The buy-and-hold benchmark; absent when the base asset has no
    /// price in the quote asset at the first candle (and in reports
    /// written before benchmarks).
    #[serde(default)]
    pub benchmark: Option<Benchmark>,
    /// Value-at-risk and expected shortfall of the equity (absent in
    /// reports written before risk figures).
    #[serde(default)]
    pub risk: Option<RiskReport>,
    /// Released actions.
    pub trades: Vec<TradeRecord>,
    /// The first [`MAX_DENIAL_RECORDS`] denials received (all of them are
    /// counted in `metrics.denials_by_rule`).
    pub denials: Vec<DenialRecord>,
    /// Every failed tick, in order (absent, and so empty, in reports
    /// written before failures were listed).
    #[serde(default)]
    pub failures: Vec<FailureRecord>,
    /// Whether the run stopped at its last failure instead of running
    /// every candle (what a backtest does unless told to continue past
    /// failures).
    #[serde(default)]
    pub stopped: bool,
    /// Times the account was liquidated.
    pub liquidations: usize,
}

impl BacktestReport {
    /// The report as pretty JSON. Wall-clock measurements are zeroed unless
    /// `with_timing`, so that the same run always writes the same bytes.
    pub fn to_json(&self, with_timing: bool) -> String {
        let mut copy = self.clone();
        if !with_timing {
            copy.metrics.ticks_per_second = 0.0;
        }
        // Serializing plain data into a string cannot fail.
        serde_json::to_string_pretty(&copy).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_written_before_fill_models_and_benchmarks_still_reads() {
        let metrics =
            serde_json::to_value(Metrics::compute(&crate::MetricsInput::default())).unwrap();
        let mut metrics = metrics.as_object().unwrap().clone();
        metrics.remove("benchmark_return");
        metrics.remove("benchmark_max_drawdown");
        let old = serde_json::json!({
            "strategy": "rsi",
            "component_sha256": "ab",
            "config": "{}",
            "market": "ETH/BTC",
            "quote": "BTC",
            "metrics": metrics,
            "equity": [],
            "trades": [{
                "sequence": 1, "timestamp_ms": 0, "id": 1, "kind": "swap",
                "side": "buy", "summary": "swap", "outcome": "filled"
            }],
            "denials": [],
            "liquidations": 0
        });
        let report: BacktestReport = serde_json::from_value(old).unwrap();
        assert_eq!(report.fill_model, FillModel::Close);
        assert_eq!(report.benchmark, None);
        assert_eq!(report.metrics.benchmark_return, None);
        assert_eq!(report.trades[0].executed_ms, None);
        // A trade filled at its own close writes no execution time.
        assert!(!report.to_json(false).contains("executed_ms"));
    }
}
