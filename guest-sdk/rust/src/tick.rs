//! What a strategy receives each tick, with market names resolved.

use serde::Serialize;

use crate::types::{BlockInfo, Candle};

/// A candle that closed since the previous tick, for a market.
///
/// The market name is interned once per instance (inside a component, the
/// host sends a number and the SDK keeps each name it learns), so a tick
/// costs no allocation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MarketCandle {
    /// The market, e.g. `ETH/BTC`.
    pub market: &'static str,
    /// The candle.
    pub candle: Candle,
}

/// The candles that closed since the previous tick, in order. Usually one:
/// that one is held inline.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(into = "Vec<MarketCandle>")]
pub struct Candles {
    first: Option<MarketCandle>,
    rest: Vec<MarketCandle>,
}

impl Candles {
    /// No candle.
    pub const fn none() -> Self {
        Candles {
            first: None,
            rest: Vec::new(),
        }
    }

    /// Exactly one candle.
    pub const fn one(candle: MarketCandle) -> Self {
        Candles {
            first: Some(candle),
            rest: Vec::new(),
        }
    }

    /// How many candles closed.
    pub fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }

    /// Whether none did.
    pub fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    /// The candles in order.
    pub fn iter(&self) -> CandlesIter<'_> {
        self.first.iter().chain(self.rest.iter())
    }
}

/// Iterator over [`Candles`].
pub type CandlesIter<'a> =
    std::iter::Chain<std::option::Iter<'a, MarketCandle>, std::slice::Iter<'a, MarketCandle>>;

impl<'a> IntoIterator for &'a Candles {
    type Item = &'a MarketCandle;
    type IntoIter = CandlesIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl FromIterator<MarketCandle> for Candles {
    fn from_iter<I: IntoIterator<Item = MarketCandle>>(candles: I) -> Self {
        let mut candles = candles.into_iter();
        Candles {
            first: candles.next(),
            rest: candles.collect(),
        }
    }
}

impl From<Vec<MarketCandle>> for Candles {
    fn from(candles: Vec<MarketCandle>) -> Self {
        candles.into_iter().collect()
    }
}

impl From<Candles> for Vec<MarketCandle> {
    fn from(candles: Candles) -> Self {
        candles.iter().copied().collect()
    }
}

/// Everything the host knows at the start of a tick.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TickContext {
    /// Sequence number of the tick in this deployment, from 0.
    pub sequence: u64,
    /// The block (or simulated step) of the tick.
    pub block: BlockInfo,
    /// Candles that closed since the previous tick.
    pub candles: Candles,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candle(market: &'static str, close: f64) -> MarketCandle {
        MarketCandle {
            market,
            candle: Candle {
                timestamp_ms: 0,
                open: close,
                high: close,
                low: close,
                close,
                volume: 0.0,
            },
        }
    }

    #[test]
    fn candles_keep_their_order_whatever_their_number() {
        for count in 0..4 {
            let given: Vec<_> = (0..count)
                .map(|i| candle("ETH/BTC", f64::from(i)))
                .collect();
            let candles = Candles::from(given.clone());
            assert_eq!(candles.len(), given.len());
            assert_eq!(candles.is_empty(), given.is_empty());
            assert_eq!(candles.iter().copied().collect::<Vec<_>>(), given);
            assert_eq!(Vec::from(candles), given);
        }
        assert_eq!(Candles::one(candle("A", 1.0)).len(), 1);
        assert!(Candles::none().is_empty());
    }
}
