//! Merton jump-diffusion: fitting to log returns, the "black swan" stress,
//! and seeded sampling.
//!
//! The model is the one of `stratbox-tape`'s synthetic tapes. Over a time
//! step of `dt` years the log price moves by
//!
//! ```text
//! (mu - sigma^2/2 - lambda*k) dt  +  sigma sqrt(dt) Z  +  J_1 + ... + J_N
//! ```
//!
//! with `Z ~ N(0, 1)`, `N ~ Poisson(lambda dt)`, jump log-sizes
//! `J ~ N(jump_mean, jump_stdev^2)` and `k = E[e^J] - 1 =
//! exp(jump_mean + jump_stdev^2/2) - 1`, so that `mu` (the `drift`) stays
//! the expected simple return per year, jumps included.

use rand::Rng;
use rand_distr::{Distribution, Normal, Poisson, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::error::{check_finite, invalid};
use crate::normal::{normal_cdf, normal_pdf};
use crate::{CHUNK_PATHS, RiskError, chunk_rng, years};

/// The default jump threshold of [`JumpDiffusion::fit`], in diffusion
/// standard deviations.
pub const DEFAULT_JUMP_THRESHOLD: f64 = 4.0;

/// The fewest log returns [`JumpDiffusion::fit`] accepts.
pub const MIN_FIT_RETURNS: usize = 20;

/// Iterations after which the fit stops even if the jump set still changes.
const MAX_FIT_ITERATIONS: u32 = 100;

/// MAD to standard deviation for normal data: `1 / Phi^-1(3/4)`.
const MAD_TO_SIGMA: f64 = 1.482_602_218_505_602;

/// A Merton jump-diffusion, annualized (a year is 365 days).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JumpDiffusion {
    /// Expected simple return per year, jumps included (0.05 = 5%).
    pub drift: f64,
    /// Volatility of the diffusion per square-root year (0.8 = 80%).
    pub volatility: f64,
    /// Expected jumps per year.
    pub jump_intensity: f64,
    /// Mean log-size of a jump (ln(0.8) is a -20% jump).
    pub jump_mean: f64,
    /// Standard deviation of the log-size of a jump.
    pub jump_stdev: f64,
}

impl Default for JumpDiffusion {
    /// The crypto-like defaults of `stratbox-tape`'s synthetic tapes: no
    /// drift, 80% volatility, 4 jumps a year of mean log-size -0.05 and
    /// standard deviation 0.1.
    fn default() -> Self {
        JumpDiffusion {
            drift: 0.0,
            volatility: 0.8,
            jump_intensity: 4.0,
            jump_mean: -0.05,
            jump_stdev: 0.1,
        }
    }
}

/// A fitted model with what the fit saw.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct JumpFit {
    /// The fitted model.
    pub model: JumpDiffusion,
    /// Returns classified as jumps.
    pub jumps: usize,
    /// How many of them a jump-free diffusion would give
    /// (`returns * 2 Phi(-threshold)`), taken off the intensity.
    pub expected_false_jumps: f64,
    /// Returns fitted.
    pub returns: usize,
    /// Re-classification rounds run.
    pub iterations: u32,
    /// Whether the jump set stopped changing (otherwise the fit stopped
    /// after a fixed number of rounds and reports the last one).
    pub converged: bool,
}

impl JumpDiffusion {
    /// Check that every parameter is finite and that the volatility, jump
    /// intensity and jump standard deviation are not negative.
    pub fn validate(&self) -> Result<(), RiskError> {
        let finite = [
            ("drift", self.drift),
            ("volatility", self.volatility),
            ("jump_intensity", self.jump_intensity),
            ("jump_mean", self.jump_mean),
            ("jump_stdev", self.jump_stdev),
        ];
        for (name, value) in finite {
            if !value.is_finite() {
                return Err(invalid(name, format!("{value} is not finite")));
            }
        }
        for (name, value) in [
            ("volatility", self.volatility),
            ("jump_intensity", self.jump_intensity),
            ("jump_stdev", self.jump_stdev),
        ] {
            if value < 0.0 {
                return Err(invalid(name, format!("{value} is negative")));
            }
        }
        Ok(())
    }

