//! The live chain as a [`Venue`] of the one deployment loop
//! ([`stratbox_engine::Runner`]): each tick reads the chain at the latest
//! block into the oracle's view and shows the next candle; each accepted
//! action goes through the [`Executor`]. The loop is synchronous; chain I/O
//! runs on a tokio runtime through its handle, so a venue must be driven
//! from outside that runtime's worker threads (a plain or blocking thread).

use std::sync::{Arc, Mutex, PoisonError};

use stratbox_engine::{TickStart, Venue};
use stratbox_runtime::types::{Action, ActionId, ActionOutcome, Candle, MarketCandle};
use tokio::runtime::Handle;

use crate::error::ChainError;
use crate::execute::Executor;
use crate::oracle::{ChainOracle, LiveState};
use crate::quote::spot_price;
use crate::view::ChainView;

/// Where a live deployment's candles come from.
#[derive(Debug, Clone, PartialEq)]
pub enum CandleFeed {
    /// Given candles in order: tick `i` shows candle `i` (tests, or a
    /// signal computed off-chain).
    Tape {
        /// Market name the strategy asks for.
        market: String,
        /// The candles.
        candles: Vec<Candle>,
    },
    /// One candle per tick at a configured pool's spot price.
    PoolPrice {
        /// Market name the strategy asks for.
        market: String,
        /// Pool name in the chain file.
        pool: String,
    },
}

/// Why a live tick could not start.
#[derive(Debug, thiserror::Error)]
pub enum LiveTickError {
    /// The chain could not be read.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// A tape feed has no candle for this tick.
    #[error("the candle feed has no candle {0}")]
    FeedExhausted(usize),
    /// The pool named by the feed is not in the chain file.
    #[error("the candle feed names pool `{0}`, which the chain file does not have")]
    UnknownPool(String),
}

/// A live EVM chain as the deployment loop's venue.
#[derive(Debug)]
pub struct EvmVenue {
    handle: Handle,
    executor: Executor,
    state: Arc<Mutex<LiveState>>,
    feed: CandleFeed,
    /// Released actions whose outcome is not known yet, oldest first.
    unsettled: Vec<(ActionId, Action)>,
}

impl EvmVenue {
    /// A venue executing through `executor`, and the oracle that reads what
    /// it fetched.
    pub fn new(handle: Handle, executor: Executor, feed: CandleFeed) -> (EvmVenue, ChainOracle) {
        let state = Arc::new(Mutex::new(LiveState::new(
            executor.chain().config().clone(),
        )));
        let oracle = ChainOracle(Arc::clone(&state));
        (
            EvmVenue {
                handle,
                executor,
                state,
                feed,
                unsettled: Vec::new(),
            },
            oracle,
        )
    }

    /// Actions released earlier whose outcome is not known: settled (and
    /// executed, if none of their own transactions was ever signed) from
    /// the next tick on. A resumed deployment hands over those its journal
    /// recorded without an outcome.
    pub fn with_unsettled(mut self, actions: Vec<(ActionId, Action)>) -> EvmVenue {
        self.unsettled = actions;
        self
    }

    /// Actions whose outcome is not known yet.
    pub fn unsettled(&self) -> &[(ActionId, Action)] {
        &self.unsettled
    }

    /// The executor (its chain and journal connection).
    pub fn executor(&self) -> &Executor {
        &self.executor
    }

    fn candle(&self, index: usize, view: &ChainView) -> Result<MarketCandle, LiveTickError> {
        match &self.feed {
            CandleFeed::Tape { market, candles } => Ok(MarketCandle {
                market: market.clone(),
                candle: *candles
                    .get(index)
                    .ok_or(LiveTickError::FeedExhausted(index))?,
            }),
            CandleFeed::PoolPrice { market, pool } => {
                let config = self.executor.chain().config();
                let (Some(snapshot), Some(pool_config)) =
                    (view.pools.get(pool), config.pools.get(pool))
                else {
                    return Err(LiveTickError::UnknownPool(pool.clone()));
                };
                let price = spot_price(
                    snapshot.sqrt_price_x96,
                    config.assets[&pool_config.token0].decimals,
                    config.assets[&pool_config.token1].decimals,
                );
                Ok(MarketCandle {
                    market: market.clone(),
                    candle: Candle {
                        timestamp_ms: view.block.timestamp_ms,
                        open: price,
                        high: price,
                        low: price,
                        close: price,
                        volume: 0.0,
                    },
                })
            }
        }
    }
}

impl Venue for EvmVenue {
    type Error = LiveTickError;

    fn candle_count(&self) -> Option<usize> {
        match &self.feed {
            CandleFeed::Tape { candles, .. } => Some(candles.len()),
            CandleFeed::PoolPrice { .. } => None,
        }
    }

    fn begin_tick(&mut self, index: usize) -> Result<TickStart, LiveTickError> {
        let view = self
            .handle
            .block_on(ChainView::fetch(self.executor.chain()))?;
        let candle = self.candle(index, &view)?;
        let block = view.block;
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.view = Some(view);
        state
            .history
            .entry(candle.market.clone())
            .or_default()
            .push(candle.candle);
        Ok(TickStart {
            block,
            candles: vec![candle],
        })
    }

    fn execute(&mut self, id: ActionId, action: &Action) -> Option<ActionOutcome> {
        let outcome = self.handle.block_on(self.executor.execute(id, action));
        if outcome.is_none() {
            self.unsettled.push((id, action.clone()));
        }
        outcome
    }

    fn settle(&mut self) -> Vec<(ActionId, ActionOutcome)> {
        let mut settled = Vec::new();
        let mut still = Vec::new();
        for (id, action) in std::mem::take(&mut self.unsettled) {
            match self.handle.block_on(self.executor.settle(id, &action)) {
                Ok(Some(outcome)) => settled.push((id, outcome)),
                Ok(None) => still.push((id, action)),
                Err(error) => {
                    tracing::warn!(action_id = id, %error, "could not settle the action; tried again at the next tick");
                    still.push((id, action));
                }
            }
        }
        self.unsettled = still;
        settled
    }
}
