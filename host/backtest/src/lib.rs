//! Runs a stratbox deployment over a market tape.
//!
//! The deployment loop is the runtime's own: each candle becomes a tick,
//! accepted actions go to a venue, and their outcomes come back to the
//! strategy at the next tick. The venue here is a paper venue (fills at
//! the candle close by default, a flat fee); simulated AMM, lending and
//! vault venues replace it in the backtesting engine ([`Backtest`], which
//! stops at the first failed tick unless told to continue, lists every
//! failure in its report, and compares the run with buying and holding).
//! Both venues execute accepted actions as their [`FillModel`] says: at
//! the close of the candle the strategy saw (the default), at the next
//! candle's open, or at the close N ticks later.

mod backtest;
mod benchmark;
mod curve;
mod fill;
mod format;
mod market;
pub mod metrics;
mod paper;
pub mod report;
pub mod risk;
mod series;
pub mod sim;

pub use backtest::{Backtest, BacktestError, DEFAULT_COMMIT_EVERY, FailedTick};
pub use fill::{FillModel, NOT_FILLED_BEFORE_END, ParseFillModelError};
pub use market::{
    MarketOracle, PaperMarket, PaperMarketConfig, market_candles, tape_candle, wit_candle,
};
pub use metrics::{ClosedTrade, Metrics, MetricsInput, MetricsStream};
pub use paper::{PaperRun, PaperRunError, run_paper, run_paper_journaled};
// The loop is the engine's; re-exported for the callers of backtests.
pub use stratbox_engine::{NoJournal, Run, RunError, Runner, TickRecord, TickStart, Venue, run};
