//! `stratbox`: build, inspect and run sandboxed trading strategies.

mod build;
mod demo;
mod inspect;
mod inspect_bundle;
mod journal;
mod keygen;
mod keys;
mod output;
mod rekey;
mod replay;
mod seal;

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
    /// Build a strategy directory (a Rust cdylib crate) into a component.
    Build {
        /// The strategy's directory.
        dir: PathBuf,
        /// Where to write the component (default:
        /// `target/stratbox/<package>.wasm` under the current directory).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
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
    /// Run a strategy over bundled real candles against a paper venue and
    /// print its actions.
    Demo(demo::DemoArgs),
    /// List recorded runs and show their ticks.
    Journal(journal::JournalArgs),
    /// Re-execute a recorded run and verify every tick bit for bit.
    Replay(replay::ReplayArgs),
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
        Command::Keygen(args) => keygen::run(&args),
        Command::Seal(args) => seal::run(&args),
        Command::Rekey(args) => rekey::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Journal(args) => journal::run(&args),
        Command::Replay(args) => replay::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
