//! `stratbox run`: the deployment daemon. Runs every deployment of a
//! deployments file against its live chain until SIGINT or SIGTERM; each
//! has its own schedule, limits, policy and journal, and its own thread.
//! Before any deployment starts, the daemon takes each one's lease in its
//! journal: a deployment another process drives refuses the start.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use stratbox_backtest::{Runner, wit_candle};
use stratbox_evm::daemon::{
    DeploymentEntry, DeploymentExit, DeploymentsFile, ScheduledDeployment, run_scheduled,
};
use stratbox_evm::{CandleFeed, Chain, ChainConfig, EvmVenue, Executor, reconcile};
use stratbox_journal::{Durability, HeldLease, Journal, LeaseHolder, NewRun, Recorder, RunPolicy};
use stratbox_runtime::policy::AssetCatalog;
use stratbox_runtime::types::{ActionOutcome, Rejection};
use stratbox_runtime::{DeploymentSpec, Runtime, RuntimeConfig, StrategyComponent};
use tokio::runtime::Handle;

use crate::keys::KeyArgs;

/// Run live deployments until interrupted.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Deployments file (TOML, `[[deployment]]` tables).
    pub deployments: PathBuf,
    /// Host key for sealed strategy bundles.
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
}

/// Run the daemon.
pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let file = DeploymentsFile::load(&args.deployments)?;
    let key = args.key.load()?;
    let runtime = Arc::new(Runtime::new(RuntimeConfig::pooled())?);
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let mut scheduled = Vec::new();
    let holder = LeaseHolder::new();
    for entry in &file.deployments {
        // Everything that can be checked offline is checked before any
        // deployment starts: a broken file stops the daemon, a broken
        // chain only stops its deployment.
        let prepared = prepare(entry, &runtime, key.as_deref())
            .with_context(|| format!("deployment `{}`", entry.id))?;
        // One writer: a deployment another process drives stops the
        // daemon before anything runs (leases taken so far are released).
        let lease = take_lease(entry, &holder, Duration::from_secs(args.lease_secs))?;
        scheduled.push(ScheduledDeployment {
            id: entry.id.clone(),
            schedule: entry.schedule,
            rpc_url: prepared.chain.rpc_url.clone(),
            rpc_timeout: prepared.chain.rpc_timeout(),
            lease: Some(lease),
            tick: live_tick(prepared, Arc::clone(&runtime), tokio.handle().clone()),
        });
    }
    eprintln!(
        "stratbox run: {} deployment(s); SIGINT or SIGTERM stops them after their current tick",
        scheduled.len()
    );
    let exits = tokio.block_on(run_scheduled(
        scheduled,
        shutdown_signal(),
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

/// Take `entry`'s lease in its journal for this daemon.
fn take_lease(
    entry: &DeploymentEntry,
    holder: &LeaseHolder,
    ttl: Duration,
) -> anyhow::Result<HeldLease> {
    let path = entry.journal.clone().context("journal path")?;
    let journal = Journal::open_with(&path, Durability::Full)
        .with_context(|| format!("opening journal {}", path.display()))?;
    let lease = HeldLease::acquire(journal, &entry.id, holder, ttl)?;
    tracing::info!(deployment = %entry.id, %holder, "lease taken");
    Ok(lease)
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(error) => {
                    tracing::error!(%error, "cannot listen for SIGTERM");
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

/// A deployment checked and loaded, not yet connected.
struct Prepared {
    entry: DeploymentEntry,
    component: StrategyComponent,
    component_path: PathBuf,
    chain: ChainConfig,
    policy: stratbox_policy::PolicyFile,
    assets: AssetCatalog,
    feed: CandleFeed,
    spec: DeploymentSpec,
}

fn prepare(
    entry: &DeploymentEntry,
    runtime: &Runtime,
    key: Option<&dyn stratbox_store::StoreKey>,
) -> anyhow::Result<Prepared> {
    let chain = ChainConfig::load(&entry.chain)?;
    let mut assets = AssetCatalog::new().with(chain.native_asset.clone(), 18);
    for (symbol, asset) in &chain.assets {
        assets.insert(symbol.clone(), asset.decimals);
    }
    let policy = stratbox_policy::load(&entry.policy, &assets)?;
    let (component, component_path) = load_strategy(runtime, &entry.strategy, key)?;
    let config = std::fs::read_to_string(&entry.config)
        .with_context(|| format!("reading {}", entry.config.display()))?;
    let feed = match (&entry.candles.pool, &entry.candles.csv) {
        (Some(pool), _) => {
            anyhow::ensure!(
                chain.pools.contains_key(pool),
                "candles.pool `{pool}` is not a pool of {}",
                entry.chain.display()
            );
            CandleFeed::PoolPrice {
                market: entry.candles.market.clone(),
                pool: pool.clone(),
            }
        }
        (None, Some(csv)) => {
            let tape = stratbox_tape::load_csv(csv, &entry.candles.market)?;
            CandleFeed::Tape {
                market: entry.candles.market.clone(),
                candles: tape.candles().iter().map(wit_candle).collect(),
            }
        }
        (None, None) => unreachable!("the deployments file checks candles"),
    };
    let mut spec = DeploymentSpec::new(entry.id.clone(), config);
    spec.limits = entry.limits.clone();
    Ok(Prepared {
        entry: entry.clone(),
        component,
        component_path,
        chain,
        policy,
        assets,
        feed,
        spec,
    })
}

/// A sealed bundle (opened with the host key) or a component file.
fn load_strategy(
    runtime: &Runtime,
    path: &Path,
    key: Option<&dyn stratbox_store::StoreKey>,
) -> anyhow::Result<(StrategyComponent, PathBuf)> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if stratbox_runtime::bundle::read_bundle(&bytes).is_ok() {
        let key = key.with_context(|| {
            format!(
                "{} is a sealed bundle: pass --key or --key-env",
                path.display()
            )
        })?;
        let opened = runtime.open_bundle(&bytes, key)?;
        let component = runtime.load(opened.component())?;
        return Ok((component, path.to_owned()));
    }
    Ok((runtime.load(&bytes)?, path.to_owned()))
}

type LiveRunner = Runner<EvmVenue, Recorder>;

/// The tick of one deployment: connects (and reconciles what a previous
/// process left in flight) on its first successful tick, then steps the
/// deployment loop once per call.
fn live_tick(
    prepared: Prepared,
    runtime: Arc<Runtime>,
    handle: Handle,
) -> Box<dyn FnMut() -> Result<(), String> + Send> {
    let mut runner: Option<LiveRunner> = None;
    let mut index = 0usize;
    Box::new(move || {
        if runner.is_none() {
            runner = Some(start(&prepared, &runtime, &handle).map_err(|e| format!("{e:#}"))?);
        }
        let Some(live) = runner.as_mut() else {
            return Err("not started".into());
        };
        let record = live
            .step(index, |_, _| {})
            .map_err(|e| format!("tick {index}: {e}"))?;
        index += 1;
        let id = &prepared.entry.id;
        let trace = match &record.result {
            Ok(report) => &report.trace,
            Err(failure) => &*failure.trace,
        };
        // Guest-chosen text (denial details name its values, failure
        // reasons its assets) is logged quoted, control characters escaped.
        for emission in &trace.emissions {
            if let Err(Rejection::Denied(denial) | Rejection::Invalid(denial)) = &emission.verdict {
                tracing::info!(
                    deployment = %id,
                    action = emission.action.kind(),
                    code = ?denial.code,
                    rule = ?denial.rule,
                    detail = ?denial.detail,
                    "action denied"
                );
            }
        }
        for (action_id, outcome) in &record.outcomes {
            if let ActionOutcome::Failed(failure) = outcome {
                tracing::warn!(
                    deployment = %id,
                    action_id,
                    code = ?failure.code,
                    reason = ?failure.reason,
                    tx_hash = ?failure.tx_hash,
                    "action failed"
                );
            }
        }
        match &record.result {
            Ok(report) => tracing::info!(
                deployment = %id,
                sequence = report.sequence,
                actions = report.actions.len(),
                outcomes = record.outcomes.len(),
                "tick"
            ),
            Err(failure) => {
                if failure.paused {
                    tracing::error!(
                        deployment = %id,
                        sequence = failure.sequence,
                        error = %failure.error,
                        "deployment paused after repeated failures"
                    );
                }
                return Err(format!("tick {}: {}", failure.sequence, failure.error));
            }
        }
        Ok(())
    })
}

fn start(prepared: &Prepared, runtime: &Runtime, handle: &Handle) -> anyhow::Result<LiveRunner> {
    let entry = &prepared.entry;
    let journal_path = entry.journal.clone().context("journal path")?;
    let signer = entry.signing_key.load()?;
    let chain = handle.block_on(Chain::connect(prepared.chain.clone(), signer))?;
    let mut journal = Journal::open_with(&journal_path, Durability::Full)
        .with_context(|| format!("opening journal {}", journal_path.display()))?;
    for settled in handle.block_on(reconcile(&chain, &mut journal, &entry.id))? {
        eprintln!(
            "{}: reconciled {} ({}): {:?}{}",
            entry.id,
            settled.intent.intent.tx_hash,
            settled.intent.intent.purpose,
            settled.status,
            if settled.rebroadcast {
                ", rebroadcast"
            } else {
                ""
            }
        );
    }
    let mut spec = prepared.spec.clone();
    spec.account = chain.account().to_string();
    let run = NewRun {
        spec: spec.clone(),
        component_sha256: prepared.component.info().sha256.clone(),
        component_path: Some(std::path::absolute(&prepared.component_path)?),
        policy: RunPolicy::File {
            source: prepared.policy.source.clone(),
            sha256: prepared.policy.sha256.clone(),
            origin: Some(entry.policy.clone()),
        },
        initial_policy_state: None,
        assets: prepared.assets.clone(),
        label: Some(format!("stratbox run {}", entry.id)),
    };
    let recorder = Recorder::start(journal, &run)?;
    let intents = Journal::open_with(&journal_path, Durability::Full)?;
    let executor = Executor::new(chain, intents, recorder.run());
    let (venue, oracle) = EvmVenue::new(handle.clone(), executor, prepared.feed.clone());
    let policy = stratbox_runtime::policy::PolicyEngine::new(Arc::clone(&prepared.policy.compiled));
    Ok(Runner::start(
        runtime,
        &prepared.component,
        spec,
        Arc::new(std::sync::Mutex::new(venue)),
        oracle,
        policy,
        recorder,
    )?)
}
