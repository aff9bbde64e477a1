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
    /// Total return of the buy-and-hold benchmark
    /// ([`Benchmark`](crate::report::Benchmark)): the last close over the
    /// first, less 1. `None` without a benchmark (and in reports written
    /// before benchmarks).
    #[serde(default)]
    pub benchmark_return: Option<f64>,
    /// Largest peak-to-trough fall of the benchmark, as a fraction of the
    /// peak.
    #[serde(default)]
    pub benchmark_max_drawdown: Option<f64>,
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

fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator > 0.0 {
        numerator / denominator
    } else {
        0.0
    }
}

/// Most distinct values a [`Histogram`] counts exactly.
const HISTOGRAM_BUCKETS: usize = 4_096;

/// Counts of `u64` values for percentiles, in bounded memory: exact while
/// the values take at most [`HISTOGRAM_BUCKETS`] distinct values (fuel per
/// tick and candle spacing usually take a few dozen); past that, values
/// are kept to fewer significant bits (rounded down), one bit less each
/// time the buckets would exceed the bound, so a percentile is then at most
/// a small fraction (2^-bits) below the exact one.
#[derive(Debug, Clone)]
struct Histogram {
    counts: BTreeMap<u64, u64>,
    /// Significant bits kept; 64 = exact.
    bits: u32,
    total: u64,
    /// The last value and how many times it came in a row, not yet in
    /// `counts` (candle spacing is the same almost every tick).
    run: Option<(u64, u64)>,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: BTreeMap::new(),
            bits: 64,
            total: 0,
            run: None,
        }
    }
}

impl Histogram {
    fn add(&mut self, value: u64) {
        self.total += 1;
        match &mut self.run {
            Some((last, count)) if *last == value => *count += 1,
            run => {
                if let Some((last, count)) = run.replace((value, 1)) {
                    self.count(last, count);
                }
            }
        }
    }

    fn count(&mut self, value: u64, count: u64) {
        *self.counts.entry(round(value, self.bits)).or_insert(0) += count;
        while self.counts.len() > HISTOGRAM_BUCKETS {
            self.bits = if self.bits >= 64 { 16 } else { self.bits - 1 };
            let bits = self.bits;
            let mut coarser = BTreeMap::new();
            for (value, count) in std::mem::take(&mut self.counts) {
                *coarser.entry(round(value, bits)).or_insert(0) += count;
            }
            self.counts = coarser;
        }
    }

    /// Nearest-rank percentile (`p` in 0..=100); 0 when empty.
    fn percentile(&self, p: u64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let mut counts = self.counts.clone();
        if let Some((value, count)) = self.run {
            *counts.entry(round(value, self.bits)).or_insert(0) += count;
        }
        let rank = (p * self.total).div_ceil(100).clamp(1, self.total);
        let mut seen = 0;
        for (value, count) in counts {
            seen += count;
            if seen >= rank {
                return value;
            }
        }
        0
    }
}

/// `value` with only its `bits` most significant bits (64: unchanged).
fn round(value: u64, bits: u32) -> u64 {
    let significant = 64 - value.leading_zeros();
    if significant <= bits {
        return value;
    }
    let dropped = significant - bits;
    value >> dropped << dropped
}

/// Per-candle returns folded one at a time: the mean and the downside
/// deviation as sums in candle order (as a second pass over the returns
/// would compute them), the standard deviation by Welford's update.
#[derive(Debug, Clone, Copy, Default)]
struct Returns {
    count: usize,
    sum: f64,
    downside_squares: f64,
    /// Welford's running mean and sum of squared deviations.
    mean: f64,
    m2: f64,
}

impl Returns {
    fn add(&mut self, r: f64) {
        self.count += 1;
        self.sum += r;
        self.downside_squares += r.min(0.0).powi(2);
        let delta = r - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (r - self.mean);
    }

    fn mean(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        self.sum / self.count as f64
    }

    /// Sample standard deviation (n - 1).
    fn stdev(&self) -> f64 {
        if self.count < 2 {
            return 0.0;
        }
        (self.m2 / (self.count - 1) as f64).max(0.0).sqrt()
    }

    fn downside(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        (self.downside_squares / self.count as f64).sqrt()
    }
}

