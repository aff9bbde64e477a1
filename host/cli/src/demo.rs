//! `stratbox demo`: build a strategy, run it over real candles against a
//! paper venue, print its actions and a summary.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use stratbox_backtest::{
    NoJournal, PaperMarket, PaperMarketConfig, TickRecord, run_paper_journaled,
};
use stratbox_runtime::policy::AssetCatalog;
use stratbox_runtime::types::{Action, ActionOutcome, Amount, Rejection, SwapAmount};
use stratbox_runtime::{DeploymentSpec, RuntimeConfig};

use crate::backtest::progress_bar;
use crate::session::{JournalStart, LimitArgs, StrategySource, policy, sink, start_journal};

/// Options of `stratbox demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Strategy directory (a Rust cdylib crate) to build and run.
    #[arg(long, default_value = "strategies/rust/rsi-momentum")]
    strategy: PathBuf,
    /// Run this prebuilt component instead of building `--strategy`.
    #[arg(long)]
    component: Option<PathBuf>,
    /// Candles to run over (CSV: timestamp_ms,open,high,low,close,volume).
    #[arg(long, default_value = "data/ETH_BTC-5m.csv")]
    data: PathBuf,
    /// Market name of the candles, as the strategy config refers to it.
    #[arg(long, default_value = "ETH/BTC")]
    market: String,
    /// Asset priced by the candles.
    #[arg(long, default_value = "ETH")]
    base: String,
    /// Asset the candles' prices are in.
    #[arg(long, default_value = "BTC")]
    quote: String,
    /// Strategy config, JSON.
    #[arg(long, default_value = "{}")]
    config: String,
    /// Starting balance of the quote asset, in whole tokens.
    #[arg(long, default_value_t = 1)]
    quote_balance: u128,
    /// Use only the first N candles.
    #[arg(long)]
    limit: Option<usize>,
    /// Judge every action with this policy file (default: accept every
    /// well-formed action). Its tokens must be `--base` or `--quote`.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Record the run in this journal (SQLite; created if missing), for
    /// `stratbox journal` and `stratbox replay`.
    #[arg(long)]
    journal: Option<PathBuf>,
    #[command(flatten)]
    limits: LimitArgs,
}

/// Decimals of the paper market's assets.
const BASE_DECIMALS: u8 = 18;
const QUOTE_DECIMALS: u8 = 8;

pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let source = StrategySource::load(args.component.as_ref().unwrap_or(&args.strategy))?;
    let assets = AssetCatalog::new()
        .with(args.base.clone(), BASE_DECIMALS)
        .with(args.quote.clone(), QUOTE_DECIMALS);
    let choice = policy(args.policy.as_deref(), &assets)?;
    let mut tape = stratbox_tape::load_csv(&args.data, &args.market)?;
    if let Some(limit) = args.limit {
        tape = tape.take(limit);
    }
    serde_json::from_str::<serde_json::Value>(&args.config)
        .context("--config must be valid JSON")?;

    let runtime = crate::runtime::isolated(RuntimeConfig::default())?;
    let component = crate::cache::load(&runtime, &source.bytes)?;
    let candles = tape.len();
    println!(
        "running {} over {} {} candles from {}",
        component.info().sha256.get(..12).unwrap_or_default(),
        candles,
        args.market,
        args.data.display()
    );
    let mut market_config = PaperMarketConfig::new(&args.base, &args.quote, args.quote_balance);
    market_config.base_decimals = BASE_DECIMALS;
    market_config.quote_decimals = QUOTE_DECIMALS;
    let market = PaperMarket::new(tape.clone(), market_config);
    let spec = DeploymentSpec::new("demo", args.config.clone())
        .with_limits(args.limits.limits(Some(&source)));
    let mut recorder = match &args.journal {
        Some(path) => Some(start_journal(
            path,
            JournalStart {
                spec: &spec,
                component: &component,
                component_path: &source.path,
                policy: choice.record.clone(),
                assets,
                label: format!("demo {}", args.data.display()),
            },
        )?),
        None => None,
    };
    let mut no_journal = NoJournal;
    let sink = sink(&mut recorder, &mut no_journal);

    let bar = progress_bar(candles, false);
    let started = Instant::now();
    let mut fuel = Vec::with_capacity(candles);
    let run = run_paper_journaled(
        &runtime,
        &component,
        spec,
        market,
        choice.engine(),
        sink,
        |index, record| {
            bar.inc(1);
            if let Ok(report) = &record.result {
                fuel.push(report.trace.fuel_used);
            }
            let lines = describe(index, record, &tape);
            if !lines.is_empty() {
                // Failure messages and denial details carry the
                // strategy's own text.
                bar.suspend(|| {
                    lines
                        .iter()
                        .for_each(|line| println!("{}", stratbox_report::escape_terminal(line)));
                });
            }
        },
    )?;
    bar.finish_and_clear();
    let elapsed = started.elapsed();

    let actions: usize = run.reports().map(|r| r.actions.len()).sum();
    let rejected: usize = run
        .reports()
        .flat_map(|r| &r.trace.emissions)
        .filter(|e| e.verdict.is_err())
        .count();
    let failures = run.failures().count();
    fuel.sort_unstable();
    let percentile = |p: usize| {
        fuel.get((fuel.len().saturating_sub(1)) * p / 100)
            .copied()
            .unwrap_or(0)
    };
    let start_equity = args.quote_balance as f64;
    let equity = run.venue().equity_in_quote();
    println!();
    println!("ticks        {candles} ({failures} failed)");
    println!("actions      {actions} ({rejected} rejected by the policy)");
    println!(
        "equity       {equity:.8} {} (started with {start_equity}, {:+.2}%)",
        args.quote,
        (equity / start_equity - 1.0) * 100.0
    );
    println!(
        "fuel/tick    p50 {} / p99 {}",
        percentile(50),
        percentile(99)
    );
    println!(
        "speed        {:.0} ticks/s ({:.2?} in all)",
        candles as f64 / elapsed.as_secs_f64().max(1e-9),
        elapsed
    );
    if let (Some(recorder), Some(path)) = (&recorder, &args.journal) {
        println!(
            "journal      run {} in {} (stratbox replay {} --journal {})",
            recorder.run(),
            path.display(),
            recorder.run(),
            path.display()
        );
    }
    Ok(())
}

