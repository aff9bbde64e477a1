//! `stratbox sweep`: a grid over strategy config values, one backtest per
//! combination, run in parallel across cores.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde_json::{Map, Value};
use stratbox_backtest::metrics::Metrics;
use stratbox_backtest::{Backtest, NoJournal};
use stratbox_runtime::{DeploymentSpec, Limits, Runtime, RuntimeConfig};

use crate::backtest::progress_bar;
use crate::market::{MarketArgs, MarketSetup};
use crate::session::{StrategySource, policy};

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

/// One combination's result.
#[derive(Debug, serde::Serialize)]
struct Row {
    config: Value,
    metrics: Metrics,
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
    let runtime = Runtime::new(RuntimeConfig::default())?;
    let component = runtime.load(&strategy.bytes)?;
    let limits = Limits::fitting(component.info());
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, configs.len());
    eprintln!(
        "sweeping {} over {} combinations on {} ({} in parallel)",
        strategy.name,
        configs.len(),
        setup.source,
        jobs
    );
    let bar = progress_bar(configs.len(), args.json);
    bar.set_message("combinations");
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, anyhow::Result<Metrics>)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(config) = configs.get(index) else {
                        break;
                    };
                    let result = (|| {
                        let spec = DeploymentSpec::new(strategy.name.clone(), config.to_string())
                            .with_limits(limits.clone());
                        let backtest = Backtest {
                            runtime: &runtime,
                            component: &component,
                            strategy: strategy.name.clone(),
                            spec,
                        };
                        let report = backtest.run(
                            setup.market()?,
                            choice.engine(),
                            &mut NoJournal,
                            |_| {},
                        )?;
                        Ok(report.metrics)
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
    for (index, result) in results {
        let metrics = result.with_context(|| format!("combination {}", configs[index]))?;
        rows.push(Row {
            config: configs[index].clone(),
            metrics,
        });
    }
    rows.sort_by(|a, b| {
        args.metric
            .score(&b.metrics)
            .total_cmp(&args.metric.score(&a.metrics))
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print_table(&rows, &axes, args.metric);
    }
    Ok(())
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
    for (rank, row) in rows.iter().enumerate() {
        let m = &row.metrics;
        println!(
            "{:<4} {:<width$} {:>+8.2}% {:>8.3} {:>8.3} {:>7.2}% {:>7} {:>7} {:>6}",
            rank + 1,
            params(&row.config),
            m.total_return * 100.0,
            m.sharpe,
            m.sortino,
            m.max_drawdown * 100.0,
            m.actions,
            m.denials_by_rule.values().sum::<usize>(),
            m.failed_ticks
        );
    }
    if let Some(best) = rows.first() {
        println!("best by {metric:?}: {}", best.config);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
