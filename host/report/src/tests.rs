//! Rendering a report whose text a hostile strategy chose.

use stratbox_backtest::metrics::{Metrics, MetricsInput};
use stratbox_backtest::report::{
    BacktestReport, DenialRecord, EquityPoint, FailureRecord, TickError,
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
