//! The deployment daemon's scheduling: many deployments at once, each on
//! its own thread (a wasm instance and its journal belong to one thread),
//! woken by a tokio timer or by each new block. A deployment that is slow
//! or failing only skips its own ticks; shutdown lets every deployment
//! finish the tick it is in, then stops it. A deployment runs only while
//! its process holds the deployment's lease in its journal
//! ([`HeldLease`]): one that loses it stops, and a deployment's thread
//! releases it when it ends.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::Duration;

use alloy::providers::Provider;
use serde::Deserialize;
use stratbox_journal::HeldLease;
use stratbox_runtime::Limits;

use crate::error::ConfigError;
use crate::live::LiveError;
use crate::redact::RpcUrl;
use crate::rpc::http_provider;
use crate::signer::SigningKeySource;

/// When a deployment ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    /// Every this many seconds (at least 1).
    EverySecs(u64),
    /// Every this many milliseconds (at least 50): chains with sub-second
    /// blocks, and tests.
    EveryMs(u64),
    /// On every new block (polled every `poll_ms`, default 1000).
    EveryBlock {
        /// How often to ask the node for its block number, in
        /// milliseconds; default 1000.
        #[serde(default = "default_poll_ms")]
        poll_ms: u64,
    },
}

impl Schedule {
    /// The period of a timed schedule; `None` for every block.
    pub fn period(&self) -> Option<Duration> {
        match *self {
            Schedule::EverySecs(secs) => Some(Duration::from_secs(secs)),
            Schedule::EveryMs(ms) => Some(Duration::from_millis(ms)),
            Schedule::EveryBlock { .. } => None,
        }
    }
}

fn default_poll_ms() -> u64 {
    1000
}

/// Where a live deployment's candles come from, as written in the file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandleSource {
    /// The market name the strategy asks for.
    pub market: String,
    /// One candle per tick at this pool's spot price.
    pub pool: Option<String>,
    /// Or: candles from this CSV tape, one per tick.
    pub csv: Option<PathBuf>,
}

/// One deployment of a deployments file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentEntry {
    /// Stable id (journal, logs, randomness seed).
    pub id: String,
    /// The strategy: a sealed bundle (opened with the host key) or a
    /// component file.
    pub strategy: PathBuf,
    /// Strategy config (JSON file).
    pub config: PathBuf,
    /// Policy file; required: live deployments never run accept-all.
    pub policy: PathBuf,
    /// Chain file ([`crate::ChainConfig`]).
    pub chain: PathBuf,
    /// The deployment key.
    pub signing_key: SigningKeySource,
    /// When to tick.
    pub schedule: Schedule,
    /// Candles shown to the strategy.
    pub candles: CandleSource,
    /// Journal file (SQLite, created mode 0600); default `<id>.db` beside
    /// the deployments file.
    pub journal: Option<PathBuf>,
    /// Resource limits (defaults for any field left out).
    #[serde(default)]
    pub limits: Limits,
}

/// A deployments file: the deployments one daemon runs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentsFile {
    /// Directory of the sealed store that keeps the deployments'
    /// committed snapshots (sealed under the host key), so that they
    /// resume after a restart; default `state` beside the file.
    pub state_dir: Option<PathBuf>,
    /// The deployments.
    #[serde(rename = "deployment")]
    pub deployments: Vec<DeploymentEntry>,
}

