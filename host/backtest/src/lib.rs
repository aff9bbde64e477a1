//! Runs a stratbox deployment over a market tape.
//!
//! The deployment loop is the runtime's own: each candle becomes a tick,
//! accepted actions go to a venue, and their outcomes come back to the
//! strategy at the next tick. The venue here is a paper venue (instant fills
//! at the candle close, a flat fee); simulated AMM, lending and vault venues
//! replace it in the backtesting engine ([`Backtest`], which stops at the
//! first failed tick unless told to continue, and lists every failure in
//! its report).

mod backtest;
mod curve;
mod market;
pub mod metrics;
mod paper;
pub mod report;
pub mod sim;

pub use backtest::{Backtest, BacktestError, DEFAULT_COMMIT_EVERY, FailedTick};
pub use market::{
    MarketOracle, PaperMarket, PaperMarketConfig, market_candles, tape_candle, wit_candle,
};
pub use metrics::{ClosedTrade, Metrics, MetricsInput, MetricsStream};
pub use paper::{PaperRun, PaperRunError, run_paper, run_paper_journaled};
// The loop is the engine's; re-exported for the callers of backtests.
pub use stratbox_engine::{NoJournal, Run, RunError, Runner, TickRecord, TickStart, Venue, run};
