//! Fill models (when an accepted action executes) and the buy-and-hold
//! benchmark, on real guests.

use std::path::PathBuf;

use stratbox_backtest::report::{BacktestReport, MAX_EQUITY_POINTS};
use stratbox_backtest::{Backtest, FillModel, NOT_FILLED_BEFORE_END};
use stratbox_runtime::types::{ActionId, ActionOutcome};
use stratbox_runtime::{
    AllowAll, CallTrace, Deployment, DeploymentSpec, JournalSink, JournalSinkError, Limits,
    StrategyComponent, TickFailure, TickInput, TickReport,
};
use stratbox_tape::{Candle, Tape};
use stratbox_test_artifacts::Guest;

use crate::support::{backtest, eth_tape, load, market, runtime, synthetic_tape};

/// An RSI config that trades often.
const EAGER_RSI: &str = r#"{"period": 3, "oversold": 40, "overbought": 60, "cooldown_ms": 0}"#;

/// The report of 400 ETH/BTC candles of the eager RSI written before fill
/// models existed (trades, equity curve, denials, failures, metrics but
/// for fuel and speed): the default fill model must reproduce it.
fn golden() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rsi-close-400.json")
}

/// What of a report the golden file pins.
fn pinned(report: &BacktestReport) -> serde_json::Value {
    let mut metrics = serde_json::to_value(&report.metrics).unwrap();
    let metrics = metrics.as_object_mut().unwrap();
    for varying in ["fuel_p50", "fuel_p99", "ticks_per_second"] {
        metrics.remove(varying);
    }
    // Added with the benchmark, checked by the tests below.
    for added in ["benchmark_return", "benchmark_max_drawdown"] {
        metrics.remove(added);
    }
    // Added with fill amounts and prices (for the HTML report's markers),
    // checked by the tests below.
    let mut trades = serde_json::to_value(&report.trades).unwrap();
    for trade in trades.as_array_mut().unwrap() {
        let trade = trade.as_object_mut().unwrap();
        for added in ["spent", "received", "fees", "price"] {
            trade.remove(added);
        }
    }
    serde_json::json!({
        "market": report.market,
        "quote": report.quote,
        "metrics": metrics,
        "equity": report.equity,
        "trades": trades,
        "denials": report.denials,
        "failures": report.failures,
        "liquidations": report.liquidations,
    })
}

#[test]
fn the_default_fill_model_reproduces_the_reports_written_before_fill_models() {
    let rsi = load(Guest::RsiMomentum);
    let report = backtest(&rsi, DeploymentSpec::new("rsi", EAGER_RSI), 400, false).unwrap();
    assert!(report.metrics.actions > 10, "the strategy trades");
    let got = pinned(&report);
    if std::env::var_os("STRATBOX_BLESS").is_some() {
        std::fs::write(golden(), serde_json::to_string_pretty(&got).unwrap()).unwrap();
    }
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(golden()).unwrap()).unwrap();
    assert!(got == want, "the default fill model changed the report");
}

/// What a journal sees of a run.
#[derive(Debug, Default)]
struct Seen {
    /// Per tick: its candle (block number), the outcomes it delivered to
    /// the strategy, the actions it released.
    ticks: Vec<(u64, Vec<ActionId>, Vec<ActionId>)>,
    /// Every outcome journaled.
    outcomes: Vec<(ActionId, ActionOutcome)>,
}

impl JournalSink for Seen {
    fn init(&mut self, _: &Deployment, _: &CallTrace) -> Result<(), JournalSinkError> {
        Ok(())
    }

    fn tick(
        &mut self,
        _: &Deployment,
        input: &TickInput,
        result: &Result<TickReport, TickFailure>,
    ) -> Result<(), JournalSinkError> {
        let released = match result {
            Ok(report) => report.actions.iter().map(|a| a.id).collect(),
            Err(_) => Vec::new(),
        };
        let delivered = input.results.iter().map(|(id, _)| *id).collect();
        self.ticks.push((input.block.number, delivered, released));
        Ok(())
    }

    fn outcomes(
        &mut self,
        _: u64,
        outcomes: &[(ActionId, ActionOutcome)],
    ) -> Result<(), JournalSinkError> {
        self.outcomes.extend_from_slice(outcomes);
        Ok(())
    }
}

