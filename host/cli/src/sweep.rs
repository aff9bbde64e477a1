//! `stratbox sweep`: a grid over strategy config values, one backtest per
//! combination, run in parallel across cores.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde_json::{Map, Value};
use stratbox_backtest::metrics::Metrics;
use stratbox_backtest::report::{BacktestReport, FailureRecord};
use stratbox_backtest::{BacktestError, FillModel, NoJournal};
use stratbox_report::failure_line;
use stratbox_runtime::{DeploymentSpec, Limits, RuntimeConfig};

use crate::backtest::{ExecutionArgs, FailureArgs, progress_bar};
use crate::market::{MarketArgs, MarketSetup};
use crate::session::{LimitArgs, StrategySource, policy};

/// Options of `stratbox sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Strategy: a directory to build, or a component file.
    pub strategy: PathBuf,
    /// A config key and the values to try, `key=v1,v2,...`; each value is
    /// JSON (numbers, `true`, `"text"`) or else taken as a string. Repeat
    /// for more keys; every combination runs.
    #[arg(long, required = true, value_name = "KEY=VALUES")]
    pub grid: Vec<String>,
    /// Config shared by every combination, JSON; grid values override it.
    #[arg(long, default_value = "{}")]
    pub config: String,
    #[command(flatten)]
    pub market: MarketArgs,
    #[command(flatten)]
    pub execution: ExecutionArgs,
    /// Judge every action with this policy file.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Rank combinations by this metric (best first).
    #[arg(long, value_enum, default_value_t = RankBy::Sharpe)]
    pub metric: RankBy,
    /// Parallel runs (default: the number of cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Print JSON rows instead of the table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub failures: FailureArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// What "best" means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RankBy {
    /// Annualized Sharpe ratio.
    Sharpe,
    /// Annualized Sortino ratio.
    Sortino,
    /// Total return.
    Return,
    /// Smallest maximum drawdown.
    Drawdown,
    /// Share of winning closed trades.
    WinRate,
}

impl RankBy {
    /// Higher is better.
    fn score(self, m: &Metrics) -> f64 {
        match self {
            RankBy::Sharpe => m.sharpe,
            RankBy::Sortino => m.sortino,
            RankBy::Return => m.total_return,
            RankBy::Drawdown => -m.max_drawdown,
            RankBy::WinRate => m.win_rate,
        }
    }
}

/// What one combination's backtest gave: its metrics, and its failed
/// ticks.
#[derive(Debug)]
struct Outcome {
    metrics: Metrics,
    failures: Vec<FailureRecord>,
    stopped: bool,
    /// What the buy-and-hold benchmark holds.
    benchmark: Option<String>,
}

impl Outcome {
    fn of(report: BacktestReport) -> Outcome {
        Outcome {
            metrics: report.metrics,
            failures: report.failures,
            stopped: report.stopped,
            benchmark: report.benchmark.map(|b| b.asset),
        }
    }
}

/// One combination's result. Combinations with failed ticks are not
/// ranked: a failed tick released nothing and rolled the strategy back, so
/// their metrics are not the strategy's (a stopped run's cover only the
/// ticks before the failure).
#[derive(Debug, serde::Serialize)]
struct Row {
    config: Value,
    /// 1 for the best clean combination; `None` for one with failed ticks.
    rank: Option<usize>,
    /// When actions executed (`--fill`).
    fill_model: FillModel,
    /// Its `benchmark_return` and `benchmark_max_drawdown` are buying and
    /// holding (the same for every combination).
    metrics: Metrics,
    /// The run stopped at its first failed tick.
    stopped: bool,
    /// Every failed tick.
    failures: Vec<FailureRecord>,
}

impl Row {
    fn clean(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Parse `key=v1,v2` into the key and its JSON values.
fn parse_axis(text: &str) -> anyhow::Result<(String, Vec<Value>)> {
    let Some((key, values)) = text.split_once('=') else {
        anyhow::bail!("--grid {text}: expected KEY=V1,V2,...");
    };
    let key = key.trim();
    if key.is_empty() {
        anyhow::bail!("--grid {text}: the key is empty");
    }
    let values: Vec<Value> = values
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_owned())))
        .collect();
    if values.is_empty() {
        anyhow::bail!("--grid {text}: no values");
    }
    Ok((key.to_owned(), values))
}

