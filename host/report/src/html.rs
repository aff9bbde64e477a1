//! A self-contained HTML report: no scripts, no external assets.

use std::fmt::Write;

use stratbox_backtest::report::{BacktestReport, TickError};

use crate::ReportError;
use crate::charts::{drawdown_svg, equity_svg};
use crate::terminal::{escape_terminal, metric_rows, utc};

/// Escape text for HTML; control characters are shown escaped as in the
/// terminal ([`escape_terminal`]).
pub(crate) fn escape(text: &str) -> String {
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

/// Render the report as one HTML document.
pub fn html(report: &BacktestReport) -> Result<String, ReportError> {
    let equity = equity_svg(report)?;
    let drawdown = drawdown_svg(report)?;
    let mut page = String::new();
    let title = format!("stratbox backtest: {}", report.strategy);
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{font-family:sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse;margin:1em 0}}\
         td,th{{border:1px solid #ccc;padding:3px 8px;text-align:left}}th{{background:#f3f3f3}}\
         .buy{{color:#1a7f37}}.sell{{color:#c62828}}.failed{{color:#c62828}}code{{background:#f6f6f6}}</style></head><body>\n",
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
                 close, no fees (the grey line of the equity chart).",
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
    page.push_str("</table>\n<h2>Equity and trades</h2>\n");
    page.push_str(&equity);
    page.push_str("\n<h2>Drawdown</h2>\n");
    page.push_str(&drawdown);
    crate::risk::risk_html(&mut page, report);
    let _ = writeln!(page, "\n<h2>Trades ({})</h2>", report.trades.len());
    // When fills wait for a later candle, the time each one executed.
    let delayed = report.fill_model.is_delayed();
    let _ = writeln!(
        page,
        "<table><tr><th>tick</th><th>time</th><th>id</th><th>action</th><th>outcome</th>{}</tr>",
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
            "<tr class=\"{class}\"><td>{}</td><td>{}</td><td>#{}</td><td>{}</td><td>{}</td>{executed}</tr>",
            trade.sequence,
            time(trade.timestamp_ms),
            trade.id,
            escape(&trade.summary),
            escape(&trade.outcome)
        );
    }
    page.push_str("</table>\n");
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
    failures(&mut page, report);
    page.push_str("</body></html>\n");
    Ok(page)
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
    use super::escape;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape("<script>\"x\" & 'y'</script>"),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }
}
