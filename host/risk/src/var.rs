//! Value-at-risk and expected shortfall of one asset over a horizon.
//!
//! Input: log returns `ln(p[i+1] / p[i])` of prices sampled every
//! `interval_ms` ([`log_returns`] converts prices). Output: VaR and ES as
//! positive loss fractions of the position's value ([`VarEs`]): with `R`
//! the log return over the horizon, the loss is `1 - e^R`.
//!
//! - [`historical`]: the empirical distribution of `R` over **overlapping**
//!   windows of `horizon_ms / interval_ms` consecutive returns (the horizon
//!   must be a whole number of intervals). Overlapping windows use all the
//!   data (a week of 5-minute returns gives 1 729 one-day windows instead of
//!   7), at the price of windows that are not independent.
//! - [`parametric`]: delta-normal. Per-interval **simple** returns
//!   `e^r - 1` are taken as normal with their sample mean `mu` and standard
//!   deviation `sigma`, scaled to the horizon by `t = horizon / interval`
//!   (mean `mu t`, deviation `sigma sqrt(t)`): `VaR = z sigma sqrt(t) - mu
//!   t`, `ES = sigma sqrt(t) phi(z) / (1 - c) - mu t` ([`normal_var_es`]).
//!   Works for horizons shorter than the interval.
//! - [`monte_carlo`]: `R` sampled from a [`JumpDiffusion`] fitted to the
//!   returns (optionally stressed), seeded.
//!
//! Empirical VaR and ES (historical and Monte Carlo) use one ordering rule:
//! sort the `n` losses from worst to best; with `k = ceil(n (1 - c))` (at
//! least 1; a product within 1e-9 of a whole number counts as that number),
//! VaR is the `k`-th worst loss and ES the mean of the `k` worst losses
//! (no interpolation, so ES >= VaR). At least `ceil(1 / (1 - c))` losses are
//! required (20 at 95%, 100 at 99%), so that the tail holds at least one
//! loss beyond the quantile's rank.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{check_confidence, check_finite, invalid};
use crate::jump::{DEFAULT_JUMP_THRESHOLD, JumpDiffusion};
use crate::normal::{inverse_normal_cdf, normal_pdf};
use crate::{DAY_MS, HOUR_MS, RiskError};

/// How a VaR or ES figure is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskMethod {
    /// Empirical distribution of past horizon returns.
    Historical,
    /// Normal distribution with the sample mean and variance (delta-normal).
    Parametric,
    /// Simulation of a fitted jump-diffusion.
    MonteCarlo,
}

impl RiskMethod {
    /// Every method, in table order.
    pub const ALL: [RiskMethod; 3] = [
        RiskMethod::Historical,
        RiskMethod::Parametric,
        RiskMethod::MonteCarlo,
    ];

    /// The snake_case name (`historical`, `parametric`, `monte_carlo`).
    pub fn as_str(self) -> &'static str {
        match self {
            RiskMethod::Historical => "historical",
            RiskMethod::Parametric => "parametric",
            RiskMethod::MonteCarlo => "monte_carlo",
        }
    }
}

impl fmt::Display for RiskMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RiskMethod {
    type Err = RiskError;

    /// Parse the snake_case name; `monte-carlo` is accepted too.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "historical" => Ok(RiskMethod::Historical),
            "parametric" => Ok(RiskMethod::Parametric),
            "monte_carlo" | "monte-carlo" => Ok(RiskMethod::MonteCarlo),
            _ => Err(RiskError::UnknownMethod {
                name: name.to_owned(),
            }),
        }
    }
}

/// A VaR and an ES, both positive losses (fractions of value unless a
/// function says they are in quote value).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VarEs {
    /// Value-at-risk: the loss exceeded with probability at most `1 - c`.
    pub var: f64,
    /// Expected shortfall: the mean loss in the worst `1 - c` of outcomes.
    pub es: f64,
}

