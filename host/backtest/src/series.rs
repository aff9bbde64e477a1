//! The named series a strategy records (`logging.series`) as a report keeps
//! them for its charts: at most [`MAX_SERIES_POINTS`] points per series
//! however long the run, thinned as the run goes so that memory stays flat.

use std::collections::BTreeMap;

use stratbox_runtime::SeriesPoint;

/// Most points a report keeps of one series. A series with more is thinned
/// to every second point, then every fourth, and so on (always keeping the
/// newest), like the price chart's bars: enough for a chart, bounded for a
/// run of millions of ticks.
pub const MAX_SERIES_POINTS: usize = 20_000;

/// The series of a run so far.
#[derive(Debug, Default)]
pub(crate) struct SeriesCurves {
    curves: BTreeMap<String, Curve>,
}

#[derive(Debug)]
struct Curve {
    /// Points kept: those offered at multiples of `stride`.
    points: Vec<(u64, f64)>,
    /// Points offered so far.
    offered: u64,
    /// Keep one point of every `stride` offered.
    stride: u64,
    /// The newest point, when it was not kept: the curve ends there.
    latest: Option<(u64, f64)>,
}

impl Default for Curve {
    fn default() -> Self {
        Curve {
            points: Vec::new(),
            offered: 0,
            stride: 1,
            latest: None,
        }
    }
}

impl Curve {
    fn push(&mut self, point: (u64, f64)) {
        if self.offered.is_multiple_of(self.stride) {
            self.points.push(point);
            self.latest = None;
            if self.points.len() >= MAX_SERIES_POINTS {
                // Keep the points offered at multiples of twice the stride.
                let mut index = 0;
                self.points.retain(|_| {
                    index += 1;
                    index % 2 == 1
                });
                self.stride *= 2;
            }
        } else {
            self.latest = Some(point);
        }
        self.offered += 1;
    }

    fn finish(mut self) -> Vec<(u64, f64)> {
        self.points.extend(self.latest);
        self.points
    }
}

impl SeriesCurves {
    /// Add the points one tick recorded at `timestamp_ms`. A series
    /// recorded twice in one tick keeps the tick's last value.
    pub(crate) fn record(&mut self, timestamp_ms: u64, points: &[SeriesPoint]) {
        for (index, point) in points.iter().enumerate() {
            if points[index + 1..]
                .iter()
                .any(|later| later.name == point.name)
            {
                continue;
            }
            self.curves
                .entry(point.name.to_string())
                .or_default()
                .push((timestamp_ms, point.value));
        }
    }

    /// The series, by name, as the report keeps them.
    pub(crate) fn finish(self) -> BTreeMap<String, Vec<(u64, f64)>> {
        self.curves
            .into_iter()
            .map(|(name, curve)| (name, curve.finish()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(name: &str, value: f64) -> SeriesPoint {
        SeriesPoint {
            name: name.into(),
            value,
        }
    }

    #[test]
    fn a_short_run_keeps_every_point_by_name() {
        let mut curves = SeriesCurves::default();
        curves.record(1_000, &[point("rsi", 30.0), point("overlay:ema", 2.0)]);
        curves.record(2_000, &[point("rsi", 31.0), point("rsi", 32.0)]);
        let series = curves.finish();
        assert_eq!(series["rsi"], [(1_000, 30.0), (2_000, 32.0)]);
        assert_eq!(series["overlay:ema"], [(1_000, 2.0)]);
    }

    #[test]
    fn a_long_run_is_thinned_to_the_bound_and_ends_at_its_last_value() {
        let mut curves = SeriesCurves::default();
        let ticks = 5 * MAX_SERIES_POINTS as u64 + 7;
        for tick in 0..ticks {
            curves.record(tick, &[point("x", tick as f64)]);
        }
        let series = curves.finish();
        let kept = &series["x"];
        assert!(kept.len() <= MAX_SERIES_POINTS, "{}", kept.len());
        assert!(kept.len() >= MAX_SERIES_POINTS / 4, "{}", kept.len());
        assert_eq!(kept.first().unwrap().0, 0);
        assert_eq!(*kept.last().unwrap(), ((ticks - 1), (ticks - 1) as f64));
        assert!(kept.windows(2).all(|pair| pair[0].0 < pair[1].0));
    }
}