    /// Fit the model to `log_returns` sampled every `interval_ms`, with jumps
    /// beyond [`DEFAULT_JUMP_THRESHOLD`] diffusion standard deviations.
    /// See [`JumpDiffusion::fit_with`].
    pub fn fit(log_returns: &[f64], interval_ms: u64) -> Result<Self, RiskError> {
        Ok(Self::fit_with(log_returns, interval_ms, DEFAULT_JUMP_THRESHOLD)?.model)
    }

    /// Fit the model to `log_returns` sampled every `interval_ms`, a return
    /// being a jump when it is more than `threshold` diffusion standard
    /// deviations from the diffusion mean.
    ///
    /// 1. Start from the median and the MAD-based standard deviation
    ///    (1.4826 MAD) of all returns and flag the returns beyond the
    ///    threshold.
    /// 2. Re-estimate the diffusion mean and standard deviation from the
    ///    unflagged returns (the standard deviation corrected for the
    ///    truncation at the threshold) and flag again; repeat until the
    ///    flagged set stops changing (at most 100 rounds).
    /// 3. Volatility: the diffusion standard deviation per `sqrt(year)`.
    ///    Jumps: intensity = flagged returns, less the number a jump-free
    ///    diffusion would flag (`n * 2 Phi(-threshold)`, at least 0), per
    ///    year of data (at most one jump per interval). The log-size of a
    ///    jump is its return minus the diffusion mean; their mean is
    ///    `jump_mean` and their variance, less the diffusion variance, is
    ///    `jump_stdev^2` (0 with fewer than two jumps; both 0 with none).
    /// 4. Drift: chosen so that the model's expected log return per interval
    ///    equals the sample mean of all returns.
    ///
    /// Jumps smaller than the threshold are counted as diffusion, so the
    /// intensity is that of jumps the data can tell apart; the jump-size
    /// statistics include the diffusion returns flagged by chance.
    pub fn fit_with(
        log_returns: &[f64],
        interval_ms: u64,
        threshold: f64,
    ) -> Result<JumpFit, RiskError> {
        if interval_ms == 0 {
            return Err(RiskError::InvalidInterval);
        }
        if !(threshold.is_finite() && threshold > 0.0) {
            return Err(invalid("threshold", format!("{threshold} is not positive")));
        }
        let n = log_returns.len();
        if n < MIN_FIT_RETURNS {
            return Err(RiskError::NotEnoughData {
                needed: MIN_FIT_RETURNS,
                have: n,
            });
        }
        check_finite("log return", log_returns)?;
        let dt = years(interval_ms);
        // Variance of a standard normal truncated to [-threshold, threshold].
        let truncated_variance =
            1.0 - 2.0 * threshold * normal_pdf(threshold) / (2.0 * normal_cdf(threshold) - 1.0);

        let mut center = median(log_returns.to_vec());
        let deviations = log_returns.iter().map(|r| (r - center).abs()).collect();
        let mut scale = MAD_TO_SIGMA * median(deviations);
        let mut is_jump: Vec<bool> = classify(log_returns, center, scale, threshold);
        let mut iterations = 0;
        let mut converged = false;
        while iterations < MAX_FIT_ITERATIONS {
            iterations += 1;
            let retained = || log_returns.iter().zip(&is_jump).filter(|(_, j)| !**j);
            let count = retained().count();
            if count < 2 {
                // The MAD start keeps at least half the returns when the
                // threshold is at least 1 / 1.4826; a smaller threshold
                // (or an oscillation) could keep fewer: stop there.
                break;
            }
            center = retained().map(|(r, _)| r).sum::<f64>() / count as f64;
            let sum_sq: f64 = retained().map(|(r, _)| (r - center).powi(2)).sum();
            scale = (sum_sq / (count - 1) as f64 / truncated_variance).sqrt();
            let next = classify(log_returns, center, scale, threshold);
            if next == is_jump {
                converged = true;
                break;
            }
            is_jump = next;
        }

        let jump_sizes: Vec<f64> = log_returns
            .iter()
            .zip(&is_jump)
            .filter(|(_, j)| **j)
            .map(|(r, _)| r - center)
            .collect();
        let jumps = jump_sizes.len();
        // Diffusion returns beyond the threshold are expected too (about 7
        // in 100 000 at 4 sigma); the diffusion already accounts for them.
        let expected_false_jumps = n as f64 * 2.0 * normal_cdf(-threshold);
        let jump_intensity = (jumps as f64 - expected_false_jumps).max(0.0) / (n as f64 * dt);
        let jump_mean = if jumps == 0 {
            0.0
        } else {
            jump_sizes.iter().sum::<f64>() / jumps as f64
        };
        let jump_stdev = if jumps < 2 {
            0.0
        } else {
            let variance = jump_sizes
                .iter()
                .map(|j| (j - jump_mean).powi(2))
                .sum::<f64>()
                / (jumps - 1) as f64;
            (variance - scale * scale).max(0.0).sqrt()
        };
        let volatility = scale / dt.sqrt();
        let mut model = JumpDiffusion {
            drift: 0.0,
            volatility,
            jump_intensity,
            jump_mean,
            jump_stdev,
        };
        let mean_return = log_returns.iter().sum::<f64>() / n as f64;
        // E[r] = (mu - sigma^2/2 - lambda k + lambda jump_mean) dt.
        model.drift = mean_return / dt
            + volatility * volatility / 2.0
            + jump_intensity * model.jump_compensator()
            - jump_intensity * jump_mean;
        Ok(JumpFit {
            model,
            jumps,
            expected_false_jumps,
            returns: n,
            iterations,
            converged,
        })
    }

