//! VaR of a multi-asset portfolio in quote value, for policy rules.
//!
//! The portfolio holds `values[i]` (quote value, negative for a short) of
//! asset `i`, whose log returns `returns[i]` are aligned: the same length,
//! entry `t` of every series covering the same interval. Holdings are kept
//! (buy and hold) over the horizon.
//!
//! - Historical: for every overlapping window of `horizon / interval`
//!   returns, the portfolio P&L `sum_i values[i] (e^(R_i) - 1)` with `R_i`
//!   asset `i`'s log return over the window; VaR and ES by the ordering rule
//!   of [`crate::var`].
//! - Parametric (delta-normal): per-interval simple returns `e^r - 1`,
//!   their mean vector `mu` and sample covariance matrix `S` (`n - 1`);
//!   P&L mean `v.mu` and variance `v' S v`, scaled to the horizon as in
//!   [`normal_var_es`].
//! - Monte Carlo is not supported ([`RiskError::Unsupported`]): it would
//!   need a joint model of the assets' jumps (which move together in a
//!   crash), which the one-asset [`crate::JumpDiffusion`] does not give.

use crate::error::{check_confidence, check_finite};
use crate::var::{min_sample, normal_var_es, periods, tail_var_es, window_steps, window_sums};
use crate::{RiskError, RiskMethod, VarEs};

/// VaR of the portfolio over `horizon_ms`, in quote value (a positive
/// loss). See [`portfolio_var_es`].
pub fn portfolio_var(
    values: &[f64],
    returns: &[&[f64]],
    method: RiskMethod,
    horizon_ms: u64,
    interval_ms: u64,
    confidence: f64,
) -> Result<f64, RiskError> {
    portfolio_var_es(values, returns, method, horizon_ms, interval_ms, confidence)
        .map(|figures| figures.var)
}

/// VaR and ES of the portfolio over `horizon_ms`, in quote value, by the
/// [module's](self) historical or parametric method.
///
/// Errors: [`RiskError::LengthMismatch`] when `values` and `returns` differ
/// in length or the series are not all the same length;
/// [`RiskError::NotEnoughData`] for an empty portfolio or too few returns
/// (as in [`crate::historical`] and [`crate::parametric`]);
/// [`RiskError::InvalidValue`] for a value or return that is not finite;
/// [`RiskError::Unsupported`] for [`RiskMethod::MonteCarlo`]; the horizon
/// and confidence errors of the one-asset functions.
pub fn portfolio_var_es(
    values: &[f64],
    returns: &[&[f64]],
    method: RiskMethod,
    horizon_ms: u64,
    interval_ms: u64,
    confidence: f64,
) -> Result<VarEs, RiskError> {
    if method == RiskMethod::MonteCarlo {
        return Err(RiskError::Unsupported {
            method,
            what: "portfolio VaR",
        });
    }
    check_confidence(confidence)?;
    if values.is_empty() {
        return Err(RiskError::NotEnoughData { needed: 1, have: 0 });
    }
    if returns.len() != values.len() {
        return Err(RiskError::LengthMismatch {
            what: "return series per asset value",
            expected: values.len(),
            found: returns.len(),
        });
    }
    let len = returns[0].len();
    if let Some(series) = returns.iter().find(|series| series.len() != len) {
        return Err(RiskError::LengthMismatch {
            what: "aligned return series",
            expected: len,
            found: series.len(),
        });
    }
    check_finite("value", values)?;
    for series in returns {
        check_finite("log return", series)?;
    }
    match method {
        RiskMethod::Historical => historical(values, returns, interval_ms, horizon_ms, confidence),
        _ => parametric(values, returns, interval_ms, horizon_ms, confidence),
    }
}

fn historical(
    values: &[f64],
    returns: &[&[f64]],
    interval_ms: u64,
    horizon_ms: u64,
    confidence: f64,
) -> Result<VarEs, RiskError> {
    let steps = window_steps(interval_ms, horizon_ms)?;
    let len = returns[0].len();
    let needed = min_sample(confidence) + steps - 1;
    if len < needed {
        return Err(RiskError::NotEnoughData { needed, have: len });
    }
    let windows = len - steps + 1;
    let mut losses = vec![0.0; windows];
    for (value, series) in values.iter().zip(returns) {
        for (loss, sum) in losses.iter_mut().zip(window_sums(series, steps)) {
            *loss -= value * sum.exp_m1();
        }
    }
    Ok(tail_var_es(&mut losses, confidence))
}

fn parametric(
    values: &[f64],
    returns: &[&[f64]],
    interval_ms: u64,
    horizon_ms: u64,
    confidence: f64,
) -> Result<VarEs, RiskError> {
    let periods = periods(interval_ms, horizon_ms)?;
    let len = returns[0].len();
    if len < 2 {
        return Err(RiskError::NotEnoughData {
            needed: 2,
            have: len,
        });
    }
    let simple: Vec<Vec<f64>> = returns
        .iter()
        .map(|series| series.iter().map(|r| r.exp_m1()).collect())
        .collect();
    let means: Vec<f64> = simple
        .iter()
        .map(|series| series.iter().sum::<f64>() / len as f64)
        .collect();
    let mut variance = 0.0;
    for (i, (a, mean_a)) in simple.iter().zip(&means).enumerate() {
        for (j, (b, mean_b)) in simple.iter().zip(&means).enumerate() {
            let covariance = a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - mean_a) * (y - mean_b))
                .sum::<f64>()
                / (len - 1) as f64;
            variance += values[i] * values[j] * covariance;
        }
    }
    let mean: f64 = values.iter().zip(&means).map(|(v, m)| v * m).sum();
    // Rounding can make a singular covariance's quadratic form slightly
    // negative.
    normal_var_es(mean, variance.max(0.0).sqrt(), periods, confidence)
}
