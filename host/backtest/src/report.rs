//! The result of a backtest as data: what the terminal table, the JSON file
//! and the HTML report are rendered from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
/// The runtime's cause of a failed tick, as a [`FailureRecord`] holds it.
pub use stratbox_runtime::TickError;
use stratbox_runtime::TickFailure;
/// One bar of the price chart ([`BacktestReport::candles`]).
pub use stratbox_tape::Candle;

pub use crate::curve::{MAX_CANDLE_BARS, MAX_EQUITY_POINTS};
use crate::fill::FillModel;
pub use crate::format::{
    AMOUNT_SIGNIFICANT_DIGITS, MAX_AMOUNT_DECIMALS, amount_decimals, format_amount,
    format_signed_amount,
};
use crate::metrics::Metrics;
use crate::risk::RiskReport;
pub use crate::series::MAX_SERIES_POINTS;

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
    /// What the account paid, in whole units, once the action filled
    /// (empty before then, for failed actions, and in reports written
    /// before fills were recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spent: Vec<AssetUnits>,
    /// What the account received, in whole units, once the action filled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub received: Vec<AssetUnits>,
    /// Venue fees of the fill, in whole units.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fees: Vec<AssetUnits>,
    /// The price a filled swap between the driving market's two assets
    /// executed at, in the market's terms (`BTC` per `ETH` for `ETH/BTC`,
    /// fees included): where its marker sits on the price chart. Absent
    /// for other actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
}

impl TradeRecord {
    /// When the venue executed the action, ms: [`TradeRecord::executed_ms`]
    /// if set, else the close of the tick's candle.
    pub fn executed_at_ms(&self) -> u64 {
        self.executed_ms.unwrap_or(self.timestamp_ms)
    }
}

/// An amount of one asset in whole units (`0.5` `ETH`), for display: the
/// exact integer amounts are in the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetUnits {
    /// Asset symbol.
    pub asset: String,
    /// Whole units.
    pub units: f64,
}

/// A position in one asset opened and (partly or wholly) closed: what a
/// sale of the asset realized against its average cost. Every sale of an
/// asset the account bought is one round trip, whose entry is the first
/// purchase since the account last held none of it; its profit is the
/// closed trade the metrics count (fees included), so the round trips'
/// profits are the run's realized profit and loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundTrip {
    /// The asset bought and sold.
    pub asset: String,
    /// When the position was opened (its first purchase executed), ms.
    pub entry_ms: u64,
    /// When this sale executed, ms.
    pub exit_ms: u64,
    /// `exit_ms - entry_ms`.
    pub duration_ms: u64,
    /// Average cost of the units sold, quote asset per whole unit.
    pub entry_price: f64,
    /// What the sale got, quote asset per whole unit (after fees).
    pub exit_price: f64,
    /// Whole units sold.
    pub units: f64,
    /// Realized profit (negative: loss), in the quote asset.
    pub profit: f64,
    /// `profit` as a fraction of the cost of the units sold.
    pub trade_return: f64,
    /// The action that opened the position, if the venue knew it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_action: Option<u64>,
    /// The action of this sale, if the venue knew it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_action: Option<u64>,
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
    /// The driving market's candles the run ticked over, for the price
    /// chart: every candle for runs of up to [`MAX_CANDLE_BARS`] candles,
    /// else that many bars at most, each merging `candles_per_bar`
    /// consecutive candles (first open, highest high, lowest low, last
    /// close, summed volume, the first one's open time). Empty in reports
    /// written before candles were kept.
    #[serde(default)]
    pub candles: Vec<Candle>,
    /// Consecutive candles each bar of `candles` merges: 1 unless the run
    /// was longer than [`MAX_CANDLE_BARS`] candles (0 in reports without
    /// candles).
    #[serde(default)]
    pub candles_per_bar: usize,
    /// Named numbers the strategy recorded as it ran (an indicator, a
    /// signal, a target), each a series of `(time ms, value)` points in
    /// time order, at most [`MAX_SERIES_POINTS`] each (a longer run keeps
    /// every second point, then every fourth..., and the last). How the
    /// HTML report draws them follows from their names (see
    /// `stratbox-report`): `overlay:` names are drawn over the candles,
    /// others in panes of their own. Empty when the strategy records none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub series: BTreeMap<String, Vec<(u64, f64)>>,
    /// Released actions.
    pub trades: Vec<TradeRecord>,
    /// Every sale of an asset the account had bought, with its entry,
    /// exit, profit and duration (empty in reports written before round
    /// trips were recorded).
    #[serde(default)]
    pub round_trips: Vec<RoundTrip>,
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
        // Nor before candles, round trips, series and fill amounts.
        assert!(report.candles.is_empty() && report.round_trips.is_empty());
        assert!(report.series.is_empty() && report.trades[0].spent.is_empty());
        assert_eq!((report.candles_per_bar, report.trades[0].price), (0, None));
        // A trade filled at its own close writes no execution time.
        assert!(!report.to_json(false).contains("executed_ms"));
        // Series are written only when there are some.
        assert!(!report.to_json(false).contains("series"));
    }
}
