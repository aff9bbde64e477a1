//! The equity curve a report keeps for its charts, downsampled as the run
//! goes so that it never holds more than [`MAX_EQUITY_POINTS`] points.

use stratbox_tape::Candle;

use crate::report::EquityPoint;

/// Most bars a report keeps of the candles a run ticked over
/// ([`BacktestReport::candles`](crate::report::BacktestReport::candles)),
/// for its price chart. A run of at most this many candles keeps every
/// one, so zooming in shows the candles the strategy saw; a longer run
/// merges consecutive candles into at most this many bars. An interactive
/// chart draws this many candlesticks smoothly, and the report stays a
/// few megabytes however long the run.
pub const MAX_CANDLE_BARS: usize = 20_000;

/// `candles` as at most [`MAX_CANDLE_BARS`] bars, and how many candles
/// each bar merges: every candle as it is when there are few enough, else
/// runs of consecutive candles merged into one bar each (the first one's
/// open time and open, the highest high, the lowest low, the last close,
/// the summed volume).
pub(crate) fn bars(candles: &[Candle]) -> (Vec<Candle>, usize) {
    if candles.is_empty() {
        return (Vec::new(), 0);
    }
    let per_bar = candles.len().div_ceil(MAX_CANDLE_BARS);
    let bars = candles
        .chunks(per_bar)
        .map(|run| {
            let (first, last) = (run[0], run[run.len() - 1]);
            Candle {
                timestamp_ms: first.timestamp_ms,
                open: first.open,
                high: run.iter().map(|c| c.high).fold(first.high, f64::max),
                low: run.iter().map(|c| c.low).fold(first.low, f64::min),
                close: last.close,
                volume: run.iter().map(|c| c.volume).sum(),
            }
        })
        .collect();
    (bars, per_bar)
}

/// Most points of a report's equity curve
/// ([`BacktestReport::equity`](crate::report::BacktestReport::equity)). A
/// run of at most this many candles keeps every candle's point; a longer
/// one keeps, for each of at most `(MAX_EQUITY_POINTS - 2) / 3` buckets of
/// consecutive candles, the points of the lowest and the highest equity
/// and of the deepest drawdown (so every extreme still shows on a chart),
/// and the first and the last candle's point. A chart 960 pixels wide
/// shows no more. Metrics are computed from every candle, not from these.
pub const MAX_EQUITY_POINTS: usize = 2_000;

/// The candidates of the bucket being filled: (candle index, point).
#[derive(Debug, Clone, Copy)]
struct Bucket {
    filled: usize,
    low: (usize, EquityPoint),
    high: (usize, EquityPoint),
    deepest: (usize, EquityPoint),
}

/// An equity curve folded point by point into at most
/// [`MAX_EQUITY_POINTS`] points, in time order.
#[derive(Debug, Clone)]
pub(crate) struct EquityCurve {
    /// Candles per bucket (1: every point is kept).
    size: usize,
    points: Vec<EquityPoint>,
    /// Candle index of the last point in `points`.
    kept: Option<usize>,
    bucket: Option<Bucket>,
    /// The last point pushed, and its candle index.
    last: Option<(usize, EquityPoint)>,
    pushed: usize,
}

impl EquityCurve {
    /// A curve for a run of `candles` points (one per candle; more than
    /// that would exceed the bound).
    pub(crate) fn new(candles: usize) -> Self {
        let size = if candles <= MAX_EQUITY_POINTS {
            1
        } else {
            candles.div_ceil((MAX_EQUITY_POINTS - 2) / 3)
        };
        EquityCurve {
            size,
            points: Vec::with_capacity(candles.min(MAX_EQUITY_POINTS)),
            kept: None,
            bucket: None,
            last: None,
            pushed: 0,
        }
    }

    /// The next point, in time order.
    pub(crate) fn push(&mut self, point: EquityPoint) {
        let index = self.pushed;
        self.pushed += 1;
        if self.size == 1 {
            self.keep(index, point);
            return;
        }
        self.last = Some((index, point));
        if index == 0 {
            self.keep(index, point);
        }
        let bucket = self.bucket.get_or_insert(Bucket {
            filled: 0,
            low: (index, point),
            high: (index, point),
            deepest: (index, point),
        });
        if point.equity < bucket.low.1.equity {
            bucket.low = (index, point);
        }
        if point.equity > bucket.high.1.equity {
            bucket.high = (index, point);
        }
        if point.drawdown > bucket.deepest.1.drawdown {
            bucket.deepest = (index, point);
        }
        bucket.filled += 1;
        if bucket.filled == self.size {
            self.flush();
        }
    }

