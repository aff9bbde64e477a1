//! The lending-position shortfall study ("black swan" study).
//!
//! A position holds collateral in a volatile asset and owes debt in a
//! stable asset, the debt worth `initial_ltv` times the collateral at the
//! start (loan-to-value). The collateral's price follows a jump-diffusion
//! (by default the [`JumpDiffusion::default`] model under
//! [`JumpDiffusion::stressed`]), its drift compensated for the jumps as in
//! `stratbox-tape` unless `compensate_jumps` is off; the debt's value stays
//! fixed (no interest over the horizon). Each of `paths` price paths is simulated exactly at
//! `steps` equally spaced times over the horizon. The study estimates:
//!
//! - the probability of a **shortfall**, the collateral being worth no more
//!   than the debt (`C <= D`), at the end of the horizon and at any time
//!   (the start or any of the `steps` times; between them the path is not
//!   watched, so more steps can only find more shortfalls);
//! - if a liquidation LTV is given, the probability that the LTV `D / C`
//!   reaches it (`D / C >= liquidation_ltv`), at the end and at any time;
//! - each probability with its 95% Wilson score interval
//!   ([`wilson_interval`]);
//! - the expected shortfall amount `E[max(D - C_T, 0)]` and its mean over
//!   the paths that fall short, as fractions of the initial collateral
//!   value;
//! - the distribution of the end equity `(C_T - D) / C_0` as a fixed-bin
//!   [`Histogram`] for a chart (below 0 is a shortfall; the initial equity
//!   is `1 - initial_ltv`).
//!
//! Paths are drawn in seeded chunks (see
//! [`JumpDiffusion::simulate_horizon_returns`]) spread over threads and
//! combined in chunk order, so the same config gives the same result, bit
//! for bit, whatever the number of threads.

use std::num::NonZero;

use serde::{Deserialize, Serialize};

use crate::error::{check_confidence, invalid};
use crate::jump::StepSampler;
use crate::normal::inverse_normal_cdf;
use crate::{CHUNK_PATHS, DAY_MS, JumpDiffusion, RiskError, chunk_rng, years};

/// Confidence of the study's intervals on probabilities.
pub const STUDY_CONFIDENCE: f64 = 0.95;

/// Parameters of a shortfall study. Every field is optional in serialized
/// form and defaults as documented.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StudyConfig {
    /// The collateral's price model before stress. Default
    /// [`JumpDiffusion::default`] (80% volatility, 4 jumps a year of mean
    /// log-size -0.05 and standard deviation 0.1, no drift).
    pub model: JumpDiffusion,
    /// Simulate [`JumpDiffusion::stressed`] of `model` (100 times the jumps,
    /// -20% each on average). Default true.
    pub stressed: bool,
    /// Compensate the drift for the jumps as `stratbox-tape` does
    /// (`- lambda k` per year, so that `model.drift` stays the expected
    /// return: under stress the price drifts up between crashes). False
    /// makes every jump a pure loss on top of the drift: a harsher stress.
    /// Default true.
    pub compensate_jumps: bool,
    /// Debt over collateral value at the start. Default 0.75.
    pub initial_ltv: f64,
    /// LTV at which the position can be liquidated, if studied (e.g. 0.85).
    /// Default none.
    pub liquidation_ltv: Option<f64>,
    /// Horizon, ms. Default one day (86 400 000).
    pub horizon_ms: u64,
    /// Time steps per path over the horizon. Default 24 (hourly over a
    /// day).
    pub steps: u32,
    /// Simulated paths. Default 100 000.
    pub paths: usize,
    /// Random seed. Default 0.
    pub seed: u64,
    /// Bins of the end-equity histogram. Default 40.
    pub histogram_bins: usize,
    /// Lower edge of the histogram, in initial collateral value. Default -1.
    pub histogram_min: f64,
    /// Upper edge of the histogram, in initial collateral value. Default 1.
    pub histogram_max: f64,
}

