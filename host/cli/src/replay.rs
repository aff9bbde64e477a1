//! `stratbox replay`: verify a recorded run's hash chain, then re-execute
//! it and verify it bit for bit.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use stratbox_journal::{ChainKey, JournalError, ReplayError, ReplaySummary};
use stratbox_runtime::RuntimeConfig;

use crate::journal::open_existing;
use crate::keys::KeyArgs;

/// Options of `stratbox replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Run id, or a deployment id (its latest run).
    run: String,
    /// The journal database.
    #[arg(long, env = "STRATBOX_JOURNAL")]
    journal: PathBuf,
    /// Component file or sealed bundle to run instead of the recorded
    /// path; its component's SHA-256 must match the run's.
    #[arg(long)]
    component: Option<PathBuf>,
    /// The host key: verifies a keyed hash chain (live runs), and opens a
    /// sealed bundle in memory (the plaintext component never touches the
    /// disk).
    #[command(flatten)]
    key: KeyArgs,
}

pub fn run(args: &ReplayArgs) -> anyhow::Result<()> {
    let key = args.key.load()?;
    let mut journal = open_existing(&args.journal)?;
    if let Some(host_keys) = key.as_ref().and_then(|key| key.host_keys()) {
        journal = journal.with_chain_key(ChainKey::from_bytes(host_keys.journal_chain()));
    }
    let run = journal.find_run(&args.run)?;
    match journal.verify_chain(run) {
        Ok(check) => println!(
            "run {run}: hash chain of {} calls verified ({})",
            check.calls,
            if check.keyed {
                "keyed by the host key"
            } else {
                "unkeyed: detects corruption, not forgery"
            }
        ),
        Err(JournalError::NotChained { .. }) => {
            eprintln!("warning: run {run} was recorded before journals had hash chains");
        }
        Err(error) => return Err(error.into()),
    }
    let runtime = crate::runtime::isolated(RuntimeConfig::default())?;
    let path = match &args.component {
        Some(path) => Some(path.clone()),
        None => journal.run(run)?.run.component_path,
    };
    let sealed = match &path {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            stratbox_runtime::bundle::read_bundle(&bytes)
                .is_ok()
                .then_some((path, bytes))
        }
        None => None,
    };
    let result = match sealed {
        Some((path, bundle)) => {
            let key = key.as_deref().with_context(|| {
                format!(
                    "{} is a sealed bundle: pass --key to open it in memory",
                    path.display()
                )
            })?;
            let opened = runtime
                .open_bundle(&bundle, key)
                .with_context(|| format!("opening {}", path.display()))?;
            stratbox_journal::replay_bytes(&journal, run, &runtime, opened.component())
        }
        None => stratbox_journal::replay(&journal, run, &runtime, path.as_deref()),
    };
    report(run, result)
}

fn report(
    run: stratbox_journal::RunId,
    result: Result<ReplaySummary, ReplayError>,
) -> anyhow::Result<()> {
    match result {
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
