//! Integration tests of `stratbox-optimize` against synthetic evaluators
//! whose best parameters are known.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod robustness;
mod search;
mod walk_forward;

use std::ops::Range;

use serde_json::{Value, json};
use stratbox_backtest::metrics::{Metrics, MetricsInput};
use stratbox_optimize::BacktestReport;

/// Candle spacing of the synthetic tapes: 5 minutes.
pub const STEP_MS: u64 = 300_000;

/// Close times of `n` synthetic candles.
pub fn timestamps(n: usize) -> Vec<u64> {
    (0..n as u64)
        .map(|i| 1_700_000_000_000 + i * STEP_MS)
        .collect()
}

/// A report of a run over `candles` whose equity starts at 1 and moves by
/// `returns[i]` at each later candle, with a buy-and-hold benchmark of
/// price `prices[i]`. Built from JSON so that fields later added to
/// reports (always with defaults) do not break it.
pub fn report(
    config: &Value,
    candles: Range<usize>,
    returns: &[f64],
    prices: &[f64],
) -> BacktestReport {
    let ts = timestamps(candles.end);
    let mut equity = Vec::new();
    let mut points = Vec::new();
    let mut bench = Vec::new();
    let (mut value, mut peak) = (1.0f64, f64::MIN);
    let (first_price, mut bench_peak) = (prices[candles.start], f64::MIN);
    for i in candles.clone() {
        if i > candles.start {
            value *= 1.0 + returns[i];
        }
        peak = peak.max(value);
        let price = prices[i];
        let held = price / first_price;
        bench_peak = bench_peak.max(held);
        equity.push((ts[i], value));
        points.push(json!({"timestamp_ms": ts[i], "equity": value,
            "drawdown": (peak - value) / peak, "price": price}));
        bench.push(json!({"timestamp_ms": ts[i], "equity": held,
            "drawdown": (bench_peak - held) / bench_peak, "price": price}));
    }
    let mut metrics = Metrics::compute(&MetricsInput {
        equity: &equity,
        fuel: &vec![100; candles.len()],
        ..MetricsInput::default()
    });
    metrics.benchmark_return = Some(prices[candles.end - 1] / first_price - 1.0);
    metrics.benchmark_max_drawdown = Some(
        bench
            .iter()
            .map(|p| p["drawdown"].as_f64().unwrap_or(0.0))
            .fold(0.0, f64::max),
    );
    serde_json::from_value(json!({
        "strategy": "synthetic",
        "component_sha256": "00",
        "config": config.to_string(),
        "market": "SYN/USD",
        "quote": "USD",
        "fill_model": "close",
        "metrics": metrics,
        "equity": points,
        "benchmark": {"asset": "SYN", "units": 1.0, "equity": bench},
        "trades": [],
        "denials": [],
        "liquidations": 0
    }))
    .unwrap()
}