impl Default for StudyConfig {
    fn default() -> Self {
        StudyConfig {
            model: JumpDiffusion::default(),
            stressed: true,
            compensate_jumps: true,
            initial_ltv: 0.75,
            liquidation_ltv: None,
            horizon_ms: DAY_MS,
            steps: 24,
            paths: 100_000,
            seed: 0,
            histogram_bins: 40,
            histogram_min: -1.0,
            histogram_max: 1.0,
        }
    }
}

impl StudyConfig {
    /// Check every parameter (and the model).
    pub fn validate(&self) -> Result<(), RiskError> {
        self.model.validate()?;
        if !(self.initial_ltv.is_finite() && self.initial_ltv > 0.0) {
            return Err(invalid(
                "initial_ltv",
                format!("{} is not positive", self.initial_ltv),
            ));
        }
        if let Some(ltv) = self.liquidation_ltv
            && !(ltv.is_finite() && ltv > 0.0)
        {
            return Err(invalid("liquidation_ltv", format!("{ltv} is not positive")));
        }
        if self.horizon_ms == 0 {
            return Err(RiskError::InvalidHorizon {
                horizon_ms: 0,
                reason: "must be positive".into(),
            });
        }
        if self.steps == 0 {
            return Err(invalid("steps", "must be at least 1"));
        }
        if self.paths == 0 {
            return Err(invalid("paths", "must be at least 1"));
        }
        if self.histogram_bins == 0 {
            return Err(invalid("histogram_bins", "must be at least 1"));
        }
        if !(self.histogram_min.is_finite()
            && self.histogram_max.is_finite()
            && self.histogram_min < self.histogram_max)
        {
            return Err(invalid(
                "histogram_min/histogram_max",
                "must be finite with min < max",
            ));
        }
        Ok(())
    }
}

/// An estimated probability: `count` of `paths`, with its Wilson score
/// interval at [`STUDY_CONFIDENCE`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Probability {
    /// Paths where the event happened.
    pub count: u64,
    /// Paths simulated.
    pub paths: u64,
    /// `count / paths`.
    pub estimate: f64,
    /// Lower end of the interval.
    pub low: f64,
    /// Upper end of the interval.
    pub high: f64,
}

impl Probability {
    /// `count` of `paths` (`paths >= 1`, `count <= paths`).
    fn new(count: u64, paths: u64) -> Result<Self, RiskError> {
        let (low, high) = wilson_interval(count, paths, STUDY_CONFIDENCE)?;
        Ok(Probability {
            count,
            paths,
            estimate: count as f64 / paths as f64,
            low,
            high,
        })
    }
}

/// Counts of values in equal bins between `min` and `max`, with the values
/// below and above counted apart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Lower edge of the first bin.
    pub min: f64,
    /// Upper edge of the last bin.
    pub max: f64,
    /// Values per bin; bin `i` holds `[min + i w, min + (i+1) w)`.
    pub counts: Vec<u64>,
    /// Values below `min`.
    pub underflow: u64,
    /// Values at or above `max`.
    pub overflow: u64,
}

impl Histogram {
    fn empty(min: f64, max: f64, bins: usize) -> Self {
        Histogram {
            min,
            max,
            counts: vec![0; bins],
            underflow: 0,
            overflow: 0,
        }
    }

    /// Width `w` of a bin.
    pub fn bin_width(&self) -> f64 {
        (self.max - self.min) / self.counts.len() as f64
    }

    /// Lower and upper edge of bin `index`.
    pub fn bin_edges(&self, index: usize) -> (f64, f64) {
        let width = self.bin_width();
        (
            self.min + index as f64 * width,
            self.min + (index + 1) as f64 * width,
        )
    }

    /// Every value counted (bins, underflow and overflow).
    pub fn total(&self) -> u64 {
        self.counts.iter().sum::<u64>() + self.underflow + self.overflow
    }

