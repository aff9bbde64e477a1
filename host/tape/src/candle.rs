//! One OHLCV candle and the checks every candle of a tape passes.

use serde::{Deserialize, Serialize};

use crate::RowErrorKind;

/// The columns of a tape CSV file, in order.
pub const COLUMNS: [&str; 6] = ["timestamp_ms", "open", "high", "low", "close", "volume"];

/// The exact header line of a tape CSV file.
pub const HEADER: &str = "timestamp_ms,open,high,low,close,volume";

/// One candle: prices over one interval of trading, and the volume traded.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candle {
    /// Open time of the candle, in milliseconds since the Unix epoch (UTC).
    pub timestamp_ms: u64,
    /// First traded price of the interval.
    pub open: f64,
    /// Highest traded price of the interval.
    pub high: f64,
    /// Lowest traded price of the interval.
    pub low: f64,
    /// Last traded price of the interval.
    pub close: f64,
    /// Quantity traded during the interval (in the base asset).
    pub volume: f64,
}

impl Candle {
    /// Checks the candle on its own: every value is finite, prices are
    /// greater than zero, volume is not negative, `low <= high`, and `open`
    /// and `close` lie within `[low, high]`.
    ///
    /// The order of timestamps between candles is checked by
    /// [`Tape::new`](crate::Tape::new), not here.
    pub fn validate(&self) -> Result<(), RowErrorKind> {
        let values = [
            ("open", self.open),
            ("high", self.high),
            ("low", self.low),
            ("close", self.close),
            ("volume", self.volume),
        ];
        for (column, value) in values {
            if !value.is_finite() {
                return Err(RowErrorKind::NotFinite { column, value });
            }
        }
        for (column, value) in &values[..4] {
            if *value <= 0.0 {
                return Err(RowErrorKind::NonPositive {
                    column,
                    value: *value,
                });
            }
        }
        if self.volume < 0.0 {
            return Err(RowErrorKind::Negative {
                column: "volume",
                value: self.volume,
            });
        }
        if self.high < self.low {
            return Err(RowErrorKind::HighBelowLow {
                high: self.high,
                low: self.low,
            });
        }
        for (column, value) in [("open", self.open), ("close", self.close)] {
            if value < self.low || value > self.high {
                return Err(RowErrorKind::OutsideRange {
                    column,
                    value,
                    low: self.low,
                    high: self.high,
                });
            }
        }
        Ok(())
    }
}

/// Checks `candle` on its own and against the timestamp of the candle before
/// it, if any.
pub(crate) fn check_next(candle: &Candle, previous_ms: Option<u64>) -> Result<(), RowErrorKind> {
    candle.validate()?;
    match previous_ms {
        Some(previous_ms) if candle.timestamp_ms <= previous_ms => {
            Err(RowErrorKind::NotIncreasing {
                previous_ms,
                current_ms: candle.timestamp_ms,
            })
        }
        _ => Ok(()),
    }
}
