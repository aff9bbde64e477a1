//! `stratbox`: build, inspect and run sandboxed trading strategies.

mod build;
mod demo;
mod inspect;
mod output;

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
    /// Show what a component imports and exports, and whether it loads.
    Inspect {
        /// The component file.
        component: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run a strategy over bundled real candles against a paper venue and
    /// print its actions.
    Demo(demo::DemoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&cli.log))
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Build { dir, output } => build::run(&dir, output.as_deref()),
        Command::Inspect { component, json } => inspect::run(&component, json),
        Command::Demo(args) => demo::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
