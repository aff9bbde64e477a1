//! The live chain as a [`Venue`] of the one deployment loop
//! ([`stratbox_backtest::Runner`]): each tick reads the chain at the latest
//! block into the oracle's view and shows the next candle; each accepted
//! action goes through the [`Executor`]. The loop is synchronous; chain I/O
//! runs on a tokio runtime through its handle, so a venue must be driven
//! from outside that runtime's worker threads (a plain or blocking thread).

use std::sync::{Arc, Mutex, PoisonError};

use stratbox_backtest::{TickStart, Venue};
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
            },
            oracle,
        )
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

    fn ticks(&self) -> usize {
        match &self.feed {
            CandleFeed::Tape { candles, .. } => candles.len(),
            CandleFeed::PoolPrice { .. } => usize::MAX,
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
        Some(self.handle.block_on(self.executor.execute(id, action)))
    }
}
