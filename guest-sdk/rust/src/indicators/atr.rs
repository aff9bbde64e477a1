use serde::{Deserialize, Serialize};

use super::check_period;

/// Wilder's average true range.
///
/// The true range of a bar is `max(high - low, |high - previous close|,
/// |low - previous close|)`, and just `high - low` for the first bar. The
/// first ATR is the sum of the first `period` true ranges (in order) divided
/// by `period`; after that `atr = (atr * (period - 1) + true_range) /
/// period`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Atr {
    period: usize,
    previous_close: Option<f64>,
    /// Bars seen, counted up to `period`.
    bars: usize,
    /// Sum of the first true ranges while warming up.
    seed_sum: f64,
    value: Option<f64>,
}

impl Atr {
    /// An average true range over `period` bars.
    ///
    /// # Panics
    ///
    /// If `period` is 0.
    pub fn new(period: usize) -> Self {
        check_period("ATR", period);
        Atr {
            period,
            previous_close: None,
            bars: 0,
            seed_sum: 0.0,
            value: None,
        }
    }

    /// Adds a bar; returns the ATR from the `period`-th bar on.
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        let range = high - low;
        let true_range = match self.previous_close.replace(close) {
            None => range,
            Some(previous) => range
                .max((high - previous).abs())
                .max((low - previous).abs()),
        };
        let n = self.period as f64;
        match self.value {
            Some(previous) => self.value = Some((previous * (n - 1.0) + true_range) / n),
            None => {
                self.seed_sum += true_range;
                self.bars += 1;
                if self.bars >= self.period {
                    self.value = Some(self.seed_sum / n);
                }
            }
        }
        self.value
    }

    /// The current ATR, once warmed up.
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// The number of bars averaged.
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

    #[test]
    fn atr3_by_hand() {
        // bar (high, low, close)   true range
        // 1 (10, 8, 9)             first bar: 10 - 8 = 2
        // 2 (12, 9.5, 11)          max(2.5, |12 - 9| = 3, |9.5 - 9| = 0.5) = 3
        // 3 (11.5, 10, 10.5)       max(1.5, |11.5 - 11| = 0.5, |10 - 11| = 1) = 1.5
        //   first ATR = (2 + 3 + 1.5) / 3 = 6.5/3 = 13/6
        // 4 (13, 12, 12.5)         gap up: max(1, |13 - 10.5| = 2.5, 1.5) = 2.5
        //   ATR = (13/6 * 2 + 2.5) / 3 = 41/18
        // 5 (12, 9, 9.5)           gap down: max(3, 0.5, |9 - 12.5| = 3.5) = 3.5
        //   ATR = (41/18 * 2 + 3.5) / 3 = 145/54
        let highs = [10.0, 12.0, 11.5, 13.0, 12.0];
        let lows = [8.0, 9.5, 10.0, 12.0, 9.0];
        let closes = [9.0, 11.0, 10.5, 12.5, 9.5];
        let out = crate::indicators::atr(&highs, &lows, &closes, 3);
        assert_eq!((out[0], out[1]), (None, None));
        for (got, want) in out[2..].iter().zip([13.0 / 6.0, 41.0 / 18.0, 145.0 / 54.0]) {
            let got = got.expect("warmed up");
            assert!(close(got, want), "{got} != {want}");
        }
    }

    #[test]
    fn period_one_is_true_range() {
        let mut atr = Atr::new(1);
        assert_eq!(atr.update(5.0, 4.0, 4.5), Some(1.0));
        // Gap up from 4.5: max(0.5, 2.5, 2.0).
        assert_eq!(atr.update(7.0, 6.5, 7.0), Some(2.5));
        assert_eq!(atr.value(), Some(2.5));
        assert_eq!(atr.period(), 1);
    }

    #[test]
    fn flat_market_has_zero_atr() {
        let mut atr = Atr::new(4);
        let mut last = None;
        for _ in 0..10 {
            last = atr.update(100.0, 100.0, 100.0);
        }
        assert_eq!(last, Some(0.0));
    }

    #[test]
    fn constant_range_is_preserved() {
        // Same bar over and over: every true range is 2.
        let mut atr = Atr::new(14);
        let mut last = None;
        for _ in 0..40 {
            last = atr.update(11.0, 9.0, 10.0);
        }
        assert!(last.is_some_and(|v| close(v, 2.0)));
    }

    #[test]
    #[should_panic(expected = "ATR period must be at least 1")]
    fn zero_period_panics() {
        let _ = Atr::new(0);
    }
}
