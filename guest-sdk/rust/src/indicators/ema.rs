use serde::{Deserialize, Serialize};

use super::check_period;

/// Exponential moving average with `alpha = 2 / (period + 1)`, seeded with
/// the simple average of the first `period` values.
///
/// The first value comes out on the `period`-th update: the sum of the
/// first `period` values (in order) divided by `period`. After that,
/// `ema = alpha * x + (1 - alpha) * previous`, evaluated in exactly that
/// form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ema {
    period: usize,
    /// Values seen, counted up to `period`.
    seen: usize,
    /// Sum of the first values while warming up.
    seed_sum: f64,
    value: Option<f64>,
}

impl Ema {
    /// An exponential moving average with the given period.
    ///
    /// # Panics
    ///
    /// If `period` is 0.
    pub fn new(period: usize) -> Self {
        check_period("EMA", period);
        Ema {
            period,
            seen: 0,
            seed_sum: 0.0,
            value: None,
        }
    }

    /// The smoothing factor `2 / (period + 1)`.
    pub fn alpha(&self) -> f64 {
        2.0 / (self.period as f64 + 1.0)
    }

    /// Adds a value; returns the average from the `period`-th value on.
    pub fn update(&mut self, x: f64) -> Option<f64> {
        match self.value {
            Some(previous) => {
                let alpha = self.alpha();
                self.value = Some(alpha * x + (1.0 - alpha) * previous);
            }
            None => {
                self.seed_sum += x;
                self.seen += 1;
                if self.seen >= self.period {
                    self.value = Some(self.seed_sum / self.period as f64);
                }
            }
        }
        self.value
    }

    /// The current average, once warmed up.
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// The period the smoothing factor derives from.
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
    fn ema3_by_hand() {
        // alpha = 2/4 = 1/2, exact in binary.
        // seed = (2 + 4 + 6) / 3 = 4
        // 8 -> 8/2 + 4/2 = 6
        // 3 -> 3/2 + 6/2 = 4.5
        // 4.5 -> 4.5/2 + 4.5/2 = 4.5
        let mut ema = Ema::new(3);
        let out: Vec<_> = [2.0, 4.0, 6.0, 8.0, 3.0, 4.5]
            .into_iter()
            .map(|x| ema.update(x))
            .collect();
        assert_eq!(
            out,
            vec![None, None, Some(4.0), Some(6.0), Some(4.5), Some(4.5)]
        );
        assert_eq!(ema.alpha(), 0.5);
    }

    #[test]
    fn ema4_by_hand() {
        // alpha = 2/5, 1 - alpha = 3/5.
        // seed = (1 + 3 + 2 + 6) / 4 = 3
        // 5 -> 2/5*5 + 3/5*3 = 2 + 9/5 = 19/5 = 3.8
        // 4 -> 2/5*4 + 3/5*19/5 = 8/5 + 57/25 = 97/25 = 3.88
        // 8 -> 2/5*8 + 3/5*97/25 = 16/5 + 291/125 = 691/125 = 5.528
        let out = crate::indicators::ema(&[1.0, 3.0, 2.0, 6.0, 5.0, 4.0, 8.0], 4);
        assert!(out[..3].iter().all(Option::is_none));
        for (got, want) in out[3..].iter().zip([3.0, 3.8, 3.88, 5.528]) {
            let got = got.expect("warmed up");
            assert!(close(got, want), "{got} != {want}");
        }
    }

    #[test]
    fn stockcharts_ema10() {
        // StockCharts' 10-day EMA example (SMA seed, alpha = 2/11); published
        // rounded to 2 decimals as 22.22, 22.21, 22.24, 22.27, 22.33, 22.52,
        // 22.80, 22.97, 23.13, 23.28, 23.34, 23.43, 23.51, 23.54, 23.47,
        // 23.40, 23.39, 23.26, 23.23, 23.08, 22.92. The values below were
        // computed exactly with Python's `fractions.Fraction` from the
        // decimal closes and the textbook recurrence, then converted to
        // float; they round to the published column.
        let closes = [
            22.27, 22.19, 22.08, 22.17, 22.18, 22.13, 22.23, 22.43, 22.24, 22.29, 22.15, 22.39,
            22.38, 22.61, 23.36, 24.05, 23.75, 23.83, 23.95, 23.63, 23.82, 23.87, 23.65, 23.19,
            23.10, 23.33, 22.68, 23.10, 22.40, 22.17,
        ];
        let expected = [
            22.221,
            22.208_090_909_090_91,
            22.241_165_289_256_198,
            22.266_407_963_936_89,
            22.328_879_243_221_092,
            22.516_355_744_453_62,
            22.795_200_154_552_962,
            22.968_800_126_452_42,
            23.125_381_921_642_89,
            23.275_312_481_344_184,
            23.339_801_121_099_786,
            23.427_110_008_172_55,
            23.507_635_461_232_088,
            23.533_519_922_826_255,
            23.471_061_755_039_663,
            23.403_595_981_396_087,
            23.390_214_893_869_526,
            23.261_084_913_165_977,
            23.231_796_747_135_8,
            23.080_560_974_929_29,
            22.915_004_434_033_055,
        ];
        let out = crate::indicators::ema(&closes, 10);
        assert!(out[..9].iter().all(Option::is_none));
        for (got, want) in out[9..].iter().zip(expected) {
            let got = got.expect("warmed up");
            assert!(close(got, want), "{got} != {want}");
        }
    }

    #[test]
    fn period_one_follows_input() {
        let mut ema = Ema::new(1);
        assert_eq!(ema.alpha(), 1.0);
        assert_eq!(ema.update(3.0), Some(3.0));
        assert_eq!(ema.update(-1.5), Some(-1.5));
        assert_eq!(ema.value(), Some(-1.5));
        assert_eq!(ema.period(), 1);
    }

    #[test]
    fn constant_series() {
        let mut ema = Ema::new(5);
        let mut last = None;
        for _ in 0..50 {
            last = ema.update(12.5);
        }
        assert_eq!(last, Some(12.5));
    }

    #[test]
    #[should_panic(expected = "EMA period must be at least 1")]
    fn zero_period_panics() {
        let _ = Ema::new(0);
    }
}
