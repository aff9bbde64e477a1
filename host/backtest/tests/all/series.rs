//! A strategy's named series (`logging.series`) reach the report: one curve
//! per name, at each tick's candle time.

use stratbox_runtime::DeploymentSpec;
use stratbox_test_artifacts::Guest;

use crate::support::{backtest, load};

#[test]
fn the_ema_crossover_averages_are_in_the_report_at_every_tick() {
    let component = load(Guest::EmaCrossover);
    let spec = DeploymentSpec::new("ema", r#"{"fast": 5, "slow": 20}"#);
    let report = backtest(&component, spec, 1_000, false).unwrap();
    let names: Vec<_> = report.series.keys().map(String::as_str).collect();
    assert_eq!(names, ["overlay:ema fast", "overlay:ema slow"]);
    for (name, points) in &report.series {
        // From the tick the slow average is warm to the last.
        assert!(points.len() >= 980, "{name}: {} points", points.len());
        assert!(points.windows(2).all(|pair| pair[0].0 < pair[1].0));
        assert_eq!(
            points.last().unwrap().0,
            report.equity.last().unwrap().timestamp_ms,
            "{name} ends at the run's last tick"
        );
    }
    // Both averages sit in the price range, which is why they are overlays.
    let (low, high) = report
        .candles
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), c| {
            (lo.min(c.low), hi.max(c.high))
        });
    for (_, value) in &report.series["overlay:ema slow"] {
        assert!(
            (low..=high).contains(value),
            "{value} outside {low}..{high}"
        );
    }
    // And they survive the JSON report.
    let again: stratbox_backtest::report::BacktestReport =
        serde_json::from_str(&report.to_json(false)).unwrap();
    assert_eq!(again.series, report.series);
}
