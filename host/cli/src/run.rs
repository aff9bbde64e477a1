//! `stratbox run`: the deployment daemon. Runs every deployment of a
//! deployments file against its live chain until SIGINT or SIGTERM; each
//! has its own schedule, limits, policy and journal, and its own thread.
//! Before any deployment starts, the daemon takes each one's lease in its
//! journal: a deployment another process drives refuses the start.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use stratbox_evm::daemon::{DeploymentExit, DeploymentsFile, ScheduledDeployment, run_scheduled};
use stratbox_evm::live::{Durable, LiveSetup, LiveTicker, StartMode};
use stratbox_journal::{ChainKey, Durability, HeldLease, Journal, LeaseHolder};
use stratbox_runtime::RuntimeConfig;
use stratbox_store::{Store, StoreKey};

use crate::keys::KeyArgs;

/// Run live deployments until interrupted.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Deployments file (TOML, `[[deployment]]` tables).
    pub deployments: PathBuf,
    /// The host's secret key: opens sealed strategy bundles and seals each
    /// deployment's committed state (required).
    #[command(flatten)]
    pub key: KeyArgs,
    /// Seconds a deployment may take to finish its tick at shutdown before
    /// it is abandoned.
    #[arg(long, default_value_t = 30)]
    pub grace_secs: u64,
    /// Seconds a deployment's lease lasts unless renewed (it is renewed
    /// every third of that). Another daemon takes over a deployment whose
    /// daemon stopped renewing this long ago, or at once if that daemon's
    /// process is gone from this machine.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub lease_secs: u64,
    /// Start every deployment on a new run (the strategy initialized
    /// afresh, the policy full) instead of resuming its journal's last run
    /// where it stopped.
    #[arg(long)]
    pub new_run: bool,
}

/// Run the daemon.
pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let file = DeploymentsFile::load(&args.deployments)?;
    let (tokio, shutdown) = daemon_runtime()?;
    let key = args.key.load()?.context(
        "stratbox run keeps each deployment's committed state sealed so that it resumes after a \
         restart: pass --key (the host's secret key, `stratbox keygen --kind x25519`)",
    )?;
    let key: Arc<dyn StoreKey> = Arc::from(key);
    let state_dir = file.state_dir.clone().context("state directory")?;
    let store = Store::open(&state_dir, Arc::clone(&key))
        .with_context(|| format!("opening the state store {}", state_dir.display()))?;
    let host_keys = key.host_keys().context(
        "--key is a key-encryption key: live state is sealed with the host's secret key \
         (`stratbox keygen --kind x25519`)",
    )?;
    let durable = Durable {
        store,
        chain_key: ChainKey::from_bytes(host_keys.journal_chain()),
        snapshots_in_journal: false,
    };
    let runtime = Arc::new(crate::runtime::isolated(RuntimeConfig::pooled())?);
    let mode = if args.new_run {
        StartMode::NewRun
    } else {
        StartMode::Resume
    };
    let mut scheduled = Vec::new();
    let holder = LeaseHolder::new();
    for entry in &file.deployments {
        // Everything that can be checked offline is checked before any
        // deployment starts: a broken file stops the daemon, a broken
        // chain only stops its deployment.
        let setup = LiveSetup::load(entry, &runtime, Some(&*key))
            .with_context(|| format!("deployment `{}`", entry.id))?;
        // One writer: a deployment another process drives stops the
        // daemon before anything runs (leases taken so far are released).
        let lease = take_lease(&setup, &holder, Duration::from_secs(args.lease_secs))?;
        let rpc_url = setup.chain().rpc_url.clone();
        let rpc_timeout = setup.chain().rpc_timeout();
        let mut ticker = LiveTicker::new(
            setup,
            Arc::clone(&runtime),
            durable.clone(),
            tokio.handle().clone(),
            mode,
        );
        scheduled.push(ScheduledDeployment {
            id: entry.id.clone(),
            schedule: entry.schedule,
            rpc_url,
            rpc_timeout,
            lease: Some(lease),
            tick: Box::new(move || ticker.tick()),
        });
    }
    eprintln!(
        "stratbox run: {} deployment(s); SIGINT or SIGTERM stops them after their current tick",
        scheduled.len()
    );
    let exits = tokio.block_on(run_scheduled(
        scheduled,
        shutdown,
        Duration::from_secs(args.grace_secs),
    ));
    for DeploymentExit {
        id,
        ticks,
        failed,
        skipped,
        abandoned,
        lease_lost,
    } in &exits
    {
        let end = if *abandoned {
            "abandoned mid-tick"
        } else if *lease_lost {
            "stopped (lease lost to another process)"
        } else {
            "stopped"
        };
        eprintln!("{id}: {end} after {ticks} tick(s), {failed} failed, {skipped} skipped");
    }
    Ok(())
}

/// Take the deployment's lease in its journal for this daemon.
fn take_lease(setup: &LiveSetup, holder: &LeaseHolder, ttl: Duration) -> anyhow::Result<HeldLease> {
    let path = setup.journal_path();
    let journal = Journal::open_with(path, Durability::Full)
        .with_context(|| format!("opening journal {}", path.display()))?;
    let lease = HeldLease::acquire(journal, setup.id(), holder, ttl)?;
    tracing::info!(deployment = %setup.id(), %holder, "lease taken");
    Ok(lease)
}

/// The tokio runtime of a daemon (`run`, `serve`) and the future that
/// resolves when it is asked to stop.
pub(crate) fn daemon_runtime() -> anyhow::Result<(
    tokio::runtime::Runtime,
    impl Future<Output = ()> + Send + 'static,
)> {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let shutdown = {
        let _runtime = tokio.enter();
        shutdown_signal()?
    };
    Ok((tokio, shutdown))
}

/// Resolves at the first SIGINT or SIGTERM. Listening starts when this is
/// called (inside the tokio runtime), not when the future is first polled:
/// a signal that arrives while the deployments load stops the daemon
/// before any of them ticks, instead of killing the process.
fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
        let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
