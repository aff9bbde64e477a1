//! Walk-forward analysis: optimise on an in-sample window, evaluate the
//! chosen config on the out-of-sample window right after it, move on; the
//! out-of-sample runs stitched into one equity curve.
//!
//! A window's in-sample search sees only its in-sample candles (the
//! evaluator is called with their range alone), and the out-of-sample run
//! is one backtest of the config that search ranked first, over the
//! out-of-sample candles alone, from a fresh deployment and account.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use stratbox_backtest::metrics::{Metrics, MetricsInput};
use stratbox_backtest::report::{BacktestReport, EquityPoint, FailureRecord};

use crate::Evaluator;
use crate::error::OptimizeError;
use crate::objective::Objective;
use crate::parallel::parallel_map;
use crate::search::{Method, SearchConfig, SearchResult, Trial, rank, search};
use crate::space::Space;

const YEAR_MS: f64 = 365.0 * 24.0 * 3_600_000.0;

/// The length of a window or step: a number of candles, or a duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Length {
    /// This many candles of the driving tape.
    Candles(usize),
    /// The candles whose timestamps fall within this many milliseconds.
    Millis(u64),
}

impl Length {
    fn is_zero(self) -> bool {
        matches!(self, Length::Candles(0) | Length::Millis(0))
    }
}

/// How the tape is cut into windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalkForwardConfig {
    /// Length of each in-sample window (of the first one when anchored).
    pub in_sample: Length,
    /// Length of each out-of-sample window.
    pub out_of_sample: Length,
    /// How far each window moves on from the previous one. Default
    /// (`None`): `out_of_sample`, so that out-of-sample windows follow one
    /// another without gap or overlap.
    pub step: Option<Length>,
    /// Every in-sample window starts at the tape's first candle and grows
    /// by `step` (instead of rolling forward at a fixed length). Default:
    /// `false`.
    pub anchored: bool,
}

/// A range of candles and the time it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// First candle (index into the driving tape).
    pub start: usize,
    /// One past the last candle.
    pub end: usize,
    /// Timestamp of the first candle (its open time, for tapes), ms.
    pub from_ms: u64,
    /// Timestamp of the last candle plus the tape's usual spacing: where
    /// the span ends (excluded), ms.
    pub to_ms: u64,
}

impl Span {
    fn of(range: &Range<usize>, timestamps: &[u64], spacing: u64) -> Span {
        Span {
            start: range.start,
            end: range.end,
            from_ms: timestamps[range.start],
            to_ms: timestamps[range.end - 1] + spacing,
        }
    }

    /// The candle indices.
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }

    /// Candles in the span.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether the span has no candle (never, for a window's spans).
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// The in-sample and out-of-sample candles of one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowBounds {
    /// Candles the search may see.
    pub in_sample: Range<usize>,
    /// Candles the chosen config is evaluated on: the ones right after.
    pub out_of_sample: Range<usize>,
}

/// The usual spacing of `timestamps` (the median gap), at least 1 ms.
fn spacing(timestamps: &[u64]) -> u64 {
    let mut gaps: Vec<u64> = timestamps.windows(2).map(|w| w[1] - w[0]).collect();
    if gaps.is_empty() {
        return 1;
    }
    gaps.sort_unstable();
    gaps[gaps.len() / 2].max(1)
}

