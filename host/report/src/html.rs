//! A self-contained HTML report: one file that needs nothing but a
//! browser, no network. Its interactive chart is drawn by TradingView
//! Lightweight Charts, embedded whole ([`LIBRARY`]), from the data the page
//! embeds as JSON ([`chart_data`]); the tables are plain HTML; without
//! JavaScript the equity curve and drawdown show as SVG images instead.
//!
//! A report carries text a strategy controls (log lines, denial details,
//! error messages, names). In the tables it is HTML-escaped ([`escape`]);
//! in the embedded JSON `<`, `>` and `&` are escaped ([`embed_json`]), so
//! no text can end the data's `<script>` element; the page's script shows
//! text with `textContent` only; and the page's Content-Security-Policy
//! lets only its own scripts run (by hash) and loads nothing from
//! anywhere.

use std::fmt::Write;
use std::sync::LazyLock;

use sha2::{Digest, Sha256};
use stratbox_backtest::report::{BacktestReport, TickError, format_amount, format_signed_amount};

use crate::ReportError;
use crate::chart_data::{OVERLAY_PREFIX, chart_data, duration, embed_json};
use crate::charts::{drawdown_svg, equity_svg};
use crate::terminal::{escape_terminal, metric_rows, utc};

/// The standalone production bundle of TradingView Lightweight Charts,
/// from npm (`package-lock.json`), embedded at build time.
pub const LIBRARY: &str = include_str!(concat!(env!("OUT_DIR"), "/lightweight-charts.js"));

/// Its version.
pub const LIBRARY_VERSION: &str = env!("LIGHTWEIGHT_CHARTS_VERSION");

/// Its licence (Apache License 2.0), reproduced in every report.
const LIBRARY_LICENSE: &str =
    include_str!(concat!(env!("OUT_DIR"), "/lightweight-charts-LICENSE.txt"));

/// Its copyright line, from the bundle's header.
const LIBRARY_COPYRIGHT: &str = env!("LIGHTWEIGHT_CHARTS_COPYRIGHT");

/// The licences of what the bundle incorporates.
const THIRD_PARTY_NOTICES: &str = include_str!("third-party-notices.txt");

/// Draws the chart (see `report.js`).
const APP: &str = include_str!("report.js");

/// Runs first: records every JavaScript error, unhandled rejection,
/// `console.error` and Content-Security-Policy violation into the root
/// element's `data-errors` (a JSON list), where the browser test (or
/// anyone's devtools) finds them.
const ERROR_HOOK: &str = "(function () {
  'use strict';
  var root = document.documentElement;
  var errors = [];
  function record(message) {
    errors.push(String(message));
    root.setAttribute('data-errors', JSON.stringify(errors));
  }
  root.setAttribute('data-errors', '[]');
  window.addEventListener('error', function (event) {
    record(event.message || ('failed to load ' + (event.target && event.target.tagName)));
  }, true);
  window.addEventListener('unhandledrejection', function (event) {
    record('unhandled rejection: ' + event.reason);
  });
  document.addEventListener('securitypolicyviolation', function (event) {
    record('blocked by the content security policy: ' + event.violatedDirective + ' ' + event.blockedURI);
  });
  var original = console.error;
  console.error = function () {
    record(Array.prototype.join.call(arguments, ' '));
    return original.apply(console, arguments);
  };
})();";

/// The Content-Security-Policy source that lets the inline `<script>`
/// whose text is `script` run (`'sha256-…'`): what an embedder adding a
/// script of its own to a report page adds to the page's `script-src`.
pub fn script_hash(script: &str) -> String {
    format!("'sha256-{}'", base64(&Sha256::digest(script.as_bytes())))
}

/// The page's Content-Security-Policy: its own three scripts, by hash,
/// and nothing from anywhere else.
static POLICY: LazyLock<String> = LazyLock::new(|| {
    let hashes: Vec<String> = [ERROR_HOOK, LIBRARY, APP]
        .iter()
        .map(|script| script_hash(script))
        .collect();
    format!(
        "default-src 'none'; script-src {}; style-src 'unsafe-inline'; img-src data:; \
         base-uri 'none'; form-action 'none'",
        hashes.join(" ")
    )
});

