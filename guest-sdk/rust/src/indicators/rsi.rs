use serde::{Deserialize, Serialize};

use super::check_period;

/// Wilder's relative strength index over `period` changes.
///
/// Needs `period + 1` closes. With `change = close - previous close`,
/// `gain = max(change, 0)` and `loss = max(-change, 0)`:
///
/// - the first average gain (loss) is the sum of the first `period` gains
///   (losses), in order, divided by `period`;
/// - after that, `avg = (avg * (period - 1) + current) / period`;
/// - `rsi = 100 - 100 / (1 + avg_gain / avg_loss)`.
///
/// When the average loss is 0 the RSI is 100, except when the average gain
/// is 0 as well (no movement at all over the smoothing horizon): then it is
/// defined as 50, the neutral value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rsi {
    period: usize,
    previous_close: Option<f64>,
    /// Changes seen, counted up to `period`.
    changes: usize,
    /// Sums of gains and losses while warming up, then Wilder averages.
    avg_gain: f64,
    avg_loss: f64,
    value: Option<f64>,
}

impl Rsi {
    /// An RSI over `period` changes (`period + 1` closes).
    ///
    /// # Panics
    ///
    /// If `period` is 0.
    pub fn new(period: usize) -> Self {
        check_period("RSI", period);
        Rsi {
            period,
            previous_close: None,
            changes: 0,
            avg_gain: 0.0,
            avg_loss: 0.0,
            value: None,
        }
    }

    /// Adds a close; returns the RSI (0 to 100) from the `period + 1`-th
    /// close on.
    pub fn update(&mut self, close: f64) -> Option<f64> {
        // The first close only becomes the reference for the next change.
        let previous = self.previous_close.replace(close)?;
        let change = close - previous;
        let gain = change.max(0.0);
        let loss = (-change).max(0.0);
        let n = self.period as f64;
        if self.changes < self.period {
            self.avg_gain += gain;
            self.avg_loss += loss;
            self.changes += 1;
            if self.changes < self.period {
                return None;
            }
            self.avg_gain /= n;
            self.avg_loss /= n;
        } else {
            self.avg_gain = (self.avg_gain * (n - 1.0) + gain) / n;
            self.avg_loss = (self.avg_loss * (n - 1.0) + loss) / n;
        }
        let rsi = if self.avg_loss == 0.0 {
            if self.avg_gain == 0.0 { 50.0 } else { 100.0 }
        } else {
            100.0 - 100.0 / (1.0 + self.avg_gain / self.avg_loss)
        };
        self.value = Some(rsi);
        self.value
    }

    /// The current RSI, once warmed up.
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// The number of changes averaged.
    pub fn period(&self) -> usize {
        self.period
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9
    }

    fn assert_series(got: &[Option<f64>], warmup: usize, want: &[f64]) {
        assert_eq!(got.len(), warmup + want.len());
        assert!(got[..warmup].iter().all(Option::is_none), "{got:?}");
        for (got, &want) in got[warmup..].iter().zip(want) {
            let got = got.expect("warmed up");
            assert!(close(got, want), "{got} != {want}");
        }
    }

    #[test]
    fn rsi3_by_hand() {
        // closes 10, 12, 11, 14, 13, 15; changes +2, -1, +3, -1, +2.
        // First averages (3 changes): gain (2+0+3)/3 = 5/3, loss (0+1+0)/3 = 1/3,
        //   RS = 5, RSI = 100 - 100/6 = 83.333...
        // -1: gain (5/3*2 + 0)/3 = 10/9, loss (1/3*2 + 1)/3 = 5/9,
        //   RS = 2, RSI = 100 - 100/3 = 66.666...
        // +2: gain (10/9*2 + 2)/3 = 38/27, loss (5/9*2 + 0)/3 = 10/27,
        //   RS = 3.8, RSI = 100 - 100/4.8 = 79.1666...
        let out = crate::indicators::rsi(&[10.0, 12.0, 11.0, 14.0, 13.0, 15.0], 3);
        assert_series(&out, 3, &[250.0 / 3.0, 200.0 / 3.0, 475.0 / 6.0]);
    }

    #[test]
    fn wilder_stockcharts_rsi14() {
        // The classic RSI(14) example (StockCharts "cs-rsi" spreadsheet,
        // also in Wilder-style references). Expected values computed exactly
        // with Python's `fractions.Fraction` from the decimal closes and the
        // definition above (simple first average, then Wilder smoothing),
        // then converted to float. The first one, 70.46413502109705, is also
        // the value other independent implementations pin for this series.
        let closes = [
            44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08, 45.89, 46.03,
            45.61, 46.28, 46.28, 46.00, 46.03, 46.41, 46.22, 45.64, 46.21, 46.25, 45.71, 46.45,
            45.78, 45.35, 44.03, 44.18, 44.22, 44.57, 43.42, 42.66, 43.13,
        ];
        let expected = [
            70.464_135_021_097_05,
            66.249_618_553_555_08,
            66.480_941_834_712_67,
            69.346_853_162_908_7,
            66.294_712_658_926_26,
            57.915_020_670_085_56,
            62.880_718_309_962_4,
            63.208_788_718_287_77,
            56.011_584_789_547_57,
            62.339_929_310_897_86,
            54.670_971_377_655_16,
            50.386_815_195_114_224,
            40.019_423_791_313_57,
            41.492_635_404_222_84,
            41.902_429_678_458_134,
            45.499_497_238_680_42,
            37.322_778_313_379_956,
            33.090_482_572_723_424,
            37.788_771_982_057_8,
        ];
        assert_series(&crate::indicators::rsi(&closes, 14), 14, &expected);
    }

    #[test]
    fn flat_rising_and_falling() {
        let flat = crate::indicators::rsi(&[5.0; 10], 3);
        assert_eq!(flat[9], Some(50.0));
        let rising: Vec<f64> = (0..10).map(f64::from).collect();
        assert_eq!(crate::indicators::rsi(&rising, 3)[9], Some(100.0));
        let falling: Vec<f64> = (0..10).map(|i| f64::from(-i)).collect();
        assert_eq!(crate::indicators::rsi(&falling, 3)[9], Some(0.0));
        // After a rise and a long flat stretch the gains decay but never
        // reach zero, while the losses stay zero: 100, not 50.
        let mut rsi = Rsi::new(2);
        for x in [1.0, 2.0, 3.0, 3.0, 3.0, 3.0] {
            rsi.update(x);
        }
        assert_eq!(rsi.value(), Some(100.0));
    }

    #[test]
    fn period_one() {
        // One change: RSI is 100 on a gain, 0 on a loss, 50 on no change.
        let out = crate::indicators::rsi(&[1.0, 2.0, 1.5, 1.5], 1);
        assert_eq!(out, vec![None, Some(100.0), Some(0.0), Some(50.0)]);
    }

    #[test]
    fn accessors() {
        let mut rsi = Rsi::new(14);
        assert_eq!(rsi.period(), 14);
        assert_eq!(rsi.value(), None);
        assert_eq!(rsi.update(1.0), None);
        assert_eq!(rsi.value(), None);
    }

    #[test]
    #[should_panic(expected = "RSI period must be at least 1")]
    fn zero_period_panics() {
        let _ = Rsi::new(0);
    }
}
