//! Seeded synthetic tapes: geometric Brownian motion with Merton jumps,
//! and a stress mode that multiplies the jump frequency.
//!
//! Per sub-step of length `dt` (years), the log price moves by
//! `(mu - sigma^2/2 - lambda*k) dt + sigma sqrt(dt) Z + sum of N jumps`,
//! with `Z ~ N(0,1)`, `N ~ Poisson(lambda dt)`, jump log-sizes
//! `~ N(jump_mean, jump_stdev)` and `k = E[e^J] - 1` (so `mu` stays the
//! expected return). Candles are built from `substeps` sub-steps: open is
//! the first price, close the last, high/low the extremes.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rand_distr::{Distribution, LogNormal, Normal, Poisson};
use serde::{Deserialize, Serialize};

use crate::{Candle, Tape, TapeError};

const YEAR_MS: f64 = 365.0 * 24.0 * 3_600_000.0;

/// Parameters of a synthetic tape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyntheticConfig {
    /// Market name of the tape.
    pub market: String,
    /// First open price.
    pub start_price: f64,
    /// Open time of the first candle, ms since the epoch.
    pub start_ms: u64,
    /// Candle length, ms.
    pub interval_ms: u64,
    /// Number of candles.
    pub candles: usize,
    /// Annual drift (0.05 = 5%).
    pub drift: f64,
    /// Annual volatility (0.8 = 80%).
    pub volatility: f64,
    /// Expected jumps per year.
    pub jump_intensity: f64,
    /// Mean log-size of a jump (ln(0.8) is a -20% jump).
    pub jump_mean: f64,
    /// Standard deviation of the log-size of a jump.
    pub jump_stdev: f64,
    /// Sub-steps per candle (for high and low).
    pub substeps: u32,
    /// Random seed: same seed, same tape.
    pub seed: u64,
}

impl SyntheticConfig {
    /// Crypto-like defaults: 5-minute candles, 80% volatility, a few jumps a
    /// year.
    pub fn new(market: &str, candles: usize, seed: u64) -> Self {
        SyntheticConfig {
            market: market.to_owned(),
            start_price: 100.0,
            start_ms: 1_700_000_000_000,
            interval_ms: 300_000,
            candles,
            drift: 0.0,
            volatility: 0.8,
            jump_intensity: 4.0,
            jump_mean: -0.05,
            jump_stdev: 0.1,
            substeps: 4,
            seed,
        }
    }

    /// The stress scenario of the ALEX risk framework: 100 times the jump
    /// frequency, every jump -20%.
    pub fn stressed(mut self) -> Self {
        self.jump_intensity *= 100.0;
        self.jump_mean = 0.8f64.ln();
        self.jump_stdev = 0.0;
        self
    }
}

/// Why a synthetic tape could not be generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyntheticError {
    /// A parameter is out of range.
    #[error("invalid synthetic tape parameter {name}: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// The generated candles failed validation (e.g. prices underflowed).
    #[error("generated tape is invalid")]
    Invalid(#[from] TapeError),
}

fn invalid(name: &'static str, reason: impl Into<String>) -> SyntheticError {
    SyntheticError::InvalidParameter {
        name,
        reason: reason.into(),
    }
}