    /// The "black swan" stress of the product's risk study: 100 times the
    /// jump intensity, every jump -20% on average (`jump_mean = ln(0.8)`),
    /// the jump standard deviation kept. (`stratbox-tape`'s
    /// `SyntheticConfig::stressed` also sets the standard deviation to 0:
    /// set `jump_stdev = 0.0` on the result for exactly -20% jumps.)
    pub fn stressed(self) -> Self {
        JumpDiffusion {
            jump_intensity: self.jump_intensity * 100.0,
            jump_mean: 0.8f64.ln(),
            ..self
        }
    }

    /// `k = E[e^J] - 1`, the mean simple size of a jump, which the drift of
    /// the log price compensates.
    pub fn jump_compensator(&self) -> f64 {
        (self.jump_mean + self.jump_stdev * self.jump_stdev / 2.0).exp_m1()
    }

    /// Expected log return over `horizon_ms`:
    /// `(mu - sigma^2/2 - lambda k + lambda jump_mean) t`.
    pub fn mean_log_return(&self, horizon_ms: u64) -> f64 {
        let t = years(horizon_ms);
        let sigma = self.volatility;
        (self.drift - sigma * sigma / 2.0 - self.jump_intensity * self.jump_compensator()
            + self.jump_intensity * self.jump_mean)
            * t
    }

    /// Variance of the log return over `horizon_ms`:
    /// `(sigma^2 + lambda (jump_mean^2 + jump_stdev^2)) t`.
    pub fn log_return_variance(&self, horizon_ms: u64) -> f64 {
        let t = years(horizon_ms);
        (self.volatility.powi(2)
            + self.jump_intensity * (self.jump_mean.powi(2) + self.jump_stdev.powi(2)))
            * t
    }

