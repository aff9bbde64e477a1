//! Streaming technical indicators.
//!
//! Each indicator takes one observation at a time through `update` and
//! returns `Some(value)` once it has seen enough data (is "warmed up"),
//! `None` before. All of them are plain serde-serializable values, so they
//! can live in a strategy's fields and are persisted with its snapshot.
//!
//! Inputs must be finite: a NaN or infinity is not rejected, it propagates
//! into the outputs (for [`Sma`] and [`Bollinger`] only until it leaves the
//! window; for the recursive [`Ema`], [`Rsi`] and [`Atr`] for good) and
//! cannot be persisted as JSON.
//!
//! The arithmetic is spelled out in each type's documentation, operation by
//! operation, so that other SDKs can reproduce the values; results are
//! deterministic for a given input sequence. The batch functions in this
//! module ([`sma`], [`ema`], [`rsi`], [`bollinger`], [`atr`]) drive the
//! streaming types over a whole series, for tests and parity checks.

mod atr;
mod bollinger;
mod ema;
mod rsi;
mod sma;

pub use atr::Atr;
pub use bollinger::{Bollinger, BollingerBands};
pub use ema::Ema;
pub use rsi::Rsi;
pub use sma::Sma;

/// Panics unless `period` is at least 1.
fn check_period(indicator: &str, period: usize) {
    assert!(period > 0, "{indicator} period must be at least 1, got 0");
}

/// Sum of the values in order, oldest first.
fn window_sum<'a>(values: impl IntoIterator<Item = &'a f64>) -> f64 {
    values.into_iter().fold(0.0, |sum, &x| sum + x)
}

/// [`Sma`] over a whole series: one output per input.
///
/// # Panics
///
/// If `period` is 0.
pub fn sma(values: &[f64], period: usize) -> Vec<Option<f64>> {
    let mut indicator = Sma::new(period);
    values.iter().map(|&x| indicator.update(x)).collect()
}

/// [`Ema`] over a whole series: one output per input.
///
/// # Panics
///
/// If `period` is 0.
pub fn ema(values: &[f64], period: usize) -> Vec<Option<f64>> {
    let mut indicator = Ema::new(period);
    values.iter().map(|&x| indicator.update(x)).collect()
}

/// [`Rsi`] over a series of closes: one output per input.
///
/// # Panics
///
/// If `period` is 0.
pub fn rsi(closes: &[f64], period: usize) -> Vec<Option<f64>> {
    let mut indicator = Rsi::new(period);
    closes.iter().map(|&x| indicator.update(x)).collect()
}

/// [`Bollinger`] bands over a whole series: one output per input.
///
/// # Panics
///
/// If `period` is 0 or `k` is negative or not finite.
pub fn bollinger(values: &[f64], period: usize, k: f64) -> Vec<Option<BollingerBands>> {
    let mut indicator = Bollinger::new(period, k);
    values.iter().map(|&x| indicator.update(x)).collect()
}

/// [`Atr`] over a series of bars given as three parallel slices: one
/// output per bar.
///
/// # Panics
///
/// If `period` is 0 or the slices have different lengths.
pub fn atr(highs: &[f64], lows: &[f64], closes: &[f64], period: usize) -> Vec<Option<f64>> {
    assert!(
        highs.len() == lows.len() && lows.len() == closes.len(),
        "atr: highs, lows and closes must have the same length (got {}, {}, {})",
        highs.len(),
        lows.len(),
        closes.len()
    );
    let mut indicator = Atr::new(period);
    highs
        .iter()
        .zip(lows)
        .zip(closes)
        .map(|((&high, &low), &close)| indicator.update(high, low, close))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_helpers_have_one_output_per_input() {
        let xs = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(sma(&xs, 2), vec![None, Some(1.5), Some(2.5), Some(3.5)]);
        assert_eq!(ema(&xs, 2).len(), 4);
        assert_eq!(rsi(&xs, 2), vec![None, None, Some(100.0), Some(100.0)]);
        assert_eq!(bollinger(&xs, 5, 2.0), vec![None; 4]);
        assert_eq!(
            atr(&xs, &xs, &xs, 1),
            vec![Some(0.0), Some(1.0), Some(1.0), Some(1.0)]
        );
        assert!(sma(&[], 3).is_empty());
    }

    #[test]
    #[should_panic(expected = "same length")]
    fn atr_batch_rejects_ragged_input() {
        let _ = atr(&[1.0], &[1.0, 2.0], &[1.0], 1);
    }

    #[test]
    fn state_survives_json() {
        let mut s = Sma::new(3);
        let mut e = Ema::new(3);
        let mut r = Rsi::new(3);
        let mut b = Bollinger::new(3, 2.0);
        let mut a = Atr::new(3);
        for x in [10.0, 11.5, 10.25, 12.0, 13.5] {
            s.update(x);
            e.update(x);
            r.update(x);
            b.update(x);
            a.update(x + 1.0, x - 1.0, x);
        }
        fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(v: &T) -> T {
            let json = serde_json::to_string(v).expect("serialize");
            serde_json::from_str(&json).expect("deserialize")
        }
        let (mut s2, mut e2, mut r2, mut b2, mut a2) = (
            round_trip(&s),
            round_trip(&e),
            round_trip(&r),
            round_trip(&b),
            round_trip(&a),
        );
        assert_eq!((&s2, &e2, &r2, &b2, &a2), (&s, &e, &r, &b, &a));
        // The restored indicators continue exactly like the originals.
        assert_eq!(s2.update(9.0), s.update(9.0));
        assert_eq!(e2.update(9.0), e.update(9.0));
        assert_eq!(r2.update(9.0), r.update(9.0));
        assert_eq!(b2.update(9.0), b.update(9.0));
        assert_eq!(a2.update(10.0, 8.0, 9.0), a.update(10.0, 8.0, 9.0));
    }

    /// serde_json writes every f64 with enough digits, but without its
    /// `float_roundtrip` feature it parses many of them back one ulp off
    /// (about a third of random prices around 100 in a quick check), so a
    /// restored indicator would drift from one that never went through a
    /// snapshot. The SDK's manifest enables the feature.
    #[test]
    fn arbitrary_state_survives_json_exactly() {
        let mut ema = Ema::new(1);
        ema.update(100.457_707_733_908_21);
        let json = serde_json::to_string(&ema).expect("serialize");
        let back: Ema = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, ema);
    }
}