/// Generate a tape. The same config (seed included) gives the same candles,
/// bit for bit, on the same platform.
pub fn generate(config: &SyntheticConfig) -> Result<Tape, SyntheticError> {
    if !(config.start_price.is_finite() && config.start_price > 0.0) {
        return Err(invalid("start_price", "must be positive"));
    }
    if config.interval_ms == 0 || config.substeps == 0 || config.candles == 0 {
        return Err(invalid("interval_ms/substeps/candles", "must be positive"));
    }
    if !(config.volatility.is_finite() && config.volatility >= 0.0) {
        return Err(invalid("volatility", "must be finite and non-negative"));
    }
    if !(config.jump_intensity.is_finite() && config.jump_intensity >= 0.0) {
        return Err(invalid("jump_intensity", "must be finite and non-negative"));
    }
    let dt = config.interval_ms as f64 / f64::from(config.substeps) / YEAR_MS;
    let normal = Normal::new(0.0, 1.0).map_err(|e| invalid("volatility", e.to_string()))?;
    let jump_size = Normal::new(config.jump_mean, config.jump_stdev)
        .map_err(|e| invalid("jump_stdev", e.to_string()))?;
    let jumps = (config.jump_intensity > 0.0)
        .then(|| Poisson::new(config.jump_intensity * dt))
        .transpose()
        .map_err(|e| invalid("jump_intensity", e.to_string()))?;
    let volume = LogNormal::new(3.0, 1.0).map_err(|e| invalid("volume", e.to_string()))?;
    // E[e^J] - 1: compensates the drift so jumps do not bias the mean.
    let k = (config.jump_mean + config.jump_stdev * config.jump_stdev / 2.0).exp() - 1.0;
    let sigma = config.volatility;
    let step_drift = (config.drift - sigma * sigma / 2.0 - config.jump_intensity * k) * dt;
    let step_scale = sigma * dt.sqrt();

    let mut rng = ChaCha20Rng::seed_from_u64(config.seed);
    let mut price = config.start_price;
    let mut candles = Vec::with_capacity(config.candles);
    for index in 0..config.candles {
        let open = price;
        let (mut high, mut low) = (open, open);
        for _ in 0..config.substeps {
            let mut log_move = step_drift + step_scale * normal.sample(&mut rng);
            if let Some(jumps) = &jumps {
                let count = jumps.sample(&mut rng) as u64;
                for _ in 0..count {
                    log_move += jump_size.sample(&mut rng);
                }
            }
            price *= log_move.exp();
            high = high.max(price);
            low = low.min(price);
        }
        candles.push(Candle {
            timestamp_ms: config.start_ms + index as u64 * config.interval_ms,
            open,
            high,
            low,
            close: price,
            volume: volume.sample(&mut rng),
        });
    }
    Ok(Tape::new(config.market.clone(), candles)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_tape_other_seed_other_tape() {
        let config = SyntheticConfig::new("SYN/USD", 2_000, 7);
        let a = generate(&config).unwrap();
        let b = generate(&config).unwrap();
        assert_eq!(a.candles(), b.candles());
        let c = generate(&SyntheticConfig { seed: 8, ..config }).unwrap();
        assert_ne!(a.candles(), c.candles());
        assert_eq!(a.interval_ms(), Some(300_000));
    }

    #[test]
    fn candles_are_valid_ohlc() {
        let tape = generate(&SyntheticConfig::new("SYN/USD", 5_000, 1)).unwrap();
        for c in tape.candles() {
            assert!(c.low <= c.open && c.open <= c.high);
            assert!(c.low <= c.close && c.close <= c.high);
            assert!(c.low > 0.0 && c.volume > 0.0);
        }
    }

    /// Count candles whose close fell more than 15% below their open.
    fn crashes(tape: &Tape) -> usize {
        tape.candles()
            .iter()
            .filter(|c| c.close < c.open * 0.85)
            .count()
    }

    #[test]
    fn stress_mode_multiplies_the_jumps() {
        // A year of hourly candles with calm diffusion, so only jumps crash.
        let base = SyntheticConfig {
            interval_ms: 3_600_000,
            candles: 24 * 365,
            volatility: 0.2,
            jump_intensity: 2.0,
            ..SyntheticConfig::new("SYN/USD", 0, 42)
        };
        let calm = SyntheticConfig {
            jump_mean: 0.8f64.ln(),
            jump_stdev: 0.0,
            ..base.clone()
        };
        let calm = generate(&calm).unwrap();
        let stressed = generate(&base.stressed()).unwrap();
        let (calm, stressed) = (crashes(&calm), crashes(&stressed));
        // Expected: ~2 crashes a year calm, ~200 stressed.
        assert!(calm <= 10, "{calm}");
        assert!((120..=300).contains(&stressed), "{stressed}");
    }

    #[test]
    fn bad_parameters_are_named() {
        let bad = SyntheticConfig {
            start_price: -1.0,
            ..SyntheticConfig::new("X", 10, 0)
        };
        assert!(matches!(
            generate(&bad),
            Err(SyntheticError::InvalidParameter {
                name: "start_price",
                ..
            })
        ));
    }
}