/// Every combination of the axes over `base`, first axis slowest.
fn combinations(base: &Map<String, Value>, axes: &[(String, Vec<Value>)]) -> Vec<Value> {
    let mut configs = vec![base.clone()];
    for (key, values) in axes {
        configs = configs
            .into_iter()
            .flat_map(|config| {
                values.iter().map(move |value| {
                    let mut next = config.clone();
                    next.insert(key.clone(), value.clone());
                    next
                })
            })
            .collect();
    }
    configs.into_iter().map(Value::Object).collect()
}

pub fn run(args: &SweepArgs) -> anyhow::Result<()> {
    let base: Map<String, Value> =
        serde_json::from_str(&args.config).context("--config must be a JSON object")?;
    let axes = args
        .grid
        .iter()
        .map(|axis| parse_axis(axis))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let configs = combinations(&base, &axes);
    let setup = MarketSetup::load(&args.market)?;
    let assets = setup.assets();
    // Parsed once; a broken policy is refused before any run starts.
    let choice = policy(args.policy.as_deref(), &assets)?;
    let strategy = StrategySource::load(&args.strategy)?;
    let runtime = crate::runtime::isolated(RuntimeConfig::default())?;
    let component = runtime.load(&strategy.bytes)?;
    let class = args.limits.class(Some(&strategy));
    let limits = Limits::of_class(class);
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, configs.len());
    let fill = args.execution.fill;
    eprintln!(
        "sweeping {} over {} combinations on {} ({} in parallel), fill model {fill}",
        strategy.name,
        configs.len(),
        setup.source,
        jobs
    );
    let bar = progress_bar(configs.len(), args.json);
    bar.set_message("combinations");
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, anyhow::Result<Outcome>)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(config) = configs.get(index) else {
                        break;
                    };
                    let result = (|| {
                        let spec = args.failures.spec(
                            DeploymentSpec::new(strategy.name.clone(), config.to_string())
                                .with_limits(limits.clone()),
                        );
                        let backtest =
                            args.failures
                                .backtest(&runtime, &component, &strategy.name, spec);
                        let market = args.execution.market(&setup)?;
                        match backtest.run(market, choice.engine(), &mut NoJournal, |_| {}) {
                            Ok(report) => Ok(Outcome::of(report)),
                            Err(BacktestError::TickFailed(stopped)) => {
                                Ok(Outcome::of(stopped.report))
                            }
                            Err(error) => {
                                Err(args.limits.explain(anyhow::Error::from(error), class))
                            }
                        }
                    })();
                    bar.inc(1);
                    results
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push((index, result));
                }
            });
        }
    });
    bar.finish_and_clear();
    let mut results = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    results.sort_by_key(|(index, _)| *index);
    let mut rows = Vec::with_capacity(results.len());
    let mut held = None;
    for (index, result) in results {
        let outcome = result.with_context(|| format!("combination {}", configs[index]))?;
        held = held.or(outcome.benchmark);
        rows.push(Row {
            config: configs[index].clone(),
            rank: None,
            fill_model: fill,
            metrics: outcome.metrics,
            stopped: outcome.stopped,
            failures: outcome.failures,
        });
    }
    rank(&mut rows, args.metric);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print_table(&rows, &axes, args.metric);
        print_context(&rows, fill, held.as_deref());
    }
    Ok(())
}

/// Under the table: the fill model, and what buying and holding did over
/// the same candles.
fn print_context(rows: &[Row], fill: FillModel, held: Option<&str>) {
    println!("fill model: {fill} ({})", fill.explain());
    let benchmark = rows.iter().find_map(|r| {
        Some((
            r.metrics.benchmark_return?,
            r.metrics.benchmark_max_drawdown.unwrap_or(0.0),
        ))
    });
    match (benchmark, held) {
        (Some((total_return, drawdown)), Some(asset)) => println!(
            "buy and hold {}: {:+.2}% (max drawdown {:.2}%; the starting equity converted at the \
             first close, no fees)",
            stratbox_report::escape_terminal(asset),
            total_return * 100.0,
            drawdown * 100.0
        ),
        _ => println!("buy and hold: n/a"),
    }
}

/// Clean combinations first, best first, ranked 1, 2...; then those with
/// failed ticks, unranked, ordered the same way among themselves.
fn rank(rows: &mut [Row], metric: RankBy) {
    rows.sort_by(|a, b| {
        b.clean().cmp(&a.clean()).then_with(|| {
            metric
                .score(&b.metrics)
                .total_cmp(&metric.score(&a.metrics))
        })
    });
    for (index, row) in rows.iter_mut().filter(|r| r.clean()).enumerate() {
        row.rank = Some(index + 1);
    }
}

