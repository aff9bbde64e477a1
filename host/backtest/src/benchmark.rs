//! The buy-and-hold benchmark of a backtest, folded candle by candle like
//! the strategy's own equity curve.

use crate::curve::EquityCurve;
use crate::report::{Benchmark, EquityPoint};
use crate::sim::SimMarket;

/// Holding the starting portfolio converted into one asset: its curve
/// (bounded as the equity curve is), return and drawdown, from every
/// candle.
#[derive(Debug, Clone)]
pub(crate) struct BenchmarkStream {
    asset: String,
    units: f64,
    first_price: f64,
    last_price: f64,
    peak_price: f64,
    max_drawdown: f64,
    curve: EquityCurve,
}

/// What a finished [`BenchmarkStream`] gives: the report's benchmark, its
/// total return and its maximum drawdown.
pub(crate) struct BenchmarkResult {
    pub(crate) benchmark: Benchmark,
    pub(crate) total_return: f64,
    pub(crate) max_drawdown: f64,
}

impl BenchmarkStream {
    /// Holding `asset` bought with everything `market` holds, both valued
    /// at the market's first candle (before any tick: no action has
    /// executed), no fees; `None` if `asset` has no positive price in the
    /// quote asset there or the account holds nothing.
    pub(crate) fn start(market: &SimMarket, asset: &str, candles: usize) -> Option<Self> {
        let price = market
            .price_in_quote(asset)
            .filter(|p| p.is_finite() && *p > 0.0)?;
        let equity = market.equity();
        if !(equity.is_finite() && equity > 0.0) {
            return None;
        }
        Some(BenchmarkStream {
            asset: asset.to_owned(),
            units: equity / price,
            first_price: price,
            last_price: price,
            peak_price: price,
            max_drawdown: 0.0,
            curve: EquityCurve::new(candles),
        })
    }

    /// The next candle (in time order), closing at `timestamp_ms`;
    /// `driving` is the close of the driving market, for the point.
    pub(crate) fn push(&mut self, market: &SimMarket, timestamp_ms: u64, driving: f64) {
        if let Some(price) = market.price_in_quote(&self.asset).filter(|p| p.is_finite()) {
            self.last_price = price;
        }
        let price = self.last_price;
        self.peak_price = self.peak_price.max(price);
        let drawdown = if self.peak_price > 0.0 {
            (self.peak_price - price) / self.peak_price
        } else {
            0.0
        };
        self.max_drawdown = self.max_drawdown.max(drawdown);
        self.curve.push(EquityPoint {
            timestamp_ms,
            equity: self.units * price,
            drawdown,
            price: driving,
        });
    }

    pub(crate) fn finish(self) -> BenchmarkResult {
        BenchmarkResult {
            total_return: self.last_price / self.first_price - 1.0,
            max_drawdown: self.max_drawdown,
            benchmark: Benchmark {
                asset: self.asset,
                units: self.units,
                equity: self.curve.finish(),
            },
        }
    }
}