impl VarEs {
    /// The figures in value terms for a position worth `portfolio_value`.
    pub fn in_value(self, portfolio_value: f64) -> VarEs {
        VarEs {
            var: self.var * portfolio_value,
            es: self.es * portfolio_value,
        }
    }
}

/// One line of a risk table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RiskFigure {
    /// How it was computed.
    pub method: RiskMethod,
    /// Horizon, ms.
    pub horizon_ms: u64,
    /// Confidence level (0.99 = 99%).
    pub confidence: f64,
    /// VaR as a loss fraction of value.
    pub var: f64,
    /// ES as a loss fraction of value.
    pub es: f64,
}

impl RiskFigure {
    /// VaR in value terms for a position worth `portfolio_value`.
    pub fn var_value(&self, portfolio_value: f64) -> f64 {
        self.var * portfolio_value
    }

    /// ES in value terms for a position worth `portfolio_value`.
    pub fn es_value(&self, portfolio_value: f64) -> f64 {
        self.es * portfolio_value
    }
}

/// A figure of a table that could not be computed, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnavailableFigure {
    /// The method.
    pub method: RiskMethod,
    /// Horizon, ms.
    pub horizon_ms: u64,
    /// Confidence level.
    pub confidence: f64,
    /// The error's message (e.g. not enough data for the horizon).
    pub reason: String,
}

/// VaR and ES for each horizon, confidence and method, for a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskTable {
    /// Sampling interval of the series, ms.
    pub interval_ms: u64,
    /// Log returns the figures are computed from.
    pub returns: usize,
    /// Monte Carlo settings used.
    pub monte_carlo: MonteCarloConfig,
    /// The jump-diffusion simulated (fitted, stressed if asked), when the
    /// fit succeeded.
    pub model: Option<JumpDiffusion>,
    /// Computed figures, by horizon, then confidence, then method
    /// ([`RiskMethod::ALL`] order).
    pub figures: Vec<RiskFigure>,
    /// Figures that could not be computed, in the same order.
    pub unavailable: Vec<UnavailableFigure>,
}

impl RiskTable {
    /// The figure for `method`, `horizon_ms` and `confidence`, if computed.
    pub fn figure(
        &self,
        method: RiskMethod,
        horizon_ms: u64,
        confidence: f64,
    ) -> Option<&RiskFigure> {
        self.figures.iter().find(|f| {
            f.method == method && f.horizon_ms == horizon_ms && f.confidence == confidence
        })
    }
}

/// A price series or a log-return series, sampled every `interval_ms`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Series<'a> {
    /// Prices (finite, positive).
    Prices(&'a [f64]),
    /// Log returns `ln(p[i+1] / p[i])` (finite).
    LogReturns(&'a [f64]),
}

impl Series<'_> {
    /// The log returns, converted from prices if need be.
    pub fn log_returns(&self) -> Result<Cow<'_, [f64]>, RiskError> {
        match *self {
            Series::Prices(prices) => log_returns(prices).map(Cow::Owned),
            Series::LogReturns(returns) => {
                check_finite("log return", returns)?;
                Ok(Cow::Borrowed(returns))
            }
        }
    }
}

/// Monte Carlo settings of [`risk_table`] and [`monte_carlo`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MonteCarloConfig {
    /// Simulated horizon returns per horizon. Default 100 000.
    pub paths: usize,
    /// Random seed; every horizon uses it (common random numbers).
    /// Default 0.
    pub seed: u64,
    /// Apply [`JumpDiffusion::stressed`] to the fitted model before
    /// simulating. Default false.
    pub stressed: bool,
    /// Jump threshold of the fit, in diffusion standard deviations
    /// ([`JumpDiffusion::fit_with`]). Default 4.
    pub jump_threshold: f64,
}

impl Default for MonteCarloConfig {
    fn default() -> Self {
        MonteCarloConfig {
            paths: 100_000,
            seed: 0,
            stressed: false,
            jump_threshold: DEFAULT_JUMP_THRESHOLD,
        }
    }
}

