//! Parameter optimisation of stratbox strategies, independent of how a
//! backtest is set up: the caller supplies an [`Evaluator`] (a strategy
//! config and a range of candles in, a [`BacktestReport`] out) and this
//! crate decides what to run, in parallel, and what the results mean.
//!
//! - [`search()`]: a grid over [`Space`] (every combination), a seeded random
//!   search, or a model-based search (TPE, the Tree-structured Parzen
//!   Estimator of the `tpe` crate) for spaces too large for a grid; trials
//!   ranked by an [`Objective`], those with failed ticks marked and not
//!   ranked.
//! - [`walk_forward()`]: rolling or anchored in-sample windows, each
//!   optimised on its own candles only, the best config evaluated on the
//!   out-of-sample window that follows; the out-of-sample equity curves
//!   stitched into one (each window starting where the previous ended) with
//!   its metrics, the walk-forward efficiency and the stability of the
//!   chosen parameters across windows.
//! - [`robustness()`]: Monte Carlo of one backtest: the order of its trades
//!   permuted and its per-candle returns bootstrapped (optionally in
//!   blocks), seeded; percentiles of total return and maximum drawdown and
//!   the probability of a loss.
//! - [`html`]: self-contained HTML pages (inline SVG, no scripts): a
//!   heatmap of the objective over two parameters, the walk-forward
//!   parameter-stability view, the Monte Carlo distributions.

mod error;
pub mod html;
mod objective;
mod parallel;
pub mod robustness;
mod search;
mod space;
mod svg;
pub mod walk_forward;

use std::ops::Range;

pub use error::{BoxError, OptimizeError, SpaceError};
pub use objective::Objective;
pub use parallel::{default_jobs, parallel_map};
pub use robustness::{MonteCarloConfig, Robustness, robustness};
pub use search::{Method, SearchConfig, SearchResult, Trial, rank, search};
pub use space::{Domain, Param, Space};
pub use stratbox_backtest::report::BacktestReport;
pub use walk_forward::{Length, WalkForward, WalkForwardConfig, walk_forward};

/// How a config is backtested: the caller's side of every search.
///
/// Implemented for closures `Fn(&Value, Range<usize>) -> Result<BacktestReport, BoxError>`.
/// Called from several threads at once.
pub trait Evaluator: Sync {
    /// Backtest the strategy under `config` (a JSON object) over the
    /// driving tape's candles `candles` (indices, end excluded) from a
    /// fresh deployment and account. A run stopped at a failed tick is
    /// still a report (`stopped` set, the failure listed): searches rank
    /// only runs without failed ticks. An `Err` aborts the search.
    fn evaluate(
        &self,
        config: &serde_json::Value,
        candles: Range<usize>,
    ) -> Result<BacktestReport, BoxError>;
}

impl<F> Evaluator for F
where
    F: Fn(&serde_json::Value, Range<usize>) -> Result<BacktestReport, BoxError> + Sync,
{
    fn evaluate(
        &self,
        config: &serde_json::Value,
        candles: Range<usize>,
    ) -> Result<BacktestReport, BoxError> {
        self(config, candles)
    }
}
