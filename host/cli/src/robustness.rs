//! `stratbox robustness`: Monte Carlo of a saved backtest report, its
//! trades in random orders and its returns bootstrapped
//! (`stratbox_optimize::robustness`).

use std::path::PathBuf;

use clap::Args;
use stratbox_optimize::robustness::{Distribution, Resampled};
use stratbox_optimize::{MonteCarloConfig, robustness};

use crate::backtest::read_report;
use crate::output::write_atomically;

/// Options of `stratbox robustness`.
#[derive(Debug, Args)]
pub struct RobustnessArgs {
    /// A report written by `stratbox backtest --json-out`.
    pub report: PathBuf,
    /// Paths drawn per method.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub runs: u64,
    /// Seed: the same seed and report give the same result on any machine.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Consecutive returns the bootstrap draws together (1: each on its
    /// own), to keep some of their autocorrelation.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub block: u64,
    /// Threads (default: the number of cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Print the result as JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Write a self-contained HTML page with the distributions.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

pub fn run(args: &RobustnessArgs) -> anyhow::Result<()> {
    let report = read_report(&args.report)?;
    let config = MonteCarloConfig {
        runs: usize::try_from(args.runs).unwrap_or(usize::MAX),
        seed: args.seed,
        block: usize::try_from(args.block).unwrap_or(usize::MAX),
        jobs: args.jobs.unwrap_or_else(stratbox_optimize::default_jobs),
    };
    let result = robustness(&report, &config)?;
    if let Some(path) = &args.html {
        let html = stratbox_optimize::html::robustness_html(&result);
        write_atomically(path, html.as_bytes())?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
        return Ok(());
    }
    println!(
        "{} on {} ({} paths per method, seed {}, bootstrap blocks of {})",
        stratbox_report::escape_terminal(&result.strategy),
        stratbox_report::escape_terminal(&result.market),
        config.runs,
        config.seed,
        config.block
    );
    println!(
        "this run: return {:+.2}%, max drawdown {:.2}%",
        result.observed_return * 100.0,
        result.observed_max_drawdown * 100.0
    );
    println!(
        "{:<22} {:<8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8}",
        "method", "figure", "p5", "p25", "median", "p75", "p95", "P(loss)"
    );
    let row = |method: &str, figure: &str, d: &Distribution, loss: Option<f64>| {
        let p = &d.percentiles;
        // Returns signed, drawdowns (never negative) not.
        let cell = |v: f64| match loss {
            Some(_) => format!("{:+.2}%", v * 100.0),
            None => format!("{:.2}%", v * 100.0),
        };
        println!(
            "{method:<22} {figure:<8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8}",
            cell(p.p5),
            cell(p.p25),
            cell(p.p50),
            cell(p.p75),
            cell(p.p95),
            loss.map_or(String::new(), |l| format!("{:.1}%", l * 100.0))
        );
    };
    let methods: [(&str, &Option<Resampled>); 2] = [
        ("trade order permuted", &result.trade_order),
        ("bootstrap of returns", &result.bootstrap),
    ];
    for (name, resampled) in methods {
        match resampled {
            Some(s) => {
                row(name, "return", &s.total_return, Some(s.probability_of_loss));
                row("", "max dd", &s.max_drawdown, None);
            }
            None => println!("{name:<22} fewer than two returns to resample"),
        }
    }
    if let Some(s) = &result.trade_order {
        println!(
            "({} returns between trades; a product does not depend on the order, so only the \
             drawdown moves; this run's drawdown between trades: {:.2}%)",
            s.samples,
            result.observed_trade_max_drawdown.unwrap_or(0.0) * 100.0
        );
    }
    if !result.per_candle {
        println!(
            "(the run had more candles than its report keeps points for: the bootstrap drew \
             returns between the kept points)"
        );
    }
    if let Some(path) = &args.html {
        println!("html          {}", path.display());
    }
    Ok(())
}