impl MonteCarloConfig {
    fn validate(&self) -> Result<(), RiskError> {
        if self.paths == 0 {
            return Err(invalid("paths", "must be at least 1"));
        }
        if !(self.jump_threshold.is_finite() && self.jump_threshold > 0.0) {
            return Err(invalid(
                "jump_threshold",
                format!("{} is not positive", self.jump_threshold),
            ));
        }
        Ok(())
    }

    /// The model to simulate, fitted to `log_returns`.
    fn model(&self, log_returns: &[f64], interval_ms: u64) -> Result<JumpDiffusion, RiskError> {
        let model = JumpDiffusion::fit_with(log_returns, interval_ms, self.jump_threshold)?.model;
        Ok(if self.stressed {
            model.stressed()
        } else {
            model
        })
    }
}

/// The horizons of [`risk_table`]: one hour and one day.
pub const TABLE_HORIZONS_MS: [u64; 2] = [HOUR_MS, DAY_MS];

/// The confidence levels of [`risk_table`]: 95% and 99%.
pub const TABLE_CONFIDENCES: [f64; 2] = [0.95, 0.99];

/// Log returns `ln(p[i+1] / p[i])` of `prices`, which must be finite and
/// positive (one fewer return than prices; none from fewer than two
/// prices).
pub fn log_returns(prices: &[f64]) -> Result<Vec<f64>, RiskError> {
    if let Some(index) = prices.iter().position(|p| !(p.is_finite() && *p > 0.0)) {
        return Err(RiskError::InvalidValue {
            what: "price",
            index,
            value: prices[index],
        });
    }
    Ok(prices.windows(2).map(|w| (w[1] / w[0]).ln()).collect())
}

/// Historical VaR and ES over `horizon_ms` from `log_returns` sampled every
/// `interval_ms`: the losses `1 - e^R` of every overlapping window of
/// `horizon_ms / interval_ms` consecutive returns, with the ordering rule of
/// the [module documentation](self).
///
/// Errors: [`RiskError::InvalidHorizon`] when the horizon is 0, shorter
/// than the interval or not a whole number of intervals;
/// [`RiskError::NotEnoughData`] with fewer than `ceil(1 / (1 - c))` windows
/// (`needed` and `have` count returns).
pub fn historical(
    log_returns: &[f64],
    interval_ms: u64,
    horizon_ms: u64,
    confidence: f64,
) -> Result<VarEs, RiskError> {
    let steps = window_steps(interval_ms, horizon_ms)?;
    check_confidence(confidence)?;
    check_finite("log return", log_returns)?;
    let needed = min_sample(confidence) + steps - 1;
    if log_returns.len() < needed {
        return Err(RiskError::NotEnoughData {
            needed,
            have: log_returns.len(),
        });
    }
    let mut losses: Vec<f64> = window_sums(log_returns, steps)
        .into_iter()
        .map(|sum| -sum.exp_m1())
        .collect();
    Ok(tail_var_es(&mut losses, confidence))
}

/// VaR and ES of a normal loss model: a horizon return with mean
/// `mean * periods` and standard deviation `stdev * sqrt(periods)` (the
/// per-period `mean` and `stdev` of simple returns, or of P&L in value):
/// `VaR = z stdev sqrt(t) - mean t` and
/// `ES = stdev sqrt(t) phi(z) / (1 - c) - mean t`, with
/// `z = Phi^-1(confidence)` and `t = periods`.
pub fn normal_var_es(
    mean: f64,
    stdev: f64,
    periods: f64,
    confidence: f64,
) -> Result<VarEs, RiskError> {
    check_confidence(confidence)?;
    if !mean.is_finite() {
        return Err(invalid("mean", format!("{mean} is not finite")));
    }
    if !(stdev.is_finite() && stdev >= 0.0) {
        return Err(invalid("stdev", format!("{stdev} is not finite and >= 0")));
    }
    if !(periods.is_finite() && periods > 0.0) {
        return Err(invalid("periods", format!("{periods} is not positive")));
    }
    let z = inverse_normal_cdf(confidence);
    let spread = stdev * periods.sqrt();
    let drift = mean * periods;
    Ok(VarEs {
        var: z * spread - drift,
        es: spread * normal_pdf(z) / (1.0 - confidence) - drift,
    })
}

