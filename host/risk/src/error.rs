//! The crate's error type.

use crate::RiskMethod;

/// Why a risk figure could not be computed. Every variant is typed and
/// matchable; the message names the offending input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RiskError {
    /// The series (or the sample) is too short for the request.
    #[error("not enough data: {needed} values needed, {have} given")]
    NotEnoughData {
        /// How many values (returns, prices, paths) the request needs.
        needed: usize,
        /// How many were given.
        have: usize,
    },
    /// A confidence level is not strictly between 0 and 1.
    #[error("invalid confidence {confidence}: must be strictly between 0 and 1")]
    InvalidConfidence {
        /// The confidence given.
        confidence: f64,
    },
    /// A horizon cannot be used with the series' sampling interval.
    #[error("invalid horizon {horizon_ms} ms: {reason}")]
    InvalidHorizon {
        /// The horizon, ms.
        horizon_ms: u64,
        /// Why it cannot be used (e.g. shorter than the sampling interval).
        reason: String,
    },
    /// The sampling interval is zero.
    #[error("invalid sampling interval: must be positive")]
    InvalidInterval,
    /// A value of an input series is unusable (not finite, or a price that
    /// is not positive).
    #[error("invalid {what} at index {index}: {value}")]
    InvalidValue {
        /// What the series holds ("price", "log return", "value").
        what: &'static str,
        /// The position of the value in its series.
        index: usize,
        /// The value.
        value: f64,
    },
    /// A model or study parameter is out of range.
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Why it is refused.
        reason: String,
    },
    /// Inputs that must be aligned have different lengths.
    #[error("length mismatch in {what}: expected {expected}, found {found}")]
    LengthMismatch {
        /// What is misaligned.
        what: &'static str,
        /// The expected length.
        expected: usize,
        /// The length found.
        found: usize,
    },
    /// The method is not available for this computation.
    #[error("{method} is not supported for {what}")]
    Unsupported {
        /// The method asked for.
        method: RiskMethod,
        /// The computation that does not support it.
        what: &'static str,
    },
    /// A risk method name could not be parsed.
    #[error("unknown risk method {name:?}: expected historical, parametric or monte_carlo")]
    UnknownMethod {
        /// The name given.
        name: String,
    },
}

/// `Err(InvalidParameter)` with `reason`.
pub(crate) fn invalid(name: &'static str, reason: impl Into<String>) -> RiskError {
    RiskError::InvalidParameter {
        name,
        reason: reason.into(),
    }
}

/// Check that `confidence` is strictly between 0 and 1.
pub(crate) fn check_confidence(confidence: f64) -> Result<(), RiskError> {
    if confidence > 0.0 && confidence < 1.0 {
        Ok(())
    } else {
        Err(RiskError::InvalidConfidence { confidence })
    }
}

/// Check that every value of `series` is finite.
pub(crate) fn check_finite(what: &'static str, series: &[f64]) -> Result<(), RiskError> {
    match series.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(RiskError::InvalidValue {
            what,
            index,
            value: series[index],
        }),
        None => Ok(()),
    }
}