/// The metrics of a run folded tick by tick, in memory that does not grow
/// with the number of ticks: what a backtest keeps instead of its ticks
/// ([`Metrics::compute`] folds a whole curve the same way). Every metric
/// comes from every tick, never from a downsampled curve. Return, drawdown,
/// Sortino and win rate are what a second pass over the whole curve gives,
/// to the bit (its sums in candle order); volatility and Sharpe differ from
/// the two-pass standard deviation by rounding only (Welford's update,
/// ~1e-14 relative); fuel percentiles and the candle spacing are exact
/// unless they take more than 4,096 distinct values (see `Histogram`).
#[derive(Debug, Clone)]
pub struct MetricsStream {
    first: Option<f64>,
    last: Option<(u64, f64)>,
    returns: Returns,
    gaps: Histogram,
    peak: f64,
    max_drawdown: f64,
    fuel: Histogram,
    successful_ticks: usize,
    failed_ticks: usize,
    denials_by_rule: BTreeMap<String, usize>,
}

impl Default for MetricsStream {
    fn default() -> Self {
        MetricsStream {
            first: None,
            last: None,
            returns: Returns::default(),
            gaps: Histogram::default(),
            peak: f64::MIN,
            max_drawdown: 0.0,
            fuel: Histogram::default(),
            successful_ticks: 0,
            failed_ticks: 0,
            denials_by_rule: BTreeMap::new(),
        }
    }
}

impl MetricsStream {
    /// Nothing folded yet.
    pub fn new() -> Self {
        MetricsStream::default()
    }

    /// The next point of the equity curve (one per candle, in time order).
    pub fn equity(&mut self, timestamp_ms: u64, equity: f64) {
        if let Some((time, previous)) = self.last {
            if previous > 0.0 {
                self.returns.add(equity / previous - 1.0);
            }
            self.gaps.add(timestamp_ms.saturating_sub(time));
        } else {
            self.first = Some(equity);
        }
        self.last = Some((timestamp_ms, equity));
        self.peak = self.peak.max(equity);
        if self.peak > 0.0 {
            self.max_drawdown = self.max_drawdown.max((self.peak - equity) / self.peak);
        }
    }

    /// A successful tick and the fuel it used.
    pub fn tick(&mut self, fuel: u64) {
        self.successful_ticks += 1;
        self.fuel.add(fuel);
    }

    /// A failed tick.
    pub fn failed_tick(&mut self) {
        self.failed_ticks += 1;
    }

    /// A denial (or an invalid action) by `rule`.
    pub fn denial(&mut self, rule: &str) {
        match self.denials_by_rule.get_mut(rule) {
            Some(count) => *count += 1,
            None => {
                self.denials_by_rule.insert(rule.to_owned(), 1);
            }
        }
    }

    /// Ticks folded so far, failed ones included.
    pub fn ticks(&self) -> usize {
        self.successful_ticks + self.failed_ticks
    }

    /// The metrics, with what the venue knows at the end ([`MetricsInput`]'s
    /// other fields; its `equity`, `denials`, `fuel` and `failed_ticks`
    /// are ignored: they are what was folded).
    pub fn finish(&self, rest: &MetricsInput<'_>) -> Metrics {
        let initial = self.first.unwrap_or(0.0);
        let last = self.last.map_or(0.0, |(_, equity)| equity);
        let interval = self.gaps.percentile(50).max(1) as f64;
        let per_year = YEAR_MS / interval;
        let (m, sd) = (self.returns.mean(), self.returns.stdev());
        let downside = self.returns.downside();
        let wins = rest.trades.iter().filter(|t| t.pnl > 0.0).count();
        let ticks = self.ticks();
        Metrics {
            initial_equity: initial,
            final_equity: last,
            pnl: last - initial,
            total_return: ratio(last, initial) - f64::from(u8::from(initial > 0.0)),
            annualized_volatility: sd * per_year.sqrt(),
            sharpe: ratio(m, sd) * per_year.sqrt(),
            sortino: ratio(m, downside) * per_year.sqrt(),
            max_drawdown: self.max_drawdown,
            benchmark_return: None,
            benchmark_max_drawdown: None,
            win_rate: ratio(wins as f64, rest.trades.len() as f64),
            closed_trades: rest.trades.len(),
            fees_paid: rest.fees_paid,
            gas_paid: rest.gas_paid,
            actions: rest.actions,
            denials_by_rule: self.denials_by_rule.clone(),
            ticks,
            failed_ticks: self.failed_ticks,
            fuel_p50: self.fuel.percentile(50),
            fuel_p99: self.fuel.percentile(99),
            ticks_per_second: ratio(ticks as f64, rest.seconds),
        }
    }
}

