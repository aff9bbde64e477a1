//! Performance metrics of a run, from its equity curve, trades, costs and
//! sandbox accounting.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

const YEAR_MS: f64 = 365.0 * 24.0 * 3_600_000.0;

/// A closed round trip of a position: what it realized.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClosedTrade {
    /// When it closed, ms.
    pub closed_at_ms: u64,
    /// Realized profit or loss, quote units (fees included).
    pub pnl: f64,
}

/// Everything a report shows about a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Equity at the start, quote units.
    pub initial_equity: f64,
    /// Equity at the end, quote units.
    pub final_equity: f64,
    /// `final - initial`.
    pub pnl: f64,
    /// `final / initial - 1`.
    pub total_return: f64,
    /// Standard deviation of per-candle returns, annualized.
    pub annualized_volatility: f64,
    /// Mean over standard deviation of per-candle returns, annualized
    /// (risk-free rate 0).
    pub sharpe: f64,
    /// Mean over downside deviation, annualized.
    pub sortino: f64,
    /// Largest peak-to-trough fall of equity, as a fraction of the peak.
    pub max_drawdown: f64,
    /// Winning closed trades over closed trades (0 without trades).
    pub win_rate: f64,
    /// Closed trades.
    pub closed_trades: usize,
    /// Venue fees paid, quote units.
    pub fees_paid: f64,
    /// Gas paid, quote units.
    pub gas_paid: f64,
    /// Actions released to the venue.
    pub actions: usize,
    /// Denials, by the rule that produced them.
    pub denials_by_rule: BTreeMap<String, usize>,
    /// Ticks run, and how many failed.
    pub ticks: usize,
    /// Failed ticks.
    pub failed_ticks: usize,
    /// Median fuel per successful tick.
    pub fuel_p50: u64,
    /// 99th percentile of fuel per successful tick.
    pub fuel_p99: u64,
    /// Ticks per second of wall-clock time (not deterministic).
    pub ticks_per_second: f64,
}

/// Inputs of [`Metrics::compute`].
#[derive(Debug, Clone, Default)]
pub struct MetricsInput<'a> {
    /// `(time ms, equity)` per candle.
    pub equity: &'a [(u64, f64)],
    /// Closed trades.
    pub trades: &'a [ClosedTrade],
    /// Venue fees paid, quote units.
    pub fees_paid: f64,
    /// Gas paid, quote units.
    pub gas_paid: f64,
    /// Actions released.
    pub actions: usize,
    /// Rule path of every denial.
    pub denials: &'a [String],
    /// Fuel of every successful tick.
    pub fuel: &'a [u64],
    /// Ticks that failed.
    pub failed_ticks: usize,
    /// Wall-clock seconds the run took.
    pub seconds: f64,
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.iter().sum::<f64>() / values.len() as f64
}

/// Sample standard deviation (n - 1).
fn stdev(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let m = mean(values);
    let var = values.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (values.len() - 1) as f64;
    var.sqrt()
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], p: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len()).div_ceil(100).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn max_drawdown(equity: &[(u64, f64)]) -> f64 {
    let mut peak = f64::MIN;
    let mut worst = 0.0f64;
    for &(_, value) in equity {
        peak = peak.max(value);
        if peak > 0.0 {
            worst = worst.max((peak - value) / peak);
        }
    }
    worst
}

fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator > 0.0 {
        numerator / denominator
    } else {
        0.0
    }
}

