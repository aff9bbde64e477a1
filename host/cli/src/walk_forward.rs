//! `stratbox walk-forward`: optimise on rolling (or anchored) in-sample
//! windows, run each window's best config on the out-of-sample window
//! after it, and report the stitched out-of-sample run
//! (`stratbox_optimize::walk_forward`).

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use serde_json::Value;
use stratbox_optimize::walk_forward::{WalkForward, windows};
use stratbox_optimize::{Length, Objective, WalkForwardConfig, walk_forward};

use crate::backtest::progress_bar;
use crate::optimize::{Bench, BenchArgs, SearchArgs, SearchKind};
use crate::output::write_atomically;
use crate::sweep::params;

/// Options of `stratbox walk-forward`.
#[derive(Debug, Args)]
pub struct WalkForwardArgs {
    #[command(flatten)]
    pub bench: BenchArgs,
    #[command(flatten)]
    pub search: SearchArgs,
    /// Length of each in-sample window: a duration (`30d`, `12h`) or a
    /// number of candles (`2000`).
    #[arg(long, value_name = "LENGTH", value_parser = parse_length)]
    pub in_sample: Length,
    /// Length of each out-of-sample window, as --in-sample.
    #[arg(long, value_name = "LENGTH", value_parser = parse_length)]
    pub out_of_sample: Length,
    /// How far each window moves on (default: --out-of-sample, so the
    /// out-of-sample windows follow one another).
    #[arg(long, value_name = "LENGTH", value_parser = parse_length)]
    pub step: Option<Length>,
    /// Start every in-sample window at the first candle (growing windows)
    /// instead of rolling it forward.
    #[arg(long)]
    pub anchored: bool,
    /// Print the analysis as JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Write a self-contained HTML page: the stitched out-of-sample equity,
    /// the metric in and out of sample per window, each parameter's chosen
    /// value per window, the windows.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// `2000` (candles) or a duration (`30d`).
fn parse_length(text: &str) -> Result<Length, String> {
    if let Ok(candles) = text.trim().parse::<usize>() {
        return Ok(Length::Candles(candles));
    }
    humantime::parse_duration(text.trim())
        .map(|d| Length::Millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)))
        .map_err(|e| {
            format!("`{text}` is neither a number of candles nor a duration (30d, 12h): {e}")
        })
}

fn length_text(length: Length) -> String {
    match length {
        Length::Candles(n) => format!("{n} candles"),
        Length::Millis(ms) => {
            humantime::format_duration(std::time::Duration::from_millis(ms)).to_string()
        }
    }
}

pub fn run(args: &WalkForwardArgs) -> anyhow::Result<()> {
    let space = args.search.space()?;
    let per_window = args.search.runs(&space)?;
    let bench = Bench::load(&args.bench)?;
    let config = WalkForwardConfig {
        in_sample: args.in_sample,
        out_of_sample: args.out_of_sample,
        step: args.step,
        anchored: args.anchored,
    };
    let timestamps = bench.timestamps();
    let count = windows(&timestamps, &config)?.len();
    let in_flight = match args.search.search {
        SearchKind::Grid => per_window * count,
        _ => per_window.min(usize::try_from(args.search.batch).unwrap_or(usize::MAX)),
    };
    let settings = args.search.settings(in_flight.max(count));
    eprintln!(
        "walk-forward {} on {}: {count} windows of {} in sample and {} out of sample ({}), {} each, \
         ranked by {} ({} in parallel), fill model {}",
        bench.strategy.name,
        bench.setup.source,
        length_text(config.in_sample),
        length_text(config.out_of_sample),
        if config.anchored {
            "anchored"
        } else {
            "rolling"
        },
        args.search.describe(&space),
        settings.objective.name(),
        settings.jobs,
        args.bench.execution.fill
    );
    let bar = progress_bar(count * (per_window + 1), args.json);
    bar.set_message("backtests");
    let evaluate = |config: &Value, candles| {
        let report = bench.evaluate(config, candles);
        bar.inc(1);
        report.map_err(Into::into)
    };
    let started = Instant::now();
    let result = walk_forward(&space, &settings, &config, &timestamps, &evaluate);
    bar.finish_and_clear();
    let result = result?;
    let seconds = started.elapsed().as_secs_f64();
    if let Some(path) = &args.html {
        let context = [
            ("strategy", bench.strategy.name.clone()),
            ("candles", bench.setup.source.clone()),
            (
                "windows",
                format!(
                    "{} in sample, {} out of sample, step {}, {}",
                    length_text(config.in_sample),
                    length_text(config.out_of_sample),
                    length_text(config.step.unwrap_or(config.out_of_sample)),
                    if config.anchored {
                        "anchored"
                    } else {
                        "rolling"
                    }
                ),
            ),
            ("search per window", args.search.describe(&space)),
            ("ranked by", settings.objective.name().to_owned()),
            ("fill model", args.bench.execution.fill.to_string()),
            ("config", args.search.config.clone()),
        ];
        let html = stratbox_optimize::html::walk_forward_html(
            &result,
            &space,
            &format!("stratbox walk-forward: {}", bench.strategy.name),
            &context,
        );
        write_atomically(path, html.as_bytes())?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print_windows(&result, &space);
        print_summary(&result);
        println!("time          {seconds:.1} s");
        if let Some(path) = &args.html {
            println!("html          {}", path.display());
        }
    }
    Ok(())
}

