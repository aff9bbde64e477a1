//! Charts as SVG text, drawn with plotters and an embedded font (no system
//! font libraries needed).

use std::sync::Once;

use plotters::prelude::*;
use plotters::style::FontStyle;
use stratbox_backtest::report::{BacktestReport, EquityPoint, Side};

use crate::ReportError;
use crate::terminal::escape_terminal;

pub(crate) const SIZE: (u32, u32) = (960, 340);
pub(crate) const FONT: &str = "sans-serif";

pub(crate) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bundled DejaVu Sans is a valid TrueType font.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
    });
}

fn date_label(ms: &f64) -> String {
    chrono::DateTime::from_timestamp_millis(*ms as i64)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn time_range(report: &BacktestReport) -> (f64, f64) {
    let first = report.equity.first().map_or(0.0, |p| p.timestamp_ms as f64);
    let last = report.equity.last().map_or(1.0, |p| p.timestamp_ms as f64);
    (first, last.max(first + 1.0))
}

/// Most buckets a chart's series is reduced to: a chart 960 pixels wide
/// shows no more. A backtest's report holds at most
/// `MAX_EQUITY_POINTS` (2,000) points already; a report written before
/// that bound may hold one per candle.
const MAX_BUCKETS: usize = 1_000;

/// `points` reduced to at most two per bucket of [`MAX_BUCKETS`] (the
/// lowest and highest `value`, in time order), so that every extreme still
/// shows; all of them when there are few.
fn downsample(points: &[EquityPoint], value: impl Fn(&EquityPoint) -> f64) -> Vec<EquityPoint> {
    if points.len() <= 2 * MAX_BUCKETS {
        return points.to_vec();
    }
    let size = points.len().div_ceil(MAX_BUCKETS);
    let mut out = Vec::with_capacity(2 * MAX_BUCKETS);
    for bucket in points.chunks(size) {
        let (mut low, mut high) = (0, 0);
        for (index, point) in bucket.iter().enumerate() {
            if value(point) < value(&bucket[low]) {
                low = index;
            }
            if value(point) > value(&bucket[high]) {
                high = index;
            }
        }
        out.push(bucket[low.min(high)]);
        if low != high {
            out.push(bucket[low.max(high)]);
        }
    }
    out
}

/// The equity the curve shows at `ms`: a point's own, or on the line
/// between the points around it (a long run's curve keeps only some
/// candles' points, so a trade's candle may fall between two of them).
fn equity_at(points: &[EquityPoint], ms: u64) -> f64 {
    let index = points.partition_point(|p| p.timestamp_ms < ms);
    match (
        index.checked_sub(1).and_then(|i| points.get(i)),
        points.get(index),
    ) {
        (_, Some(after)) if after.timestamp_ms == ms => after.equity,
        (Some(before), Some(after)) => {
            let span = (after.timestamp_ms - before.timestamp_ms) as f64;
            let along = (ms - before.timestamp_ms) as f64 / span;
            before.equity + (after.equity - before.equity) * along
        }
        (Some(only), None) | (None, Some(only)) => only.equity,
        (None, None) => 0.0,
    }
}

/// Equity over time with buy (green) and sell (red) markers (at the time
/// each trade executed), and the buy-and-hold benchmark as a second, grey
/// line.
pub fn equity_svg(report: &BacktestReport) -> Result<String, ReportError> {
    register_font();
    let mut svg = String::new();
    {
        let error = |e: &dyn std::fmt::Display| ReportError::Chart {
            chart: "equity",
            reason: e.to_string(),
        };
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| error(&e))?;
        let (x0, x1) = time_range(report);
        let benchmark = report.benchmark.as_ref();
        let benchmark_points = benchmark.map_or(&[][..], |b| &b.equity[..]);
        let (mut low, mut high) = report
            .equity
            .iter()
            .chain(benchmark_points)
            .fold((f64::MAX, f64::MIN), |(l, h), p| {
                (l.min(p.equity), h.max(p.equity))
            });
        if low > high {
            (low, high) = (0.0, 1.0);
        }
        let pad = ((high - low) * 0.05).max(high.abs() * 1e-6).max(1e-9);
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("Equity ({})", escape_terminal(&report.quote)),
                (FONT, 18),
            )
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, (low - pad)..(high + pad))
            .map_err(|e| error(&e))?;
        chart
            .configure_mesh()
            .x_labels(6)
            .x_label_formatter(&date_label)
            .label_style((FONT, 12))
            .draw()
            .map_err(|e| error(&e))?;
        let grey = RGBColor(140, 140, 140);
        if let Some(benchmark) = benchmark {
            chart
                .draw_series(LineSeries::new(
                    downsample(&benchmark.equity, |p| p.equity)
                        .iter()
                        .map(|p| (p.timestamp_ms as f64, p.equity)),
                    grey.stroke_width(1),
                ))
                .map_err(|e| error(&e))?
                .label(format!(
                    "buy and hold {}",
                    escape_terminal(&benchmark.asset)
                ))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], grey));
        }
        chart
            .draw_series(LineSeries::new(
                downsample(&report.equity, |p| p.equity)
                    .iter()
                    .map(|p| (p.timestamp_ms as f64, p.equity)),
                BLUE.stroke_width(2),
            ))
            .map_err(|e| error(&e))?
            .label(format!("strategy ({})", report.fill_model))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE.stroke_width(2)));
        let equity_at = |ms: u64| equity_at(&report.equity, ms);
        for (side, color) in [(Side::Buy, GREEN), (Side::Sell, RED)] {
            chart
                .draw_series(report.trades.iter().filter(|t| t.side == side).map(|t| {
                    let ms = t.executed_ms.unwrap_or(t.timestamp_ms);
                    TriangleMarker::new((ms as f64, equity_at(ms)), 5, color.filled())
                }))
                .map_err(|e| error(&e))?;
        }
        if benchmark.is_some() {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .label_font((FONT, 12))
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK.mix(0.3))
                .draw()
                .map_err(|e| error(&e))?;
        }
        root.present().map_err(|e| error(&e))?;
    }
    Ok(svg)
}