/// Standard base64 with padding (a CSP hash source's encoding).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let group = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for position in 0..4 {
            if position <= chunk.len() {
                out.push(char::from(
                    ALPHABET[(group >> (18 - 6 * position) & 63) as usize],
                ));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Escape text for HTML; control characters are shown escaped as in the
/// terminal ([`escape_terminal`]). For every page stratbox writes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in escape_terminal(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn time(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// Most rows shown per table (the JSON has every trade and the first
/// `MAX_DENIAL_RECORDS` denials).
const MAX_ROWS: usize = 500;

const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}\
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f3f3f3}\
td.n{text-align:right;font-variant-numeric:tabular-nums}\
.buy,.won{color:#1a7f37}.sell,.lost{color:#c62828}.failed{color:#c62828}code{background:#f6f6f6}\
#chart-wrap{position:relative;max-width:1400px}#chart{width:100%}\
#chart-legend{font:12px monospace;min-height:1.4em;margin:.3em 0;white-space:pre-wrap}\
#chart-tip{position:absolute;top:8px;left:8px;z-index:10;max-width:520px;background:rgba(255,255,255,.95);\
border:1px solid #999;border-radius:4px;padding:4px 8px;font:12px sans-serif;pointer-events:none;\
overflow-wrap:anywhere}#chart-tip div+div{border-top:1px dotted #ccc;margin-top:2px;padding-top:2px}\
#round-trips tr[data-from]{cursor:pointer}#round-trips tr[data-from]:hover{background:#f5f9ff}\
.note{color:#555;font-size:90%}footer{margin-top:3em;color:#777;font-size:85%}";

/// Render the report as one HTML document.
pub fn html(report: &BacktestReport) -> Result<String, ReportError> {
    let equity = equity_svg(report)?;
    let drawdown = drawdown_svg(report)?;
    let data = embed_json(&chart_data(report));
    let mut page = String::with_capacity(LIBRARY.len() + data.len() + equity.len() * 2 + 65_536);
    let title = format!("stratbox backtest: {}", report.strategy);
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title><link rel=\"icon\" href=\"data:,\">\n\
         <script>{ERROR_HOOK}</script>\n<style>{STYLE}</style></head><body>\n",
        POLICY.as_str(),
        escape(&title)
    );
    let _ = writeln!(page, "<h1>{}</h1>", escape(&title));
    let _ = writeln!(
        page,
        "<p>Component <code>{}</code> on <b>{}</b>, valued in {}. Config: <code>{}</code></p>",
        escape(&report.component_sha256),
        escape(&report.market),
        escape(&report.quote),
        escape(&report.config)
    );
    let _ = writeln!(
        page,
        "<p>Fill model: <b>{}</b> ({}).{}</p>",
        report.fill_model,
        escape(&report.fill_model.explain()),
        match &report.benchmark {
            Some(benchmark) => format!(
                " Benchmark: buy and hold, the starting equity converted into {} at the first \
                 close, no fees (the grey line of the equity pane).",
                escape(&benchmark.asset)
            ),
            None => String::new(),
        }
    );
    page.push_str("<h2>Summary</h2>\n<table>\n");
    for (name, value) in metric_rows(report) {
        let _ = writeln!(
            page,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(&name),
            escape(&value)
        );
    }
    for (rule, count) in &report.metrics.denials_by_rule {
        let _ = writeln!(
            page,
            "<tr><th>denied by</th><td><code>{}</code>: {count}</td></tr>",
            escape(rule)
        );
    }
    page.push_str("</table>\n");
    chart_section(&mut page, report, &equity, &drawdown);
    crate::risk::risk_html(&mut page, report);
    round_trips(&mut page, report);
    trades(&mut page, report);
    denials(&mut page, report);
    failures(&mut page, report);
    let _ = write!(
        page,
        "<footer>Charts drawn by <a href=\"https://www.tradingview.com/\">TradingView</a> \
         Lightweight Charts&trade; {LIBRARY_VERSION}, {}, under the Apache License 2.0, \
         embedded in this file (its licence and notices are in a comment below).</footer>\n\
         <!--\nThis report embeds TradingView Lightweight Charts(TM) {LIBRARY_VERSION} \
         (https://www.tradingview.com/lightweight-charts/).\n\
         NOTICE: TradingView Lightweight Charts(TM) {} https://www.tradingview.com/\n\n\
         Licensed under the Apache License, Version 2.0:\n\n{LIBRARY_LICENSE}\n\n{THIRD_PARTY_NOTICES}\n-->\n",
        escape(LIBRARY_COPYRIGHT),
        LIBRARY_COPYRIGHT,
    );
    let _ = write!(
        page,
        "<script type=\"application/json\" id=\"stratbox-chart-data\">{data}</script>\n\
         <script>{LIBRARY}</script>\n<script>{APP}</script>\n</body></html>\n"
    );
    Ok(page)
}