impl DeploymentsFile {
    /// Read a deployments file; relative paths in it are made relative to
    /// its directory.
    pub fn load(path: &Path) -> Result<DeploymentsFile, ConfigError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut file: DeploymentsFile =
            toml::from_str(&text).map_err(|source| ConfigError::Toml {
                origin: origin.clone(),
                source: Box::new(source),
            })?;
        let base = path.parent().unwrap_or(Path::new("."));
        file.state_dir = Some(base.join(file.state_dir.take().unwrap_or_else(|| "state".into())));
        let mut seen = BTreeMap::new();
        for (index, d) in file.deployments.iter_mut().enumerate() {
            if let Some(first) = seen.insert(d.id.clone(), index) {
                return Err(ConfigError::Invalid {
                    origin,
                    field: format!("deployment[{index}].id"),
                    reason: format!("`{}` is also the id of deployment[{first}]", d.id),
                });
            }
            let invalid = |field: &str, reason: &str| ConfigError::Invalid {
                origin: origin.clone(),
                field: format!("deployment[{index}].{field}"),
                reason: reason.to_owned(),
            };
            if d.candles.pool.is_some() == d.candles.csv.is_some() {
                return Err(invalid("candles", "give exactly one of `pool` and `csv`"));
            }
            if matches!(d.schedule, Schedule::EverySecs(0)) {
                return Err(invalid("schedule.every_secs", "must be at least 1"));
            }
            if matches!(d.schedule, Schedule::EveryMs(ms) if ms < 50) {
                return Err(invalid("schedule.every_ms", "must be at least 50"));
            }
            for path in [&mut d.strategy, &mut d.config, &mut d.policy, &mut d.chain] {
                *path = base.join(&*path);
            }
            if let Some(csv) = &mut d.candles.csv {
                *csv = base.join(&*csv);
            }
            d.signing_key.rebase(base);
            d.journal = Some(
                base.join(
                    d.journal
                        .take()
                        .unwrap_or_else(|| format!("{}.db", d.id).into()),
                ),
            );
        }
        Ok(file)
    }
}

/// One deployment as the scheduler drives it: `tick` runs on the
/// deployment's own thread.
pub struct ScheduledDeployment {
    /// Its id.
    pub id: String,
    /// When it ticks.
    pub schedule: Schedule,
    /// The node to watch for new blocks (for [`Schedule::EveryBlock`]).
    pub rpc_url: RpcUrl,
    /// How long one block poll may take.
    pub rpc_timeout: Duration,
    /// The deployment's lease, if the caller took one: checked before each
    /// tick (a lost lease stops the deployment) and released when the
    /// deployment's thread ends.
    pub lease: Option<HeldLease>,
    /// Runs one tick; an error is logged and the next tick comes as
    /// scheduled.
    pub tick: Box<dyn FnMut() -> Result<(), LiveError> + Send>,
}

/// How a deployment's thread ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentExit {
    /// The deployment.
    pub id: String,
    /// Ticks it ran.
    pub ticks: u64,
    /// Ticks that ended in an error.
    pub failed: u64,
    /// Ticks skipped because the previous one was still running.
    pub skipped: u64,
    /// Whether it was abandoned mid-tick at shutdown.
    pub abandoned: bool,
    /// Whether it stopped because another process took its lease.
    pub lease_lost: bool,
}