    /// The kept points, in time order.
    pub(crate) fn finish(mut self) -> Vec<EquityPoint> {
        self.flush();
        if let Some((index, point)) = self.last {
            self.keep(index, point);
        }
        self.points
    }

    fn flush(&mut self) {
        let Some(bucket) = self.bucket.take() else {
            return;
        };
        let mut chosen = [bucket.low, bucket.high, bucket.deepest];
        chosen.sort_by_key(|(index, _)| *index);
        for (index, point) in chosen {
            self.keep(index, point);
        }
    }

    /// Keep `point` unless it or a later one is kept already.
    fn keep(&mut self, index: usize, point: EquityPoint) {
        if self.kept.is_none_or(|kept| index > kept) {
            self.points.push(point);
            self.kept = Some(index);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(index: usize, equity: f64, drawdown: f64) -> EquityPoint {
        EquityPoint {
            timestamp_ms: index as u64,
            equity,
            drawdown,
            price: 1.0,
        }
    }

    fn fold(candles: usize, points: impl Iterator<Item = EquityPoint>) -> Vec<EquityPoint> {
        let mut curve = EquityCurve::new(candles);
        points.for_each(|p| curve.push(p));
        curve.finish()
    }

    #[test]
    fn short_runs_keep_every_point() {
        let all: Vec<EquityPoint> = (0..MAX_EQUITY_POINTS)
            .map(|i| point(i, i as f64, 0.0))
            .collect();
        assert_eq!(fold(all.len(), all.iter().copied()), all);
        assert!(fold(0, std::iter::empty()).is_empty());
    }

    #[test]
    fn long_runs_keep_extremes_ends_and_order_within_the_bound() {
        for candles in [MAX_EQUITY_POINTS + 1, 10_007, 1_000_000] {
            let special = |i: usize| match i {
                _ if i == candles / 3 => point(i, 9.0, 0.0),
                _ if i == candles / 2 => point(i, -9.0, 0.0),
                _ if i == 2 * candles / 3 => point(i, 1.0, 0.75),
                _ => point(i, 1.0 + (i % 7) as f64 / 100.0, 0.1),
            };
            let kept = fold(candles, (0..candles).map(special));
            assert!(kept.len() <= MAX_EQUITY_POINTS, "{candles}: {}", kept.len());
            assert!(
                kept.len() > MAX_EQUITY_POINTS / 3,
                "{candles}: {}",
                kept.len()
            );
            assert_eq!(kept[0].timestamp_ms, 0);
            assert_eq!(kept.last().unwrap().timestamp_ms, candles as u64 - 1);
            assert!(kept.iter().any(|p| p.equity == 9.0));
            assert!(kept.iter().any(|p| p.equity == -9.0));
            assert!(kept.iter().any(|p| p.drawdown == 0.75));
            assert!(
                kept.windows(2)
                    .all(|w| w[0].timestamp_ms < w[1].timestamp_ms)
            );
        }
    }

    fn candle(index: usize) -> Candle {
        let price = 1.0 + index as f64;
        Candle {
            timestamp_ms: index as u64 * 60_000,
            open: price,
            high: price + 0.5,
            low: price - 0.5,
            close: price + 0.25,
            volume: 2.0,
        }
    }

    #[test]
    fn few_candles_are_kept_and_many_are_merged_into_bounded_bars() {
        let few: Vec<Candle> = (0..MAX_CANDLE_BARS).map(candle).collect();
        assert_eq!(bars(&few), (few.clone(), 1));
        assert_eq!(bars(&[]), (Vec::new(), 0));

        let many: Vec<Candle> = (0..2 * MAX_CANDLE_BARS + 1).map(candle).collect();
        let (merged, per_bar) = bars(&many);
        assert_eq!(per_bar, 3);
        assert!(merged.len() <= MAX_CANDLE_BARS);
        assert_eq!(
            merged[1],
            Candle {
                timestamp_ms: 3 * 60_000,
                open: 4.0,
                high: 6.5,
                low: 3.5,
                close: 6.25,
                volume: 6.0,
            }
        );
        // The last bar merges the 2 candles left over (40,001 = 3 x 13,333
        // + 2) and ends with the last one.
        let last = merged.last().unwrap();
        assert_eq!(last.close, many.last().unwrap().close);
        assert_eq!(last.volume, 4.0);
    }

    #[test]
    fn a_run_stopped_early_keeps_its_last_point() {
        let kept = fold(100_000, (0..5_000).map(|i| point(i, 1.0, 0.0)));
        assert_eq!(kept.last().unwrap().timestamp_ms, 4_999);
        assert!(kept.len() <= MAX_EQUITY_POINTS);
    }
}
