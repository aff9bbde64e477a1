//! The market the benchmarks replay: seeded synthetic candles or the
//! bundled real ones, tick inputs carrying one candle each, and paper fills
//! of the swaps a strategy emits.

use std::path::Path;

use stratbox_backtest::wit_candle;
use stratbox_runtime::TickInput;
use stratbox_runtime::types::{
    ActionOutcome, AssetAmount, BlockInfo, Candle, Failure, Fill, MarketCandle,
};
use stratbox_tape::SyntheticConfig;

use crate::BenchError;

/// The market every benchmark trades, as the strategies' configs name it.
pub const MARKET: &str = "ETH/BTC";

/// Seed of the synthetic tapes: every run replays the same candles.
pub const SEED: u64 = 8;

/// `count` seeded synthetic candles (geometric Brownian motion with jumps,
/// 5-minute candles) of [`MARKET`].
pub fn synthetic_candles(count: usize) -> Result<Vec<Candle>, BenchError> {
    let tape = stratbox_tape::generate(&SyntheticConfig::new(MARKET, count, SEED))?;
    Ok(tape.candles().iter().map(wit_candle).collect())
}

/// The real candles of a tape CSV file (e.g. `data/ETH_BTC-5m.csv`), as
/// [`MARKET`] candles.
pub fn csv_candles(path: &Path) -> Result<Vec<Candle>, BenchError> {
    let tape = stratbox_tape::load_csv(path, MARKET)?;
    Ok(tape.candles().iter().map(wit_candle).collect())
}

/// Tick `sequence`: the block at the candle's time and the candle itself.
pub fn tick_input(sequence: u64, candle: Candle) -> TickInput {
    TickInput {
        block: BlockInfo {
            chain_id: 0,
            number: sequence,
            timestamp_ms: candle.timestamp_ms,
        },
        candles: vec![MarketCandle {
            market: MARKET.to_owned(),
            candle,
        }],
        results: Vec::new(),
    }
}

/// Decimals of the assets of [`MARKET`].
fn decimals(asset: &str) -> Option<i32> {
    match asset {
        "ETH" => Some(18),
        "BTC" => Some(8),
        _ => None,
    }
}

/// A swap accepted by the policy, as the paper venue fills it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// The id the strategy was given.
    pub id: u64,
    /// Asset sold.
    pub sell: String,
    /// Asset bought.
    pub buy: String,
    /// Base units sold (exact-in swaps; other actions fail at the venue).
    pub amount_in: Option<u128>,
}

impl Order {
    /// A swap selling `sell` for `buy`; `exact_in` is the amount sold of an
    /// exact-in swap.
    pub fn swap(id: u64, sell: &str, buy: &str, exact_in: Option<u128>) -> Order {
        Order {
            id,
            sell: sell.to_owned(),
            buy: buy.to_owned(),
            amount_in: exact_in,
        }
    }

    /// Any other action: the paper venue fails it.
    pub fn other(id: u64) -> Order {
        Order::swap(id, "", "", None)
    }

    /// Fill the order at `close` (ETH priced in BTC), without fees or
    /// slippage; anything but an exact-in swap of the market's assets fails.
    pub fn fill(&self, close: f64) -> ActionOutcome {
        let (Some(amount), Some(sell_decimals), Some(buy_decimals)) =
            (self.amount_in, decimals(&self.sell), decimals(&self.buy))
        else {
            return ActionOutcome::Failed(Failure {
                code: "UNSUPPORTED".into(),
                reason: "the paper venue fills exact-in ETH/BTC swaps only".into(),
                tx_hash: None,
            });
        };
        let sold = amount as f64 / 10f64.powi(sell_decimals);
        let bought = if self.sell == "BTC" {
            sold / close
        } else {
            sold * close
        };
        let received = (bought * 10f64.powi(buy_decimals)) as u128;
        let asset_amount = |asset: &str, units: u128| AssetAmount {
            asset: asset.to_owned(),
            amount: units.into(),
        };
        ActionOutcome::Filled(Fill {
            spent: vec![asset_amount(&self.sell, amount)],
            received: vec![asset_amount(&self.buy, received)],
            fees: Vec::new(),
            gas: None,
            tx_hash: None,
            position: None,
        })
    }
}
