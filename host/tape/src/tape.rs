//! The validated candle series of one market.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Bound, RangeBounds};

use crate::candle::check_next;
use crate::{Candle, TapeError};

/// A validated, time-ordered series of candles for one market.
///
/// Every candle passes [`Candle::validate`] and timestamps strictly
/// increase. Gaps between timestamps are allowed (real data has them) and
/// counted by [`Tape::gaps`].
///
/// A tape built by [`Tape::new`], [`read_csv`](crate::read_csv) or
/// [`load_csv`](crate::load_csv) has at least one candle; [`Tape::slice`]
/// and [`Tape::take`] may return an empty one.
///
/// Cloning is cheap: clones share their candles (a service runs thousands
/// of deployments over a few tapes).
#[derive(Clone, PartialEq)]
pub struct Tape {
    market: String,
    interval_ms: Option<u64>,
    candles: std::sync::Arc<[Candle]>,
}

impl Tape {
    /// Builds a tape from candles in time order, checking each of them.
    ///
    /// Fails with [`TapeError::Empty`] if there are no candles, and with
    /// [`TapeError::Candle`] (carrying the candle's index) for the first
    /// invalid candle or the first timestamp that does not strictly increase.
    pub fn new(market: impl Into<String>, candles: Vec<Candle>) -> Result<Self, TapeError> {
        if candles.is_empty() {
            return Err(TapeError::Empty { path: None });
        }
        let mut previous_ms = None;
        for (index, candle) in candles.iter().enumerate() {
            check_next(candle, previous_ms).map_err(|kind| TapeError::Candle { index, kind })?;
            previous_ms = Some(candle.timestamp_ms);
        }
        Ok(Self::from_checked(market.into(), candles))
    }

    /// Builds a tape from candles already checked.
    pub(crate) fn from_checked(market: String, candles: Vec<Candle>) -> Self {
        let interval_ms = most_common_gap(&candles);
        Self {
            market,
            interval_ms,
            candles: candles.into(),
        }
    }

    /// The market the candles belong to, e.g. `ETH/BTC`.
    pub fn market(&self) -> &str {
        &self.market
    }

    /// The candles, oldest first.
    pub fn candles(&self) -> &[Candle] {
        &self.candles
    }

    /// Gives the candles back, oldest first.
    pub fn into_candles(self) -> Vec<Candle> {
        self.candles.to_vec()
    }

    /// Number of candles.
    pub fn len(&self) -> usize {
        self.candles.len()
    }

    /// Whether the tape has no candles (only possible after
    /// [`slice`](Self::slice) or [`take`](Self::take)).
    pub fn is_empty(&self) -> bool {
        self.candles.is_empty()
    }

    /// The candle interval: the most common gap between consecutive
    /// timestamps (the smallest such gap on a tie), or `None` with fewer
    /// than two candles.
    pub fn interval_ms(&self) -> Option<u64> {
        self.interval_ms
    }

    /// Timestamp of the first candle, `None` if the tape is empty.
    pub fn first_timestamp_ms(&self) -> Option<u64> {
        self.candles.first().map(|c| c.timestamp_ms)
    }

    /// Timestamp of the last candle, `None` if the tape is empty.
    pub fn last_timestamp_ms(&self) -> Option<u64> {
        self.candles.last().map(|c| c.timestamp_ms)
    }

    /// Number of places where consecutive timestamps are further apart than
    /// [`interval_ms`](Self::interval_ms), i.e. where candles are missing.
    pub fn gaps(&self) -> usize {
        let Some(interval) = self.interval_ms else {
            return 0;
        };
        self.candles
            .windows(2)
            .filter(|w| w[1].timestamp_ms - w[0].timestamp_ms > interval)
            .count()
    }

    /// A new tape with the candles in `range` (indices into
    /// [`candles`](Self::candles)); its interval is recomputed from them.
    ///
    /// # Panics
    ///
    /// Panics if the range is out of bounds or decreasing, like slice
    /// indexing.
    pub fn slice(&self, range: impl RangeBounds<usize>) -> Self {
        let bounds: (Bound<usize>, Bound<usize>) =
            (range.start_bound().cloned(), range.end_bound().cloned());
        Self::from_checked(self.market.clone(), self.candles[bounds].to_vec())
    }

    /// A new tape with the first `n` candles (all of them if `n` exceeds
    /// the length); its interval is recomputed from them.
    pub fn take(&self, n: usize) -> Self {
        self.slice(..n.min(self.len()))
    }
}

impl fmt::Debug for Tape {
    /// A summary: the candles themselves are left out, a tape holds
    /// thousands of them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tape")
            .field("market", &self.market)
            .field("len", &self.candles.len())
            .field("interval_ms", &self.interval_ms)
            .field("first_timestamp_ms", &self.first_timestamp_ms())
            .field("last_timestamp_ms", &self.last_timestamp_ms())
            .finish_non_exhaustive()
    }
}

/// The most common difference between consecutive timestamps, the smallest
/// on a tie. Timestamps must strictly increase.
fn most_common_gap(candles: &[Candle]) -> Option<u64> {
    let mut counts = BTreeMap::<u64, usize>::new();
    for w in candles.windows(2) {
        *counts
            .entry(w[1].timestamp_ms - w[0].timestamp_ms)
            .or_default() += 1;
    }
    let mut best: Option<(u64, usize)> = None;
    for (gap, count) in counts {
        if best.is_none_or(|(_, best_count)| count > best_count) {
            best = Some((gap, count));
        }
    }
    best.map(|(gap, _)| gap)
}