impl Seen {
    /// Every released action and the candle of its tick.
    fn released(&self) -> Vec<(u64, ActionId)> {
        self.ticks
            .iter()
            .flat_map(|(block, _, released)| released.iter().map(|id| (*block, *id)))
            .collect()
    }

    /// The candles of the ticks that delivered `id`'s outcome.
    fn delivered(&self, id: ActionId) -> Vec<u64> {
        self.ticks
            .iter()
            .filter(|(_, delivered, _)| delivered.contains(&id))
            .map(|(block, _, _)| *block)
            .collect()
    }
}

/// The eager RSI over `tape` with `fill`, journaled to a [`Seen`].
fn run(rsi: &StrategyComponent, fill: FillModel, tape: Tape) -> (BacktestReport, Seen) {
    let spec = DeploymentSpec::new("rsi", EAGER_RSI).with_limits(Limits::rust());
    let mut seen = Seen::default();
    let report = Backtest::new(runtime(), rsi, "rsi", spec)
        .run(market(tape).with_fill(fill), AllowAll, &mut seen, |_| {})
        .unwrap();
    (report, seen)
}

fn trade(report: &BacktestReport, id: ActionId) -> &stratbox_backtest::report::TradeRecord {
    report.trades.iter().find(|t| t.id == id).unwrap()
}

#[test]
fn close_fills_at_once_and_delivers_at_the_next_tick() {
    let rsi = load(Guest::RsiMomentum);
    let (report, seen) = run(&rsi, FillModel::default(), eth_tape(400));
    assert_eq!(report.fill_model, FillModel::Close);
    let released = seen.released();
    assert!(released.len() > 10);
    for (block, id) in released {
        let expected: Vec<u64> = (block + 1 < 400).then_some(block + 1).into_iter().collect();
        assert_eq!(
            seen.delivered(id),
            expected,
            "action {id} of candle {block}"
        );
        assert_eq!(trade(&report, id).executed_ms, None);
    }
}

#[test]
fn next_open_fills_at_the_next_candles_open_and_delivers_the_outcome_then() {
    let rsi = load(Guest::RsiMomentum);
    let tape = eth_tape(400);
    let (report, seen) = run(&rsi, FillModel::NextOpen, tape.clone());
    assert_eq!(report.fill_model, FillModel::NextOpen);
    let released = seen.released();
    assert!(released.len() > 10);
    for (block, id) in released {
        let trade = trade(&report, id);
        let next = block as usize + 1;
        if next < 400 {
            assert_eq!(seen.delivered(id), vec![block + 1], "action {id}");
            assert_ne!(trade.outcome, NOT_FILLED_BEFORE_END);
            // Executed when candle `next` opened.
            assert_eq!(trade.executed_ms, Some(tape.candles()[next].timestamp_ms));
        } else {
            assert_eq!(trade.outcome, NOT_FILLED_BEFORE_END);
        }
    }
}

#[test]
fn latency_fills_n_ticks_later_and_delivers_the_outcome_then() {
    let rsi = load(Guest::RsiMomentum);
    let (report, seen) = run(&rsi, FillModel::Latency(2), eth_tape(400));
    assert_eq!(report.fill_model, FillModel::Latency(2));
    let released = seen.released();
    assert!(released.len() > 10);
    let mut filled = 0;
    for (block, id) in released {
        let trade = trade(&report, id);
        let due = block as usize + 2;
        if due < 400 {
            // The strategy receives the outcome at the tick of the candle
            // whose close it filled at, two ticks after it released it.
            assert_eq!(seen.delivered(id), vec![block + 2], "action {id}");
            assert_eq!(trade.executed_ms, Some(report.equity[due].timestamp_ms));
            assert_ne!(trade.outcome, NOT_FILLED_BEFORE_END);
            filled += usize::from(trade.outcome == "filled");
        } else {
            assert_eq!(trade.outcome, NOT_FILLED_BEFORE_END);
            assert!(seen.delivered(id).is_empty());
        }
    }
    assert!(filled > 0, "some swaps filled");
    // Not the run the close model gives.
    let (close, _) = run(&rsi, FillModel::Close, eth_tape(400));
    assert_ne!(close.equity, report.equity);
}

