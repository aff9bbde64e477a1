//! `stratbox backtest`: one strategy over a tape against simulated venues,
//! with the policy and journal a live run uses, ending in a report.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use stratbox_backtest::report::BacktestReport;
use stratbox_backtest::{Backtest, BacktestError, FailedTick, FillModel, NoJournal};
use stratbox_journal::Recorder;
use stratbox_runtime::{DeploymentSpec, Runtime, RuntimeConfig, StrategyComponent};

use crate::market::{MarketArgs, MarketSetup};
use crate::output::write_atomically;
use crate::session::{JournalStart, LimitArgs, StrategySource, policy, sink, start_journal};

/// Options of `stratbox backtest`.
#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// Strategy: a directory (Rust crate or Python `strategy.py`) to build,
    /// or a component file.
    pub strategy: PathBuf,
    /// Strategy config, JSON, passed to `init`.
    #[arg(long, default_value = "{}")]
    pub config: String,
    #[command(flatten)]
    pub market: MarketArgs,
    #[command(flatten)]
    pub execution: ExecutionArgs,
    /// Judge every action with this policy file (default: accept every
    /// well-formed action).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Record the run in this journal (SQLite; created if missing), for
    /// `stratbox journal` and `stratbox replay`.
    #[arg(long)]
    pub journal: Option<PathBuf>,
    /// Write the report as JSON to this file (byte-identical for the same
    /// run; wall-clock speed is left out).
    #[arg(long, value_name = "FILE")]
    pub json_out: Option<PathBuf>,
    /// Write a self-contained, interactive HTML report to this file (one
    /// file, works offline): candles and volume with trade, denial and
    /// failure markers, the strategy's series, equity against buy and
    /// hold, drawdown, profit per round trip; metrics, risk, round trips,
    /// trades, denials.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Print the report as JSON on stdout instead of the summary table.
    #[arg(long)]
    pub json: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Run again whenever the strategy's files, the policy, the venues or
    /// the candle files change (until Ctrl-C), printing the time from the
    /// change to the result. An unchanged Python or JavaScript strategy is
    /// not rebuilt, nor is unchanged code recompiled (the local cache).
    #[arg(long)]
    pub watch: bool,
    #[command(flatten)]
    pub failures: FailureArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// When `backtest` and `sweep` execute the actions a strategy releases.
#[derive(Debug, Clone, Args)]
pub struct ExecutionArgs {
    /// When an accepted action executes: `close` fills at the close of the
    /// candle the strategy just saw (zero latency; the default), its
    /// outcome reaching the strategy at the next tick; `next-open` fills at
    /// the next candle's open (pools arbitraged to it first), outcome at
    /// the next tick; `latency:N` fills at the close of the candle N ticks
    /// later (N >= 1), outcome at that tick. Actions still waiting when the
    /// tape ends fail with NOT_FILLED_BEFORE_END. Stated in the summary,
    /// the JSON (`fill_model`) and the HTML.
    #[arg(long, value_name = "MODEL", default_value = "close")]
    pub fill: FillModel,
}

impl ExecutionArgs {
    /// The market `setup` describes, filling as these flags say.
    pub fn market(&self, setup: &MarketSetup) -> anyhow::Result<stratbox_backtest::sim::SimMarket> {
        Ok(setup.market()?.with_fill(self.fill))
    }
}

/// What `backtest` and `sweep` do about failed ticks and snapshots.
#[derive(Debug, Clone, Args)]
pub struct FailureArgs {
    /// Run past failed ticks instead of stopping at the first one (the
    /// default stops, exits non-zero, and names the tick, its candle time
    /// and the cause). A failed tick releases nothing and rolls the
    /// strategy back to its last snapshot, so the rest of such a run is not
    /// the run the strategy would have had; every failure is listed in the
    /// summary, JSON and HTML either way.
    #[arg(long)]
    pub continue_on_failure: bool,
    /// Snapshot the strategy every N successful ticks (1: every tick, as a
    /// live deployment does). Fewer snapshots make a run faster; a failed
    /// tick rolls the strategy back to the last one, up to N-1 ticks (which
    /// matters only with --continue-on-failure). A clean run's report (but
    /// for fuel: a tick that snapshots pays for it) and its replay do not
    /// depend on it.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_COMMIT_EVERY,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub commit_every: u32,
}

/// Default of `--commit-every`: the library's backtest default.
pub use stratbox_backtest::DEFAULT_COMMIT_EVERY;

/// Ticks between two updates of the progress bar: updating it at every
/// tick cost more than a fast strategy's tick.
const PROGRESS_EVERY: usize = 4096;

impl FailureArgs {
    /// `spec` with the snapshot interval of these flags (before it is
    /// journaled: replay runs the journaled spec).
    pub fn spec(&self, mut spec: DeploymentSpec) -> DeploymentSpec {
        spec.commit_every = self.commit_every;
        spec
    }

