//! What the deployment loop executes against: a [`Venue`] shows each tick
//! its block and candles and executes the accepted actions. The backtest
//! crate's simulated markets, and the EVM crate's live chain, are venues.

use stratbox_runtime::types::{Action, ActionId, ActionOutcome, BlockInfo, MarketCandle};

/// A market a run executes against, one candle per tick (or, live, one
/// scheduled tick at a time). The same loop
/// drives every venue, and it is the loop a live deployment runs: only the
/// venue and the oracle behind it change.
pub trait Venue: Send + 'static {
    /// Why the venue could not move to a candle.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Candles in the run, one tick each; `None` for a feed without an
    /// end (a live chain).
    fn candle_count(&self) -> Option<usize>;

    /// Move to candle `index`; the block and candles the tick shows.
    fn begin_tick(&mut self, index: usize) -> Result<TickStart, Self::Error>;

    /// Execute the accepted action `id`; `None` for actions that move
    /// nothing.
    fn execute(&mut self, id: ActionId, action: &Action) -> Option<ActionOutcome>;

    /// Outcomes of earlier actions that became known since the last call:
    /// a live venue's transactions whose result was unknown when they were
    /// executed (a lost answer, a slow receipt). A simulated venue knows
    /// every outcome at once and settles nothing later.
    fn settle(&mut self) -> Vec<(ActionId, ActionOutcome)> {
        Vec::new()
    }
}

/// What a tick shows the strategy besides the outcomes of earlier actions.
#[derive(Debug, Clone, PartialEq)]
pub struct TickStart {
    /// The block (simulated step).
    pub block: BlockInfo,
    /// The candles that closed at this tick.
    pub candles: Vec<MarketCandle>,
}