/// Cut a tape with these candle timestamps (increasing; a tape's are open
/// times) into windows:
/// window `k` (from 0) has its in-sample part start at `k * step` (at the
/// first candle when anchored) and end at `in_sample + k * step`, and its
/// out-of-sample part the `out_of_sample` after that. Windows whose
/// out-of-sample part would run past the tape are left out; so are, with
/// durations, windows in which a gap in the candles leaves a part empty.
pub fn windows(
    timestamps: &[u64],
    config: &WalkForwardConfig,
) -> Result<Vec<WindowBounds>, OptimizeError> {
    let step = config.step.unwrap_or(config.out_of_sample);
    if [config.in_sample, config.out_of_sample, step]
        .iter()
        .any(|l| l.is_zero())
    {
        return Err(OptimizeError::Windows(
            "the in-sample, out-of-sample and step lengths must be positive".into(),
        ));
    }
    let mut out = Vec::new();
    match (config.in_sample, config.out_of_sample, step) {
        (Length::Candles(is), Length::Candles(oos), Length::Candles(step)) => {
            for k in 0.. {
                let is_end = is + k * step;
                let oos_end = is_end + oos;
                if oos_end > timestamps.len() {
                    break;
                }
                let is_start = if config.anchored { 0 } else { k * step };
                out.push(WindowBounds {
                    in_sample: is_start..is_end,
                    out_of_sample: is_end..oos_end,
                });
            }
        }
        (Length::Millis(is), Length::Millis(oos), Length::Millis(step)) => {
            let (Some(&first), Some(&last)) = (timestamps.first(), timestamps.last()) else {
                return Err(OptimizeError::Windows("the tape has no candles".into()));
            };
            let end_ms = last + spacing(timestamps);
            let index = |ms: u64| timestamps.partition_point(|t| *t < ms);
            for k in 0u64.. {
                let is_end = first + is + k * step;
                let oos_end = is_end + oos;
                if oos_end > end_ms {
                    break;
                }
                let is_start = if config.anchored {
                    first
                } else {
                    first + k * step
                };
                let (a, b, c) = (index(is_start), index(is_end), index(oos_end));
                if a < b && b < c {
                    out.push(WindowBounds {
                        in_sample: a..b,
                        out_of_sample: b..c,
                    });
                }
            }
        }
        _ => {
            return Err(OptimizeError::Windows(
                "give the in-sample, out-of-sample and step lengths all as durations or all as \
                 numbers of candles"
                    .into(),
            ));
        }
    }
    if out.is_empty() {
        return Err(OptimizeError::Windows(format!(
            "the tape ({} candles) is shorter than one in-sample window and one out-of-sample \
             window",
            timestamps.len()
        )));
    }
    Ok(out)
}

/// One window: what its in-sample search chose, and how that did out of
/// sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowResult {
    /// Window number, from 1.
    pub index: usize,
    /// The candles searched.
    pub in_sample: Span,
    /// The candles the chosen config ran on.
    pub out_of_sample: Span,
    /// Distinct configs evaluated in sample.
    pub evaluations: usize,
    /// The config ranked first in sample; `None` when every in-sample
    /// trial had failed ticks (the window then has no out-of-sample run).
    pub best: Option<Value>,
    /// The searched parameters of `best`.
    pub params: Map<String, Value>,
    /// Metrics of `best` in sample.
    pub in_sample_metrics: Option<Metrics>,
    /// Metrics of `best` out of sample.
    pub out_of_sample_metrics: Option<Metrics>,
    /// The objective's value in sample ([`Objective::value`]).
    pub in_sample_metric: Option<f64>,
    /// The objective's value out of sample.
    pub out_of_sample_metric: Option<f64>,
    /// Walk-forward efficiency: the out-of-sample return over the
    /// in-sample return, both annualized linearly (`return * year /
    /// duration`); `None` unless the in-sample return is positive.
    pub efficiency: Option<f64>,
    /// The out-of-sample run stopped at a failed tick.
    pub out_of_sample_stopped: bool,
    /// Failed ticks of the out-of-sample run.
    pub out_of_sample_failures: Vec<FailureRecord>,
}

/// How one parameter's chosen value moved across windows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamStability {
    /// The config key.
    pub key: String,
    /// The value chosen in each window (`null` where none was).
    pub values: Vec<Value>,
    /// Distinct values chosen.
    pub distinct: usize,
    /// Times the chosen value differs from the previous window's choice.
    pub changes: usize,
    /// The value chosen most often (the first such on a tie).
    pub mode: Value,
    /// Share of the windows with a choice that chose `mode`.
    pub mode_share: f64,
    /// Mean of the chosen values, when all are numbers.
    pub mean: Option<f64>,
    /// Their standard deviation (population), when all are numbers.
    pub stdev: Option<f64>,
}

