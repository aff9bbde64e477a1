//! What the HTML report's interactive chart draws, as the JSON the page's
//! script reads: the price bars, the strategy's series, trade, denial and
//! failure markers with their hover text, equity against buy and hold,
//! drawdown and the profit of each round trip, all on one time axis.
//!
//! The chart has one pane per row, sharing the time axis (so zooming and
//! panning move them together): the price (candles and volume, the
//! `overlay:` series, the markers), then one pane per group of the other
//! series ([`pane_of`]), then equity, drawdown and profit per round trip.
//! Times are the chart's: whole seconds since the Unix epoch, each event
//! on the bar whose interval it falls in ([`Axis::bar`]). Every text is
//! built here, escaped for terminals ([`escape_terminal`]), and numbers are
//! formatted by [`format_amount`], the rule of the rest of the report; the
//! page sets texts with `textContent` only.

use std::collections::BTreeMap;

use serde::Serialize;
use stratbox_backtest::report::{
    BacktestReport, EquityPoint, Side, TradeRecord, amount_decimals, format_amount,
    format_signed_amount,
};

use crate::terminal::escape_terminal;

/// Prefix of the series drawn over the candles (`overlay:ema.fast`); the
/// prefix is not shown.
pub const OVERLAY_PREFIX: &str = "overlay:";

/// Most hover lines one bar lists; the rest are counted.
const MAX_EVENT_LINES: usize = 12;

/// Line colours of the strategy's series, in the order of their names.
const PALETTE: [&str; 8] = [
    "#2962ff", "#ff6d00", "#8e24aa", "#00897b", "#c2185b", "#6d4c41", "#3949ab", "#afb42b",
];

/// The whole chart.
#[derive(Debug, Serialize)]
pub(crate) struct ChartData {
    /// The driving market (`ETH/BTC`).
    market: String,
    /// The asset equity is valued in.
    quote: String,
    /// Price bars; without candles (a report written before they were
    /// kept) the closes of the equity curve, drawn as a line.
    price: Price,
    /// Series drawn over the price.
    overlays: Vec<Line>,
    /// One pane per group of the other series.
    panes: Vec<Pane>,
    /// Markers on the price, in time order.
    markers: Vec<Marker>,
    /// Hover lines per bar, by the bar's time (seconds, as text: a JSON
    /// object's keys).
    events: BTreeMap<i64, Vec<String>>,
    /// The strategy's equity.
    equity: Line,
    /// Buy and hold, if the report has a benchmark.
    benchmark: Option<Line>,
    /// Decimals of the equity axis.
    equity_precision: usize,
    /// The strategy's drawdown, negative percent.
    drawdown: Line,
    /// Buy and hold's drawdown.
    benchmark_drawdown: Option<Line>,
    /// Realized profit per bar where round trips closed, quote asset.
    profits: Line,
    /// Decimals of the profit axis.
    profit_precision: usize,
}

/// The price pane's data, column by column.
#[derive(Debug, Default, Serialize)]
struct Price {
    /// Whether these are candles (else `close` is a line).
    candles: bool,
    /// Decimals of the price axis.
    precision: usize,
    /// Bar times, seconds.
    t: Vec<i64>,
    open: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
}

/// A named line: times (seconds) and values, both in time order.
#[derive(Debug, Default, Serialize)]
struct Line {
    name: String,
    color: &'static str,
    /// Decimals of its axis.
    precision: usize,
    t: Vec<i64>,
    v: Vec<f64>,
}

/// A pane of the strategy's series.
#[derive(Debug, Serialize)]
struct Pane {
    name: String,
    lines: Vec<Line>,
}

/// What a marker stands for; the page picks its shape and colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
enum MarkerKind {
    /// A filled purchase of the market's base asset.
    Buy,
    /// A filled sale of it.
    Sell,
    /// Another filled action (liquidity, lending, vaults).
    Other,
    /// An action that did not fill.
    Unfilled,
    /// An action the policy denied.
    Denial,
    /// A failed tick.
    Failure,
}

/// One marker: its bar, kind, and the price it executed at (swaps of the
/// market's own pair).
#[derive(Debug, Serialize)]
struct Marker {
    t: i64,
    kind: MarkerKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    price: Option<f64>,
}