/// Parametric (delta-normal) VaR and ES over `horizon_ms`: the sample mean
/// and standard deviation (`n - 1`) of the simple returns `e^r - 1` of
/// `log_returns`, scaled by `t = horizon_ms / interval_ms` in
/// [`normal_var_es`]. Any positive horizon works (also below the interval);
/// at least 2 returns are needed.
pub fn parametric(
    log_returns: &[f64],
    interval_ms: u64,
    horizon_ms: u64,
    confidence: f64,
) -> Result<VarEs, RiskError> {
    let periods = periods(interval_ms, horizon_ms)?;
    check_confidence(confidence)?;
    check_finite("log return", log_returns)?;
    if log_returns.len() < 2 {
        return Err(RiskError::NotEnoughData {
            needed: 2,
            have: log_returns.len(),
        });
    }
    let simple: Vec<f64> = log_returns.iter().map(|r| r.exp_m1()).collect();
    let (mean, stdev) = mean_stdev(&simple);
    normal_var_es(mean, stdev, periods, confidence)
}

/// Monte Carlo VaR and ES over `horizon_ms`: fit a [`JumpDiffusion`] to
/// `log_returns` (with `config.jump_threshold`, stressed if
/// `config.stressed`) and apply [`monte_carlo_model`].
pub fn monte_carlo(
    log_returns: &[f64],
    interval_ms: u64,
    horizon_ms: u64,
    confidence: f64,
    config: &MonteCarloConfig,
) -> Result<VarEs, RiskError> {
    config.validate()?;
    check_horizon(horizon_ms)?;
    check_confidence(confidence)?;
    let model = config.model(log_returns, interval_ms)?;
    monte_carlo_model(&model, horizon_ms, confidence, config.paths, config.seed)
}

/// Monte Carlo VaR and ES of `model` over `horizon_ms`: `paths` horizon log
/// returns sampled exactly ([`JumpDiffusion::simulate_horizon_returns`]
/// with one substep, seeded with `seed`) and [`sample_var_es`].
pub fn monte_carlo_model(
    model: &JumpDiffusion,
    horizon_ms: u64,
    confidence: f64,
    paths: usize,
    seed: u64,
) -> Result<VarEs, RiskError> {
    check_horizon(horizon_ms)?;
    check_confidence(confidence)?;
    let needed = min_sample(confidence);
    if paths < needed {
        return Err(RiskError::NotEnoughData {
            needed,
            have: paths,
        });
    }
    let samples = model.simulate_horizon_returns(horizon_ms, paths, seed, 1)?;
    sample_var_es(&samples, confidence)
}

/// Empirical VaR and ES of a sample of horizon log returns (losses
/// `1 - e^R`), with the ordering rule of the [module documentation](self).
pub fn sample_var_es(horizon_log_returns: &[f64], confidence: f64) -> Result<VarEs, RiskError> {
    check_confidence(confidence)?;
    check_finite("log return", horizon_log_returns)?;
    let needed = min_sample(confidence);
    if horizon_log_returns.len() < needed {
        return Err(RiskError::NotEnoughData {
            needed,
            have: horizon_log_returns.len(),
        });
    }
    let mut losses: Vec<f64> = horizon_log_returns.iter().map(|r| -r.exp_m1()).collect();
    Ok(tail_var_es(&mut losses, confidence))
}