    /// A backtest of `component` under `spec` (from [`FailureArgs::spec`])
    /// that stops at a failed tick or runs past it as these flags say.
    pub fn backtest<'a>(
        &self,
        runtime: &'a Runtime,
        component: &'a StrategyComponent,
        name: &str,
        spec: DeploymentSpec,
    ) -> Backtest<'a> {
        let mut backtest = Backtest::new(runtime, component, name, spec);
        backtest.continue_on_failure = self.continue_on_failure;
        backtest
    }
}

pub fn run(args: &BacktestArgs) -> anyhow::Result<()> {
    if args.watch {
        return crate::watch::watch(args, || run_once(args));
    }
    run_once(args)
}

fn run_once(args: &BacktestArgs) -> anyhow::Result<()> {
    // A run stopped at a failed tick still writes and prints its report
    // (the failure listed), then exits with the error.
    let (report, stopped) = match backtest(args)? {
        Ok(report) => (report, None),
        Err(stopped) => {
            let error = stopped_error(&stopped);
            (stopped.report, Some(error))
        }
    };
    if let Some(path) = &args.json_out {
        write_atomically(path, report.to_json(false).as_bytes())?;
    }
    if let Some(path) = &args.html {
        let html = stratbox_report::html(&report)?;
        write_atomically(path, html.as_bytes())?;
    }
    if args.json {
        println!("{}", report.to_json(true));
    } else {
        print!("{}", stratbox_report::summary(&report));
        for (what, path) in [("json", &args.json_out), ("html", &args.html)] {
            if let Some(path) = path {
                println!("{what:<14}{}", path.display());
            }
        }
    }
    match stopped {
        None => Ok(()),
        Some(error) => Err(error),
    }
}

/// The error of a backtest stopped at a failed tick: the tick, its candle
/// time and the cause (escaped: a strategy's error message is its own
/// text), and how to run past it.
pub fn stopped_error(stopped: &FailedTick) -> anyhow::Error {
    anyhow::anyhow!(
        "{} (--continue-on-failure runs past failed ticks)",
        stratbox_report::escape_terminal(&stopped.to_string())
    )
}

/// Run the backtest `args` describe: its report, or where it stopped at a
/// failed tick (with the report up to there).
pub fn backtest(args: &BacktestArgs) -> anyhow::Result<Result<BacktestReport, Box<FailedTick>>> {
    serde_json::from_str::<serde_json::Value>(&args.config)
        .context("--config must be valid JSON")?;
    let setup = MarketSetup::load(&args.market)?;
    let assets = setup.assets();
    let choice = policy(args.policy.as_deref(), &assets)?;
    let strategy = StrategySource::load(&args.strategy)?;
    let runtime = crate::runtime::isolated(RuntimeConfig::default())?;
    let component = crate::cache::load(&runtime, &strategy.bytes)
        .with_context(|| format!("loading {}", strategy.path.display()))?;
    let spec = args.failures.spec(
        DeploymentSpec::new(strategy.name.clone(), args.config.clone())
            .with_limits(args.limits.limits(Some(&strategy))),
    );
    let mut recorder: Option<Recorder> = match &args.journal {
        Some(path) => Some(start_journal(
            path,
            JournalStart {
                spec: &spec,
                component: &component,
                component_path: &strategy.path,
                policy: choice.record.clone(),
                assets,
                label: match args.execution.fill {
                    FillModel::Close => format!("backtest {} on {}", strategy.name, setup.source),
                    fill => format!(
                        "backtest {} on {} (fill {fill})",
                        strategy.name, setup.source
                    ),
                },
            },
        )?),
        None => None,
    };
    let mut no_journal = NoJournal;
    let sink = sink(&mut recorder, &mut no_journal);
    let market = args.execution.market(&setup)?;
    let candles = market.len();
    let bar = progress_bar(candles, args.quiet || args.json);
    bar.set_message(strategy.name.clone());
    let backtest = args
        .failures
        .backtest(&runtime, &component, &strategy.name, spec);
    let result = backtest.run(market, choice.engine(), sink, |done| {
        if done % PROGRESS_EVERY == 0 || done == candles {
            bar.set_position(done as u64);
        }
    });
    bar.finish_and_clear();
    let result = match result {
        Ok(report) => Ok(report),
        Err(BacktestError::TickFailed(stopped)) => Err(stopped),
        Err(error) => {
            return Err(args
                .limits
                .explain(error.into(), args.limits.class(Some(&strategy))));
        }
    };
    if let (Some(recorder), Some(path)) = (&recorder, &args.journal) {
        eprintln!(
            "journal: run {} in {} (stratbox replay {} --journal {})",
            recorder.run(),
            path.display(),
            recorder.run(),
            path.display()
        );
    }
    Ok(result)
}

/// A bar counting ticks, hidden when `quiet` or not on a terminal.
pub fn progress_bar(len: usize, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Read a report written by `--json-out`.
pub fn read_report(path: &Path) -> anyhow::Result<BacktestReport> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a stratbox backtest report", path.display()))
}