/// The bars of the time axis and how an event time finds its bar.
struct Axis {
    /// Bar times, ms, ascending.
    times_ms: Vec<u64>,
    /// Whether `times_ms` are open times (candles: an event belongs to
    /// the bar it falls in) or close times (equity points: to the first
    /// point at or after it).
    opens: bool,
}

impl Axis {
    /// The time (seconds) of the bar `ms` belongs to: for candles the one
    /// open when `ms` came, where the candle closing exactly at `ms`
    /// counts as open (a tick's time is its candle's close, and an action
    /// filled at the close belongs on that candle); for equity points the
    /// first at or after `ms`. Events before the first bar or after the
    /// last go on it.
    fn bar(&self, ms: u64) -> Option<i64> {
        let index = self.times_ms.partition_point(|&t| t < ms);
        let index = if self.opens {
            index.saturating_sub(1)
        } else {
            index.min(self.times_ms.len().saturating_sub(1))
        };
        self.times_ms.get(index).map(|&t| seconds(t))
    }
}

fn seconds(ms: u64) -> i64 {
    i64::try_from(ms / 1000).unwrap_or(i64::MAX)
}

/// Which pane a series is drawn in: `None` for the price pane (an
/// [`OVERLAY_PREFIX`] name), else the group its name starts with, up to
/// the first `.` (`macd.signal` and `macd.histogram` share the `macd`
/// pane; `rsi` has one of its own).
pub fn pane_of(name: &str) -> Option<&str> {
    if name.starts_with(OVERLAY_PREFIX) {
        return None;
    }
    Some(name.split('.').next().unwrap_or(name))
}

/// `points` (ms, value) on the axis: non-finite values dropped, one value
/// per bar (`merge` of the values falling on it, in time order), in time
/// order.
fn on_axis(
    axis: &Axis,
    points: impl Iterator<Item = (u64, f64)>,
    merge: impl Fn(f64, f64) -> f64,
) -> (Vec<i64>, Vec<f64>) {
    let mut sorted: Vec<(u64, f64)> = points.filter(|(_, v)| v.is_finite()).collect();
    // Stable: a strategy's points recorded at one time keep their order.
    sorted.sort_by_key(|(ms, _)| *ms);
    let (mut t, mut v): (Vec<i64>, Vec<f64>) = (Vec::new(), Vec::new());
    for (ms, value) in sorted {
        let Some(bar) = axis.bar(ms) else { continue };
        match (t.last(), v.last_mut()) {
            (Some(&last), Some(previous)) if last == bar => *previous = merge(*previous, value),
            _ => {
                t.push(bar);
                v.push(value);
            }
        }
    }
    (t, v)
}

fn keep_last(_: f64, new: f64) -> f64 {
    new
}

/// Decimals of an axis showing `values`: those [`format_amount`] shows
/// the largest with.
fn precision(values: impl Iterator<Item = f64>) -> usize {
    let largest = values
        .filter(|v| v.is_finite())
        .fold(0.0f64, |m, v| m.max(v.abs()));
    amount_decimals(largest)
}

fn price_data(report: &BacktestReport) -> (Price, Axis) {
    let mut price = Price::default();
    if report.candles.is_empty() {
        // Reports written before candles were kept: the close at each
        // point of the equity curve.
        let points = finite_points(&report.equity, |p| p.price);
        for point in &points {
            let t = seconds(point.timestamp_ms);
            if price.t.last() == Some(&t) {
                continue;
            }
            price.t.push(t);
            price.close.push(point.price);
        }
        price.precision = precision(price.close.iter().copied());
        let axis = Axis {
            times_ms: points.iter().map(|p| p.timestamp_ms).collect(),
            opens: false,
        };
        return (price, axis);
    }
    price.candles = true;
    let mut times_ms = Vec::with_capacity(report.candles.len());
    for bar in &report.candles {
        let values = [bar.open, bar.high, bar.low, bar.close, bar.volume];
        if values.iter().any(|v| !v.is_finite()) {
            continue;
        }
        let t = seconds(bar.timestamp_ms);
        // Bars less than a second apart share the chart's time: merged.
        if price.t.last() == Some(&t) {
            let last = price.t.len() - 1;
            price.high[last] = price.high[last].max(bar.high);
            price.low[last] = price.low[last].min(bar.low);
            price.close[last] = bar.close;
            price.volume[last] += bar.volume;
            continue;
        }
        times_ms.push(bar.timestamp_ms);
        price.t.push(t);
        price.open.push(bar.open);
        price.high.push(bar.high);
        price.low.push(bar.low);
        price.close.push(bar.close);
        price.volume.push(bar.volume);
    }
    // The typical price, not an outlier, sets the axis decimals.
    let mut closes = price.close.clone();
    closes.sort_by(f64::total_cmp);
    price.precision = precision(closes.get(closes.len() / 2).copied().into_iter());
    (
        price,
        Axis {
            times_ms,
            opens: true,
        },
    )
}