fn print_table(rows: &[Row], axes: &[(String, Vec<Value>)], metric: RankBy) {
    let params = |config: &Value| {
        axes.iter()
            .map(|(key, _)| format!("{key}={}", config[key]))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let width = rows
        .iter()
        .map(|r| params(&r.config).len())
        .max()
        .unwrap_or(0)
        .max(6);
    println!(
        "{:<4} {:<width$} {:>9} {:>8} {:>8} {:>8} {:>7} {:>7} {:>6}",
        "rank", "config", "return", "sharpe", "sortino", "max dd", "actions", "denied", "failed"
    );
    for row in rows {
        let m = &row.metrics;
        let failed = match (row.clean(), row.stopped) {
            (true, _) => m.failed_ticks.to_string(),
            (false, false) => format!("{}!", m.failed_ticks),
            (false, true) => "stop!".to_owned(),
        };
        println!(
            "{:<4} {:<width$} {:>+8.2}% {:>8.3} {:>8.3} {:>7.2}% {:>7} {:>7} {:>6}",
            row.rank
                .map_or_else(|| "-".to_owned(), |rank| rank.to_string()),
            params(&row.config),
            m.total_return * 100.0,
            m.sharpe,
            m.sortino,
            m.max_drawdown * 100.0,
            m.actions,
            m.denials_by_rule.values().sum::<usize>(),
            failed
        );
    }
    let failing: Vec<&Row> = rows.iter().filter(|r| !r.clean()).collect();
    if !failing.is_empty() {
        println!(
            "{} combination(s) had failed ticks and are not ranked (a failed tick releases \
             nothing and rolls the strategy back; `stop!`: stopped there, \
             --continue-on-failure runs past it):",
            failing.len()
        );
        for row in failing {
            println!(
                "  {}: {} failed, first {}",
                params(&row.config),
                row.metrics.failed_ticks,
                failure_line(&row.failures[0])
            );
        }
    }
    match rows.iter().find(|r| r.clean()) {
        Some(best) => println!("best by {metric:?}: {}", best.config),
        None => println!("best by {metric:?}: none (every combination had failed ticks)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(sharpe: f64, failed: bool) -> Row {
        let mut metrics = Metrics::compute(&stratbox_backtest::MetricsInput::default());
        metrics.sharpe = sharpe;
        let failures = if failed {
            let cause = stratbox_backtest::report::TickError::GuestError {
                message: "no".into(),
            };
            vec![FailureRecord {
                sequence: 1,
                timestamp_ms: 0,
                count: 1,
                message: cause.to_string(),
                cause,
                paused: false,
                logs: Vec::new(),
            }]
        } else {
            Vec::new()
        };
        Row {
            config: Value::from(sharpe),
            rank: None,
            fill_model: FillModel::Close,
            metrics,
            stopped: false,
            failures,
        }
    }

    #[test]
    fn combinations_with_failed_ticks_are_not_ranked_as_if_clean() {
        let mut rows = vec![
            row(1.0, false),
            row(9.0, true),
            row(2.0, false),
            row(5.0, true),
        ];
        rank(&mut rows, RankBy::Sharpe);
        let order: Vec<(f64, Option<usize>)> =
            rows.iter().map(|r| (r.metrics.sharpe, r.rank)).collect();
        assert_eq!(
            order,
            vec![(2.0, Some(1)), (1.0, Some(2)), (9.0, None), (5.0, None)]
        );
    }

    #[test]
    fn grid_axes_parse_json_values_and_combine() {
        let (key, values) = parse_axis("period=7, 14,x").unwrap();
        assert_eq!(key, "period");
        assert_eq!(
            values,
            vec![Value::from(7), Value::from(14), Value::from("x")]
        );
        assert!(parse_axis("period").is_err());
        assert!(parse_axis("=1").is_err());

        let base: Map<String, Value> = serde_json::from_str(r#"{"cooldown_ms": 0}"#).unwrap();
        let axes = vec![
            ("a".to_owned(), vec![Value::from(1), Value::from(2)]),
            (
                "b".to_owned(),
                vec![Value::from(3), Value::from(4), Value::from(5)],
            ),
        ];
        let configs = combinations(&base, &axes);
        assert_eq!(configs.len(), 6);
        assert_eq!(
            configs[0],
            serde_json::json!({"cooldown_ms": 0, "a": 1, "b": 3})
        );
        assert_eq!(
            configs[5],
            serde_json::json!({"cooldown_ms": 0, "a": 2, "b": 5})
        );
    }
}
