//! `stratbox replay`: re-execute a recorded run and verify it bit for bit.

use std::path::PathBuf;

use clap::Args;
use stratbox_journal::ReplayError;
use stratbox_runtime::{Runtime, RuntimeConfig};

use crate::journal::open_existing;

/// Options of `stratbox replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Run id, or a deployment id (its latest run).
    run: String,
    /// The journal database.
    #[arg(long, env = "STRATBOX_JOURNAL")]
    journal: PathBuf,
    /// Component file to run instead of the recorded path; its SHA-256
    /// must match the run's.
    #[arg(long)]
    component: Option<PathBuf>,
}

pub fn run(args: &ReplayArgs) -> anyhow::Result<()> {
    let journal = open_existing(&args.journal)?;
    let run = journal.find_run(&args.run)?;
    let runtime = Runtime::new(RuntimeConfig::default())?;
    match stratbox_journal::replay(&journal, run, &runtime, args.component.as_deref()) {
        Ok(summary) => {
            println!(
                "run {}: init and {} ticks replayed identically (oracle reads, actions, verdicts, logs, fuel {}, snapshots, policy state)",
                summary.run, summary.ticks, summary.fuel
            );
            Ok(())
        }
        Err(ReplayError::Diverged(divergence)) => {
            anyhow::bail!("run {run} does not replay: {divergence}")
        }
        Err(other) => Err(other.into()),
    }
}