    fn add(&mut self, value: f64) {
        if value < self.min {
            self.underflow += 1;
        } else if value >= self.max {
            self.overflow += 1;
        } else {
            let bins = self.counts.len();
            let index = ((value - self.min) / (self.max - self.min) * bins as f64) as usize;
            self.counts[index.min(bins - 1)] += 1;
        }
    }

    fn merge(&mut self, other: &Histogram) {
        for (count, more) in self.counts.iter_mut().zip(&other.counts) {
            *count += more;
        }
        self.underflow += other.underflow;
        self.overflow += other.overflow;
    }
}

/// What a shortfall study found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyResult {
    /// The study's parameters.
    pub config: StudyConfig,
    /// The model simulated (stressed if asked).
    pub model: JumpDiffusion,
    /// Collateral worth no more than the debt at the end.
    pub shortfall_at_end: Probability,
    /// Collateral worth no more than the debt at the start or any step.
    pub shortfall_any_time: Probability,
    /// LTV at or above the liquidation LTV at the end, if one was given.
    pub liquidation_at_end: Option<Probability>,
    /// LTV at or above the liquidation LTV at the start or any step, if one
    /// was given.
    pub liquidation_any_time: Option<Probability>,
    /// `E[max(D - C_T, 0)] / C_0` over all paths.
    pub expected_shortfall: f64,
    /// `E[D - C_T | C_T <= D] / C_0`, if any path fell short at the end.
    pub mean_shortfall_when_short: Option<f64>,
    /// Distribution of the end equity `(C_T - D) / C_0`.
    pub histogram: Histogram,
}

/// Run a study on as many threads as the machine has (the result does not
/// depend on it).
pub fn run_study(config: &StudyConfig) -> Result<StudyResult, RiskError> {
    let threads = std::thread::available_parallelism().map_or(1, NonZero::get);
    run_study_with_threads(config, threads)
}

