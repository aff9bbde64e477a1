//! Monte Carlo robustness of one backtest: how different its return and
//! drawdown could have been with its trades in another order, or with its
//! per-candle returns drawn again.
//!
//! Every run is seeded: runs are drawn in chunks of [`CHUNK`], chunk `c`
//! from ChaCha8 seeded with the seed on its own stream, so the result is
//! the same bit for bit on any number of threads.

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use stratbox_backtest::report::BacktestReport;

use crate::error::OptimizeError;
use crate::parallel::{default_jobs, parallel_map};

/// Runs drawn from one random stream.
pub const CHUNK: usize = 128;

/// Bins of a [`Distribution`]'s histogram.
pub const BINS: usize = 40;

/// How many paths to draw, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonteCarloConfig {
    /// Paths drawn per method. Default: 1,000.
    pub runs: usize,
    /// Seed: the same seed and report give the same result. Default: 1.
    pub seed: u64,
    /// Consecutive per-candle returns the bootstrap draws together (a
    /// circular block bootstrap; 1 draws each return on its own), to keep
    /// some of their autocorrelation. Default: 1.
    pub block: usize,
    /// Threads. Default: the number of cores.
    #[serde(skip)]
    pub jobs: usize,
}

impl Default for MonteCarloConfig {
    fn default() -> Self {
        MonteCarloConfig {
            runs: 1_000,
            seed: 1,
            block: 1,
            jobs: default_jobs(),
        }
    }
}

/// Nearest-rank percentiles: the `p`-th is the `ceil(p / 100 * n)`-th
/// smallest of the `n` values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// 5th percentile.
    pub p5: f64,
    /// 25th percentile.
    pub p25: f64,
    /// Median.
    pub p50: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 95th percentile.
    pub p95: f64,
}

/// Equal-width bins from `low` to `high`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Lower edge of the first bin.
    pub low: f64,
    /// Upper edge of the last bin.
    pub high: f64,
    /// Values per bin ([`BINS`] bins; the last one includes `high`).
    pub counts: Vec<usize>,
}

/// The distribution of one figure over the runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    /// Its percentiles.
    pub percentiles: Percentiles,
    /// Mean.
    pub mean: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Histogram, for charts.
    pub histogram: Histogram,
}

impl Distribution {
    /// The distribution of `values` (not empty).
    pub fn of(values: &[f64]) -> Distribution {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len().max(1);
        let at = |p: usize| {
            let rank = (p * n).div_ceil(100).clamp(1, n);
            sorted.get(rank - 1).copied().unwrap_or(0.0)
        };
        let min = sorted.first().copied().unwrap_or(0.0);
        let max = sorted.last().copied().unwrap_or(0.0);
        let width = (max - min) / BINS as f64;
        let mut counts = vec![0; BINS];
        for value in &sorted {
            let bin = if width > 0.0 {
                (((value - min) / width) as usize).min(BINS - 1)
            } else {
                0
            };
            counts[bin] += 1;
        }
        Distribution {
            percentiles: Percentiles {
                p5: at(5),
                p25: at(25),
                p50: at(50),
                p75: at(75),
                p95: at(95),
            },
            mean: sorted.iter().sum::<f64>() / n as f64,
            min,
            max,
            histogram: Histogram {
                low: min,
                high: max,
                counts,
            },
        }
    }
}

/// What one resampling method gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resampled {
    /// Returns each path is made of.
    pub samples: usize,
    /// Paths drawn.
    pub runs: usize,
    /// Total return of the paths (`prod(1 + r) - 1`).
    pub total_return: Distribution,
    /// Largest drawdown of the paths, from the running peak (the start
    /// included).
    pub max_drawdown: Distribution,
    /// Share of the paths that end below their start.
    pub probability_of_loss: f64,
}

/// The Monte Carlo robustness of one backtest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Robustness {
    /// The report's strategy.
    pub strategy: String,
    /// Its config, JSON text.
    pub config: String,
    /// Its driving market.
    pub market: String,
    /// How the paths were drawn.
    pub settings: MonteCarloConfig,
    /// The run's own total return.
    pub observed_return: f64,
    /// The run's own maximum drawdown.
    pub observed_max_drawdown: f64,
    /// The maximum drawdown of the trades' returns in their own order: what
    /// the permuted orders compare with (a drawdown within a trade does not
    /// show between trades). `None` without trades to permute.
    #[serde(default)]
    pub observed_trade_max_drawdown: Option<f64>,
    /// Its trades' returns ([`trade_returns`]) in random orders: the same
    /// total return every time (a product does not depend on the order),
    /// a different drawdown. `None` with fewer than two.
    pub trade_order: Option<Resampled>,
    /// Its per-candle returns ([`candle_returns`]) drawn with replacement
    /// (in blocks of `settings.block`), as many as the run had. `None` with
    /// fewer than two.
    pub bootstrap: Option<Resampled>,
    /// The report's equity curve had a point per candle, so the bootstrap
    /// drew per-candle returns (else returns between the curve's kept
    /// points, of runs over `MAX_EQUITY_POINTS` candles).
    pub per_candle: bool,
}

