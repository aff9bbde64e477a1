use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::{check_period, window_sum};

/// One reading of Bollinger bands.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BollingerBands {
    /// `middle - k * standard deviation`.
    pub lower: f64,
    /// The simple moving average of the window.
    pub middle: f64,
    /// `middle + k * standard deviation`.
    pub upper: f64,
}

/// Bollinger bands: the simple moving average of the last `period` values,
/// plus and minus `k` population standard deviations of the same window.
///
/// Computed from the window on every update, in two passes: `middle` is the
/// sum of the window (oldest first) divided by `period`, exactly like
/// [`Sma`](super::Sma); the variance is the sum of `(x - middle)^2` over the
/// window (oldest first) divided by `period`; the standard deviation is its
/// square root. Cost: O(`period`) per update.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bollinger {
    period: usize,
    k: f64,
    window: VecDeque<f64>,
    value: Option<BollingerBands>,
}

impl Bollinger {
    /// Bands over `period` values, `k` standard deviations wide on each side
    /// (commonly 20 and 2.0).
    ///
    /// # Panics
    ///
    /// If `period` is 0, or `k` is negative or not finite.
    pub fn new(period: usize, k: f64) -> Self {
        check_period("Bollinger", period);
        assert!(
            k.is_finite() && k >= 0.0,
            "Bollinger width k must be finite and non-negative, got {k}"
        );
        Bollinger {
            period,
            k,
            window: VecDeque::with_capacity(period),
            value: None,
        }
    }

    /// Adds a value; returns the bands once `period` values have been seen.
    pub fn update(&mut self, x: f64) -> Option<BollingerBands> {
        if self.window.len() >= self.period {
            self.window.pop_front();
        }
        self.window.push_back(x);
        if self.window.len() >= self.period {
            let n = self.period as f64;
            let middle = window_sum(&self.window) / n;
            let squares = self.window.iter().fold(0.0, |sum, &x| {
                let d = x - middle;
                sum + d * d
            });
            let width = self.k * (squares / n).sqrt();
            self.value = Some(BollingerBands {
                lower: middle - width,
                middle,
                upper: middle + width,
            });
        }
        self.value
    }

    /// The current bands, once warmed up.
    pub fn value(&self) -> Option<BollingerBands> {
        self.value
    }

    /// The number of values in the window.
    pub fn period(&self) -> usize {
        self.period
    }

    /// The band width in standard deviations.
    pub fn k(&self) -> f64 {
        self.k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9
    }

    #[test]
    fn exact_population_stddev() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 40/8 = 5; squared deviations
        // 9, 1, 1, 1, 0, 0, 4, 16 sum to 32; variance 32/8 = 4; sd = 2.
        // k = 2: 5 -/+ 4.
        let mut bands = Bollinger::new(8, 2.0);
        let mut out = None;
        for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            out = bands.update(x);
        }
        let want = BollingerBands {
            lower: 1.0,
            middle: 5.0,
            upper: 9.0,
        };
        assert_eq!(out, Some(want));
        // Slide by one: 4, 4, 4, 5, 5, 7, 9, 10: mean 48/8 = 6; squared
        // deviations 4, 4, 4, 1, 1, 1, 9, 16 sum to 40; variance 5; sd sqrt(5).
        let out = bands.update(10.0).expect("warmed up");
        assert!(close(out.middle, 6.0));
        assert!(close(out.upper, 6.0 + 2.0 * 5f64.sqrt()));
        assert!(close(out.lower, 6.0 - 2.0 * 5f64.sqrt()));
    }

    #[test]
    fn warmup_and_accessors() {
        let out = crate::indicators::bollinger(&[1.0, 3.0, 5.0, 7.0], 3, 1.5);
        assert_eq!(out[0], None);
        assert_eq!(out[1], None);
        // 1, 3, 5: mean 3, variance (4 + 0 + 4)/3 = 8/3.
        let b = out[2].expect("warmed up");
        let width = 1.5 * (8.0f64 / 3.0).sqrt();
        assert!(close(b.middle, 3.0) && close(b.upper, 3.0 + width) && close(b.lower, 3.0 - width));
        // 3, 5, 7: same spread around 5.
        let b = out[3].expect("warmed up");
        assert!(close(b.middle, 5.0) && close(b.upper, 5.0 + width) && close(b.lower, 5.0 - width));

        let bands = Bollinger::new(20, 2.0);
        assert_eq!((bands.period(), bands.k(), bands.value()), (20, 2.0, None));
    }

    #[test]
    fn constant_series_has_zero_width() {
        let mut bands = Bollinger::new(5, 2.0);
        let mut out = None;
        for _ in 0..12 {
            out = bands.update(3.5);
        }
        let want = BollingerBands {
            lower: 3.5,
            middle: 3.5,
            upper: 3.5,
        };
        assert_eq!(out, Some(want));
    }

    #[test]
    fn period_one_and_zero_k() {
        let mut bands = Bollinger::new(1, 2.0);
        let b = bands.update(4.0).expect("warmed up");
        assert_eq!((b.lower, b.middle, b.upper), (4.0, 4.0, 4.0));
        // k = 0 collapses the bands onto the mean (1 + 2 + 6) / 3 = 3.
        let out = crate::indicators::bollinger(&[1.0, 2.0, 6.0], 3, 0.0);
        assert_eq!(out[2].map(|b| (b.lower, b.upper)), Some((3.0, 3.0)));
    }

    #[test]
    #[should_panic(expected = "Bollinger period must be at least 1")]
    fn zero_period_panics() {
        let _ = Bollinger::new(0, 2.0);
    }

    #[test]
    #[should_panic(expected = "finite and non-negative")]
    fn negative_k_panics() {
        let _ = Bollinger::new(20, -1.0);
    }
}
