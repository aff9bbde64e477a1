//! Rendering a report whose text a hostile strategy chose.

use stratbox_backtest::FillModel;
use stratbox_backtest::metrics::{Metrics, MetricsInput};
use stratbox_backtest::report::{
    BacktestReport, Benchmark, DenialRecord, EquityPoint, FailureRecord, TickError,
};

/// A log line that recolors the terminal, clears the line and returns the
/// cursor to its start to overwrite what came before.
const HOSTILE_LOG: &str = "\u{1b}[31mred\u{1b}[0m\u{1b}[2K\rall good";

fn hostile_report() -> BacktestReport {
    let rules = ["swap.cooldown\u{1b}[2J".to_owned()];
    let mut metrics = Metrics::compute(&MetricsInput {
        equity: &[(0, 1.0), (300_000, 1.0)],
        denials: &rules,
        failed_ticks: 15,
        ..MetricsInput::default()
    });
    metrics.ticks = 16;
    metrics.benchmark_return = Some(0.25);
    metrics.benchmark_max_drawdown = Some(0.125);
    let cause = TickError::GuestError {
        message: "boom\u{1b}]0;pwned\u{7}\r".into(),
    };
    BacktestReport {
        strategy: "evil\u{1b}[8m".into(),
        component_sha256: "ab".repeat(32),
        config: "{}".into(),
        market: "ETH/BTC".into(),
        quote: "BTC\r".into(),
        metrics,
        equity: vec![
            EquityPoint {
                timestamp_ms: 0,
                equity: 1.0,
                drawdown: 0.0,
                price: 1.0,
            },
            EquityPoint {
                timestamp_ms: 300_000,
                equity: 1.0,
                drawdown: 0.0,
                price: 1.0,
            },
        ],
        trades: Vec::new(),
        denials: vec![DenialRecord {
            sequence: 0,
            timestamp_ms: 0,
            code: "COOLDOWN_ACTIVE".into(),
            rule: rules[0].clone(),
            detail: "COOLDOWN_ACTIVE: asset=\u{1b}[1mETH".into(),
        }],
        failures: vec![
            FailureRecord {
                sequence: 1,
                timestamp_ms: 300_000,
                count: 1,
                message: cause.to_string(),
                cause,
                paused: false,
                logs: vec![HOSTILE_LOG.into()],
            },
            FailureRecord {
                sequence: 1,
                timestamp_ms: 600_000,
                count: 14,
                cause: TickError::Paused {
                    consecutive_failures: 3,
                },
                message: "deployment paused after 3 consecutive failed ticks".into(),
                paused: false,
                logs: Vec::new(),
            },
        ],
        stopped: false,
        liquidations: 0,
        risk: None,
        fill_model: FillModel::Latency(2),
        benchmark: Some(Benchmark {
            asset: "ETH\u{1b}[5m".into(),
            units: 20.0,
            equity: vec![
                EquityPoint {
                    timestamp_ms: 0,
                    equity: 1.0,
                    drawdown: 0.0,
                    price: 0.05,
                },
                EquityPoint {
                    timestamp_ms: 300_000,
                    equity: 1.25,
                    drawdown: 0.0,
                    price: 0.0625,
                },
            ],
        }),
    }
}

#[test]
fn the_summary_escapes_control_characters_in_every_guest_text() {
    let summary = crate::summary(&hostile_report());
    assert!(
        !summary.chars().any(|c| c.is_control() && c != '\n'),
        "a control character reached the terminal: {summary:?}"
    );
    // The text is shown, escaped.
    assert!(
        summary.contains("  log         \\u{1b}[31mred\\u{1b}[0m\\u{1b}[2K\\rall good\n"),
        "{summary}"
    );
    assert!(
        summary.contains("boom\\u{1b}]0;pwned\\u{7}\\r"),
        "{summary}"
    );
    assert!(summary.contains("evil\\u{1b}[8m"), "{summary}");
    assert!(summary.contains("swap.cooldown\\u{1b}[2J: 1"), "{summary}");
    // Every failure is listed with its cause and time.
    assert!(
        summary.contains(
            "failed        tick 1 at 1970-01-01 00:05 UTC: strategy returned an error: boom"
        ),
        "{summary}"
    );
    assert!(
        summary.contains(
            "failed        tick 1 at 1970-01-01 00:10 UTC and the 13 ticks after it: deployment paused"
        ),
        "{summary}"
    );
}

#[test]
fn the_html_lists_every_failure_escaped() {
    let page = crate::html(&hostile_report()).unwrap();
    assert!(!page.contains('\u{1b}') && !page.contains('\r'));
    assert!(
        page.contains("Failed ticks (15)"),
        "the HTML has a failures section"
    );
    assert!(page.contains("strategy returned an error: boom\\u{1b}]0;pwned\\u{7}\\r"));
    assert!(page.contains("\\u{1b}[31mred"));
    assert!(page.contains("<td>14</td>"));
}

#[test]
fn a_stopped_run_says_so() {
    let mut report = hostile_report();
    report.stopped = true;
    assert!(crate::summary(&report).contains("stopped at the failure, later candles not run"));
    assert!(
        crate::html(&report)
            .unwrap()
            .contains("The backtest stopped")
    );
}

#[test]
fn the_fill_model_and_the_benchmark_are_in_every_form_of_the_report() {
    let report = hostile_report();
    let summary = crate::summary(&report);
    assert!(
        summary.contains(
            "fill model    latency:2 (fills at the close of the candle 2 ticks later; outcome at that tick)"
        ),
        "{summary}"
    );
    assert!(
        summary.contains("buy and hold  +25.00% (max drawdown 12.50%; 20 ETH\\u{1b}[5m bought with the starting equity at the first close, no fees)"),
        "{summary}"
    );
    assert!(!summary.chars().any(|c| c.is_control() && c != '\n'));
    let page = crate::html(&report).unwrap();
    assert!(page.contains("latency:2"), "the HTML states the fill model");
    assert!(
        page.contains("+25.00%"),
        "the HTML has the benchmark's return"
    );
    assert!(
        page.contains("buy and hold ETH"),
        "the equity chart's legend names the benchmark line"
    );
    let json = report.to_json(false);
    assert!(json.contains("\"fill_model\": \"latency:2\""), "{json}");
    assert!(json.contains("\"benchmark_return\": 0.25"), "{json}");
    assert!(json.contains("\"benchmark\": {"), "{json}");
}

#[test]
fn a_report_without_a_benchmark_says_so_and_states_the_default_fill_model() {
    let mut report = hostile_report();
    report.fill_model = FillModel::default();
    report.benchmark = None;
    report.metrics.benchmark_return = None;
    report.metrics.benchmark_max_drawdown = None;
    let summary = crate::summary(&report);
    assert!(
        summary.contains(
            "fill model    close (fills at the close of the candle the strategy saw, zero latency; the default)"
        ),
        "{summary}"
    );
    assert!(summary.contains("buy and hold  n/a"), "{summary}");
    let page = crate::html(&report).unwrap();
    assert!(page.contains("close (fills at the close of the candle the strategy saw"));
}