/// The out-of-sample runs as one: each window's equity curve scaled to
/// start at the equity the previous one ended with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stitched {
    /// Metrics of the stitched curve: return, volatility, Sharpe, Sortino
    /// and drawdown from the curve (the drawdown exact from every candle,
    /// the others per curve point: exact when `per_candle`); fees, gas,
    /// actions, denials, ticks and trades summed over windows; win rate
    /// over all closed trades; fuel percentiles the largest window's;
    /// the benchmark is buying and holding over the same windows,
    /// stitched the same way.
    pub metrics: Metrics,
    /// The stitched curve, with its drawdown from the stitched peak.
    pub equity: Vec<EquityPoint>,
    /// The buy-and-hold benchmark stitched the same way (empty when a
    /// window has none).
    pub benchmark: Vec<EquityPoint>,
    /// Every window's curve had a point per candle (runs of at most
    /// `MAX_EQUITY_POINTS` candles), so per-point metrics are per candle.
    pub per_candle: bool,
}

/// The result of a walk-forward analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WalkForward {
    /// How each window was searched.
    pub method: Method,
    /// What the searches ranked by.
    pub objective: Objective,
    /// The window lengths.
    pub config: WalkForwardConfig,
    /// Every window, in time order.
    pub windows: Vec<WindowResult>,
    /// The out-of-sample runs stitched.
    pub stitched: Stitched,
    /// Walk-forward efficiency over all windows: the mean annualized
    /// out-of-sample return over the mean annualized in-sample return;
    /// `None` unless the latter is positive.
    pub efficiency: Option<f64>,
    /// Mean in-sample value of the objective over windows with a choice.
    pub in_sample_metric_mean: Option<f64>,
    /// Mean out-of-sample value of the objective.
    pub out_of_sample_metric_mean: Option<f64>,
    /// Stability of each searched parameter across windows.
    pub stability: Vec<ParamStability>,
}

