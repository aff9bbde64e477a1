//! A backtest folds each tick into its report and drops it: the equity
//! curve is bounded, the metrics come from every tick, and the heap a run
//! needs does not grow with its candles.

use std::sync::{Arc, Mutex};

use stratbox_backtest::metrics::{Metrics, MetricsInput};
use stratbox_backtest::report::{BacktestReport, Candle, MAX_CANDLE_BARS, MAX_EQUITY_POINTS};
use stratbox_backtest::sim::{SimMarket, SimOracle};
use stratbox_backtest::{Backtest, NoJournal};
use stratbox_runtime::{AllowAll, DeploymentSpec, Limits, StrategyComponent};
use stratbox_test_artifacts::Guest;

use crate::heap::peak_growth;
use crate::support::{eth_tape, load, market, runtime, synthetic_tape};

fn spec() -> DeploymentSpec {
    DeploymentSpec::new("rsi", "{}").with_limits(Limits::rust())
}

fn backtest(rsi: &StrategyComponent, market: SimMarket) -> BacktestReport {
    Backtest::new(runtime(), rsi, "rsi", spec())
        .run(market, AllowAll, &mut NoJournal, |_| {})
        .unwrap()
}

/// The metrics of the same run through the engine's loop, which keeps
/// every tick: computed from the whole equity curve.
fn metrics_of_every_tick(rsi: &StrategyComponent, market: SimMarket) -> (Metrics, Vec<f64>) {
    let venue = Arc::new(Mutex::new(market));
    let (mut curve, mut fuel, mut actions) = (Vec::new(), Vec::new(), 0);
    let run = stratbox_backtest::run(
        runtime(),
        rsi,
        spec(),
        Arc::clone(&venue),
        SimOracle::new(Arc::clone(&venue)),
        AllowAll,
        &mut NoJournal,
        |_, record, market: &SimMarket| {
            curve.push((market.now_ms(), market.equity()));
            let report = record.result.as_ref().expect("a clean run");
            fuel.push(report.trace.fuel_used);
            actions += report
                .trace
                .emissions
                .iter()
                .filter(|e| e.verdict.is_ok())
                .count();
        },
    )
    .unwrap();
    let market = run.venue();
    let metrics = Metrics::compute(&MetricsInput {
        equity: &curve,
        trades: market.closed_trades(),
        fees_paid: market.fees_paid(),
        gas_paid: market.gas_paid(),
        actions,
        fuel: &fuel,
        ..MetricsInput::default()
    });
    (metrics, curve.iter().map(|(_, equity)| *equity).collect())
}

#[test]
fn a_long_run_keeps_a_bounded_curve_with_its_extremes_and_metrics_of_every_tick() {
    let rsi = load(Guest::RsiMomentum);
    let candles = 30_000;
    let report = backtest(&rsi, market(synthetic_tape(candles)));
    assert_eq!(report.metrics.ticks, candles);
    assert!(report.metrics.actions > 0, "the strategy trades");
    assert!(
        report.equity.len() <= MAX_EQUITY_POINTS,
        "{} equity points",
        report.equity.len()
    );
    assert!(
        report
            .equity
            .windows(2)
            .all(|w| w[0].timestamp_ms < w[1].timestamp_ms),
        "in time order"
    );
    // The candles for the price chart, two to a bar.
    assert_eq!(report.candles_per_bar, 2);
    assert_eq!(report.candles.len(), candles / 2);
    assert!(report.candles.len() <= MAX_CANDLE_BARS);
    // The JSON holds the bounded curve, the bounded candles, the trades
    // and round trips, nothing per tick.
    let json = report.to_json(false);
    // Each as the report writes it: one key of an object, indented so.
    let value = serde_json::to_value(&report).unwrap();
    let pretty = |key: &str| {
        serde_json::to_string_pretty(&serde_json::json!({ key: value[key] }))
            .unwrap()
            .len()
    };
    let beside = pretty("trades") + pretty("round_trips") + pretty("candles");
    assert!(
        json.len() < beside + 250 * MAX_EQUITY_POINTS,
        "{} bytes of JSON, {beside} of trades, round trips and candles",
        json.len()
    );

    let (mut every_tick, equity) = metrics_of_every_tick(&rsi, market(synthetic_tape(candles)));
    every_tick.ticks_per_second = report.metrics.ticks_per_second;
    // The benchmark's metrics come from the prices, not the equity curve.
    assert!(report.metrics.benchmark_return.is_some());
    every_tick.benchmark_return = report.metrics.benchmark_return;
    every_tick.benchmark_max_drawdown = report.metrics.benchmark_max_drawdown;
    assert_eq!(report.metrics, every_tick);
    // The curve shows the run's ends and extremes.
    let kept = |value: f64| report.equity.iter().any(|p| p.equity == value);
    let low = equity.iter().copied().fold(f64::MAX, f64::min);
    let high = equity.iter().copied().fold(f64::MIN, f64::max);
    assert!(kept(low) && kept(high) && kept(equity[0]) && kept(equity[candles - 1]));
    let deepest = report.equity.iter().map(|p| p.drawdown).fold(0.0, f64::max);
    assert_eq!(deepest, report.metrics.max_drawdown);
}