/// Run `deployments` until `shutdown` resolves; then let each finish its
/// current tick for up to `grace`, and report how each ended.
pub async fn run_scheduled(
    deployments: Vec<ScheduledDeployment>,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> Vec<DeploymentExit> {
    let mut workers = Vec::new();
    let mut timers = tokio::task::JoinSet::new();
    for deployment in deployments {
        let (wake, woken) = mpsc::sync_channel::<()>(1);
        let id = deployment.id.clone();
        let skipped = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        timers.spawn(wake_on_schedule(
            id.clone(),
            deployment.schedule,
            (deployment.rpc_url.clone(), deployment.rpc_timeout),
            wake,
            std::sync::Arc::clone(&skipped),
        ));
        let thread = std::thread::Builder::new()
            .name(format!("deployment-{id}"))
            .spawn(move || work(deployment.id, deployment.tick, deployment.lease, woken));
        match thread {
            Ok(handle) => workers.push((id, handle, skipped)),
            Err(error) => tracing::error!(deployment = %id, %error, "cannot start its thread"),
        }
    }
    shutdown.await;
    tracing::info!("shutting down: finishing the ticks in progress");
    // Dropping the timers drops the senders: each worker ends after its
    // current tick.
    timers.shutdown().await;
    let deadline = tokio::time::Instant::now() + grace;
    let mut exits = Vec::new();
    for (id, handle, skipped) in workers {
        let skipped = skipped.load(std::sync::atomic::Ordering::Relaxed);
        exits.push(join_until(id, handle, skipped, deadline).await);
    }
    exits
}

async fn join_until(
    id: String,
    handle: JoinHandle<WorkEnd>,
    skipped: u64,
    deadline: tokio::time::Instant,
) -> DeploymentExit {
    while !handle.is_finished() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if !handle.is_finished() {
        tracing::warn!(deployment = %id, "abandoned mid-tick at shutdown; its journal keeps the last committed tick");
        return DeploymentExit {
            id,
            ticks: 0,
            failed: 0,
            skipped,
            abandoned: true,
            lease_lost: false,
        };
    }
    let end = handle.join().unwrap_or_default();
    DeploymentExit {
        id,
        ticks: end.ticks,
        failed: end.failed,
        skipped,
        abandoned: false,
        lease_lost: end.lease_lost,
    }
}

/// How a deployment's thread ended.
#[derive(Debug, Default)]
struct WorkEnd {
    ticks: u64,
    failed: u64,
    lease_lost: bool,
}

fn work(
    id: String,
    mut tick: Box<dyn FnMut() -> Result<(), LiveError> + Send>,
    lease: Option<HeldLease>,
    woken: Receiver<()>,
) -> WorkEnd {
    // Every line logged on this thread (the executor's, reconciliation's)
    // names the deployment. At error level so that any filter that shows
    // a line shows its span too.
    let _span = tracing::error_span!("deployment", id = %id).entered();
    let mut end = WorkEnd::default();
    while woken.recv().is_ok() {
        if lease.as_ref().is_some_and(HeldLease::is_lost) {
            tracing::error!(deployment = %id, "lease lost: another process drives this deployment; stopping it here");
            end.lease_lost = true;
            break;
        }
        end.ticks += 1;
        if let Err(error) = tick() {
            end.failed += 1;
            tracing::warn!(deployment = %id, %error, "tick failed");
        }
    }
    tracing::info!(deployment = %id, ticks = end.ticks, failed = end.failed, "stopped");
    // Dropping the lease releases it (unless it was lost).
    drop(lease);
    end
}

async fn wake_on_schedule(
    id: String,
    schedule: Schedule,
    (rpc_url, rpc_timeout): (RpcUrl, Duration),
    wake: SyncSender<()>,
    skipped: std::sync::Arc<std::sync::atomic::AtomicU64>,
) {
    let notify = |wake: &SyncSender<()>| match wake.try_send(()) {
        Ok(()) => true,
        Err(TrySendError::Full(())) => {
            skipped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::warn!(deployment = %id, "tick skipped: the previous one is still running");
            true
        }
        Err(TrySendError::Disconnected(())) => false,
    };
    if let Some(period) = schedule.period() {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            interval.tick().await;
            if !notify(&wake) {
                return;
            }
        }
    }
    match schedule {
        Schedule::EverySecs(_) | Schedule::EveryMs(_) => {}
        Schedule::EveryBlock { poll_ms } => {
            let provider = match http_provider(&rpc_url, rpc_timeout) {
                Ok(provider) => provider,
                Err(error) => {
                    tracing::error!(deployment = %id, %error, "bad RPC URL; never ticks");
                    return;
                }
            };
            let mut last = None;
            loop {
                match provider.get_block_number().await {
                    Ok(number) if last != Some(number) => {
                        last = Some(number);
                        if !notify(&wake) {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(error) => {
                        let error = crate::error::ChainError::rpc("eth_blockNumber", error);
                        tracing::warn!(deployment = %id, %error, "block poll failed");
                    }
                }
                tokio::time::sleep(Duration::from_millis(poll_ms.max(10))).await;
            }
        }
    }
}
