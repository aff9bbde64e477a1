use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::{check_period, window_sum};

/// Simple moving average: the mean of the last `period` values.
///
/// The value is recomputed from the window on every update (sum of the
/// window oldest first, divided by `period`), so it depends only on the last
/// `period` inputs: there is no running sum to drift, and a bad value is
/// forgotten once it leaves the window. Cost: O(`period`) per update.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sma {
    period: usize,
    window: VecDeque<f64>,
    value: Option<f64>,
}

impl Sma {
    /// A simple moving average over `period` values.
    ///
    /// # Panics
    ///
    /// If `period` is 0.
    pub fn new(period: usize) -> Self {
        check_period("SMA", period);
        Sma {
            period,
            window: VecDeque::with_capacity(period),
            value: None,
        }
    }

    /// Adds a value; returns the average once `period` values have been
    /// seen.
    pub fn update(&mut self, x: f64) -> Option<f64> {
        if self.window.len() >= self.period {
            self.window.pop_front();
        }
        self.window.push_back(x);
        if self.window.len() >= self.period {
            self.value = Some(window_sum(&self.window) / self.period as f64);
        }
        self.value
    }

    /// The current average, once warmed up.
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// The number of values averaged.
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
    fn sma3_of_one_to_six() {
        // By hand: (1+2+3)/3 = 2, (2+3+4)/3 = 3, (3+4+5)/3 = 4, (4+5+6)/3 = 5.
        let mut sma = Sma::new(3);
        let out: Vec<_> = (1..=6).map(|i| sma.update(f64::from(i))).collect();
        assert_eq!(
            out,
            vec![None, None, Some(2.0), Some(3.0), Some(4.0), Some(5.0)]
        );
        assert_eq!(sma.value(), Some(5.0));
        assert_eq!(sma.period(), 3);
    }

    #[test]
    fn stockcharts_sma10() {
        // The 10-day SMA column of StockCharts' moving-average example
        // spreadsheet (published rounded to 2 decimals: 22.22, 22.21, 22.23,
        // 22.26, ...). Reference values computed exactly with Python's
        // `fractions.Fraction` from the decimal closes (sum of the window
        // divided by 10), then converted to float.
        let closes = [
            22.27, 22.19, 22.08, 22.17, 22.18, 22.13, 22.23, 22.43, 22.24, 22.29, 22.15, 22.39,
            22.38, 22.61, 23.36, 24.05, 23.75, 23.83, 23.95, 23.63,
        ];
        let expected = [
            22.221, 22.209, 22.229, 22.259, 22.303, 22.421, 22.613, 22.765, 22.905, 23.076, 23.21,
        ];
        let out = crate::indicators::sma(&closes, 10);
        assert!(out[..9].iter().all(Option::is_none));
        for (got, want) in out[9..].iter().zip(expected) {
            let got = got.expect("warmed up");
            assert!(close(got, want), "{got} != {want}");
        }
    }

    #[test]
    fn period_one_is_identity() {
        let mut sma = Sma::new(1);
        assert_eq!(sma.value(), None);
        assert_eq!(sma.update(4.5), Some(4.5));
        assert_eq!(sma.update(-2.0), Some(-2.0));
    }

    #[test]
    fn constant_series() {
        let mut sma = Sma::new(4);
        let mut last = None;
        for _ in 0..10 {
            last = sma.update(7.25);
        }
        assert_eq!(last, Some(7.25));
    }

    #[test]
    fn no_drift_after_large_values_leave_the_window() {
        // A running sum would keep rounding residue from 1e16 (0.1 is lost
        // entirely next to it); recomputing from the window does not.
        let mut sma = Sma::new(2);
        sma.update(1e16);
        sma.update(0.1);
        sma.update(0.2);
        assert_eq!(sma.update(0.3), Some((0.2 + 0.3) / 2.0));
    }

    #[test]
    fn nan_leaves_with_the_window() {
        let mut sma = Sma::new(2);
        sma.update(f64::NAN);
        assert!(sma.update(1.0).is_some_and(f64::is_nan));
        assert_eq!(sma.update(3.0), Some(2.0));
    }

    #[test]
    #[should_panic(expected = "SMA period must be at least 1")]
    fn zero_period_panics() {
        let _ = Sma::new(0);
    }
}
