//! The result of a backtest as data: what the terminal table, the JSON file
//! and the HTML report are rendered from.

use serde::{Deserialize, Serialize};

use crate::metrics::Metrics;

/// Which way a trade went, for chart markers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Bought the priced asset (or added exposure).
    Buy,
    /// Sold it (or removed exposure).
    Sell,
    /// Anything else (liquidity, lending, vaults).
    Other,
}

/// One released action and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeRecord {
    /// Tick sequence.
    pub sequence: u64,
    /// Candle close time, ms.
    pub timestamp_ms: u64,
    /// Action id.
    pub id: u64,
    /// Action kind (`swap`, `lp_open`...).
    pub kind: String,
    /// Direction, for markers.
    pub side: Side,
    /// One-line description.
    pub summary: String,
    /// `filled` or the failure code.
    pub outcome: String,
}

/// One denial the strategy received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DenialRecord {
    /// Tick sequence.
    pub sequence: u64,
    /// Candle close time, ms.
    pub timestamp_ms: u64,
    /// Stable code.
    pub code: String,
    /// Rule path.
    pub rule: String,
    /// `CODE: key=value` detail.
    pub detail: String,
}

/// One point of the equity curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EquityPoint {
    /// Candle close time, ms.
    pub timestamp_ms: u64,
    /// Equity in the quote asset.
    pub equity: f64,
    /// Fall from the running peak, fraction.
    pub drawdown: f64,
    /// Close of the driving market.
    pub price: f64,
}

/// Everything a backtest produced. Serializing it twice for the same run
/// gives identical bytes: nothing here depends on wall-clock time except
/// `metrics.ticks_per_second`, which the JSON writer zeroes unless asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestReport {
    /// Strategy name (file or directory stem).
    pub strategy: String,
    /// SHA-256 of the component.
    pub component_sha256: String,
    /// Strategy config, JSON text.
    pub config: String,
    /// Driving market.
    pub market: String,
    /// Asset equity is valued in.
    pub quote: String,
    /// Computed metrics.
    pub metrics: Metrics,
    /// Equity per candle.
    pub equity: Vec<EquityPoint>,
    /// Released actions.
    pub trades: Vec<TradeRecord>,
    /// Denials received.
    pub denials: Vec<DenialRecord>,
    /// Times the account was liquidated.
    pub liquidations: usize,
}

impl BacktestReport {
    /// The report as pretty JSON. Wall-clock measurements are zeroed unless
    /// `with_timing`, so that the same run always writes the same bytes.
    pub fn to_json(&self, with_timing: bool) -> String {
        let mut copy = self.clone();
        if !with_timing {
            copy.metrics.ticks_per_second = 0.0;
        }
        // Serializing plain data into a string cannot fail.
        serde_json::to_string_pretty(&copy).unwrap_or_default()
    }
}
