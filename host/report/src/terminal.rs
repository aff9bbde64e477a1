//! The summary table printed at the end of a backtest, and the escaping of
//! every piece of text it takes from the report.

use std::borrow::Cow;
use std::fmt::Write;

use stratbox_backtest::report::{
    BacktestReport, FailureRecord, format_amount, format_signed_amount,
};

/// Text made safe to print to a terminal. A report carries text a strategy
/// controls (its log lines, error messages, names; a saved report may have
/// been edited by anyone), and a terminal obeys control characters in it:
/// an ANSI escape sequence can recolor, move the cursor, rewrite earlier
/// lines or set the window title, a carriage return can overwrite what a
/// line said. Every control character (C0, DEL, C1) and every invisible
/// bidirectional or line-separating formatting character is shown escaped
/// instead, as Rust writes it: `\u{1b}`, `\r`, `\n`, `\t`, `\u{202e}`.
/// Other text, backslashes included, is left as is.
pub fn escape_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// The metric rows of the summary, name and value, values unescaped.
pub(crate) fn metric_rows(report: &BacktestReport) -> Vec<(String, String)> {
    let m = &report.metrics;
    let q = &report.quote;
    let percent = |v: f64| format!("{:+.2}%", v * 100.0);
    let ticks = if report.stopped {
        format!(
            "{} ({} failed; stopped at the failure, later candles not run)",
            m.ticks, m.failed_ticks
        )
    } else {
        format!("{} ({} failed)", m.ticks, m.failed_ticks)
    };
    let rows: Vec<(&str, String)> = vec![
        (
            "strategy",
            format!("{} ({})", report.strategy, short(&report.component_sha256)),
        ),
        ("market", report.market.clone()),
        (
            "fill model",
            format!("{} ({})", report.fill_model, report.fill_model.explain()),
        ),
        ("ticks", ticks),
        (
            "equity",
            format!(
                "{} -> {} {q}",
                format_amount(m.initial_equity),
                format_amount(m.final_equity)
            ),
        ),
        (
            "pnl",
            format!(
                "{} {q} ({})",
                format_signed_amount(m.pnl),
                percent(m.total_return)
            ),
        ),
        ("buy and hold", buy_and_hold(report)),
        (
            "volatility",
            format!("{:.2}% annualized", m.annualized_volatility * 100.0),
        ),
        ("sharpe", format!("{:.3}", m.sharpe)),
        ("sortino", format!("{:.3}", m.sortino)),
        ("max drawdown", format!("{:.2}%", m.max_drawdown * 100.0)),
        (
            "win rate",
            format!(
                "{:.1}% of {} closed trades",
                m.win_rate * 100.0,
                m.closed_trades
            ),
        ),
        ("round trips", round_trips(report)),
        ("fees paid", format!("{} {q}", format_amount(m.fees_paid))),
        ("gas paid", format!("{} {q}", format_amount(m.gas_paid))),
        ("actions", m.actions.to_string()),
        (
            "denials",
            m.denials_by_rule.values().sum::<usize>().to_string(),
        ),
        ("liquidations", report.liquidations.to_string()),
        (
            "fuel/tick",
            format!("p50 {} / p99 {}", m.fuel_p50, m.fuel_p99),
        ),
        ("speed", format!("{:.0} ticks/s", m.ticks_per_second)),
    ];
    rows.into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .chain(crate::risk::risk_rows(report))
        .collect()
}

/// The benchmark's return and drawdown, and what it holds; `n/a` without
/// one.
fn buy_and_hold(report: &BacktestReport) -> String {
    let m = &report.metrics;
    match (&report.benchmark, m.benchmark_return) {
        (Some(benchmark), Some(total_return)) => format!(
            "{:+.2}% (max drawdown {:.2}%; {} {} bought with the starting equity at the first close, no fees)",
            total_return * 100.0,
            m.benchmark_max_drawdown.unwrap_or(0.0) * 100.0,
            format_amount(benchmark.units),
            benchmark.asset
        ),
        _ => "n/a".to_owned(),
    }
}

/// How many round trips, how many won, what they realized and how long
/// they lasted on average.
fn round_trips(report: &BacktestReport) -> String {
    let trips = &report.round_trips;
    if trips.is_empty() {
        return "none".to_owned();
    }
    let won = trips.iter().filter(|r| r.profit > 0.0).count();
    let realized: f64 = trips.iter().map(|r| r.profit).sum();
    let held = trips.iter().map(|r| r.duration_ms).sum::<u64>() / trips.len() as u64;
    format!(
        "{} ({won} profitable), realized {} {}, held {} on average",
        trips.len(),
        format_signed_amount(realized),
        report.quote,
        crate::chart_data::duration(held)
    )
}

/// Where and why a tick failed, one line for a terminal: `tick 5 at
/// 2018-01-10 05:25 UTC: memory limit exceeded: ...`, with the number of
/// ticks a paused run covers; escaped ([`escape_terminal`]).
pub fn failure_line(failure: &FailureRecord) -> String {
    escape_terminal(&describe_failure(failure)).into_owned()
}

/// [`failure_line`], unescaped.
fn describe_failure(failure: &FailureRecord) -> String {
    let repeated = if failure.count > 1 {
        format!(" and the {} ticks after it", failure.count - 1)
    } else {
        String::new()
    };
    format!(
        "tick {} at {}{repeated}: {}",
        failure.sequence,
        utc(failure.timestamp_ms),
        failure.message
    )
}

/// `ms` as `YYYY-MM-DD HH:MM UTC`.
pub(crate) fn utc(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| format!("{ms} ms"))
}

/// A fixed-width summary of the metrics, one per line, then every failed
/// tick with its cause and last log lines. Every piece of text from the
/// report is escaped ([`escape_terminal`]).
pub fn summary(report: &BacktestReport) -> String {
    let mut out = String::new();
    for (name, value) in metric_rows(report) {
        let _ = writeln!(out, "{name:<14}{}", escape_terminal(&value));
    }
    for (rule, count) in &report.metrics.denials_by_rule {
        let _ = writeln!(out, "  denied by   {}: {count}", escape_terminal(rule));
    }
    for failure in &report.failures {
        let _ = writeln!(out, "{:<14}{}", "failed", failure_line(failure));
        for line in &failure.logs {
            let _ = writeln!(out, "  log         {}", escape_terminal(line));
        }
    }
    out
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_other_text_is_kept() {
        assert!(matches!(
            escape_terminal("plain text, é, \\u{1b}"),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            escape_terminal("\u{1b}[31mred\u{1b}[0m\rgone\u{7}\u{8}\u{9b}"),
            "\\u{1b}[31mred\\u{1b}[0m\\rgone\\u{7}\\u{8}\\u{9b}"
        );
        assert_eq!(
            escape_terminal("a\nb\tc\u{202e}d\u{7f}"),
            "a\\nb\\tc\\u{202e}d\\u{7f}"
        );
    }
}
