//! Self-contained HTML pages of searches, walk-forward analyses and Monte
//! Carlo robustness: inline SVG charts, tables, no scripts or external
//! assets.

use std::fmt::Write as _;

use serde_json::Value;

use crate::error::OptimizeError;
use crate::objective::Objective;
use crate::robustness::{Distribution, Resampled, Robustness};
use crate::search::{Method, SearchResult, Trial};
use crate::space::{Domain, Param, Space};
use crate::svg::{Series, color, escape, grouped_bars, heatmap, histogram, line_chart};
use crate::walk_forward::WalkForward;

/// Most trials a search page lists (the JSON has every one).
const MAX_ROWS: usize = 200;

/// Integer ranges with at most this many values get a heatmap cell per
/// value; wider ones, and float ranges, are binned.
const MAX_CELLS: i64 = 40;

/// Bins of a heatmap axis over a wide or float range.
const BINS: usize = 12;

const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222}\
    table{border-collapse:collapse;margin:1em 0}\
    td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f3f3f3}\
    td.n{text-align:right}code{background:#f6f6f6}.note{color:#555}";

fn page(title: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}</title>\
         <style>{STYLE}</style></head><body>\n<h1>{0}</h1>\n",
        escape(title)
    )
}

/// `(name, value)` rows as a two-column table.
fn facts(page: &mut String, rows: &[(&str, String)]) {
    page.push_str("<table>\n");
    for (name, value) in rows {
        let _ = writeln!(
            page,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(name),
            escape(value)
        );
    }
    page.push_str("</table>\n");
}

fn percent(value: f64) -> String {
    format!("{:+.2}%", value * 100.0)
}

/// The objective's value as a report shows it.
fn metric_text(objective: Objective, value: f64) -> String {
    if objective.is_fraction() {
        format!("{:.2}%", value * 100.0)
    } else {
        format!("{value:.3}")
    }
}

/// Axis labels of the objective: percent for fractions.
fn axis_text(objective: Objective, value: f64) -> String {
    if objective.is_fraction() {
        format!("{:.1}%", value * 100.0)
    } else {
        short(value)
    }
}