/// Run a walk-forward analysis over a tape whose driving candles have
/// these `timestamps`: cut it into [`windows`], search each in-sample window as
/// `search_config` says (a grid's evaluations of every window run in one
/// parallel pool; a TPE or random search window after window, each with
/// the same seed), then backtest each window's best config on its
/// out-of-sample candles (in parallel), and stitch those runs.
pub fn walk_forward<E: Evaluator + ?Sized>(
    space: &Space,
    search_config: &SearchConfig,
    config: &WalkForwardConfig,
    timestamps: &[u64],
    evaluator: &E,
) -> Result<WalkForward, OptimizeError> {
    let bounds = windows(timestamps, config)?;
    let window_error = |index: usize, part: &'static str| {
        move |source: OptimizeError| OptimizeError::Window {
            index: index + 1,
            part,
            source: Box::new(source),
        }
    };
    let searches: Vec<SearchResult> = match search_config.method {
        Method::Grid => {
            let configs = space.grid()?;
            let pairs: Vec<(usize, &Value)> = (0..bounds.len())
                .flat_map(|w| configs.iter().map(move |c| (w, c)))
                .collect();
            let reports = parallel_map(&pairs, search_config.jobs, |(w, config)| {
                evaluator.evaluate(config, bounds[*w].in_sample.clone())
            });
            let mut per_window: Vec<Vec<Trial>> = vec![Vec::new(); bounds.len()];
            for ((w, config), report) in pairs.into_iter().zip(reports) {
                let report = report.map_err(|source| {
                    window_error(w, "in-sample")(OptimizeError::Evaluation {
                        config: config.clone(),
                        source,
                    })
                })?;
                per_window[w].push(Trial::of(config.clone(), report));
            }
            per_window
                .into_iter()
                .map(|mut trials| {
                    rank(&mut trials, search_config.objective);
                    SearchResult {
                        method: Method::Grid,
                        objective: search_config.objective,
                        trials,
                        proposals: configs.len(),
                    }
                })
                .collect()
        }
        Method::Tpe | Method::Random => bounds
            .iter()
            .enumerate()
            .map(|(w, b)| {
                search(space, search_config, evaluator, b.in_sample.clone())
                    .map_err(window_error(w, "in-sample"))
            })
            .collect::<Result<_, _>>()?,
    };
    let chosen: Vec<(usize, Value)> = searches
        .iter()
        .enumerate()
        .filter_map(|(w, s)| Some((w, s.best()?.config.clone())))
        .collect();
    let runs = parallel_map(&chosen, search_config.jobs, |(w, config)| {
        evaluator.evaluate(config, bounds[*w].out_of_sample.clone())
    });
    let mut out_of_sample: Vec<Option<BacktestReport>> = vec![None; bounds.len()];
    for ((w, config), run) in chosen.into_iter().zip(runs) {
        let report = run.map_err(|source| {
            window_error(w, "out-of-sample")(OptimizeError::Evaluation { config, source })
        })?;
        out_of_sample[w] = Some(report);
    }
    let gap = spacing(timestamps);
    let duration = |span: &Span| (span.to_ms - span.from_ms) as f64;
    let objective = search_config.objective;
    let mut results = Vec::with_capacity(bounds.len());
    let mut annualized = Vec::new();
    for (w, ((bound, searched), oos)) in
        bounds.iter().zip(&searches).zip(&out_of_sample).enumerate()
    {
        let best = searched.best();
        let in_sample = Span::of(&bound.in_sample, timestamps, gap);
        let out_span = Span::of(&bound.out_of_sample, timestamps, gap);
        let efficiency = match (best, oos) {
            (Some(best), Some(oos)) => {
                let is = best.metrics.total_return * YEAR_MS / duration(&in_sample);
                let os = oos.metrics.total_return * YEAR_MS / duration(&out_span);
                annualized.push((is, os));
                (is > 0.0).then(|| os / is)
            }
            _ => None,
        };
        results.push(WindowResult {
            index: w + 1,
            in_sample,
            out_of_sample: out_span,
            evaluations: searched.trials.len(),
            best: best.map(|b| b.config.clone()),
            params: best.map(|b| space.values_of(&b.config)).unwrap_or_default(),
            in_sample_metrics: best.map(|b| b.metrics.clone()),
            out_of_sample_metrics: oos.as_ref().map(|r| r.metrics.clone()),
            in_sample_metric: best.map(|b| objective.value(&b.metrics)),
            out_of_sample_metric: oos.as_ref().map(|r| objective.value(&r.metrics)),
            efficiency,
            out_of_sample_stopped: oos.as_ref().is_some_and(|r| r.stopped),
            out_of_sample_failures: oos.as_ref().map(|r| r.failures.clone()).unwrap_or_default(),
        });
    }
    let reports: Vec<&BacktestReport> = out_of_sample.iter().flatten().collect();
    let mean = |values: &mut dyn Iterator<Item = f64>| {
        let (sum, count) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
        (count > 0).then(|| sum / count as f64)
    };
    let efficiency = {
        let is = mean(&mut annualized.iter().map(|a| a.0));
        let os = mean(&mut annualized.iter().map(|a| a.1));
        match (is, os) {
            (Some(is), Some(os)) if is > 0.0 => Some(os / is),
            _ => None,
        }
    };
    Ok(WalkForward {
        method: search_config.method,
        objective,
        config: *config,
        stitched: stitch(&reports),
        efficiency,
        in_sample_metric_mean: mean(&mut results.iter().filter_map(|r| r.in_sample_metric)),
        out_of_sample_metric_mean: mean(&mut results.iter().filter_map(|r| r.out_of_sample_metric)),
        stability: stability(space, &results),
        windows: results,
    })
}

/// The curves one after the other, each scaled to start at the equity the
/// previous ended with (the first unscaled); the drawdown of every point
/// from the stitched peak, which each point's own drawdown (from its run's
/// peak over every candle, not only the kept points) makes exact. Returns
/// the curve and its largest drawdown.
pub fn stitch_curves(curves: &[&[EquityPoint]]) -> (Vec<EquityPoint>, f64) {
    let mut out: Vec<EquityPoint> = Vec::with_capacity(curves.iter().map(|c| c.len()).sum());
    let mut peak = f64::MIN;
    let mut worst = 0.0f64;
    for curve in curves {
        let Some(first) = curve.first() else {
            continue;
        };
        let carried = out.last().map(|p| p.equity);
        for point in *curve {
            let equity = match carried {
                Some(carried) if first.equity > 0.0 => carried * (point.equity / first.equity),
                _ => point.equity,
            };
            // The run's own peak up to this point, scaled alike.
            let local_peak = if point.drawdown < 1.0 {
                equity / (1.0 - point.drawdown)
            } else {
                equity
            };
            peak = peak.max(local_peak).max(equity);
            let drawdown = if peak > 0.0 {
                ((peak - equity) / peak).max(0.0)
            } else {
                0.0
            };
            worst = worst.max(drawdown);
            out.push(EquityPoint {
                timestamp_ms: point.timestamp_ms,
                equity,
                drawdown,
                price: point.price,
            });
        }
    }
    (out, worst)
}