/// The interactive chart's place on the page, with what its panes show
/// and, for browsers without JavaScript, the SVG charts.
fn chart_section(page: &mut String, report: &BacktestReport, equity: &str, drawdown: &str) {
    let mut panes = vec![format!(
        "{} ({}){}, trades (&#9650; buy, &#9660; sell at the price they executed at, &#9679; \
         other actions; grey: not filled), &#9679; denials and &#9632; failed ticks",
        escape(&report.market),
        if report.candles.is_empty() {
            "closes".to_owned()
        } else if report.candles_per_bar > 1 {
            format!(
                "candles and volume, {} candles a bar",
                report.candles_per_bar
            )
        } else {
            "candles and volume".to_owned()
        },
        if report.series.keys().any(|n| n.starts_with(OVERLAY_PREFIX)) {
            " with the strategy's overlays"
        } else {
            ""
        }
    )];
    let mut groups: Vec<&str> = Vec::new();
    for name in report.series.keys() {
        if let Some(group) = crate::chart_data::pane_of(name)
            && !groups.contains(&group)
        {
            groups.push(group);
        }
    }
    panes.extend(groups.iter().map(|g| format!("<code>{}</code>", escape(g))));
    panes.push(format!(
        "equity ({}){}",
        escape(&report.quote),
        match &report.benchmark {
            Some(b) => format!(" against buy and hold {} (grey)", escape(&b.asset)),
            None => String::new(),
        }
    ));
    panes.push("drawdown (%)".to_owned());
    if !report.round_trips.is_empty() {
        panes.push("profit of each round trip when it closed".to_owned());
    }
    let _ = writeln!(
        page,
        "<h2>Chart</h2>\n<p class=\"note\">Panes, top to bottom: {}. Scroll or pinch to zoom, \
         drag to pan; hover a bar for its values and what happened there; click a round trip \
         below to zoom to it. <button id=\"chart-fit\" type=\"button\">Show the whole run</button></p>\n\
         <div id=\"chart-legend\">Hover the chart for a bar's values.</div>\n\
         <div id=\"chart-wrap\"><div id=\"chart\"></div><div id=\"chart-tip\" hidden></div></div>\n\
         <noscript><p>The interactive chart needs JavaScript. Equity and trades:</p>\n{equity}\n\
         <p>Drawdown:</p>\n{drawdown}\n</noscript>",
        panes.join("; ")
    );
}

/// The round trips: entry, exit, duration, amounts, profit.
fn round_trips(page: &mut String, report: &BacktestReport) {
    let trips = &report.round_trips;
    if trips.is_empty() {
        return;
    }
    let won = trips.iter().filter(|r| r.profit > 0.0).count();
    let total: f64 = trips.iter().map(|r| r.profit).sum();
    let quote = escape(&report.quote);
    let _ = writeln!(
        page,
        "<h2>Round trips ({})</h2>\n<p>{won} of {} profitable, realized {} {quote} in all; each \
         sale of an asset against its average cost, from the purchase that opened the position.</p>",
        trips.len(),
        trips.len(),
        escape(&format_signed_amount(total)),
    );
    let _ = writeln!(
        page,
        "<table id=\"round-trips\"><tr><th>#</th><th>asset</th><th>entry</th><th>exit</th>\
         <th>duration</th><th>units</th><th>entry price</th><th>exit price</th>\
         <th>profit ({quote})</th><th>return</th></tr>"
    );
    for (index, trip) in trips.iter().enumerate().take(MAX_ROWS) {
        let class = if trip.profit >= 0.0 { "won" } else { "lost" };
        let _ = writeln!(
            page,
            "<tr data-from=\"{}\" data-to=\"{}\"><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n {class}\">{}</td><td class=\"n {class}\">{:+.2}%</td></tr>",
            trip.entry_ms / 1000,
            trip.exit_ms / 1000,
            index + 1,
            escape(&trip.asset),
            time(trip.entry_ms),
            time(trip.exit_ms),
            duration(trip.duration_ms),
            escape(&format_amount(trip.units)),
            escape(&format_amount(trip.entry_price)),
            escape(&format_amount(trip.exit_price)),
            escape(&format_signed_amount(trip.profit)),
            trip.trade_return * 100.0,
        );
    }
    page.push_str("</table>\n");
}