/// One line per action of a tick, with its outcome.
fn describe(index: usize, record: &TickRecord, tape: &stratbox_tape::Tape) -> Vec<String> {
    let time = tape
        .candles()
        .get(index)
        .and_then(|c| chrono::DateTime::from_timestamp_millis(c.timestamp_ms as i64))
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();
    let report = match &record.result {
        Ok(report) => report,
        Err(failure) => {
            return vec![format!(
                "tick {index:>5}  {time}  FAILED: {}",
                failure.error
            )];
        }
    };
    report
        .trace
        .emissions
        .iter()
        .map(|emission| match &emission.verdict {
            Ok(id) => {
                let outcome = record
                    .outcomes
                    .iter()
                    .find(|(done, _)| done == id)
                    .map(|(_, outcome)| describe_outcome(outcome))
                    .unwrap_or_default();
                format!(
                    "tick {index:>5}  {time}  #{id:<3} {}{outcome}",
                    describe_action(&emission.action)
                )
            }
            Err(Rejection::Denied(denial) | Rejection::Invalid(denial)) => format!(
                "tick {index:>5}  {time}  {} rejected: {} (rule {})",
                describe_action(&emission.action),
                denial.detail,
                denial.rule
            ),
        })
        .collect()
}

fn decimals(asset: &str) -> u8 {
    if asset == "BTC" {
        QUOTE_DECIMALS
    } else {
        BASE_DECIMALS
    }
}

fn units(amount: Amount, asset: &str) -> String {
    format!("{} {asset}", amount.to_decimal_string(decimals(asset)))
}

fn describe_action(action: &Action) -> String {
    match action {
        Action::Swap(swap) => match swap.amount {
            SwapAmount::ExactIn(a) => format!("swap {} -> {}", units(a, &swap.sell), swap.buy),
            SwapAmount::ExactOut(a) => format!("swap {} -> {}", swap.sell, units(a, &swap.buy)),
        },
        other => other.kind().to_owned(),
    }
}

fn describe_outcome(outcome: &ActionOutcome) -> String {
    match outcome {
        ActionOutcome::Filled(fill) => {
            let received: Vec<String> = fill
                .received
                .iter()
                .map(|a| units(a.amount, &a.asset))
                .collect();
            format!("  filled: {}", received.join(", "))
        }
        ActionOutcome::Failed(failure) => format!("  failed: {} {}", failure.code, failure.reason),
    }
}