#[test]
fn actions_still_queued_at_the_end_of_the_tape_fail_and_are_journaled() {
    let rsi = load(Guest::RsiMomentum);
    let (report, seen) = run(&rsi, FillModel::Latency(1_000), eth_tape(300));
    assert!(!report.trades.is_empty());
    for trade in &report.trades {
        assert_eq!(trade.outcome, NOT_FILLED_BEFORE_END, "{trade:?}");
        assert_eq!(trade.executed_ms, None);
    }
    // The journal has them failed, with the code.
    assert_eq!(seen.outcomes.len(), report.trades.len());
    for (_, outcome) in &seen.outcomes {
        let ActionOutcome::Failed(failure) = outcome else {
            panic!("{outcome:?}");
        };
        assert_eq!(failure.code, NOT_FILLED_BEFORE_END);
    }
    // Nothing ever moved.
    assert!(
        report
            .equity
            .iter()
            .all(|p| p.equity == report.equity[0].equity)
    );
}

#[test]
fn a_delayed_fill_run_writes_the_same_report_twice() {
    let rsi = load(Guest::RsiMomentum);
    let first = run(&rsi, FillModel::Latency(3), eth_tape(300)).0;
    let second = run(&rsi, FillModel::Latency(3), eth_tape(300)).0;
    assert_eq!(first.to_json(false), second.to_json(false));
    let json: serde_json::Value = serde_json::from_str(&first.to_json(false)).unwrap();
    assert_eq!(json["fill_model"], "latency:3");
    assert!(json["benchmark"]["equity"].as_array().unwrap().len() == 300);
}

/// A hand-made ETH/BTC tape: up, down below the start, up again.
fn hand_tape() -> Tape {
    let closes: Vec<f64> = (0..240)
        .map(|i| {
            let i = f64::from(i);
            0.05 * (1.0 + 0.3 * (i / 20.0).sin()) * (1.0 - i / 1_000.0)
        })
        .collect();
    let candles = closes
        .iter()
        .enumerate()
        .map(|(i, &close)| {
            let open = if i == 0 { close } else { closes[i - 1] };
            Candle {
                timestamp_ms: 1_600_000_000_000 + i as u64 * 300_000,
                open,
                high: open.max(close),
                low: open.min(close),
                close,
                volume: 1.0,
            }
        })
        .collect();
    Tape::new("ETH/BTC", candles).unwrap()
}

#[test]
fn buy_and_hold_returns_the_last_close_over_the_first() {
    let rsi = load(Guest::RsiMomentum);
    let tape = hand_tape();
    let closes: Vec<f64> = tape.candles().iter().map(|c| c.close).collect();
    let (first, last) = (closes[0], closes[closes.len() - 1]);
    let (report, _) = run(&rsi, FillModel::Close, tape);
    let expected = last / first - 1.0;
    let got = report.metrics.benchmark_return.expect("a benchmark");
    assert!((got - expected).abs() <= 1e-12, "{got} vs {expected}");
    assert!(expected < 0.0, "the tape ends below its start");
    // Drawdown of holding: the deepest fall of the close from its peak.
    let (mut peak, mut worst) = (f64::MIN, 0.0f64);
    for &close in &closes {
        peak = peak.max(close);
        worst = worst.max((peak - close) / peak);
    }
    let drawdown = report.metrics.benchmark_max_drawdown.unwrap();
    assert!((drawdown - worst).abs() <= 1e-12, "{drawdown} vs {worst}");
    // 1 BTC converted into ETH at the first close, no fees.
    let benchmark = report.benchmark.as_ref().unwrap();
    assert_eq!(benchmark.asset, "ETH");
    assert!((benchmark.units - 1.0 / first).abs() <= 1e-12 / first);
    assert_eq!(benchmark.equity.len(), closes.len());
    assert!((benchmark.equity[0].equity - 1.0).abs() <= 1e-12);
    for (point, close) in benchmark.equity.iter().zip(&closes) {
        assert!((point.equity - close / first).abs() <= 1e-12, "{point:?}");
        assert_eq!(point.price, *close);
    }
    let times = |points: &[stratbox_backtest::report::EquityPoint]| {
        points.iter().map(|p| p.timestamp_ms).collect::<Vec<_>>()
    };
    assert_eq!(times(&benchmark.equity), times(&report.equity));
    // The strategy's own metrics are its own.
    assert_ne!(report.metrics.total_return, got);
}

