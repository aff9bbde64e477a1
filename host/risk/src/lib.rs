//! Risk figures for stratbox, pure math on plain `f64` slices:
//!
//! - [`var`]: value-at-risk (VaR) and expected shortfall (ES) of a price
//!   series over a horizon, three ways ([`RiskMethod`]): historical,
//!   parametric (normal) and Monte Carlo under a fitted jump-diffusion, and
//!   the full table a report shows ([`risk_table`]);
//! - [`jump`]: a Merton jump-diffusion ([`JumpDiffusion`]) fitted to log
//!   returns with a robust jump threshold, its "black swan" stress and a
//!   seeded sampler;
//! - [`study`]: the lending-position shortfall study ([`run_study`]): the
//!   probability that collateral under a (stressed) jump-diffusion falls to
//!   the debt, with Wilson confidence intervals and the loss distribution;
//! - [`portfolio`]: VaR of a multi-asset portfolio in quote value
//!   ([`portfolio_var`]), for policy rules.
//!
//! Conventions shared by every module:
//!
//! - inputs are **log returns** `ln(p[i+1] / p[i])` of prices sampled every
//!   `interval_ms` milliseconds ([`log_returns`] converts prices);
//! - VaR and ES are **positive loss fractions** of the position's value
//!   (0.053 = a 5.3% loss; a negative figure is a gain), or quote value where
//!   the function says so;
//! - a year is 365 days ([`YEAR_MS`]) and annual parameters follow the
//!   synthetic tapes of `stratbox-tape` (jump intensity in jumps per year,
//!   jump sizes as log sizes: ln(0.8) is a -20% jump);
//! - everything random is seeded with ChaCha20: the same inputs and seed give
//!   the same figures, bit for bit, whatever the number of threads.
//!
//! ```
//! use stratbox_risk::{
//!     DAY_MS, HOUR_MS, MonteCarloConfig, RiskMethod, Series, StudyConfig, risk_table, run_study,
//! };
//!
//! // Hourly closes.
//! let prices: Vec<f64> = (0..2_000)
//!     .map(|i| 100.0 * (1.0 + 0.02 * (f64::from(i) * 0.37).sin()))
//!     .collect();
//! let monte_carlo = MonteCarloConfig { paths: 10_000, ..MonteCarloConfig::default() };
//! let table = risk_table(Series::Prices(&prices), HOUR_MS, &monte_carlo)?;
//! if let Some(figure) = table.figure(RiskMethod::Historical, DAY_MS, 0.99) {
//!     println!("1-day 99% VaR: {:.1}% of value", 100.0 * figure.var);
//! }
//!
//! // A 70% LTV loan over a day of the stressed default model.
//! let study = run_study(&StudyConfig {
//!     initial_ltv: 0.7,
//!     liquidation_ltv: Some(0.8),
//!     paths: 10_000,
//!     ..StudyConfig::default()
//! })?;
//! let p = study.shortfall_any_time;
//! println!("P(shortfall) = {:.3} (95%: {:.3} to {:.3})", p.estimate, p.low, p.high);
//! # Ok::<(), stratbox_risk::RiskError>(())
//! ```

pub mod error;
pub mod jump;
pub mod normal;
pub mod portfolio;
pub mod study;
pub mod var;

pub use error::RiskError;
pub use jump::{JumpDiffusion, JumpFit};
pub use normal::{inverse_normal_cdf, normal_cdf, normal_pdf};
pub use portfolio::{portfolio_var, portfolio_var_es};
pub use study::{
    Histogram, Probability, StudyConfig, StudyResult, run_study, run_study_with_threads,
    wilson_interval,
};
pub use var::{
    MonteCarloConfig, RiskFigure, RiskMethod, RiskTable, Series, TABLE_CONFIDENCES,
    TABLE_HORIZONS_MS, UnavailableFigure, VarEs, historical, log_returns, monte_carlo,
    monte_carlo_model, normal_var_es, parametric, risk_table, risk_table_for, sample_var_es,
};

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// One hour, ms.
pub const HOUR_MS: u64 = 3_600_000;
/// One day, ms.
pub const DAY_MS: u64 = 24 * HOUR_MS;
/// One year of 365 days, ms (the unit of annualized parameters).
pub const YEAR_MS: u64 = 365 * DAY_MS;

/// `ms` as a fraction of a year.
pub(crate) fn years(ms: u64) -> f64 {
    ms as f64 / YEAR_MS as f64
}

/// Simulated paths per seeded chunk: chunk `c` of a run seeded `seed` draws
/// from ChaCha20 seeded with `seed` on stream `c`, so results do not depend
/// on how chunks are spread over threads.
pub(crate) const CHUNK_PATHS: usize = 4096;

/// The random stream of chunk `chunk` of a run seeded `seed`.
pub(crate) fn chunk_rng(seed: u64, chunk: usize) -> ChaCha20Rng {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    rng.set_stream(chunk as u64);
    rng
}