fn finite_points(points: &[EquityPoint], value: impl Fn(&EquityPoint) -> f64) -> Vec<EquityPoint> {
    points
        .iter()
        .filter(|p| value(p).is_finite())
        .copied()
        .collect()
}

fn line(
    axis: &Axis,
    name: String,
    color: &'static str,
    points: impl Iterator<Item = (u64, f64)>,
    merge: impl Fn(f64, f64) -> f64,
) -> Line {
    let (t, v) = on_axis(axis, points, merge);
    Line {
        name,
        color,
        precision: precision(v.iter().copied()),
        t,
        v,
    }
}

/// `1h 05m`, `3d 4h`, `45s`.
pub(crate) fn duration(ms: u64) -> String {
    let seconds = ms / 1000;
    let (days, hours, minutes) = (seconds / 86_400, seconds / 3600 % 24, seconds / 60 % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{seconds}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m:02}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// `0.5 ETH + 0.00015 BTC`.
fn amounts(list: &[stratbox_backtest::report::AssetUnits]) -> String {
    list.iter()
        .map(|a| format!("{} {}", format_amount(a.units), escape_terminal(&a.asset)))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// The hover line of a released action: what it was, how it filled, and
/// for a sale what its round trip realized.
fn trade_line(report: &BacktestReport, trade: &TradeRecord) -> String {
    let side = match trade.side {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
        Side::Other => "ACTION",
    };
    let mut text = format!(
        "{side} #{} {} ({})",
        trade.id,
        escape_terminal(&trade.summary),
        escape_terminal(&trade.outcome)
    );
    if let Some(price) = trade.price {
        text.push_str(&format!(" at {}", format_amount(price)));
    }
    if !trade.spent.is_empty() || !trade.received.is_empty() {
        text.push_str(&format!(
            ": paid {}, got {}",
            or_nothing(amounts(&trade.spent)),
            or_nothing(amounts(&trade.received))
        ));
    }
    if !trade.fees.is_empty() {
        text.push_str(&format!(", fee {}", amounts(&trade.fees)));
    }
    for trip in report
        .round_trips
        .iter()
        .filter(|r| r.exit_action == Some(trade.id))
    {
        text.push_str(&format!(
            "; profit {} {} ({:+.2}%) over {}",
            format_signed_amount(trip.profit),
            escape_terminal(&report.quote),
            trip.trade_return * 100.0,
            duration(trip.duration_ms)
        ));
    }
    text
}

fn or_nothing(text: String) -> String {
    if text.is_empty() {
        "nothing".to_owned()
    } else {
        text
    }
}

/// What the page's chart draws, from `report`.
pub(crate) fn chart_data(report: &BacktestReport) -> ChartData {
    let (price, axis) = price_data(report);
    let mut events: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    let mut markers: BTreeMap<(i64, MarkerKind), Option<f64>> = BTreeMap::new();
    let mut event = |ms: u64, kind: MarkerKind, price: Option<f64>, text: String| {
        if let Some(bar) = axis.bar(ms) {
            events.entry(bar).or_default().push(text);
            // One marker per kind and bar; a swap's at its price.
            let slot = markers.entry((bar, kind)).or_insert(None);
            if slot.is_none() {
                *slot = price.filter(|p| p.is_finite() && *p > 0.0);
            }
        }
    };
    for trade in &report.trades {
        let kind = match (trade.outcome.as_str(), trade.side) {
            ("filled", Side::Buy) => MarkerKind::Buy,
            ("filled", Side::Sell) => MarkerKind::Sell,
            ("filled", Side::Other) => MarkerKind::Other,
            _ => MarkerKind::Unfilled,
        };
        event(
            trade.executed_at_ms(),
            kind,
            trade.price,
            trade_line(report, trade),
        );
    }
    // Round trips whose sale the trades do not name (a venue that did not
    // say which action sold) still show their profit.
    for trip in &report.round_trips {
        if trip
            .exit_action
            .is_some_and(|id| report.trades.iter().any(|t| t.id == id))
        {
            continue;
        }
        event(
            trip.exit_ms,
            MarkerKind::Sell,
            None,
            format!(
                "SOLD {} {}: profit {} {} ({:+.2}%) over {}",
                format_amount(trip.units),
                escape_terminal(&trip.asset),
                format_signed_amount(trip.profit),
                escape_terminal(&report.quote),
                trip.trade_return * 100.0,
                duration(trip.duration_ms)
            ),
        );
    }
    for denial in &report.denials {
        event(
            denial.timestamp_ms,
            MarkerKind::Denial,
            None,
            format!(
                "DENIED by {} (tick {}): {}",
                escape_terminal(&denial.rule),
                denial.sequence,
                escape_terminal(&denial.detail)
            ),
        );
    }
    for failure in &report.failures {
        let mut text = format!(
            "FAILED tick {}{}: {}",
            failure.sequence,
            if failure.count > 1 {
                format!(" and the {} ticks after it", failure.count - 1)
            } else {
                String::new()
            },
            escape_terminal(&failure.message)
        );
        if let Some(last) = failure.logs.last() {
            text.push_str(&format!("; last log: {}", escape_terminal(last)));
        }
        event(failure.timestamp_ms, MarkerKind::Failure, None, text);
    }
    for lines in events.values_mut() {
        if lines.len() > MAX_EVENT_LINES {
            let more = lines.len() - (MAX_EVENT_LINES - 1);
            lines.truncate(MAX_EVENT_LINES - 1);
            lines.push(format!("... and {more} more"));
        }
    }
    let markers = markers
        .into_iter()
        .map(|((t, kind), price)| Marker { t, kind, price })
        .collect();

    let (mut overlays, mut panes) = (Vec::new(), Vec::<Pane>::new());
    for (index, (name, points)) in report.series.iter().enumerate() {
        let color = PALETTE[index % PALETTE.len()];
        let shown = name.strip_prefix(OVERLAY_PREFIX).unwrap_or(name);
        let series = line(
            &axis,
            escape_terminal(shown).into_owned(),
            color,
            points.iter().copied(),
            keep_last,
        );
        match pane_of(name) {
            None => overlays.push(series),
            Some(group) => {
                let group = escape_terminal(group).into_owned();
                match panes.iter_mut().find(|p| p.name == group) {
                    Some(pane) => pane.lines.push(series),
                    None => panes.push(Pane {
                        name: group,
                        lines: vec![series],
                    }),
                }
            }
        }
    }

    let quote = escape_terminal(&report.quote).into_owned();
    let equity = line(
        &axis,
        format!("equity ({quote})"),
        "#1e63d6",
        report.equity.iter().map(|p| (p.timestamp_ms, p.equity)),
        keep_last,
    );
    let drawdown = line(
        &axis,
        "drawdown (%)".to_owned(),
        "#d32f2f",
        report
            .equity
            .iter()
            .map(|p| (p.timestamp_ms, -p.drawdown * 100.0)),
        f64::min,
    );
    let benchmark = report.benchmark.as_ref().map(|b| {
        line(
            &axis,
            format!("buy and hold {}", escape_terminal(&b.asset)),
            "#8a8a8a",
            b.equity.iter().map(|p| (p.timestamp_ms, p.equity)),
            keep_last,
        )
    });
    let benchmark_drawdown = report.benchmark.as_ref().map(|b| {
        line(
            &axis,
            format!("buy and hold {} drawdown (%)", escape_terminal(&b.asset)),
            "#8a8a8a",
            b.equity
                .iter()
                .map(|p| (p.timestamp_ms, -p.drawdown * 100.0)),
            f64::min,
        )
    });
    let equity_precision = precision(
        equity
            .v
            .iter()
            .chain(benchmark.iter().flat_map(|b| &b.v))
            .copied(),
    );
    let profits = line(
        &axis,
        format!("profit per round trip ({quote})"),
        "#26a69a",
        report.round_trips.iter().map(|r| (r.exit_ms, r.profit)),
        |a, b| a + b,
    );
    let profit_precision = precision(profits.v.iter().copied());
    ChartData {
        market: escape_terminal(&report.market).into_owned(),
        quote,
        price,
        overlays,
        panes,
        markers,
        events,
        equity,
        benchmark,
        equity_precision,
        drawdown,
        benchmark_drawdown,
        profits,
        profit_precision,
    }
}

/// `data` as JSON to embed in a `<script type="application/json">`
/// element: `<`, `>` and `&` (which JSON has only inside strings, where
/// every text a strategy controls is) written as `\u003c`, `\u003e` and
/// `\u0026`, so no text can end the element or open a comment in it; and
/// the line separators JavaScript once refused, escaped too.
pub(crate) fn embed_json(data: &impl Serialize) -> String {
    // Serializing plain data into a string cannot fail.
    let json = serde_json::to_string(data).unwrap_or_else(|_| "null".to_owned());
    let mut out = String::with_capacity(json.len() + 64);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_names_choose_their_pane() {
        assert_eq!(pane_of("overlay:ema.fast"), None);
        assert_eq!(pane_of("rsi"), Some("rsi"));
        assert_eq!(pane_of("macd.signal"), Some("macd"));
        assert_eq!(pane_of("macd.histogram"), Some("macd"));
    }

    #[test]
    fn events_go_on_the_bar_they_fall_in() {
        let candles = Axis {
            times_ms: vec![0, 300_000, 600_000],
            opens: true,
        };
        // A tick's time is its candle's close, the next one's open.
        assert_eq!(candles.bar(300_000), Some(0));
        assert_eq!(candles.bar(300_001), Some(300));
        assert_eq!(candles.bar(0), Some(0));
        assert_eq!(candles.bar(9_000_000), Some(600));
        let closes = Axis {
            times_ms: vec![300_000, 600_000],
            opens: false,
        };
        assert_eq!(closes.bar(300_000), Some(300));
        assert_eq!(closes.bar(300_001), Some(600));
        assert_eq!(closes.bar(900_000), Some(600));
        let empty = Axis {
            times_ms: Vec::new(),
            opens: true,
        };
        assert_eq!(empty.bar(5), None);
    }

    #[test]
    fn points_are_sorted_merged_per_bar_and_finite() {
        let axis = Axis {
            times_ms: vec![0, 300_000, 600_000],
            opens: true,
        };
        let points = [
            (600_000, 2.0),
            (100_000, f64::NAN),
            (200_000, 1.0),
            (250_000, 1.5),
            (900_000, f64::INFINITY),
        ];
        // The point at 600,000 is the close of the bar opening at 300,000.
        assert_eq!(
            on_axis(&axis, points.into_iter(), keep_last),
            (vec![0, 300], vec![1.5, 2.0])
        );
        let (t, v) = on_axis(
            &axis,
            [(300_001, 1.0), (200_000, 3.0)].into_iter(),
            |a, b| a + b,
        );
        assert_eq!((t, v), (vec![0, 300], vec![3.0, 1.0]));
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(45_000), "45s");
        assert_eq!(duration(300_000), "5m");
        assert_eq!(duration(3_900_000), "1h 05m");
        assert_eq!(duration(2 * 86_400_000 + 7_200_000), "2d 2h");
    }

    #[test]
    fn embedded_json_cannot_end_its_script_element() {
        let hostile = "</script><script>alert(1)</script><!-- & \u{2028}";
        let json = embed_json(&hostile);
        assert!(!json.contains('<') && !json.contains('>') && !json.contains('&'));
        assert!(!json.contains('\u{2028}'));
        assert_eq!(serde_json::from_str::<String>(&json).unwrap(), hostile);
    }
}
