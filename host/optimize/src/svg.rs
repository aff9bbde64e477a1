//! Small inline SVG charts (line, histogram, grouped bars, heatmap) as
//! text: no scripts, no fonts to embed, no external assets.

use std::fmt::Write as _;

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 76.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 34.0;

pub(crate) use stratbox_report::escape_html as escape;

/// About `count` round tick values covering `low..=high`.
fn ticks(low: f64, high: f64, count: usize) -> Vec<f64> {
    let span = high - low;
    if !(span.is_finite() && span > 0.0) {
        return vec![low];
    }
    let raw = span / count.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (low / step - 1e-9).ceil() as i64;
    let last = (high / step + 1e-9).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// `low..high` widened when empty or not finite.
fn domain(low: f64, high: f64) -> (f64, f64) {
    if !(low.is_finite() && high.is_finite()) {
        return (0.0, 1.0);
    }
    if high > low {
        (low, high)
    } else {
        let pad = low.abs() * 0.01 + 1e-9;
        (low - pad, high + pad)
    }
}

/// Maps data to pixels inside the plot area.
struct Frame {
    x: (f64, f64),
    y: (f64, f64),
}

impl Frame {
    fn px(&self, x: f64) -> f64 {
        LEFT + (x - self.x.0) / (self.x.1 - self.x.0) * (WIDTH - LEFT - RIGHT)
    }

    fn py(&self, y: f64) -> f64 {
        HEIGHT - BOTTOM - (y - self.y.0) / (self.y.1 - self.y.0) * (HEIGHT - TOP - BOTTOM)
    }

    /// Opening tag, title, grid, axis labels.
    fn open(
        &self,
        svg: &mut String,
        title: &str,
        x_label: &dyn Fn(f64) -> String,
        y_label: &dyn Fn(f64) -> String,
        x_ticks: bool,
    ) {
        let _ = write!(
            svg,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
             viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-family=\"sans-serif\" font-size=\"12\">\
             <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\
             <text x=\"{}\" y=\"20\" text-anchor=\"middle\" font-size=\"16\">{}</text>",
            WIDTH / 2.0,
            escape(title)
        );
        for y in ticks(self.y.0, self.y.1, 5) {
            let py = self.py(y);
            let _ = write!(
                svg,
                "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{py:.1}\" y2=\"{py:.1}\" stroke=\"#e5e5e5\"/>\
                 <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                WIDTH - RIGHT,
                LEFT - 6.0,
                py + 4.0,
                escape(&y_label(y))
            );
        }
        if x_ticks {
            for x in ticks(self.x.0, self.x.1, 6) {
                let px = self.px(x);
                let _ = write!(
                    svg,
                    "<line x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"{TOP}\" y2=\"{}\" stroke=\"#f0f0f0\"/>\
                     <text x=\"{px:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                    HEIGHT - BOTTOM,
                    HEIGHT - BOTTOM + 16.0,
                    escape(&x_label(x))
                );
            }
        }
        let _ = write!(
            svg,
            "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>",
            WIDTH - LEFT - RIGHT,
            HEIGHT - TOP - BOTTOM
        );
    }
}

/// One line of a [`line_chart`].
pub(crate) struct Series<'a> {
    /// Legend text.
    pub name: &'a str,
    /// Stroke colour.
    pub color: &'a str,
    /// `(x, y)` in x order.
    pub points: Vec<(f64, f64)>,
    /// Draw a dot at every point.
    pub dots: bool,
}

