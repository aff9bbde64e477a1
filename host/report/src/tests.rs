//! Rendering a report whose text a hostile strategy chose.

use std::collections::BTreeMap;
use stratbox_backtest::FillModel;
use stratbox_backtest::metrics::{Metrics, MetricsInput};

use stratbox_backtest::report::{
    AssetUnits, BacktestReport, Benchmark, Candle, DenialRecord, EquityPoint, FailureRecord,
    RoundTrip, Side, TickError, TradeRecord,
};

/// A log line that recolors the terminal, clears the line and returns the
/// cursor to its start to overwrite what came before.
const HOSTILE_LOG: &str = "\u{1b}[31mred\u{1b}[0m\u{1b}[2K\rall good";

/// A denial detail that would end the page's data `<script>` element and
/// run its own, were it not escaped.
pub(crate) const HOSTILE_DETAIL: &str = "</script><script>alert(1)</script><!--";

fn candle(index: u64, close: f64) -> Candle {
    Candle {
        timestamp_ms: index * 300_000,
        open: close * 0.99,
        high: close * 1.01,
        low: close * 0.98,
        close,
        volume: 1_234.5,
    }
}

pub(crate) fn hostile_report() -> BacktestReport {
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
        candles: vec![candle(0, 0.05), candle(1, 0.0625)],
        candles_per_bar: 1,
        series: BTreeMap::from([
            (
                "overlay:ema</script>".to_owned(),
                vec![(0, 0.05), (300_000, 0.06)],
            ),
            ("rsi".to_owned(), vec![(300_000, 55.0), (600_000, f64::NAN)]),
        ]),
        trades: vec![TradeRecord {
            sequence: 1,
            timestamp_ms: 300_000,
            id: 7,
            kind: "swap".into(),
            side: Side::Sell,
            summary: "swap 1 ETH for BTC".into(),
            outcome: "filled".into(),
            executed_ms: None,
            spent: vec![AssetUnits {
                asset: "ETH".into(),
                units: 1.0,
            }],
            received: vec![AssetUnits {
                asset: "BTC".into(),
                units: 0.062_312_345_678,
            }],
            fees: Vec::new(),
            price: Some(0.062_312_345_678),
        }],
        round_trips: vec![RoundTrip {
            asset: "ETH".into(),
            entry_ms: 0,
            exit_ms: 300_000,
            duration_ms: 300_000,
            entry_price: 0.05,
            exit_price: 0.062_312_345_678,
            units: 1.0,
            profit: 0.012_312_345_678,
            trade_return: 0.246_246_9,
            entry_action: None,
            exit_action: Some(7),
        }],
        denials: vec![
            DenialRecord {
                sequence: 0,
                timestamp_ms: 0,
                code: "COOLDOWN_ACTIVE".into(),
                rule: rules[0].clone(),
                detail: "COOLDOWN_ACTIVE: asset=\u{1b}[1mETH".into(),
            },
            DenialRecord {
                sequence: 1,
                timestamp_ms: 300_000,
                code: "COOLDOWN_ACTIVE".into(),
                rule: "swap.cooldown".into(),
                detail: HOSTILE_DETAIL.into(),
            },
        ],
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

/// The page's embedded chart data, parsed.
fn chart_data(page: &str) -> serde_json::Value {
    let start = page
        .find("<script type=\"application/json\" id=\"stratbox-chart-data\">")
        .expect("the page embeds its chart data");
    let rest = &page[start..];
    let body = &rest[rest.find('>').unwrap() + 1..rest.find("</script>").unwrap()];
    serde_json::from_str(body).expect("the embedded data is JSON")
}

#[test]
fn a_hostile_denial_detail_cannot_break_out_of_the_page() {
    let page = crate::html(&hostile_report()).unwrap();
    // Four scripts, all the page's own: the error hook, the data, the
    // library and the chart.
    assert_eq!(page.to_ascii_lowercase().matches("<script").count(), 4);
    assert_eq!(page.to_ascii_lowercase().matches("</script").count(), 4);
    assert!(!page.contains(HOSTILE_DETAIL));
    assert!(!page.contains("alert(1)</script>"));
    // The table shows the detail as text.
    assert!(page.contains("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;!--"));
    // The chart's hover text has it, intact once parsed.
    let data = chart_data(&page);
    let lines: Vec<&str> = data["events"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|lines| lines.as_array().unwrap())
        .map(|line| line.as_str().unwrap())
        .collect();
    assert!(
        lines.iter().any(|line| line.ends_with(HOSTILE_DETAIL)),
        "{lines:?}"
    );
    // Only the page's own scripts may run.
    assert!(page.contains("script-src 'sha256-"));
    assert!(page.contains("default-src 'none'"));
}

#[test]
fn the_chart_data_has_candles_markers_series_and_profits() {
    let page = crate::html(&hostile_report()).unwrap();
    let data = chart_data(&page);
    assert_eq!(data["price"]["candles"], true);
    assert_eq!(data["price"]["t"], serde_json::json!([0, 300]));
    assert_eq!(data["price"]["precision"], 7);
    // The sale at the first candle's close sits on that candle, at its
    // price; the denials and the failures on theirs.
    let markers = data["markers"].as_array().unwrap();
    assert!(
        markers.contains(&serde_json::json!({"t": 0, "kind": "sell", "price": 0.062312345678}))
    );
    assert!(markers.contains(&serde_json::json!({"t": 0, "kind": "denial"})));
    assert!(markers.contains(&serde_json::json!({"t": 0, "kind": "failure"})));
    let sale = data["events"]["0"].as_array().unwrap()[0].as_str().unwrap();
    assert_eq!(
        sale,
        "SELL #7 swap 1 ETH for BTC (filled) at 0.0623123: paid 1 ETH, got 0.0623123 BTC; \
         profit +0.0123123 BTC\\r (+24.62%) over 5m"
    );
    // `overlay:` series over the price, others in a pane each; the NaN
    // point is left out.
    assert_eq!(data["overlays"][0]["name"], "ema</script>");
    assert_eq!(data["panes"][0]["name"], "rsi");
    assert_eq!(data["panes"][0]["lines"][0]["v"], serde_json::json!([55.0]));
    assert_eq!(data["profits"]["v"], serde_json::json!([0.012312345678]));
    assert!(
        data["benchmark"]["name"]
            .as_str()
            .unwrap()
            .starts_with("buy and hold ETH")
    );
    // The round-trip table.
    assert!(page.contains("<h2>Round trips (1)</h2>"));
    assert!(page.contains("<td class=\"n won\">+0.0123123</td><td class=\"n won\">+24.62%</td>"));
}

#[test]
fn a_report_written_before_candles_draws_its_closes() {
    let mut report = hostile_report();
    report.candles.clear();
    report.candles_per_bar = 0;
    let data = chart_data(&crate::html(&report).unwrap());
    assert_eq!(data["price"]["candles"], false);
    // The equity curve's points, at their close times.
    assert_eq!(data["price"]["t"], serde_json::json!([0, 300]));
    assert_eq!(data["price"]["close"], serde_json::json!([1.0, 1.0]));
}