/// The report's risk table: one-hour and one-day horizons
/// ([`TABLE_HORIZONS_MS`]) at 95% and 99% ([`TABLE_CONFIDENCES`]), each
/// with the three methods. See [`risk_table_for`].
pub fn risk_table(
    series: Series<'_>,
    interval_ms: u64,
    config: &MonteCarloConfig,
) -> Result<RiskTable, RiskError> {
    risk_table_for(
        series,
        interval_ms,
        &TABLE_HORIZONS_MS,
        &TABLE_CONFIDENCES,
        config,
    )
}

/// A risk table for the given horizons and confidences, each with the three
/// methods.
///
/// The call fails on unusable input (a bad price or return, a zero
/// interval, a zero horizon, a confidence outside (0, 1), a bad Monte Carlo
/// setting, fewer than 2 returns). A single figure that cannot be computed
/// for a valid series (e.g. too little data for a one-day historical VaR,
/// or a horizon shorter than the interval) is listed in
/// [`RiskTable::unavailable`] instead. The model is fitted once; each
/// horizon is simulated once and serves every confidence.
pub fn risk_table_for(
    series: Series<'_>,
    interval_ms: u64,
    horizons_ms: &[u64],
    confidences: &[f64],
    config: &MonteCarloConfig,
) -> Result<RiskTable, RiskError> {
    if interval_ms == 0 {
        return Err(RiskError::InvalidInterval);
    }
    for &horizon_ms in horizons_ms {
        check_horizon(horizon_ms)?;
    }
    for &confidence in confidences {
        check_confidence(confidence)?;
    }
    config.validate()?;
    let returns = series.log_returns()?;
    if returns.len() < 2 {
        return Err(match series {
            Series::Prices(prices) => RiskError::NotEnoughData {
                needed: 3,
                have: prices.len(),
            },
            Series::LogReturns(returns) => RiskError::NotEnoughData {
                needed: 2,
                have: returns.len(),
            },
        });
    }
    let model = config.model(&returns, interval_ms);
    let mut table = RiskTable {
        interval_ms,
        returns: returns.len(),
        monte_carlo: config.clone(),
        model: model.as_ref().ok().copied(),
        figures: Vec::new(),
        unavailable: Vec::new(),
    };
    for &horizon_ms in horizons_ms {
        let samples = model.clone().and_then(|model| {
            model.simulate_horizon_returns(horizon_ms, config.paths, config.seed, 1)
        });
        for &confidence in confidences {
            for method in RiskMethod::ALL {
                let result = match method {
                    RiskMethod::Historical => {
                        historical(&returns, interval_ms, horizon_ms, confidence)
                    }
                    RiskMethod::Parametric => {
                        parametric(&returns, interval_ms, horizon_ms, confidence)
                    }
                    RiskMethod::MonteCarlo => samples
                        .as_ref()
                        .map_err(Clone::clone)
                        .and_then(|samples| sample_var_es(samples, confidence)),
                };
                match result {
                    Ok(VarEs { var, es }) => table.figures.push(RiskFigure {
                        method,
                        horizon_ms,
                        confidence,
                        var,
                        es,
                    }),
                    Err(error) => table.unavailable.push(UnavailableFigure {
                        method,
                        horizon_ms,
                        confidence,
                        reason: error.to_string(),
                    }),
                }
            }
        }
    }
    Ok(table)
}

/// Refuse a zero horizon.
pub(crate) fn check_horizon(horizon_ms: u64) -> Result<(), RiskError> {
    if horizon_ms == 0 {
        Err(RiskError::InvalidHorizon {
            horizon_ms,
            reason: "must be positive".into(),
        })
    } else {
        Ok(())
    }
}

/// `horizon_ms / interval_ms` as a real number of periods (both positive).
pub(crate) fn periods(interval_ms: u64, horizon_ms: u64) -> Result<f64, RiskError> {
    if interval_ms == 0 {
        return Err(RiskError::InvalidInterval);
    }
    check_horizon(horizon_ms)?;
    Ok(horizon_ms as f64 / interval_ms as f64)
}

