//! A self-contained HTML report: no scripts, no external assets.

use std::fmt::Write;

use stratbox_backtest::report::BacktestReport;

use crate::ReportError;
use crate::charts::{drawdown_svg, equity_svg};

/// Escape text for HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
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

/// Most rows shown per table (the JSON has them all).
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
         .buy{{color:#1a7f37}}.sell{{color:#c62828}}code{{background:#f6f6f6}}</style></head><body>\n",
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
    page.push_str("<h2>Summary</h2>\n<table>\n");
    for line in crate::terminal::summary(report).lines() {
        let (name, value) = line.split_at(line.len().min(14));
        let _ = writeln!(
            page,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(name.trim()),
            escape(value.trim())
        );
    }
    page.push_str("</table>\n<h2>Equity and trades</h2>\n");
    page.push_str(&equity);
    page.push_str("\n<h2>Drawdown</h2>\n");
    page.push_str(&drawdown);
    let _ = writeln!(page, "\n<h2>Trades ({})</h2>", report.trades.len());
    page.push_str(
        "<table><tr><th>tick</th><th>time</th><th>id</th><th>action</th><th>outcome</th></tr>\n",
    );
    for trade in report.trades.iter().take(MAX_ROWS) {
        let class = match trade.side {
            stratbox_backtest::report::Side::Buy => "buy",
            stratbox_backtest::report::Side::Sell => "sell",
            stratbox_backtest::report::Side::Other => "",
        };
        let _ = writeln!(
            page,
            "<tr class=\"{class}\"><td>{}</td><td>{}</td><td>#{}</td><td>{}</td><td>{}</td></tr>",
            trade.sequence,
            time(trade.timestamp_ms),
            trade.id,
            escape(&trade.summary),
            escape(&trade.outcome)
        );
    }
    page.push_str("</table>\n");
    let _ = writeln!(page, "<h2>Denials ({})</h2>", report.denials.len());
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
    page.push_str("</table>\n</body></html>\n");
    Ok(page)
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