/// Drawdown from the running peak over time.
pub fn drawdown_svg(report: &BacktestReport) -> Result<String, ReportError> {
    register_font();
    let mut svg = String::new();
    {
        let error = |e: &dyn std::fmt::Display| ReportError::Chart {
            chart: "drawdown",
            reason: e.to_string(),
        };
        let root = SVGBackend::with_string(&mut svg, (SIZE.0, SIZE.1 * 2 / 3)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| error(&e))?;
        let (x0, x1) = time_range(report);
        let worst = report
            .equity
            .iter()
            .map(|p| p.drawdown)
            .fold(0.0f64, f64::max)
            .max(1e-4);
        let mut chart = ChartBuilder::on(&root)
            .caption("Drawdown", (FONT, 18))
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, -(worst * 100.0 * 1.1)..0.0)
            .map_err(|e| error(&e))?;
        chart
            .configure_mesh()
            .x_labels(6)
            .x_label_formatter(&date_label)
            .y_label_formatter(&|v| format!("{v:.1}%"))
            .label_style((FONT, 12))
            .draw()
            .map_err(|e| error(&e))?;
        chart
            .draw_series(AreaSeries::new(
                downsample(&report.equity, |p| p.drawdown)
                    .iter()
                    .map(|p| (p.timestamp_ms as f64, -p.drawdown * 100.0)),
                0.0,
                RED.mix(0.3),
            ))
            .map_err(|e| error(&e))?;
        root.present().map_err(|e| error(&e))?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(index: usize, equity: f64) -> EquityPoint {
        EquityPoint {
            timestamp_ms: index as u64,
            equity,
            drawdown: 0.0,
            price: 1.0,
        }
    }

    #[test]
    fn trade_markers_sit_on_the_line_between_kept_points() {
        let points = [point(100, 1.0), point(200, 3.0), point(400, 1.0)];
        assert_eq!(equity_at(&points, 200), 3.0);
        assert_eq!(equity_at(&points, 150), 2.0);
        assert_eq!(equity_at(&points, 300), 2.0);
        assert_eq!(equity_at(&points, 50), 1.0);
        assert_eq!(equity_at(&points, 500), 1.0);
        assert_eq!(equity_at(&[], 5), 0.0);
    }

    #[test]
    fn long_series_are_reduced_keeping_their_extremes_in_order() {
        let few: Vec<EquityPoint> = (0..100).map(|i| point(i, i as f64)).collect();
        assert_eq!(downsample(&few, |p| p.equity), few);

        let mut many: Vec<EquityPoint> = (0..1_000_000).map(|i| point(i, 1.0)).collect();
        many[123_456].equity = 9.0;
        many[654_321].equity = -9.0;
        let reduced = downsample(&many, |p| p.equity);
        assert!(reduced.len() <= 2 * MAX_BUCKETS);
        assert!(reduced.iter().any(|p| p.equity == 9.0));
        assert!(reduced.iter().any(|p| p.equity == -9.0));
        assert!(
            reduced
                .windows(2)
                .all(|w| w[0].timestamp_ms < w[1].timestamp_ms)
        );
    }
}