fn metric(objective: Objective, value: Option<f64>) -> String {
    match value {
        None => "-".into(),
        Some(v) if objective.is_fraction() => format!("{:.2}%", v * 100.0),
        Some(v) => format!("{v:.3}"),
    }
}

fn print_windows(wf: &WalkForward, space: &stratbox_optimize::Space) {
    let objective = wf.objective;
    let chosen: Vec<String> = wf
        .windows
        .iter()
        .map(|w| {
            w.best
                .as_ref()
                .map_or_else(|| "none (failed ticks)".into(), |b| params(space, b))
        })
        .collect();
    let width = chosen.iter().map(String::len).max().unwrap_or(0).max(6);
    let name = objective.name();
    println!(
        "{:<3} {:<16} {:<16} {:<width$} {:>10} {:>10} {:>9} {:>8} {:>6}",
        "#",
        "out of sample",
        "to",
        "chosen",
        format!("IS {name}"),
        format!("OOS {name}"),
        "OOS ret",
        "OOS dd",
        "failed"
    );
    for (w, chosen) in wf.windows.iter().zip(&chosen) {
        let oos = w.out_of_sample_metrics.as_ref();
        println!(
            "{:<3} {:<16} {:<16} {:<width$} {:>10} {:>10} {:>9} {:>8} {:>6}",
            w.index,
            stratbox_optimize::html::utc(w.out_of_sample.from_ms),
            stratbox_optimize::html::utc(w.out_of_sample.to_ms),
            chosen,
            metric(objective, w.in_sample_metric),
            metric(objective, w.out_of_sample_metric),
            oos.map_or("-".into(), |m| format!("{:+.2}%", m.total_return * 100.0)),
            oos.map_or("-".into(), |m| format!("{:.2}%", m.max_drawdown * 100.0)),
            match (oos, w.out_of_sample_stopped) {
                (None, _) => "-".to_owned(),
                (Some(_), true) => "stop!".to_owned(),
                (Some(m), false) => m.failed_ticks.to_string(),
            }
        );
    }
}

fn print_summary(wf: &WalkForward) {
    let m = &wf.stitched.metrics;
    println!(
        "stitched out of sample: return {:+.2}%, sharpe {:.3}, sortino {:.3}, max drawdown {:.2}%, \
         {} actions, {} failed ticks",
        m.total_return * 100.0,
        m.sharpe,
        m.sortino,
        m.max_drawdown * 100.0,
        m.actions,
        m.failed_ticks
    );
    match m.benchmark_return {
        Some(b) => println!("buy and hold over the same windows: {:+.2}%", b * 100.0),
        None => println!("buy and hold: n/a"),
    }
    println!(
        "walk-forward efficiency: {} (annualized out-of-sample return / in-sample return); {} in \
         sample {}, out of sample {} (means)",
        wf.efficiency.map_or_else(
            || "n/a (in-sample return not positive)".into(),
            |e| format!("{e:.3}")
        ),
        wf.objective.name(),
        metric(wf.objective, wf.in_sample_metric_mean),
        metric(wf.objective, wf.out_of_sample_metric_mean)
    );
    for s in &wf.stability {
        println!(
            "parameter {}: {} distinct, {} changes, most chosen {} ({:.0}% of windows){}",
            s.key,
            s.distinct,
            s.changes,
            s.mode,
            s.mode_share * 100.0,
            match (s.mean, s.stdev) {
                (Some(mean), Some(stdev)) => format!(", mean {mean:.4} +- {stdev:.4}"),
                _ => String::new(),
            }
        );
    }
    if !wf.stitched.per_candle {
        println!(
            "(windows over 2,000 candles: the stitched volatility, Sharpe and Sortino are from \
             the reports' kept points; return and drawdown are exact)"
        );
    }
}