/// The out-of-sample `reports`, in time order, as one run ([`Stitched`]).
pub fn stitch(reports: &[&BacktestReport]) -> Stitched {
    let curves: Vec<&[EquityPoint]> = reports.iter().map(|r| r.equity.as_slice()).collect();
    let (equity, max_drawdown) = stitch_curves(&curves);
    let pairs: Vec<(u64, f64)> = equity.iter().map(|p| (p.timestamp_ms, p.equity)).collect();
    let mut metrics = Metrics::compute(&MetricsInput {
        equity: &pairs,
        ..MetricsInput::default()
    });
    metrics.max_drawdown = max_drawdown;
    let mut denials: BTreeMap<String, usize> = BTreeMap::new();
    let mut wins = 0.0;
    let (mut fuel_p50, mut fuel_p99) = (0, 0);
    metrics.ticks = 0;
    metrics.failed_ticks = 0;
    metrics.ticks_per_second = 0.0;
    for report in reports {
        let m = &report.metrics;
        metrics.fees_paid += m.fees_paid;
        metrics.gas_paid += m.gas_paid;
        metrics.actions += m.actions;
        metrics.ticks += m.ticks;
        metrics.failed_ticks += m.failed_ticks;
        metrics.closed_trades += m.closed_trades;
        wins += m.win_rate * m.closed_trades as f64;
        fuel_p50 = fuel_p50.max(m.fuel_p50);
        fuel_p99 = fuel_p99.max(m.fuel_p99);
        for (rule, count) in &m.denials_by_rule {
            *denials.entry(rule.clone()).or_insert(0) += count;
        }
    }
    metrics.win_rate = if metrics.closed_trades > 0 {
        wins / metrics.closed_trades as f64
    } else {
        0.0
    };
    metrics.fuel_p50 = fuel_p50;
    metrics.fuel_p99 = fuel_p99;
    metrics.denials_by_rule = denials;
    let benchmarks: Option<Vec<&[EquityPoint]>> = reports
        .iter()
        .map(|r| r.benchmark.as_ref().map(|b| b.equity.as_slice()))
        .collect();
    let benchmark = match benchmarks {
        Some(curves) if !curves.is_empty() => {
            let (curve, drawdown) = stitch_curves(&curves);
            if let (Some(first), Some(last)) = (curve.first(), curve.last())
                && first.equity > 0.0
            {
                metrics.benchmark_return = Some(last.equity / first.equity - 1.0);
                metrics.benchmark_max_drawdown = Some(drawdown);
            }
            curve
        }
        _ => Vec::new(),
    };
    Stitched {
        metrics,
        equity,
        benchmark,
        per_candle: reports.iter().all(|r| r.equity.len() == r.metrics.ticks),
    }
}