/// Run a study on at most `threads` threads (0 is taken as 1).
pub fn run_study_with_threads(
    config: &StudyConfig,
    threads: usize,
) -> Result<StudyResult, RiskError> {
    config.validate()?;
    let model = if config.stressed {
        config.model.stressed()
    } else {
        config.model
    };
    let sampler = StepSampler::new(
        &model,
        years(config.horizon_ms) / f64::from(config.steps),
        config.compensate_jumps,
    )?;
    let chunks = config.paths.div_ceil(CHUNK_PATHS);
    let threads = threads.clamp(1, chunks);
    let run = |chunk: usize| run_chunk(config, &sampler, chunk);
    let per_chunk: Vec<ChunkStats> = if threads == 1 {
        (0..chunks).map(run).collect()
    } else {
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|first| {
                    scope.spawn(move || {
                        (first..chunks)
                            .step_by(threads)
                            .map(|chunk| (chunk, run(chunk)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let mut slots: Vec<Option<ChunkStats>> = (0..chunks).map(|_| None).collect();
            for worker in workers {
                let done = worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                for (chunk, stats) in done {
                    slots[chunk] = Some(stats);
                }
            }
            slots.into_iter().flatten().collect()
        })
    };

    // Combined in chunk order: the float sum is the same whatever the
    // threads.
    let mut total = ChunkStats::new(config);
    for stats in &per_chunk {
        total.merge(stats);
    }
    let paths = config.paths as u64;
    let liquidation = |count| {
        config
            .liquidation_ltv
            .map(|_| Probability::new(count, paths))
            .transpose()
    };
    Ok(StudyResult {
        config: config.clone(),
        model,
        shortfall_at_end: Probability::new(total.short_end, paths)?,
        shortfall_any_time: Probability::new(total.short_any, paths)?,
        liquidation_at_end: liquidation(total.liquid_end)?,
        liquidation_any_time: liquidation(total.liquid_any)?,
        expected_shortfall: total.shortfall_sum / config.paths as f64,
        mean_shortfall_when_short: (total.short_end > 0)
            .then(|| total.shortfall_sum / total.short_end as f64),
        histogram: total.histogram,
    })
}

/// Tallies of a chunk of paths.
#[derive(Debug, Clone)]
struct ChunkStats {
    short_end: u64,
    short_any: u64,
    liquid_end: u64,
    liquid_any: u64,
    shortfall_sum: f64,
    histogram: Histogram,
}

impl ChunkStats {
    fn new(config: &StudyConfig) -> Self {
        ChunkStats {
            short_end: 0,
            short_any: 0,
            liquid_end: 0,
            liquid_any: 0,
            shortfall_sum: 0.0,
            histogram: Histogram::empty(
                config.histogram_min,
                config.histogram_max,
                config.histogram_bins,
            ),
        }
    }

    fn merge(&mut self, other: &ChunkStats) {
        self.short_end += other.short_end;
        self.short_any += other.short_any;
        self.liquid_end += other.liquid_end;
        self.liquid_any += other.liquid_any;
        self.shortfall_sum += other.shortfall_sum;
        self.histogram.merge(&other.histogram);
    }
}

/// Simulate chunk `chunk` of the study's paths.
fn run_chunk(config: &StudyConfig, sampler: &StepSampler, chunk: usize) -> ChunkStats {
    let mut stats = ChunkStats::new(config);
    let mut rng = chunk_rng(config.seed, chunk);
    let ltv = config.initial_ltv;
    let in_chunk = CHUNK_PATHS.min(config.paths - chunk * CHUNK_PATHS);
    for _ in 0..in_chunk {
        // Log of collateral price over its initial price, and its minimum
        // (the start included).
        let mut log_price = 0.0f64;
        let mut lowest = 0.0f64;
        for _ in 0..config.steps {
            log_price += sampler.sample(&mut rng);
            lowest = lowest.min(log_price);
        }
        // Collateral over initial collateral; the debt is `ltv` of it.
        let end = log_price.exp();
        let low = lowest.exp();
        stats.short_end += u64::from(end <= ltv);
        stats.short_any += u64::from(low <= ltv);
        if let Some(liquidation) = config.liquidation_ltv {
            // D / C >= liquidation  <=>  C * liquidation <= D.
            stats.liquid_end += u64::from(end * liquidation <= ltv);
            stats.liquid_any += u64::from(low * liquidation <= ltv);
        }
        stats.shortfall_sum += (ltv - end).max(0.0);
        stats.histogram.add(end - ltv);
    }
    stats
}

/// Wilson score interval for a binomial proportion: `successes` of
/// `trials` at `confidence` (0.95 for 95%), clamped to `[0, 1]` (exactly 0
/// below when `successes` is 0, exactly 1 above when it is `trials`).
///
/// With `p = successes / trials`, `n = trials` and `z = Phi^-1((1 + c) / 2)`:
/// `(p + z^2/(2n) +- z sqrt(p (1 - p) / n + z^2 / (4 n^2))) / (1 + z^2 / n)`.
pub fn wilson_interval(
    successes: u64,
    trials: u64,
    confidence: f64,
) -> Result<(f64, f64), RiskError> {
    check_confidence(confidence)?;
    if trials == 0 {
        return Err(RiskError::NotEnoughData { needed: 1, have: 0 });
    }
    if successes > trials {
        return Err(invalid(
            "successes",
            format!("{successes} is more than the {trials} trials"),
        ));
    }
    let n = trials as f64;
    let p = successes as f64 / n;
    let z = inverse_normal_cdf((1.0 + confidence) / 2.0);
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denominator;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    let low = if successes == 0 {
        0.0
    } else {
        (center - half).clamp(0.0, p)
    };
    let high = if successes == trials {
        1.0
    } else {
        (center + half).clamp(p, 1.0)
    };
    Ok((low, high))
}