    /// Sample `paths` independent log returns over `horizon_ms`, each the
    /// sum of `substeps` exact steps of `horizon_ms / substeps` (a normal
    /// diffusion move plus a Poisson number of normal jumps).
    ///
    /// The distribution of the sum does not depend on `substeps` (each step
    /// is sampled exactly), so 1 is the cheapest choice; more substeps only
    /// change the random stream. With `horizon_ms` equal to a sampling
    /// interval this generates an i.i.d. series of interval log returns.
    /// Seeded: paths are drawn in chunks of 4096, chunk `c` from ChaCha20
    /// seeded with `seed` on stream `c`.
    pub fn simulate_horizon_returns(
        &self,
        horizon_ms: u64,
        paths: usize,
        seed: u64,
        substeps: u32,
    ) -> Result<Vec<f64>, RiskError> {
        if horizon_ms == 0 {
            return Err(RiskError::InvalidHorizon {
                horizon_ms,
                reason: "must be positive".into(),
            });
        }
        if substeps == 0 {
            return Err(invalid("substeps", "must be at least 1"));
        }
        if paths == 0 {
            return Err(invalid("paths", "must be at least 1"));
        }
        let step = StepSampler::new(self, years(horizon_ms) / f64::from(substeps), true)?;
        let mut out = Vec::with_capacity(paths);
        for chunk in 0..paths.div_ceil(CHUNK_PATHS) {
            let mut rng = chunk_rng(seed, chunk);
            let in_chunk = CHUNK_PATHS.min(paths - chunk * CHUNK_PATHS);
            for _ in 0..in_chunk {
                let mut sum = 0.0;
                for _ in 0..substeps {
                    sum += step.sample(&mut rng);
                }
                out.push(sum);
            }
        }
        Ok(out)
    }
}

/// Flag the returns farther than `threshold * scale` from `center`.
fn classify(returns: &[f64], center: f64, scale: f64, threshold: f64) -> Vec<bool> {
    let limit = threshold * scale;
    returns.iter().map(|r| (r - center).abs() > limit).collect()
}

/// The median (mean of the two middle values for an even count) of a
/// non-empty sample.
pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    values.sort_unstable_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Samples the log-price move of one time step of the model exactly.
#[derive(Debug, Clone)]
pub(crate) struct StepSampler {
    drift: f64,
    scale: f64,
    jumps: Option<Poisson<f64>>,
    jump_size: Normal<f64>,
}

impl StepSampler {
    /// A sampler of steps of `dt` years of `model` (validated here), with
    /// the drift compensated for the jumps (`- lambda k`) when `compensate`.
    pub(crate) fn new(model: &JumpDiffusion, dt: f64, compensate: bool) -> Result<Self, RiskError> {
        model.validate()?;
        let sigma = model.volatility;
        let lambda = model.jump_intensity;
        let expected_jumps = lambda * dt;
        let jumps = (expected_jumps > 0.0)
            .then(|| Poisson::new(expected_jumps))
            .transpose()
            .map_err(|e| invalid("jump_intensity", e.to_string()))?;
        let jump_size = Normal::new(model.jump_mean, model.jump_stdev)
            .map_err(|e| invalid("jump_stdev", e.to_string()))?;
        let compensation = if compensate {
            lambda * model.jump_compensator()
        } else {
            0.0
        };
        Ok(StepSampler {
            drift: (model.drift - sigma * sigma / 2.0 - compensation) * dt,
            scale: sigma * dt.sqrt(),
            jumps,
            jump_size,
        })
    }

    /// One step's log-price move.
    #[inline]
    pub(crate) fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let z: f64 = StandardNormal.sample(rng);
        let mut step = self.drift + self.scale * z;
        if let Some(jumps) = &self.jumps {
            // The sum of `count` independent normal jumps is itself normal
            // (mean and variance times `count`): one draw instead of one
            // per jump, which under the stressed model (100x the jumps)
            // is hundreds of draws per day-long step.
            let count = jumps.sample(rng);
            if count >= 1.0 {
                let z: f64 = StandardNormal.sample(rng);
                step += count * self.jump_size.mean() + count.sqrt() * self.jump_size.std_dev() * z;
            }
        }
        step
    }
}
