//! The summary table printed at the end of a backtest.

use std::fmt::Write;

use stratbox_backtest::report::BacktestReport;

/// A fixed-width summary of the metrics, one per line.
pub fn summary(report: &BacktestReport) -> String {
    let m = &report.metrics;
    let q = &report.quote;
    let percent = |v: f64| format!("{:+.2}%", v * 100.0);
    let rows: Vec<(&str, String)> = vec![
        (
            "strategy",
            format!("{} ({})", report.strategy, short(&report.component_sha256)),
        ),
        ("market", report.market.clone()),
        ("ticks", format!("{} ({} failed)", m.ticks, m.failed_ticks)),
        (
            "equity",
            format!("{:.6} -> {:.6} {q}", m.initial_equity, m.final_equity),
        ),
        (
            "pnl",
            format!("{:+.6} {q} ({})", m.pnl, percent(m.total_return)),
        ),
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
        ("fees paid", format!("{:.6} {q}", m.fees_paid)),
        ("gas paid", format!("{:.6} {q}", m.gas_paid)),
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
    let mut out = String::new();
    for (name, value) in rows {
        let _ = writeln!(out, "{name:<14}{value}");
    }
    for (rule, count) in &m.denials_by_rule {
        let _ = writeln!(out, "  denied by   {rule}: {count}");
    }
    out
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}