/// Each searched parameter's chosen values across `windows`.
fn stability(space: &Space, windows: &[WindowResult]) -> Vec<ParamStability> {
    space
        .params()
        .iter()
        .map(|param| {
            let values: Vec<Value> = windows
                .iter()
                .map(|w| w.params.get(&param.key).cloned().unwrap_or(Value::Null))
                .collect();
            let chosen: Vec<&Value> = windows
                .iter()
                .filter(|w| w.best.is_some())
                .filter_map(|w| w.params.get(&param.key))
                .collect();
            let mut counts: Vec<(&Value, usize)> = Vec::new();
            for value in &chosen {
                match counts.iter_mut().find(|(v, _)| v == value) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((value, 1)),
                }
            }
            let (mode, top) = counts.iter().fold((Value::Null, 0), |(mode, top), (v, n)| {
                if *n > top {
                    ((*v).clone(), *n)
                } else {
                    (mode, top)
                }
            });
            let numbers: Option<Vec<f64>> = chosen.iter().map(|v| v.as_f64()).collect();
            let (mean, stdev) = match numbers {
                Some(numbers) if !numbers.is_empty() => {
                    let n = numbers.len() as f64;
                    let mean = numbers.iter().sum::<f64>() / n;
                    let var = numbers.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
                    (Some(mean), Some(var.sqrt()))
                }
                _ => (None, None),
            };
            ParamStability {
                key: param.key.clone(),
                distinct: counts.len(),
                changes: chosen.windows(2).filter(|w| w[0] != w[1]).count(),
                mode,
                mode_share: if chosen.is_empty() {
                    0.0
                } else {
                    top as f64 / chosen.len() as f64
                },
                mean,
                stdev,
                values,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolling_and_anchored_windows_by_candles() {
        let ts: Vec<u64> = (0..10).map(|i| i * 60_000).collect();
        let config = WalkForwardConfig {
            in_sample: Length::Candles(4),
            out_of_sample: Length::Candles(2),
            step: None,
            anchored: false,
        };
        let rolling = windows(&ts, &config).unwrap();
        assert_eq!(
            rolling,
            vec![
                WindowBounds {
                    in_sample: 0..4,
                    out_of_sample: 4..6
                },
                WindowBounds {
                    in_sample: 2..6,
                    out_of_sample: 6..8
                },
                WindowBounds {
                    in_sample: 4..8,
                    out_of_sample: 8..10
                },
            ]
        );
        let anchored = windows(
            &ts,
            &WalkForwardConfig {
                anchored: true,
                ..config
            },
        )
        .unwrap();
        assert_eq!(
            anchored
                .iter()
                .map(|w| w.in_sample.clone())
                .collect::<Vec<_>>(),
            vec![0..4, 0..6, 0..8]
        );
        assert!(windows(&ts[..5], &config).is_err());
        let mixed = WalkForwardConfig {
            in_sample: Length::Millis(1),
            ..config
        };
        assert!(windows(&ts, &mixed).is_err());
    }

    #[test]
    fn windows_by_duration_follow_timestamps_across_gaps() {
        // One candle a minute, with candles 5..7 missing.
        let ts: Vec<u64> = (0..12u64)
            .filter(|i| !(5..7).contains(i))
            .map(|i| i * 60_000)
            .collect();
        let config = WalkForwardConfig {
            in_sample: Length::Millis(4 * 60_000),
            out_of_sample: Length::Millis(2 * 60_000),
            step: None,
            anchored: false,
        };
        let cut = windows(&ts, &config).unwrap();
        // Minutes [0,4) [4,6); [2,6) [6,8); [4,8) [8,10); [6,10) [10,12).
        let minutes = |r: &Range<usize>| (ts[r.start] / 60_000, ts[r.end - 1] / 60_000);
        let got: Vec<_> = cut
            .iter()
            .map(|w| (minutes(&w.in_sample), minutes(&w.out_of_sample)))
            .collect();
        assert_eq!(
            got,
            vec![
                ((0, 3), (4, 4)),
                ((2, 4), (7, 7)),
                ((4, 7), (8, 9)),
                ((7, 9), (10, 11))
            ]
        );
    }

    #[test]
    fn stitched_curves_continue_and_keep_the_exact_drawdown() {
        let point = |t: u64, equity: f64, drawdown: f64| EquityPoint {
            timestamp_ms: t,
            equity,
            drawdown,
            price: 1.0,
        };
        // The first run peaked at 120 between kept points (drawdown 1/6 at
        // 100): the stitched drawdown must still see it.
        let a = [
            point(0, 100.0, 0.0),
            point(2, 100.0, 1.0 / 6.0),
            point(3, 110.0, 110.0f64.mul_add(-1.0 / 120.0, 1.0)),
        ];
        let b = [point(4, 10.0, 0.0), point(5, 5.0, 0.5), point(6, 20.0, 0.0)];
        let (curve, worst) = stitch_curves(&[&a, &b]);
        assert_eq!(curve.len(), 6);
        assert_eq!(curve[3].equity, curve[2].equity);
        assert_eq!(curve[4].equity, 55.0);
        assert_eq!(curve[5].equity, 220.0);
        // Peak 120, trough 55.
        assert!((worst - (1.0 - 55.0 / 120.0)).abs() < 1e-12, "{worst}");
        assert_eq!(curve[5].drawdown, 0.0);
    }
}