/// The number of returns in a historical window: the horizon must be a
/// positive whole number of intervals.
pub(crate) fn window_steps(interval_ms: u64, horizon_ms: u64) -> Result<usize, RiskError> {
    if interval_ms == 0 {
        return Err(RiskError::InvalidInterval);
    }
    check_horizon(horizon_ms)?;
    if horizon_ms < interval_ms {
        return Err(RiskError::InvalidHorizon {
            horizon_ms,
            reason: format!("shorter than the sampling interval of {interval_ms} ms"),
        });
    }
    if !horizon_ms.is_multiple_of(interval_ms) {
        return Err(RiskError::InvalidHorizon {
            horizon_ms,
            reason: format!("not a whole number of {interval_ms} ms intervals"),
        });
    }
    usize::try_from(horizon_ms / interval_ms).map_err(|_| RiskError::InvalidHorizon {
        horizon_ms,
        reason: "too many intervals".into(),
    })
}

/// Sums of every window of `steps` consecutive values (overlapping, in
/// order): the values themselves for one step, otherwise differences of
/// prefix sums (rounding of the order of 1e-16 times the largest prefix
/// sum). `values.len() >= steps >= 1`.
pub(crate) fn window_sums(values: &[f64], steps: usize) -> Vec<f64> {
    if steps == 1 {
        return values.to_vec();
    }
    let mut prefix = Vec::with_capacity(values.len() + 1);
    prefix.push(0.0);
    let mut total = 0.0;
    for value in values {
        total += value;
        prefix.push(total);
    }
    (0..=values.len() - steps)
        .map(|start| prefix[start + steps] - prefix[start])
        .collect()
}

/// `ceil(x)`, except that `x` within 1e-9 (relative) of a whole number is
/// that number: `100 * (1 - 0.95)` is 5, not 6.
fn tolerant_ceil(x: f64) -> f64 {
    let rounded = x.round();
    if (x - rounded).abs() <= 1e-9 * x.abs().max(1.0) {
        rounded
    } else {
        x.ceil()
    }
}

/// The fewest losses an empirical VaR at `confidence` accepts:
/// `ceil(1 / (1 - c))`.
pub(crate) fn min_sample(confidence: f64) -> usize {
    (tolerant_ceil(1.0 / (1.0 - confidence)) as usize).max(1)
}

/// VaR and ES of `losses` (reordered, worst first): the `k`-th worst loss
/// and the mean of the `k` worst, `k = ceil(n (1 - c))` clamped to
/// `[1, n]`. `losses` is not empty.
pub(crate) fn tail_var_es(losses: &mut [f64], confidence: f64) -> VarEs {
    losses.sort_unstable_by(|a, b| b.total_cmp(a));
    let n = losses.len();
    let k = (tolerant_ceil(n as f64 * (1.0 - confidence)) as usize).clamp(1, n);
    let tail = &losses[..k];
    VarEs {
        var: tail[k - 1],
        es: tail.iter().sum::<f64>() / k as f64,
    }
}

/// Sample mean and standard deviation (`n - 1`) of at least two values.
pub(crate) fn mean_stdev(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, variance.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_count_is_robust_to_rounding() {
        assert_eq!(min_sample(0.95), 20);
        assert_eq!(min_sample(0.99), 100);
        assert_eq!(min_sample(0.975), 40);
        let mut losses: Vec<f64> = (1..=100).map(f64::from).collect();
        // k = 5: the 5th worst is 96, the mean of the 5 worst 98.
        assert_eq!(
            tail_var_es(&mut losses, 0.95),
            VarEs {
                var: 96.0,
                es: 98.0
            }
        );
    }

    #[test]
    fn window_sums_overlap() {
        assert_eq!(window_sums(&[1.0, 2.0, 3.0, 4.0], 2), [3.0, 5.0, 7.0]);
        assert_eq!(window_sums(&[1.0, 2.0], 2), [3.0]);
        assert_eq!(window_sums(&[0.1, 0.7], 1), [0.1, 0.7]);
    }
}