/// `0.5 ETH + 0.0001 BTC`, escaped.
fn amounts(list: &[stratbox_backtest::report::AssetUnits]) -> String {
    list.iter()
        .map(|a| format!("{} {}", escape(&format_amount(a.units)), escape(&a.asset)))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// Every released action: when, what, how it filled.
fn trades(page: &mut String, report: &BacktestReport) {
    let _ = writeln!(page, "\n<h2>Trades ({})</h2>", report.trades.len());
    // When fills wait for a later candle, the time each one executed.
    let delayed = report.fill_model.is_delayed();
    let _ = writeln!(
        page,
        "<table><tr><th>tick</th><th>time</th><th>id</th><th>action</th><th>outcome</th>{}\
         <th>price</th><th>paid</th><th>got</th><th>fees</th></tr>",
        if delayed { "<th>executed</th>" } else { "" }
    );
    for trade in report.trades.iter().take(MAX_ROWS) {
        let class = match trade.side {
            stratbox_backtest::report::Side::Buy => "buy",
            stratbox_backtest::report::Side::Sell => "sell",
            stratbox_backtest::report::Side::Other => "",
        };
        let executed = if delayed {
            format!(
                "<td>{}</td>",
                trade.executed_ms.map(time).unwrap_or_default()
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            page,
            "<tr class=\"{class}\"><td>{}</td><td>{}</td><td>#{}</td><td>{}</td><td>{}</td>{executed}\
             <td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            trade.sequence,
            time(trade.timestamp_ms),
            trade.id,
            escape(&trade.summary),
            escape(&trade.outcome),
            trade
                .price
                .map(|p| escape(&format_amount(p)))
                .unwrap_or_default(),
            amounts(&trade.spent),
            amounts(&trade.received),
            amounts(&trade.fees),
        );
    }
    page.push_str("</table>\n");
}

/// The denials listed (the first `MAX_DENIAL_RECORDS`), counted from the
/// metrics.
fn denials(page: &mut String, report: &BacktestReport) {
    // Counted from the metrics: a long run's report lists only its first
    // denials (`MAX_DENIAL_RECORDS`).
    let denied = report
        .metrics
        .denials_by_rule
        .values()
        .sum::<usize>()
        .max(report.denials.len());
    let _ = writeln!(page, "<h2>Denials ({denied})</h2>");
    page.push_str("<table><tr><th>tick</th><th>time</th><th>rule</th><th>detail</th></tr>\n");
    for denial in report.denials.iter().take(MAX_ROWS) {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            denial.sequence,
            time(denial.timestamp_ms),
            escape(&denial.rule),
            escape(&denial.detail)
        );
    }
    page.push_str("</table>\n");
}

/// The failed ticks, every one (they are few, or one record covers a
/// paused run), with their causes and last log lines.
fn failures(page: &mut String, report: &BacktestReport) {
    let failed = report.metrics.failed_ticks;
    let _ = writeln!(page, "<h2 id=\"failures\">Failed ticks ({failed})</h2>");
    if report.stopped {
        page.push_str(
            "<p class=\"failed\">The backtest stopped at its last failed tick: \
             the candles after it did not run.</p>\n",
        );
    }
    if report.failures.is_empty() {
        return;
    }
    page.push_str(
        "<table><tr><th>tick</th><th>time</th><th>ticks</th><th>cause</th><th>last log lines</th></tr>\n",
    );
    for failure in &report.failures {
        let logs: Vec<String> = failure.logs.iter().map(|line| escape(line)).collect();
        let _ = writeln!(
            page,
            "<tr class=\"failed\"><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td><td><code>{}</code></td></tr>",
            failure.sequence,
            escape(&utc(failure.timestamp_ms)),
            failure.count,
            escape(&failure.message),
            if failure.paused && !matches!(failure.cause, TickError::Paused { .. }) {
                " (paused the deployment)"
            } else {
                ""
            },
            logs.join("<br>")
        );
    }
    page.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape("<script>\"x\" & 'y'</script>"),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn base64_pads_as_csp_hashes_need() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn the_embedded_scripts_and_notices_cannot_end_their_elements() {
        for (name, script) in [("hook", ERROR_HOOK), ("app", APP), ("library", LIBRARY)] {
            let lower = script.to_ascii_lowercase();
            for forbidden in ["</script", "<!--", "<script"] {
                assert!(!lower.contains(forbidden), "{name} contains {forbidden}");
            }
        }
        for text in [LIBRARY_LICENSE, THIRD_PARTY_NOTICES, LIBRARY_COPYRIGHT] {
            assert!(!text.contains("--"), "a notice would end its HTML comment");
        }
        assert!(LIBRARY.contains(LIBRARY_VERSION));
        assert!(LIBRARY_COPYRIGHT.contains("TradingView"));
    }
}