/// Lines over a shared x axis, with dashed vertical `markers` (x values).
pub(crate) fn line_chart(
    title: &str,
    series: &[Series<'_>],
    markers: &[f64],
    x_label: &dyn Fn(f64) -> String,
    y_label: &dyn Fn(f64) -> String,
) -> String {
    let all = || series.iter().flat_map(|s| s.points.iter());
    let fold = |f: fn(f64, f64) -> f64, init: f64, pick: fn(&(f64, f64)) -> f64| {
        all().map(pick).filter(|v| v.is_finite()).fold(init, f)
    };
    let x = domain(
        fold(f64::min, f64::INFINITY, |p| p.0),
        fold(f64::max, f64::NEG_INFINITY, |p| p.0),
    );
    let (y_low, y_high) = domain(
        fold(f64::min, f64::INFINITY, |p| p.1),
        fold(f64::max, f64::NEG_INFINITY, |p| p.1),
    );
    let pad = (y_high - y_low) * 0.05;
    let frame = Frame {
        x,
        y: (y_low - pad, y_high + pad),
    };
    let mut svg = String::new();
    frame.open(&mut svg, title, x_label, y_label, true);
    for marker in markers {
        let px = frame.px(*marker);
        let _ = write!(
            svg,
            "<line x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"{TOP}\" y2=\"{}\" stroke=\"#bbb\" stroke-dasharray=\"4 3\"/>",
            HEIGHT - BOTTOM
        );
    }
    for (index, s) in series.iter().enumerate() {
        let points: Vec<String> = s
            .points
            .iter()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .map(|&(x, y)| format!("{:.1},{:.1}", frame.px(x), frame.py(y)))
            .collect();
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" points=\"{}\"/>",
            s.color,
            points.join(" ")
        );
        if s.dots {
            for point in &points {
                if let Some((cx, cy)) = point.split_once(',') {
                    let _ = write!(
                        svg,
                        "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"3\" fill=\"{}\"/>",
                        s.color
                    );
                }
            }
        }
        let ly = TOP + 14.0 + 16.0 * index as f64;
        let _ = write!(
            svg,
            "<line x1=\"{}\" x2=\"{}\" y1=\"{ly}\" y2=\"{ly}\" stroke=\"{}\" stroke-width=\"2\"/>\
             <text x=\"{}\" y=\"{}\">{}</text>",
            LEFT + 10.0,
            LEFT + 30.0,
            s.color,
            LEFT + 36.0,
            ly + 4.0,
            escape(s.name)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Bars of `counts` over equal bins from `low` to `high`, with labelled
/// vertical lines (`(label, x, colour)`).
pub(crate) fn histogram(
    title: &str,
    low: f64,
    high: f64,
    counts: &[usize],
    lines: &[(&str, f64, &str)],
    x_label: &dyn Fn(f64) -> String,
) -> String {
    let total = counts.iter().sum::<usize>().max(1) as f64;
    let top = counts.iter().copied().max().unwrap_or(0) as f64 / total;
    let (x_low, x_high) = lines
        .iter()
        .fold((low, high), |(a, b), (_, x, _)| (a.min(*x), b.max(*x)));
    let frame = Frame {
        x: domain(x_low, x_high),
        y: (0.0, (top * 1.1).max(1e-3)),
    };
    let mut svg = String::new();
    frame.open(
        &mut svg,
        title,
        x_label,
        &|v| format!("{:.0}%", v * 100.0),
        true,
    );
    let (low, high) = domain(low, high);
    let width = (high - low) / counts.len().max(1) as f64;
    for (index, count) in counts.iter().enumerate() {
        let (a, b) = (low + width * index as f64, low + width * (index + 1) as f64);
        let share = *count as f64 / total;
        let (x0, x1, y) = (frame.px(a), frame.px(b), frame.py(share));
        let _ = write!(
            svg,
            "<rect x=\"{x0:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#4a78b5\" fill-opacity=\"0.6\"/>",
            (x1 - x0 - 1.0).max(1.0),
            (HEIGHT - BOTTOM - y).max(0.0)
        );
    }
    for (index, (label, x, color)) in lines.iter().enumerate() {
        let px = frame.px(*x);
        let _ = write!(
            svg,
            "<line x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"{TOP}\" y2=\"{}\" stroke=\"{color}\" stroke-width=\"1.5\"/>\
             <text x=\"{:.1}\" y=\"{}\" fill=\"{color}\">{}</text>",
            HEIGHT - BOTTOM,
            px + 3.0,
            TOP + 12.0 + 13.0 * (index % 4) as f64,
            escape(label)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Bars side by side per category: `(name, colour, value per category)`.
pub(crate) fn grouped_bars(
    title: &str,
    categories: &[String],
    groups: &[(&str, &str, Vec<Option<f64>>)],
    y_label: &dyn Fn(f64) -> String,
) -> String {
    let values = groups
        .iter()
        .flat_map(|g| g.2.iter().flatten())
        .copied()
        .filter(|v| v.is_finite());
    let (low, high) = values.fold((0.0f64, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
    let (low, high) = domain(low, high);
    let pad = (high - low) * 0.08;
    let frame = Frame {
        x: (0.0, categories.len().max(1) as f64),
        y: (low - if low < 0.0 { pad } else { 0.0 }, high + pad),
    };
    let mut svg = String::new();
    frame.open(&mut svg, title, &|_| String::new(), y_label, false);
    let zero = frame.py(0.0);
    let slot = (WIDTH - LEFT - RIGHT) / categories.len().max(1) as f64;
    let bar = (slot * 0.8 / groups.len().max(1) as f64).max(1.0);
    let every = categories.len().div_ceil(30).max(1);
    for (c, category) in categories.iter().enumerate() {
        let x0 = frame.px(c as f64) + slot * 0.1;
        for (g, (_, color, values)) in groups.iter().enumerate() {
            let Some(value) = values.get(c).copied().flatten().filter(|v| v.is_finite()) else {
                continue;
            };
            let y = frame.py(value);
            let _ = write!(
                svg,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" fill=\"{color}\"/>",
                x0 + bar * g as f64,
                y.min(zero),
                (y - zero).abs().max(0.5)
            );
        }
        if c % every == 0 {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                x0 + slot * 0.4,
                HEIGHT - BOTTOM + 16.0,
                escape(category)
            );
        }
    }
    let _ = write!(
        svg,
        "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{zero:.1}\" y2=\"{zero:.1}\" stroke=\"#666\"/>",
        WIDTH - RIGHT
    );
    for (index, (name, color, _)) in groups.iter().enumerate() {
        let ly = TOP + 14.0 + 16.0 * index as f64;
        let _ = write!(
            svg,
            "<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"10\" fill=\"{color}\"/>\
             <text x=\"{}\" y=\"{}\">{}</text>",
            WIDTH - RIGHT - 150.0,
            ly - 8.0,
            WIDTH - RIGHT - 130.0,
            ly + 2.0,
            escape(name)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A colour from red (0) through yellow to green (1).
pub(crate) fn color(t: f64) -> String {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let (a, b, u) = if t < 0.5 {
        ((215.0, 48.0, 39.0), (254.0, 224.0, 139.0), t * 2.0)
    } else {
        ((254.0, 224.0, 139.0), (26.0, 152.0, 80.0), t * 2.0 - 1.0)
    };
    let mix = |x: f64, y: f64| (x + (y - x) * u).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(a.0, b.0),
        mix(a.1, b.1),
        mix(a.2, b.2)
    )
}

/// A grid of cells, `cells[row][column]` (`None`: nothing there), coloured
/// by value from the lowest (red) to the highest (green).
pub(crate) fn heatmap(
    title: &str,
    x_name: &str,
    y_name: &str,
    x_labels: &[String],
    y_labels: &[String],
    cells: &[Vec<Option<f64>>],
    format: &dyn Fn(f64) -> String,
) -> String {
    let values = cells
        .iter()
        .flatten()
        .flatten()
        .copied()
        .filter(|v| v.is_finite());
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let (columns, rows) = (x_labels.len().max(1), y_labels.len().max(1));
    let (left, top) = (150.0, 40.0);
    let cell_w = ((WIDTH - left - RIGHT) / columns as f64).min(90.0);
    let cell_h = (440.0 / rows as f64).clamp(8.0, 34.0);
    let width = left + cell_w * columns as f64 + RIGHT;
    let height = top + cell_h * rows as f64 + 50.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"sans-serif\" font-size=\"11\">\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\
         <text x=\"{:.0}\" y=\"20\" text-anchor=\"middle\" font-size=\"16\">{}</text>",
        width / 2.0,
        escape(title)
    );
    for (r, row) in cells.iter().enumerate() {
        let y = top + cell_h * r as f64;
        for (c, cell) in row.iter().enumerate() {
            let x = left + cell_w * c as f64;
            let (fill, text) = match cell.filter(|v| v.is_finite()) {
                Some(value) => {
                    let t = if high > low {
                        (value - low) / (high - low)
                    } else {
                        1.0
                    };
                    (color(t), format(value))
                }
                None => ("#eeeeee".to_owned(), String::new()),
            };
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{cell_w:.1}\" height=\"{cell_h:.1}\" \
                 fill=\"{fill}\" stroke=\"white\"><title>{}</title></rect>",
                escape(&text)
            );
            if cell_w >= 40.0 && cell_h >= 14.0 && !text.is_empty() {
                let _ = write!(
                    svg,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                    x + cell_w / 2.0,
                    y + cell_h / 2.0 + 4.0,
                    escape(&text)
                );
            }
        }
        if cell_h >= 10.0 || r % 4 == 0 {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                left - 6.0,
                y + cell_h / 2.0 + 4.0,
                escape(y_labels.get(r).map_or("", String::as_str))
            );
        }
    }
    let every = (40.0 / cell_w).ceil().max(1.0) as usize;
    for (c, label) in x_labels.iter().enumerate() {
        if c % every == 0 {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                left + cell_w * (c as f64 + 0.5),
                top + cell_h * rows as f64 + 16.0,
                escape(label)
            );
        }
    }
    let _ = write!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"13\">{}</text>\
         <text x=\"10\" y=\"{:.1}\" font-size=\"13\">{}</text></svg>",
        left + cell_w * columns as f64 / 2.0,
        top + cell_h * rows as f64 + 36.0,
        escape(x_name),
        top - 8.0,
        escape(y_name)
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        let unit = ticks(0.0, 1.0, 5);
        assert_eq!(unit.len(), 6);
        assert!(
            unit.iter()
                .zip([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
                .all(|(a, b)| (a - b).abs() < 1e-12)
        );
        assert_eq!(ticks(3.0, 3.0, 5), vec![3.0]);
        assert!(ticks(-0.013, 0.021, 5).len() >= 3);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<a href='x'>&\u{1b}"),
            "&lt;a href=&#39;x&#39;&gt;&amp;\\u{1b}"
        );
        assert_eq!(color(0.0), "#d73027");
        assert_eq!(color(1.0), "#1a9850");
    }
}