/// `ms` since the Unix epoch as `YYYY-MM-DD HH:MM` (UTC).
pub fn utc(ms: u64) -> String {
    let minutes = ms / 60_000;
    let (mut days, minute) = (minutes / 1_440, minutes % 1_440);
    let mut year = 1970;
    let leap = |y: u64| (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    while days >= if leap(year) { 366 } else { 365 } {
        days -= if leap(year) { 366 } else { 365 };
        year += 1;
    }
    let lengths = [
        31,
        if leap(year) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let mut month = 0;
    while days >= lengths[month] {
        days -= lengths[month];
        month += 1;
    }
    format!(
        "{year:04}-{:02}-{:02} {:02}:{:02}",
        month + 1,
        days + 1,
        minute / 60,
        minute % 60
    )
}

/// A config value as a short label (strings without quotes).
fn label(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// `key=value` of every searched parameter of `config`.
fn params_text(space: &Space, config: &Value) -> String {
    space
        .params()
        .iter()
        .map(|p| format!("{}={}", p.key, config.get(&p.key).map_or("-".into(), label)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A heatmap axis: the cell of each value, and the labels.
enum Cells {
    /// One cell per value.
    Values(Vec<Value>),
    /// Equal bins from `low` to `high`.
    Bins { low: f64, high: f64, count: usize },
}

impl Cells {
    fn of(param: &Param) -> Cells {
        match &param.domain {
            Domain::Values(values) => Cells::Values(values.clone()),
            Domain::Int { low, high } if high - low < MAX_CELLS => {
                Cells::Values((*low..=*high).map(Value::from).collect())
            }
            Domain::Int { low, high } => Cells::Bins {
                low: *low as f64,
                high: *high as f64 + 1.0,
                count: BINS,
            },
            Domain::Float { low, high } => Cells::Bins {
                low: *low,
                high: *high,
                count: BINS,
            },
        }
    }

    fn len(&self) -> usize {
        match self {
            Cells::Values(values) => values.len(),
            Cells::Bins { count, .. } => *count,
        }
    }

    fn index(&self, value: &Value) -> Option<usize> {
        match self {
            Cells::Values(values) => values.iter().position(|v| v == value),
            Cells::Bins { low, high, count } => {
                let x = value.as_f64()?;
                let width = (high - low) / *count as f64;
                Some((((x - low) / width).floor().max(0.0) as usize).min(count - 1))
            }
        }
    }

    fn labels(&self) -> Vec<String> {
        match self {
            Cells::Values(values) => values.iter().map(label).collect(),
            Cells::Bins { low, high, count } => {
                let width = (high - low) / *count as f64;
                (0..*count)
                    .map(|i| {
                        format!(
                            "{}..{}",
                            short(low + width * i as f64),
                            short(low + width * (i + 1) as f64)
                        )
                    })
                    .collect()
            }
        }
    }
}

/// A number in at most 4 significant digits.
fn short(x: f64) -> String {
    let text = format!("{x:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text.is_empty() || text == "-" {
        "0".into()
    } else {
        text.to_owned()
    }
}

/// The heatmap of `objective` over parameters `x` and `y` (`None`: one
/// row): each cell the best clean trial with its values.
fn trial_heatmap(trials: &[Trial], objective: Objective, x: &Param, y: Option<&Param>) -> String {
    let columns = Cells::of(x);
    let rows = y.map(Cells::of);
    let row_count = rows.as_ref().map_or(1, Cells::len);
    let mut cells = vec![vec![None::<f64>; columns.len()]; row_count];
    for trial in trials.iter().filter(|t| t.clean()) {
        let Some(c) = trial.config.get(&x.key).and_then(|v| columns.index(v)) else {
            continue;
        };
        let r = match (&rows, y) {
            (Some(rows), Some(y)) => match trial.config.get(&y.key).and_then(|v| rows.index(v)) {
                Some(r) => r,
                None => continue,
            },
            _ => 0,
        };
        let score = objective.score(&trial.metrics);
        let cell = &mut cells[r][c];
        if cell.is_none_or(|best| score > best) {
            *cell = Some(score);
        }
    }
    let title = match y {
        Some(y) => format!("{} by {} and {}", objective.name(), x.key, y.key),
        None => format!("{} by {}", objective.name(), x.key),
    };
    let shown = |score: f64| {
        metric_text(
            objective,
            if objective == Objective::Drawdown {
                -score
            } else {
                score
            },
        )
    };
    heatmap(
        &title,
        &x.key,
        y.map_or("", |y| y.key.as_str()),
        &columns.labels(),
        &rows.map_or_else(|| vec![String::new()], |r| r.labels()),
        &cells,
        &shown,
    )
}

/// A search as a page: facts (`context`), the heatmap of the objective
/// over parameters `x` and `y` (default: the first two; the other
/// parameters at their best in each cell), for TPE and random searches the
/// best score by trial, and the best trials.
pub fn search_html(
    result: &SearchResult,
    space: &Space,
    x: Option<&str>,
    y: Option<&str>,
    title: &str,
    context: &[(&str, String)],
) -> Result<String, OptimizeError> {
    let find = |key: &str| {
        space.param(key).ok_or_else(|| {
            OptimizeError::Config(format!("the heatmap parameter `{key}` is not searched"))
        })
    };
    let x = match x {
        Some(key) => Some(find(key)?),
        None => space.params().first(),
    };
    let y = match y {
        Some(key) => Some(find(key)?),
        None => space.params().iter().find(|p| Some(*p) != x),
    };
    let objective = result.objective;
    let mut html = page(title);
    facts(&mut html, context);
    if let Some(x) = x {
        html.push_str("<h2>Heatmap</h2>\n");
        if space.params().len() > 2 {
            html.push_str(
                "<p class=\"note\">Each cell: the best trial with those values, whatever the \
                 other parameters; grey: no clean trial.</p>\n",
            );
        }
        html.push_str(&trial_heatmap(&result.trials, objective, x, y));
    }
    if result.method != Method::Grid {
        let mut numbered: Vec<&Trial> =
            result.trials.iter().filter(|t| t.trial.is_some()).collect();
        numbered.sort_by_key(|t| t.trial);
        let mut best = f64::NEG_INFINITY;
        let mut points = Vec::new();
        let mut all = Vec::new();
        for trial in numbered {
            let n = trial.trial.unwrap_or(0) as f64;
            let value = objective.value(&trial.metrics);
            if trial.clean() {
                best = best.max(objective.score(&trial.metrics));
                all.push((n, value));
            }
            if best.is_finite() {
                let shown = if objective == Objective::Drawdown {
                    -best
                } else {
                    best
                };
                points.push((n, shown));
            }
        }
        html.push_str("<h2>Search progress</h2>\n");
        html.push_str(&line_chart(
            &format!("{} by trial ({})", objective.name(), result.method.name()),
            &[
                Series {
                    name: "each trial",
                    color: "#9bb7d4",
                    points: all,
                    dots: true,
                },
                Series {
                    name: "best so far",
                    color: "#1a7f37",
                    points,
                    dots: false,
                },
            ],
            &[],
            &|x| format!("{x:.0}"),
            &|v| axis_text(objective, v),
        ));
    }
    let _ = writeln!(
        html,
        "<h2>Trials</h2>\n<p>{} distinct configs of {} proposed, ranked by {}; those with failed \
         ticks are not ranked.</p>\n<table>\n<tr><th>rank</th><th>config</th><th>return</th>\
         <th>sharpe</th><th>sortino</th><th>max dd</th><th>actions</th><th>failed</th></tr>",
        result.trials.len(),
        result.proposals,
        objective.name()
    );
    for trial in result.trials.iter().take(MAX_ROWS) {
        let m = &trial.metrics;
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{:.3}</td>\
             <td class=\"n\">{:.3}</td><td class=\"n\">{:.2}%</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            trial.rank.map_or_else(|| "-".to_owned(), |r| r.to_string()),
            escape(&params_text(space, &trial.config)),
            percent(m.total_return),
            m.sharpe,
            m.sortino,
            m.max_drawdown * 100.0,
            m.actions,
            m.failed_ticks
        );
    }
    html.push_str("</table>\n</body></html>\n");
    Ok(html)
}

/// A walk-forward analysis as a page: facts (`context`), the stitched
/// out-of-sample equity (window starts dashed, buy and hold grey), the
/// objective in and out of sample per window, each parameter's chosen
/// value per window, and the windows.
pub fn walk_forward_html(
    wf: &WalkForward,
    space: &Space,
    title: &str,
    context: &[(&str, String)],
) -> String {
    let objective = wf.objective;
    let mut html = page(title);
    let m = &wf.stitched.metrics;
    let mut rows: Vec<(&str, String)> = context.to_vec();
    rows.extend([
        ("window count", wf.windows.len().to_string()),
        (
            "stitched out-of-sample",
            format!(
                "return {}, Sharpe {:.3}, Sortino {:.3}, max drawdown {:.2}%, {} actions, {} failed ticks",
                percent(m.total_return),
                m.sharpe,
                m.sortino,
                m.max_drawdown * 100.0,
                m.actions,
                m.failed_ticks
            ),
        ),
        (
            "buy and hold (same windows)",
            m.benchmark_return.map_or("n/a".into(), percent),
        ),
        (
            "walk-forward efficiency",
            wf.efficiency.map_or("n/a (in-sample return not positive)".into(), |e| {
                format!("{e:.3} (annualized out-of-sample return / in-sample return)")
            }),
        ),
        (
            "objective in / out of sample (mean)",
            format!(
                "{} / {}",
                wf.in_sample_metric_mean
                    .map_or("n/a".into(), |v| metric_text(objective, v)),
                wf.out_of_sample_metric_mean
                    .map_or("n/a".into(), |v| metric_text(objective, v))
            ),
        ),
    ]);
    facts(&mut html, &rows);
    if !wf.stitched.per_candle {
        html.push_str(
            "<p class=\"note\">Some out-of-sample windows had more candles than a report keeps \
             points for: the stitched volatility, Sharpe and Sortino are from the kept points \
             (return and drawdown are exact).</p>\n",
        );
    }
    html.push_str("<h2>Stitched out-of-sample equity</h2>\n");
    let curve = |points: &[stratbox_backtest::report::EquityPoint]| {
        points
            .iter()
            .map(|p| (p.timestamp_ms as f64, p.equity))
            .collect::<Vec<_>>()
    };
    let mut series = vec![Series {
        name: "strategy, out of sample",
        color: "#1f5fa8",
        points: curve(&wf.stitched.equity),
        dots: false,
    }];
    if !wf.stitched.benchmark.is_empty() {
        series.push(Series {
            name: "buy and hold",
            color: "#999999",
            points: curve(&wf.stitched.benchmark),
            dots: false,
        });
    }
    let starts: Vec<f64> = wf
        .windows
        .iter()
        .filter(|w| w.out_of_sample_metrics.is_some())
        .map(|w| w.out_of_sample.from_ms as f64)
        .collect();
    html.push_str(&line_chart(
        "Equity (each window starts where the previous ended)",
        &series,
        &starts,
        &|x| utc(x.max(0.0) as u64)[..10].to_owned(),
        &|v| short(v),
    ));
    let labels: Vec<String> = wf.windows.iter().map(|w| w.index.to_string()).collect();
    html.push_str("<h2>In sample vs out of sample</h2>\n");
    html.push_str(&grouped_bars(
        &format!("{} per window", objective.name()),
        &labels,
        &[
            (
                "in sample",
                "#9bb7d4",
                wf.windows.iter().map(|w| w.in_sample_metric).collect(),
            ),
            (
                "out of sample",
                "#1f5fa8",
                wf.windows.iter().map(|w| w.out_of_sample_metric).collect(),
            ),
        ],
        &|v| axis_text(objective, v),
    ));
    html.push_str(
        "<h2>Parameter stability</h2>\n<table>\n<tr><th>parameter</th><th>distinct</th>\
                   <th>changes</th><th>most chosen</th><th>mean &plusmn; stdev</th></tr>\n",
    );
    for s in &wf.stability {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{} ({:.0}% of windows)</td><td>{}</td></tr>",
            escape(&s.key),
            s.distinct,
            s.changes,
            escape(&label(&s.mode)),
            s.mode_share * 100.0,
            match (s.mean, s.stdev) {
                (Some(mean), Some(stdev)) => format!("{} &plusmn; {}", short(mean), short(stdev)),
                _ => "-".into(),
            }
        );
    }
    html.push_str("</table>\n");
    for s in wf.stability.iter().filter(|s| s.mean.is_some()) {
        let points: Vec<(f64, f64)> = wf
            .windows
            .iter()
            .zip(&s.values)
            .filter_map(|(w, v)| Some((w.index as f64, v.as_f64()?)))
            .collect();
        html.push_str(&line_chart(
            &format!("{} chosen per window", s.key),
            &[Series {
                name: &s.key,
                color: "#6a3d9a",
                points,
                dots: true,
            }],
            &[],
            &|x| format!("{x:.0}"),
            &|v| short(v),
        ));
    }
    let oos: Vec<f64> = wf
        .windows
        .iter()
        .filter_map(|w| w.out_of_sample_metrics.as_ref().map(|m| m.total_return))
        .collect();
    let (low, high) = oos
        .iter()
        .fold((0.0f64, 0.0f64), |(a, b), v| (a.min(*v), b.max(*v)));
    html.push_str(
        "<h2>Windows</h2>\n<table>\n<tr><th>#</th><th>in sample</th><th>out of sample</th>\
                   <th>chosen</th><th>in sample</th><th>out of sample</th><th>OOS return</th>\
                   <th>efficiency</th><th>OOS failed</th></tr>\n",
    );
    for w in &wf.windows {
        let oos_return = w.out_of_sample_metrics.as_ref().map(|m| m.total_return);
        let shade = oos_return.map_or("#eeeeee".to_owned(), |r| {
            let scale = high.max(-low).max(1e-12);
            color(0.5 + r / scale / 2.0)
        });
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{} to {} ({} candles)</td><td>{} to {} ({} candles)</td>\
             <td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\" style=\"background:{shade}\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            w.index,
            utc(w.in_sample.from_ms),
            utc(w.in_sample.to_ms),
            w.in_sample.len(),
            utc(w.out_of_sample.from_ms),
            utc(w.out_of_sample.to_ms),
            w.out_of_sample.len(),
            escape(&match &w.best {
                Some(best) => params_text(space, best),
                None => "none (every in-sample trial had failed ticks)".into(),
            }),
            w.in_sample_metric
                .map_or("-".into(), |v| metric_text(objective, v)),
            w.out_of_sample_metric
                .map_or("-".into(), |v| metric_text(objective, v)),
            oos_return.map_or("-".into(), percent),
            w.efficiency.map_or("-".into(), |e| format!("{e:.2}")),
            w.out_of_sample_failures.len()
        );
    }
    html.push_str("</table>\n</body></html>\n");
    html
}

fn percentile_row(
    html: &mut String,
    method: &str,
    figure: &str,
    d: &Distribution,
    loss: Option<f64>,
) {
    let p = &d.percentiles;
    // Returns (the rows with a probability of loss) signed, drawdowns not.
    let percent = |v: f64| match loss {
        Some(_) => percent(v),
        None => format!("{:.2}%", v * 100.0),
    };
    let _ = writeln!(
        html,
        "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
         <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
        escape(method),
        escape(figure),
        percent(p.p5),
        percent(p.p25),
        percent(p.p50),
        percent(p.p75),
        percent(p.p95),
        loss.map_or(String::new(), |l| format!("{:.1}%", l * 100.0))
    );
}

fn distribution_chart(title: &str, d: &Distribution, observed: f64) -> String {
    let p = &d.percentiles;
    histogram(
        title,
        d.histogram.low,
        d.histogram.high,
        &d.histogram.counts,
        &[
            ("p5", p.p5, "#c62828"),
            ("median", p.p50, "#333333"),
            ("p95", p.p95, "#1a7f37"),
            ("this run", observed, "#6a3d9a"),
        ],
        &|x| format!("{:.1}%", x * 100.0),
    )
}

/// Monte Carlo robustness as a page: the settings, percentiles of total
/// return and maximum drawdown per method with the probability of a loss,
/// and their histograms (5th, 50th and 95th percentiles and the run's own
/// figure marked).
pub fn robustness_html(r: &Robustness) -> String {
    let mut html = page(&format!("stratbox robustness: {}", r.strategy));
    facts(
        &mut html,
        &[
            ("strategy", r.strategy.clone()),
            ("config", r.config.clone()),
            ("market", r.market.clone()),
            (
                "this run",
                format!(
                    "return {}, max drawdown {:.2}%",
                    percent(r.observed_return),
                    r.observed_max_drawdown * 100.0
                ),
            ),
            (
                "paths",
                format!(
                    "{} per method, seed {}, bootstrap block {}",
                    r.settings.runs, r.settings.seed, r.settings.block
                ),
            ),
        ],
    );
    if !r.per_candle {
        html.push_str(
            "<p class=\"note\">The run had more candles than its report keeps points for: the \
             bootstrap drew the returns between kept points, not per candle.</p>\n",
        );
    }
    html.push_str(
        "<table>\n<tr><th>method</th><th>figure</th><th>p5</th><th>p25</th><th>median</th>\
         <th>p75</th><th>p95</th><th>P(loss)</th></tr>\n",
    );
    let methods: [(&str, &Option<Resampled>); 2] = [
        ("trade order permuted", &r.trade_order),
        ("bootstrap of returns", &r.bootstrap),
    ];
    for (name, resampled) in methods {
        match resampled {
            Some(s) => {
                percentile_row(
                    &mut html,
                    name,
                    "total return",
                    &s.total_return,
                    Some(s.probability_of_loss),
                );
                percentile_row(&mut html, name, "max drawdown", &s.max_drawdown, None);
            }
            None => {
                let _ = writeln!(
                    html,
                    "<tr><td>{}</td><td colspan=\"7\">fewer than two returns to resample</td></tr>",
                    escape(name)
                );
            }
        }
    }
    html.push_str("</table>\n");
    if let Some(s) = &r.trade_order {
        let _ = writeln!(
            html,
            "<h2>Trade order permuted</h2>\n<p class=\"note\">{} returns between trades, in {} \
             random orders: the total return is the same in every order; the drawdown is not \
             (\"this run\": its drawdown between trades, {:.2}%; within trades it was {:.2}%).</p>",
            s.samples,
            s.runs,
            r.observed_trade_max_drawdown.unwrap_or(0.0) * 100.0,
            r.observed_max_drawdown * 100.0
        );
        html.push_str(&distribution_chart(
            "Max drawdown over permuted trade orders (between trades)",
            &s.max_drawdown,
            r.observed_trade_max_drawdown
                .unwrap_or(r.observed_max_drawdown),
        ));
    }
    if let Some(s) = &r.bootstrap {
        let _ = writeln!(
            html,
            "<h2>Bootstrap of returns</h2>\n<p class=\"note\">{} paths of {} returns drawn with \
             replacement (blocks of {}).</p>",
            s.runs, s.samples, r.settings.block
        );
        html.push_str(&distribution_chart(
            "Total return over bootstrapped paths",
            &s.total_return,
            r.observed_return,
        ));
        html.push_str(&distribution_chart(
            "Max drawdown over bootstrapped paths",
            &s.max_drawdown,
            r.observed_max_drawdown,
        ));
    }
    html.push_str("</body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00");
        assert_eq!(utc(1_515_560_100_000), "2018-01-10 04:55");
        assert_eq!(utc(1_735_689_599_999), "2024-12-31 23:59");
    }

    #[test]
    fn heatmap_axes_bin_wide_ranges() {
        let int = Param::parse_range("p=1..=3").unwrap();
        let cells = Cells::of(&int);
        assert_eq!(cells.labels(), ["1", "2", "3"]);
        assert_eq!(cells.index(&Value::from(2)), Some(1));
        let float = Param::parse_range("t=0..1.2").unwrap();
        let bins = Cells::of(&float);
        assert_eq!(bins.len(), BINS);
        assert_eq!(bins.index(&Value::from(0.05)), Some(0));
        assert_eq!(bins.index(&Value::from(1.19)), Some(BINS - 1));
        assert_eq!(bins.labels()[1], "0.1..0.2");
    }
}