#[test]
fn the_benchmark_curve_is_bounded_and_keeps_its_extremes() {
    let rsi = load(Guest::RsiMomentum);
    let candles = 6_000;
    let tape = synthetic_tape(candles);
    let closes: Vec<f64> = tape.candles().iter().map(|c| c.close).collect();
    let (report, _) = run(&rsi, FillModel::Close, tape);
    let benchmark = report.benchmark.unwrap();
    assert!(benchmark.equity.len() <= MAX_EQUITY_POINTS);
    assert!(benchmark.equity.len() > MAX_EQUITY_POINTS / 3);
    assert_eq!(
        benchmark.equity.first().unwrap().timestamp_ms,
        report.equity.first().unwrap().timestamp_ms
    );
    assert_eq!(
        benchmark.equity.last().unwrap().timestamp_ms,
        report.equity.last().unwrap().timestamp_ms
    );
    let high = closes.iter().copied().fold(f64::MIN, f64::max);
    let low = closes.iter().copied().fold(f64::MAX, f64::min);
    assert!(benchmark.equity.iter().any(|p| p.price == high));
    assert!(benchmark.equity.iter().any(|p| p.price == low));
    let expected = closes[candles - 1] / closes[0] - 1.0;
    assert!((report.metrics.benchmark_return.unwrap() - expected).abs() <= 1e-12);
}

#[test]
fn fills_carry_their_amounts_and_price_and_sales_their_round_trips() {
    let rsi = load(Guest::RsiMomentum);
    for fill in [FillModel::Close, FillModel::Latency(2)] {
        let tape = eth_tape(400);
        let (report, _) = run(&rsi, fill, tape.clone());
        // Every candle the run ticked over, for the price chart.
        assert_eq!(report.candles, tape.candles(), "{fill}");
        assert_eq!(report.candles_per_bar, 1);
        let filled: Vec<_> = report
            .trades
            .iter()
            .filter(|t| t.outcome == "filled")
            .collect();
        assert!(filled.len() > 10, "{fill}: the strategy trades");
        for trade in &filled {
            // A swap between ETH and BTC: one asset paid, the other got,
            // and the price in BTC per ETH, near the candles'.
            let (paid, got) = (&trade.spent[0], &trade.received[0]);
            let (eth, btc) = if paid.asset == "ETH" {
                (paid.units, got.units)
            } else {
                (got.units, paid.units)
            };
            let price = trade.price.unwrap();
            assert!((price - btc / eth).abs() < 1e-12, "{fill}: {trade:?}");
            assert!((0.08..0.11).contains(&price), "{fill}: {price}");
            assert!(!trade.fees.is_empty());
        }
        // One round trip per closed trade the metrics count, each ending
        // at a sale's execution.
        let trips = &report.round_trips;
        assert_eq!(trips.len(), report.metrics.closed_trades, "{fill}");
        let won = trips.iter().filter(|r| r.profit > 0.0).count();
        assert_eq!(
            won as f64 / trips.len() as f64,
            report.metrics.win_rate,
            "{fill}"
        );
        for trip in trips {
            let sale = trade(&report, trip.exit_action.unwrap());
            assert_eq!(sale.side, stratbox_backtest::report::Side::Sell);
            assert_eq!(trip.exit_ms, sale.executed_at_ms(), "{fill}");
            assert_eq!(trip.duration_ms, trip.exit_ms - trip.entry_ms);
            let entry = trade(&report, trip.entry_action.unwrap());
            assert_eq!(trip.entry_ms, entry.executed_at_ms(), "{fill}");
            assert_eq!(trip.asset, "ETH");
            let expected = (trip.exit_price - trip.entry_price) * trip.units;
            assert!((trip.profit - expected).abs() < 1e-9, "{trip:?}");
            assert!(
                (trip.trade_return - trip.profit / (trip.entry_price * trip.units)).abs() < 1e-9
            );
        }
    }
}