/// The returns of a run between its trades: its equity curve cut at every
/// candle where a released action executed (the first point of the curve
/// at or after the execution time, which includes the fill), each piece's
/// `end / start - 1`, the piece after the last trade included. Without
/// trades, the whole run is one piece.
pub fn trade_returns(report: &BacktestReport) -> Vec<f64> {
    let curve = &report.equity;
    let (Some(first), Some(last)) = (curve.first(), curve.last()) else {
        return Vec::new();
    };
    let mut cuts: Vec<usize> = report
        .trades
        .iter()
        .filter(|t| t.outcome == "filled")
        .map(|t| {
            let at = t.executed_ms.unwrap_or(t.timestamp_ms);
            curve
                .partition_point(|p| p.timestamp_ms < at)
                .min(curve.len() - 1)
        })
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut marks = vec![first.equity];
    marks.extend(cuts.iter().filter(|&&i| i > 0).map(|&i| curve[i].equity));
    if cuts.last() != Some(&(curve.len() - 1)) {
        marks.push(last.equity);
    }
    marks
        .windows(2)
        .filter(|w| w[0] > 0.0)
        .map(|w| w[1] / w[0] - 1.0)
        .collect()
}

/// The returns between consecutive points of the report's equity curve:
/// per candle for runs of up to `MAX_EQUITY_POINTS` candles.
pub fn candle_returns(report: &BacktestReport) -> Vec<f64> {
    report
        .equity
        .windows(2)
        .filter(|w| w[0].equity > 0.0)
        .map(|w| w[1].equity / w[0].equity - 1.0)
        .collect()
}

/// Total return and maximum drawdown of the path made of `returns`.
fn path(returns: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut equity, mut peak, mut worst) = (1.0f64, 1.0f64, 0.0f64);
    for r in returns {
        equity *= 1.0 + r;
        peak = peak.max(equity);
        if peak > 0.0 {
            worst = worst.max((peak - equity) / peak);
        }
    }
    (equity - 1.0, worst)
}

/// Draw `config.runs` paths, `draw(rng, index)` one path's total return
/// and drawdown, chunk by chunk on their own streams (`stream` offsets
/// them per method).
fn simulate(
    config: &MonteCarloConfig,
    stream: u64,
    samples: usize,
    draw: impl Fn(&mut ChaCha8Rng) -> (f64, f64) + Sync,
) -> Resampled {
    let chunks: Vec<usize> = (0..config.runs.div_ceil(CHUNK)).collect();
    let paths: Vec<(f64, f64)> = parallel_map(&chunks, config.jobs, |&chunk| {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        rng.set_stream(chunk as u64 * 2 + stream);
        let runs = CHUNK.min(config.runs - chunk * CHUNK);
        (0..runs).map(|_| draw(&mut rng)).collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect();
    let returns: Vec<f64> = paths.iter().map(|p| p.0).collect();
    let drawdowns: Vec<f64> = paths.iter().map(|p| p.1).collect();
    Resampled {
        samples,
        runs: paths.len(),
        probability_of_loss: returns.iter().filter(|r| **r < 0.0).count() as f64
            / paths.len().max(1) as f64,
        total_return: Distribution::of(&returns),
        max_drawdown: Distribution::of(&drawdowns),
    }
}

/// `returns` in `config.runs` random orders (uniform permutations).
pub fn permute(returns: &[f64], config: &MonteCarloConfig) -> Resampled {
    simulate(config, 0, returns.len(), |rng| {
        let mut order = returns.to_vec();
        order.shuffle(rng);
        path(order.into_iter())
    })
}

/// `config.runs` paths of `returns.len()` returns drawn with replacement
/// from `returns`, in blocks of `config.block` consecutive ones (wrapping
/// around the end).
pub fn bootstrap(returns: &[f64], config: &MonteCarloConfig) -> Resampled {
    let n = returns.len();
    let block = config.block.clamp(1, n.max(1));
    simulate(config, 1, n, |rng| {
        let mut drawn = 0;
        let mut draws = std::iter::from_fn(|| {
            if drawn >= n {
                return None;
            }
            let start = rng.random_range(0..n);
            let take = block.min(n - drawn);
            drawn += take;
            Some((0..take).map(move |j| returns[(start + j) % n]))
        })
        .flatten();
        path(&mut draws)
    })
}

/// Both Monte Carlo methods on `report`.
pub fn robustness(
    report: &BacktestReport,
    config: &MonteCarloConfig,
) -> Result<Robustness, OptimizeError> {
    if config.runs == 0 {
        return Err(OptimizeError::Config(
            "Monte Carlo needs at least one run".into(),
        ));
    }
    if config.block == 0 {
        return Err(OptimizeError::Config(
            "the bootstrap block must be at least 1 return".into(),
        ));
    }
    let trades = trade_returns(report);
    let candles = candle_returns(report);
    Ok(Robustness {
        strategy: report.strategy.clone(),
        config: report.config.clone(),
        market: report.market.clone(),
        settings: *config,
        observed_return: report.metrics.total_return,
        observed_max_drawdown: report.metrics.max_drawdown,
        observed_trade_max_drawdown: (trades.len() >= 2).then(|| path(trades.iter().copied()).1),
        trade_order: (trades.len() >= 2).then(|| permute(&trades, config)),
        bootstrap: (candles.len() >= 2).then(|| bootstrap(&candles, config)),
        per_candle: report.equity.len() == report.metrics.ticks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_compounds_and_measures_drawdown_from_the_start() {
        let (total, drawdown) = path([-0.1, -0.1, 1.0].into_iter());
        assert!((total - 0.62).abs() < 1e-12);
        assert!((drawdown - 0.19).abs() < 1e-12);
        assert_eq!(path(std::iter::empty()), (0.0, 0.0));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<f64> = (1..=20).map(f64::from).collect();
        let d = Distribution::of(&values);
        assert_eq!(
            d.percentiles,
            Percentiles {
                p5: 1.0,
                p25: 5.0,
                p50: 10.0,
                p75: 15.0,
                p95: 19.0
            }
        );
        assert_eq!((d.min, d.max, d.mean), (1.0, 20.0, 10.5));
        assert_eq!(d.histogram.counts.iter().sum::<usize>(), 20);
    }
}
