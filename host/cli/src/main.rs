//! `stratbox`: build, inspect and run sandboxed trading strategies.

mod backtest;
mod bench;
mod build;
mod cache;
mod client;
mod demo;
mod generate;
mod inspect;
mod inspect_bundle;
mod journal;
mod keygen;
mod keys;
mod market;
mod new;
mod optimize;
mod output;
mod rekey;
mod replay;
mod report;
mod robustness;
mod run;
mod runtime;
mod seal;
mod serve;
mod session;
mod study;
mod sweep;
mod walk_forward;
mod watch;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Build, inspect and run sandboxed trading strategies.
#[derive(Debug, Parser)]
#[command(name = "stratbox", version, about, long_about = None)]
struct Cli {
    /// Log filter (e.g. `info`, `stratbox=debug`); also read from
    /// `STRATBOX_LOG`. Default: `warn`, and for `run` also the daemon's
    /// own information (`info` for stratbox's crates). Colours only when
    /// standard error is a terminal.
    #[arg(long, global = true, env = "STRATBOX_LOG")]
    log: Option<String>,

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
        /// The limits to try instantiating it under.
        #[command(flatten)]
        limits: session::LimitArgs,
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
    /// Backtest every combination of a grid of config values (or a TPE or
    /// random search over ranges) in parallel and rank them.
    Sweep(sweep::SweepArgs),
    /// Optimise on rolling (or anchored) in-sample windows, run each best
    /// config on the out-of-sample window after it, and report the stitched
    /// out-of-sample run, the walk-forward efficiency and parameter
    /// stability.
    WalkForward(walk_forward::WalkForwardArgs),
    /// Monte Carlo of a saved backtest report: its trades in random orders
    /// and its returns bootstrapped; percentiles of return and drawdown.
    Robustness(robustness::RobustnessArgs),
    /// Render a saved backtest report (summary, HTML).
    Report(report::ReportArgs),
    /// Estimate how likely a lending position's collateral falls short of
    /// its debt under a stressed jump-diffusion fitted to candles.
    Study(study::StudyArgs),
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
    /// Run the platform service: many tenants' strategies on paper venues
    /// behind an HTTP API, until SIGINT or SIGTERM.
    Serve(serve::ServeArgs),
    /// Manage the service's tenants (on its data directory).
    Tenant(serve::TenantArgs),
    /// Upload a sealed bundle to the service.
    Upload(client::UploadArgs),
    /// Create a deployment on the service from a JSON request.
    Deploy(client::DeployArgs),
    /// List the tenant's deployments on the service.
    Ps(client::PsArgs),
    /// Pause a deployment on the service (it stays loaded).
    Pause(client::IdArgs),
    /// Resume a paused deployment on the service.
    Resume(client::IdArgs),
    /// Stop a deployment on the service for good (its journal stays).
    Stop(client::IdArgs),
    /// Delete a stopped, finished or failed deployment and its journal.
    Rm(client::RmArgs),
    /// Print a deployment's log lines.
    Logs(client::LogsArgs),
    /// Print this process's core-dump limit and dumpable flag, as set at
    /// start (diagnostics and tests).
    #[command(hide = true)]
    ProcessHardening,
    /// Compile one component read from stdin, within the limits it comes
    /// with, and write the compiled code to stdout (the commands above
    /// start this to compile; see `stratbox_runtime::compile_worker_main`).
    #[command(hide = true, name = runtime::COMPILE_WORKER_COMMAND)]
    CompileWorker,
}

/// The default log filter of `command`.
fn default_log(command: &Command) -> &'static str {
    match command {
        Command::Run(_) => {
            "warn,stratbox=info,stratbox_evm=info,stratbox_journal=info,stratbox_backtest=info,stratbox_runtime=info"
        }
        Command::Serve(_) => "warn,stratbox=info,stratbox_service=info",
        _ => "warn",
    }
}

/// Transports that name the RPC URL (with its API key) in their debug
/// spans are held at `info`, whatever the filter asks.
const QUIET: &[&str] = &[
    "alloy_transport_http=info",
    "reqwest=info",
    "hyper=info",
    "hyper_util=info",
];

/// Disable core dumps (`RLIMIT_CORE` = 0, soft and hard) and, on Linux,
/// mark the process non-dumpable (`PR_SET_DUMPABLE` 0: no core file, and
/// other processes of the same user can neither ptrace it nor read its
/// memory through `/proc`). Runs first thing in `main`, before any key is
/// read or decrypted.
#[cfg(unix)]
fn harden_process() -> anyhow::Result<()> {
    use anyhow::Context;
    use rustix::process::{Resource, Rlimit, setrlimit};
    let none = Rlimit {
        current: Some(0),
        maximum: Some(0),
    };
    setrlimit(Resource::Core, none)
        .map_err(std::io::Error::from)
        .context("disabling core dumps")?;
    #[cfg(target_os = "linux")]
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .map_err(std::io::Error::from)
        .context("marking the process non-dumpable")?;
    Ok(())
}

/// Elsewhere there is nothing to set.
#[cfg(not(unix))]
fn harden_process() -> anyhow::Result<()> {
    Ok(())
}

/// Print what [`harden_process`] set, read back from the kernel:
/// `core_limit=<soft>/<hard>` and, on Linux, `dumpable=<0|1|2>`.
fn report_hardening() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let limit = rustix::process::getrlimit(rustix::process::Resource::Core);
        let show = |v: Option<u64>| v.map_or_else(|| "unlimited".to_owned(), |v| v.to_string());
        println!("core_limit={}/{}", show(limit.current), show(limit.maximum));
        #[cfg(target_os = "linux")]
        println!(
            "dumpable={}",
            rustix::process::dumpable_behavior().map_err(std::io::Error::from)? as i32
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    // Before anything else, and so before any secret is read or
    // decrypted: no core dumps, not dumpable.
    if let Err(error) = harden_process() {
        eprintln!("error: {error:#}");
        return ExitCode::FAILURE;
    }
    let cli = Cli::parse();
    let mut filter =
        tracing_subscriber::EnvFilter::new(cli.log.as_deref().unwrap_or(default_log(&cli.command)));
    for directive in QUIET {
        if let Ok(directive) = directive.parse() {
            filter = filter.add_directive(directive);
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Build { dir, output } => build::run(&dir, output.as_deref()),
        Command::Inspect {
            component,
            json,
            key,
            limits,
        } => inspect::run(&component, &key, &limits, json),
        Command::New(args) => new::run(&args),
        Command::Generate(args) => generate::run(&args),
        Command::Keygen(args) => keygen::run(&args),
        Command::Seal(args) => seal::run(&args),
        Command::Rekey(args) => rekey::run(&args),
        Command::Backtest(args) => backtest::run(&args),
        Command::Sweep(args) => sweep::run(&args),
        Command::WalkForward(args) => walk_forward::run(&args),
        Command::Robustness(args) => robustness::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Study(args) => study::run(&args),
        Command::Journal(args) => journal::run(&args),
        Command::Replay(args) => replay::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Tenant(args) => serve::tenant(&args),
        Command::Upload(args) => client::upload(&args),
        Command::Deploy(args) => client::deploy(&args),
        Command::Ps(args) => client::ps(&args),
        Command::Pause(args) => client::act(&args, client::Action::Pause),
        Command::Resume(args) => client::act(&args, client::Action::Resume),
        Command::Stop(args) => client::act(&args, client::Action::Stop),
        Command::Rm(args) => client::rm(&args),
        Command::Logs(args) => client::logs(&args),
        Command::ProcessHardening => report_hardening(),
        Command::CompileWorker => return stratbox_runtime::compile_worker_main(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
