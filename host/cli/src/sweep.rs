//! `stratbox sweep`: a grid over strategy config values (or a TPE or
//! random search over ranges), one backtest per config, run in parallel
//! across cores by `stratbox-optimize`.

use std::path::PathBuf;

use clap::Args;
use serde_json::Value;
use stratbox_backtest::FillModel;
use stratbox_optimize::{SearchResult, Space, Trial, search};
use stratbox_report::failure_line;

use crate::backtest::progress_bar;
use crate::optimize::{Bench, BenchArgs, RankBy, SearchArgs, SearchKind, heatmap_axes};
use crate::output::write_atomically;

/// Options of `stratbox sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub bench: BenchArgs,
    #[command(flatten)]
    pub search: SearchArgs,
    /// Print JSON rows instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Write a self-contained HTML page: a heatmap of the metric over two
    /// parameters (--heatmap), the search's progress, the best configs.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// The heatmap's parameters, `X,Y` (default: the first two).
    #[arg(long, value_name = "X,Y", requires = "html")]
    pub heatmap: Option<String>,
}

pub fn run(args: &SweepArgs) -> anyhow::Result<()> {
    let space = args.search.space()?;
    let runs = args.search.runs(&space)?;
    let bench = Bench::load(&args.bench)?;
    let in_flight = match args.search.search {
        SearchKind::Grid => runs,
        _ => runs.min(usize::try_from(args.search.batch).unwrap_or(usize::MAX)),
    };
    let settings = args.search.settings(in_flight);
    let fill = args.bench.execution.fill;
    match args.search.search {
        SearchKind::Grid => eprintln!(
            "sweeping {} over {} combinations on {} ({} in parallel), fill model {fill}",
            bench.strategy.name, runs, bench.setup.source, settings.jobs
        ),
        _ => eprintln!(
            "sweeping {} with {} on {} ({} in parallel), fill model {fill}",
            bench.strategy.name,
            args.search.describe(&space),
            bench.setup.source,
            settings.jobs
        ),
    }
    let bar = progress_bar(runs, args.json);
    bar.set_message("combinations");
    let evaluate = |config: &Value, candles| {
        let report = bench.evaluate(config, candles);
        bar.inc(1);
        report.map_err(Into::into)
    };
    let result = search(&space, &settings, &evaluate, 0..bench.candles());
    bar.finish_and_clear();
    let result = result?;
    if let Some(path) = &args.html {
        let (x, y) = heatmap_axes(args.heatmap.as_deref());
        let context = [
            ("strategy", bench.strategy.name.clone()),
            ("candles", bench.setup.source.clone()),
            ("search", args.search.describe(&space)),
            ("ranked by", settings.objective.name().to_owned()),
            ("fill model", format!("{fill} ({})", fill.explain())),
            ("config", args.search.config.clone()),
        ];
        let html = stratbox_optimize::html::search_html(
            &result,
            &space,
            x.as_deref(),
            y.as_deref(),
            &format!("stratbox sweep: {}", bench.strategy.name),
            &context,
        )?;
        write_atomically(path, html.as_bytes())?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result.trials)?);
    } else {
        print_table(&result, &space, args.search.metric);
        let held = result.trials.iter().find_map(|t| t.benchmark.clone());
        print_context(&result.trials, fill, held.as_deref());
        if let Some(path) = &args.html {
            println!("html          {}", path.display());
        }
    }
    Ok(())
}

/// Under the table: the fill model, and what buying and holding did over
/// the same candles.
fn print_context(trials: &[Trial], fill: FillModel, held: Option<&str>) {
    println!("fill model: {fill} ({})", fill.explain());
    let benchmark = trials.iter().find_map(|t| {
        Some((
            t.metrics.benchmark_return?,
            t.metrics.benchmark_max_drawdown.unwrap_or(0.0),
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

/// `key=value` of every searched parameter of `config`.
pub fn params(space: &Space, config: &Value) -> String {
    space
        .params()
        .iter()
        .map(|p| format!("{}={}", p.key, config[&p.key]))
        .collect::<Vec<_>>()
        .join(" ")
}

fn print_table(result: &SearchResult, space: &Space, metric: RankBy) {
    let rows = &result.trials;
    let width = rows
        .iter()
        .map(|r| params(space, &r.config).len())
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
            params(space, &row.config),
            m.total_return * 100.0,
            m.sharpe,
            m.sortino,
            m.max_drawdown * 100.0,
            m.actions,
            m.denials_by_rule.values().sum::<usize>(),
            failed
        );
    }
    let failing: Vec<&Trial> = rows.iter().filter(|r| !r.clean()).collect();
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
                params(space, &row.config),
                row.metrics.failed_ticks,
                failure_line(&row.failures[0])
            );
        }
    }
    match result.best() {
        Some(best) => println!("best by {metric:?}: {}", best.config),
        None => println!("best by {metric:?}: none (every combination had failed ticks)"),
    }
}