impl Metrics {
    /// Compute every metric. Returns are per equity point; annualization
    /// uses the median spacing of the equity timestamps.
    pub fn compute(input: &MetricsInput<'_>) -> Metrics {
        let initial = input.equity.first().map_or(0.0, |e| e.1);
        let last = input.equity.last().map_or(0.0, |e| e.1);
        let returns: Vec<f64> = input
            .equity
            .windows(2)
            .filter(|w| w[0].1 > 0.0)
            .map(|w| w[1].1 / w[0].1 - 1.0)
            .collect();
        let mut gaps: Vec<u64> = input
            .equity
            .windows(2)
            .map(|w| w[1].0.saturating_sub(w[0].0))
            .collect();
        gaps.sort_unstable();
        let interval = percentile(&gaps, 50).max(1) as f64;
        let per_year = YEAR_MS / interval;
        let (m, sd) = (mean(&returns), stdev(&returns));
        let downside = {
            let squares: Vec<f64> = returns.iter().map(|r| r.min(0.0).powi(2)).collect();
            mean(&squares).sqrt()
        };
        let mut fuel = input.fuel.to_vec();
        fuel.sort_unstable();
        let mut denials_by_rule = BTreeMap::new();
        for rule in input.denials {
            *denials_by_rule.entry(rule.clone()).or_insert(0) += 1;
        }
        let wins = input.trades.iter().filter(|t| t.pnl > 0.0).count();
        let ticks = input.fuel.len() + input.failed_ticks;
        Metrics {
            initial_equity: initial,
            final_equity: last,
            pnl: last - initial,
            total_return: ratio(last, initial) - f64::from(u8::from(initial > 0.0)),
            annualized_volatility: sd * per_year.sqrt(),
            sharpe: ratio(m, sd) * per_year.sqrt(),
            sortino: ratio(m, downside) * per_year.sqrt(),
            max_drawdown: max_drawdown(input.equity),
            win_rate: ratio(wins as f64, input.trades.len() as f64),
            closed_trades: input.trades.len(),
            fees_paid: input.fees_paid,
            gas_paid: input.gas_paid,
            actions: input.actions,
            denials_by_rule,
            ticks,
            failed_ticks: input.failed_ticks,
            fuel_p50: percentile(&fuel, 50),
            fuel_p99: percentile(&fuel, 99),
            ticks_per_second: ratio(ticks as f64, input.seconds),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400_000;

    fn curve(values: &[f64]) -> Vec<(u64, f64)> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (i as u64 * DAY, *v))
            .collect()
    }

    #[test]
    fn hand_computed_daily_series() {
        // Returns: +10%, -10%, +10%. Mean 1/30, sample sd:
        // deviations 1/15, -2/15, 1/15 -> var = (1+4+1)/225/2 = 1/75.
        let equity = curve(&[100.0, 110.0, 99.0, 108.9]);
        let trades = [
            ClosedTrade {
                closed_at_ms: DAY,
                pnl: 10.0,
            },
            ClosedTrade {
                closed_at_ms: 2 * DAY,
                pnl: -11.0,
            },
        ];
        let m = Metrics::compute(&MetricsInput {
            equity: &equity,
            trades: &trades,
            fuel: &[10, 20, 30, 40],
            seconds: 2.0,
            ..MetricsInput::default()
        });
        let sd = (1.0f64 / 75.0).sqrt();
        assert!((m.pnl - 8.9).abs() < 1e-9);
        assert!((m.total_return - 0.089).abs() < 1e-12);
        assert!((m.annualized_volatility - sd * 365f64.sqrt()).abs() < 1e-9);
        assert!((m.sharpe - (1.0 / 30.0) / sd * 365f64.sqrt()).abs() < 1e-9);
        // Downside deviation: sqrt((0 + 0.01 + 0) / 3).
        assert!((m.sortino - (1.0 / 30.0) / (0.01f64 / 3.0).sqrt() * 365f64.sqrt()).abs() < 1e-9);
        // Peak 110, trough 99: 10%.
        assert!((m.max_drawdown - 0.1).abs() < 1e-12);
        assert_eq!((m.win_rate, m.closed_trades), (0.5, 2));
        assert_eq!((m.fuel_p50, m.fuel_p99), (20, 40));
        assert_eq!(m.ticks, 4);
        assert!((m.ticks_per_second - 2.0).abs() < 1e-12);
    }

    #[test]
    fn denials_are_counted_by_rule_and_empty_runs_are_zero() {
        let denials = [
            "swap.max_amount.USDC".to_owned(),
            "swap.max_amount.USDC".to_owned(),
            "cooldown.swap".to_owned(),
        ];
        let m = Metrics::compute(&MetricsInput {
            denials: &denials,
            ..MetricsInput::default()
        });
        assert_eq!(m.denials_by_rule["swap.max_amount.USDC"], 2);
        assert_eq!(m.denials_by_rule["cooldown.swap"], 1);
        assert_eq!(
            (m.sharpe, m.max_drawdown, m.win_rate, m.total_return),
            (0.0, 0.0, 0.0, 0.0)
        );
    }
}