impl Metrics {
    /// Compute every metric from a whole run. Returns are per equity
    /// point; annualization uses the median spacing of the equity
    /// timestamps. The same computation as folding the run into a
    /// [`MetricsStream`], which is what it does.
    pub fn compute(input: &MetricsInput<'_>) -> Metrics {
        let mut stream = MetricsStream::new();
        for &(timestamp_ms, equity) in input.equity {
            stream.equity(timestamp_ms, equity);
        }
        for &fuel in input.fuel {
            stream.tick(fuel);
        }
        for _ in 0..input.failed_ticks {
            stream.failed_tick();
        }
        for rule in input.denials {
            stream.denial(rule);
        }
        stream.finish(input)
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

    /// The two-pass definitions the streaming fold replaces.
    fn reference(equity: &[(u64, f64)], fuel: &[u64]) -> (f64, f64, f64, f64, u64, u64) {
        let returns: Vec<f64> = equity
            .windows(2)
            .filter(|w| w[0].1 > 0.0)
            .map(|w| w[1].1 / w[0].1 - 1.0)
            .collect();
        let n = returns.len() as f64;
        let mean = returns.iter().sum::<f64>() / n;
        let sd = (returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let downside = (returns.iter().map(|r| r.min(0.0).powi(2)).sum::<f64>() / n).sqrt();
        let (mut peak, mut worst) = (f64::MIN, 0.0f64);
        for &(_, value) in equity {
            peak = peak.max(value);
            worst = worst.max((peak - value) / peak);
        }
        let mut sorted = fuel.to_vec();
        sorted.sort_unstable();
        let rank = |p: usize| sorted[(p * sorted.len()).div_ceil(100).clamp(1, sorted.len()) - 1];
        (mean, sd, downside, worst, rank(50), rank(99))
    }

    #[test]
    fn folding_tick_by_tick_gives_the_metrics_of_the_whole_curve() {
        // A seeded random walk of 5-minute candles with a gap.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut equity = Vec::new();
        let mut value = 100.0;
        for i in 0..50_000u64 {
            value *= 1.0 + ((next() % 2001) as f64 - 1000.0) / 100_000.0;
            let gap = if i == 1_000 { 3_600_000 } else { 0 };
            equity.push((i * 300_000 + gap, value));
        }
        let fuel: Vec<u64> = (0..50_000).map(|_| 10_000 + next() % 300).collect();
        let m = Metrics::compute(&MetricsInput {
            equity: &equity,
            fuel: &fuel,
            ..MetricsInput::default()
        });
        let (mean, sd, downside, worst, p50, p99) = reference(&equity, &fuel);
        let per_year = (YEAR_MS / 300_000.0).sqrt();
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs();
        assert!(close(m.annualized_volatility, sd * per_year));
        assert!(close(m.sharpe, mean / sd * per_year));
        assert_eq!(m.sortino, mean / downside * per_year);
        assert_eq!(m.max_drawdown, worst);
        assert_eq!((m.fuel_p50, m.fuel_p99), (p50, p99));
        assert_eq!(m.ticks, 50_000);
    }

    #[test]
    fn percentiles_stay_within_a_fixed_number_of_buckets() {
        let mut exact = Histogram::default();
        for value in [5, 5, 5, 7, 1, 9] {
            exact.add(value);
        }
        assert_eq!((exact.percentile(50), exact.percentile(99)), (5, 9));

        // A million distinct values: coarsened, within a small fraction.
        let mut many = Histogram::default();
        for value in 0..1_000_000u64 {
            many.add(1_000_000 + value * 97);
            assert!(many.counts.len() <= HISTOGRAM_BUCKETS);
        }
        let p50 = many.percentile(50) as f64;
        let exact50 = (1_000_000 + 499_999 * 97) as f64;
        assert!(
            p50 <= exact50 && p50 > exact50 * (1.0 - 1.0 / 256.0),
            "{p50}"
        );
    }
}