#[test]
fn a_short_run_keeps_every_candle_and_its_metrics_follow_from_them() {
    let rsi = load(Guest::RsiMomentum);
    let eager = r#"{"period": 3, "oversold": 40, "overbought": 60, "cooldown_ms": 0}"#;
    let report = Backtest::new(
        runtime(),
        &rsi,
        "rsi",
        DeploymentSpec::new("rsi", eager).with_limits(Limits::rust()),
    )
    .run(market(eth_tape(1_500)), AllowAll, &mut NoJournal, |_| {})
    .unwrap();
    assert_eq!(report.equity.len(), 1_500);
    assert!(report.metrics.actions > 0, "the strategy trades");
    let curve: Vec<(u64, f64)> = report
        .equity
        .iter()
        .map(|p| (p.timestamp_ms, p.equity))
        .collect();
    let from_curve = Metrics::compute(&MetricsInput {
        equity: &curve,
        ..MetricsInput::default()
    });
    let m = &report.metrics;
    assert_eq!(
        (m.initial_equity, m.final_equity, m.pnl, m.total_return),
        (
            from_curve.initial_equity,
            from_curve.final_equity,
            from_curve.pnl,
            from_curve.total_return
        )
    );
    assert_eq!(
        (m.annualized_volatility, m.sharpe, m.sortino, m.max_drawdown),
        (
            from_curve.annualized_volatility,
            from_curve.sharpe,
            from_curve.sortino,
            from_curve.max_drawdown
        )
    );
}

#[test]
fn the_heap_a_backtest_needs_does_not_grow_with_its_candles() {
    let rsi = load(Guest::RsiMomentum);
    // Built before measuring: the tape is the input, not the run's memory.
    let grown = |candles: usize| {
        let market = market(synthetic_tape(candles));
        peak_growth(|| backtest(&rsi, market))
    };
    let _ = grown(1_000); // the first run's one-time allocations
    let (short, small) = grown(10_000);
    let (long, large) = grown(40_000);
    assert_eq!(long.metrics.ticks, 40_000);
    // Per released action a trade record (and a round trip per sale), and
    // the candles for the price chart up to their bound (all 10,000 of the
    // short run, 20,000 bars of the long one); nothing per tick. Keeping
    // every tick's equity point and fuel (40 bytes) would add more than
    // 1.2 MB.
    let more_trades = long.trades.len().saturating_sub(short.trades.len());
    let more_bars = long.candles.len().saturating_sub(short.candles.len());
    assert!(long.candles.len() <= MAX_CANDLE_BARS);
    let allowance = 128 * 1024 + 768 * more_trades + size_of::<Candle>() * more_bars;
    assert!(
        large <= small + allowance,
        "10,000 candles took {small} bytes at the peak, 40,000 took {large} \
         ({more_trades} more trades, {more_bars} more bars, allowance {allowance})"
    );
}
