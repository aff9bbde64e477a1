//! `stratbox`: build, inspect and run sandboxed trading strategies.

mod backtest;
mod bench;
mod build;
mod demo;
mod generate;
mod inspect;
mod inspect_bundle;
mod journal;
mod keygen;
mod keys;
mod market;
mod new;
mod output;
mod rekey;
mod replay;
mod report;
mod run;
mod seal;
mod session;
mod sweep;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Build, inspect and run sandboxed trading strategies.
#[derive(Debug, Parser)]
#[command(name = "stratbox", version, about, long_about = None)]
struct Cli {
    /// Log filter (e.g. `info`, `stratbox=debug`); also read from
    /// `STRATBOX_LOG`.
    #[arg(long, global = true, env = "STRATBOX_LOG", default_value = "warn")]
    log: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build a strategy directory (a Rust cdylib crate, or a Python
    /// directory with `strategy.py`) into a component.
    Build {
        /// The strategy's directory.
        dir: PathBuf,
        /// Where to write the component (default:
        /// `target/stratbox/<package>.wasm` under the current directory).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Start a strategy project from a template (README, default config and
    /// policy, unit test).
    New(new::NewArgs),
    /// Generate a readable Rust strategy crate from a declarative spec.
    Generate(generate::GenerateArgs),
    /// Show what a component imports and exports, and whether it loads;
    /// or a sealed bundle's manifest, without decrypting its code.
    Inspect {
        /// The component or sealed bundle file.
        component: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// For a bundle: authenticate its manifest with this key.
        #[command(flatten)]
        key: keys::KeyArgs,
    },
    /// Create a host key: a key-encryption key, or an X25519 key pair.
    Keygen(keygen::KeygenArgs),
    /// Seal a component into a bundle for a host key.
    Seal(seal::SealArgs),
    /// Re-wrap a bundle's data key for a new key, leaving its payload as is.
    Rekey(rekey::RekeyArgs),
    /// Backtest a strategy over candles against simulated venues (AMMs,
    /// lending, vaults) and report metrics, as JSON and HTML on request.
    Backtest(backtest::BacktestArgs),
    /// Backtest every combination of a grid of config values in parallel
    /// and rank them.
    Sweep(sweep::SweepArgs),
    /// Render a saved backtest report (summary, HTML).
    Report(report::ReportArgs),
    /// Walk through one strategy's actions on a paper venue over bundled
    /// real candles, printing each action and its fill.
    Demo(demo::DemoArgs),
    /// List recorded runs and show their ticks.
    Journal(journal::JournalArgs),
    /// Re-execute a recorded run and verify every tick bit for bit.
    Replay(replay::ReplayArgs),
    /// Measure the runtime against native baselines and the benchmark
    /// targets, and print one comparison table (build with --release).
    Bench(bench::BenchArgs),
    /// Run live deployments on their chains until SIGINT or SIGTERM.
    Run(run::RunArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&cli.log))
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Build { dir, output } => build::run(&dir, output.as_deref()),
        Command::Inspect {
            component,
            json,
            key,
        } => inspect::run(&component, &key, json),
        Command::New(args) => new::run(&args),
        Command::Generate(args) => generate::run(&args),
        Command::Keygen(args) => keygen::run(&args),
        Command::Seal(args) => seal::run(&args),
        Command::Rekey(args) => rekey::run(&args),
        Command::Backtest(args) => backtest::run(&args),
        Command::Sweep(args) => sweep::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Journal(args) => journal::run(&args),
        Command::Replay(args) => replay::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Run(args) => run::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
