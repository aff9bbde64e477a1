//! One live deployment, from its entry in a deployments file to its ticks:
//! everything that can be checked offline is checked first
//! ([`LiveSetup::load`]); on its first tick it connects, settles what an
//! earlier process left in flight and either resumes the journal's last
//! run where it stopped or starts a new one ([`LiveDeployment::connect`]);
//! then each tick steps the deployment loop once
//! ([`LiveDeployment::tick`]).
//!
//! A resumed run goes on exactly where its last committed tick left it:
//! the strategy's sealed snapshot, the policy's state (allowances,
//! reservations, cooldowns, per-day counters), the tick sequence (which is
//! also the candle cursor of a tape), the action ids, outcomes recorded and
//! not yet delivered, and actions whose outcome is not known yet.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use stratbox_backtest::wit_candle;
use stratbox_engine::{RunError, Runner, TickRecord};
use stratbox_journal::{
    Durability, Journal, JournalError, NewRun, Recorder, RunId, RunPolicy, RunResume,
};
use stratbox_policy::{PolicyFile, PolicyFileError};
use stratbox_runtime::bundle::OpenError;
use stratbox_runtime::policy::{AssetCatalog, PolicyEngine, PolicyStateError};
use stratbox_runtime::types::{ActionOutcome, Rejection};
use stratbox_runtime::{DeploymentSpec, LoadError, Runtime, StrategyComponent, TickError};
use stratbox_store::{StoreError, StoreKey};
use tokio::runtime::Handle;

use crate::chain::Chain;
use crate::config::ChainConfig;
use crate::daemon::DeploymentEntry;
pub use crate::durable::Durable;
use crate::error::{ChainError, ConfigError, SignerError};
use crate::execute::Executor;
use crate::reconcile::reconcile;
use crate::signer::DeploymentSigner;
use crate::venue::{CandleFeed, EvmVenue};

/// Why a live deployment could not be set up, connected or ticked.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The chain file (or another file the entry names) is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The policy file is unusable.
    #[error(transparent)]
    Policy(Box<PolicyFileError>),
    /// The deployment key could not be loaded.
    #[error(transparent)]
    Signer(#[from] SignerError),
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The candle tape could not be read.
    #[error(transparent)]
    Tape(Box<stratbox_tape::TapeError>),
    /// The strategy is a sealed bundle and no host key was given.
    #[error("{0} is a sealed bundle: pass --key (the host's secret key)")]
    NoBundleKey(PathBuf),
    /// The sealed bundle could not be opened.
    #[error("opening the sealed bundle {path}: {source}")]
    Bundle {
        /// The bundle.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<OpenError>,
    },
    /// The component could not be loaded.
    #[error("loading the strategy {path}: {source}")]
    Load {
        /// The component.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<LoadError>,
    },
    /// The chain could not be reached or read.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The journal failed.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The sealed store of snapshots failed.
    #[error(transparent)]
    Store(Box<StoreError>),
    /// The journaled policy state does not decode.
    #[error("the journaled policy state of run {run}: {source}")]
    PolicyState {
        /// The run.
        run: i64,
        /// Why.
        #[source]
        source: PolicyStateError,
    },
    /// The run to resume was started with another strategy, policy or
    /// spec: resuming it would mix two deployments in one run.
    #[error(
        "run {run} of `{deployment}` was started with another {what}; resuming it would mix \
         two deployments in one run: restore the original, or start a new run (--new-run)"
    )]
    Changed {
        /// The deployment.
        deployment: String,
        /// The run.
        run: i64,
        /// `strategy`, `policy` or `config or limits`.
        what: &'static str,
    },
    /// The deployment loop stopped (journal or venue).
    #[error(transparent)]
    Run(#[from] RunError),
    /// The strategy's tick failed (it is rolled back; after repeated
    /// failures the deployment pauses).
    #[error("tick {sequence}: {error}")]
    Tick {
        /// The tick.
        sequence: u64,
        /// Why.
        #[source]
        error: Box<TickError>,
    },
}

impl From<PolicyFileError> for LiveError {
    fn from(error: PolicyFileError) -> Self {
        LiveError::Policy(Box::new(error))
    }
}

impl From<StoreError> for LiveError {
    fn from(error: StoreError) -> Self {
        LiveError::Store(Box::new(error))
    }
}

impl From<stratbox_tape::TapeError> for LiveError {
    fn from(error: stratbox_tape::TapeError) -> Self {
        LiveError::Tape(Box::new(error))
    }
}

/// How a deployment starts when its journal already holds a run of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartMode {
    /// Go on with the journal's last run (a new run only if there is none).
    #[default]
    Resume,
    /// Start a new run: init the strategy afresh, the policy full. Only
    /// when the operator asks for it.
    NewRun,
}

/// A deployment checked and loaded, not yet connected.
pub struct LiveSetup {
    entry: DeploymentEntry,
    component: StrategyComponent,
    chain: ChainConfig,
    signer: DeploymentSigner,
    policy: PolicyFile,
    assets: AssetCatalog,
    feed: CandleFeed,
    spec: DeploymentSpec,
    journal: PathBuf,
}

impl std::fmt::Debug for LiveSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSetup")
            .field("id", &self.entry.id)
            .finish_non_exhaustive()
    }
}

impl LiveSetup {
    /// Read and check everything `entry` names: chain, policy, strategy
    /// (opened with `key` if sealed), config, candle source, and the
    /// deployment key (load setups before starting threads: a key read
    /// from the environment is removed from it).
    pub fn load(
        entry: &DeploymentEntry,
        runtime: &Runtime,
        key: Option<&dyn StoreKey>,
    ) -> Result<LiveSetup, LiveError> {
        let chain = ChainConfig::load(&entry.chain)?;
        let mut assets = AssetCatalog::new().with(chain.native_asset.clone(), 18);
        for (symbol, asset) in &chain.assets {
            assets.insert(symbol.clone(), asset.decimals);
        }
        let policy = stratbox_policy::load(&entry.policy, &assets)?;
        let component = load_strategy(runtime, &entry.strategy, key)?;
        let config = std::fs::read_to_string(&entry.config).map_err(|source| LiveError::Read {
            path: entry.config.clone(),
            source,
        })?;
        let feed = match (&entry.candles.pool, &entry.candles.csv) {
            (Some(pool), _) => {
                if !chain.pools.contains_key(pool) {
                    return Err(ConfigError::Invalid {
                        origin: entry.chain.display().to_string(),
                        field: "pools".into(),
                        reason: format!("the deployment's candles.pool `{pool}` is not one"),
                    }
                    .into());
                }
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
        let signer = entry.signing_key.load()?;
        let mut spec = DeploymentSpec::new(entry.id.clone(), config);
        spec.limits = entry.limits.clone();
        spec.account = crate::chain::account_of(&chain, &signer).to_string();
        let journal = entry
            .journal
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("{}.db", entry.id)));
        Ok(LiveSetup {
            entry: entry.clone(),
            component,
            chain,
            signer,
            policy,
            assets,
            feed,
            spec,
            journal,
        })
    }

    /// The deployment's id.
    pub fn id(&self) -> &str {
        &self.entry.id
    }

    /// Its chain.
    pub fn chain(&self) -> &ChainConfig {
        &self.chain
    }

    /// Its journal file.
    pub fn journal_path(&self) -> &Path {
        &self.journal
    }
}

/// A sealed bundle (opened with the host key) or a component file.
fn load_strategy(
    runtime: &Runtime,
    path: &Path,
    key: Option<&dyn StoreKey>,
) -> Result<StrategyComponent, LiveError> {
    let bytes = std::fs::read(path).map_err(|source| LiveError::Read {
        path: path.to_owned(),
        source,
    })?;
    let load = |bytes: &[u8]| {
        runtime.load(bytes).map_err(|source| LiveError::Load {
            path: path.to_owned(),
            source: Box::new(source),
        })
    };
    if stratbox_runtime::bundle::read_bundle(&bytes).is_ok() {
        let key = key.ok_or_else(|| LiveError::NoBundleKey(path.to_owned()))?;
        let opened = runtime
            .open_bundle(&bytes, key)
            .map_err(|source| LiveError::Bundle {
                path: path.to_owned(),
                source: Box::new(source),
            })?;
        return load(opened.component());
    }
    load(&bytes)
}

/// A connected live deployment: the deployment loop against its chain.
pub struct LiveDeployment {
    id: String,
    runner: Runner<EvmVenue, Recorder>,
}

impl std::fmt::Debug for LiveDeployment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveDeployment")
            .field("id", &self.id)
            .field("sequence", &self.runner.deployment().sequence())
            .finish_non_exhaustive()
    }
}

impl LiveDeployment {
    /// Connect to the chain, settle the transactions an earlier process
    /// left pending, then resume the journal's last run of the deployment
    /// (or start one: with [`StartMode::NewRun`], or when there is none).
    /// Snapshots are sealed into `durable.store`; the journal's links are
    /// keyed with `durable.chain_key`.
    pub fn connect(
        setup: &LiveSetup,
        runtime: &Runtime,
        durable: &Durable,
        handle: &Handle,
        mode: StartMode,
    ) -> Result<LiveDeployment, LiveError> {
        let id = setup.id().to_owned();
        let chain = handle.block_on(Chain::connect(setup.chain.clone(), setup.signer.clone()))?;
        let mut journal = Journal::open_with(&setup.journal, Durability::Full)?
            .with_chain_key(durable.chain_key.clone());
        for settled in handle.block_on(reconcile(&chain, &mut journal, &id))? {
            tracing::info!(
                deployment = %id,
                tx_hash = %settled.intent.intent.tx_hash,
                purpose = %settled.intent.intent.purpose,
                status = ?settled.status,
                rebroadcast = settled.rebroadcast,
                "reconciled a transaction left pending"
            );
        }
        let resume = match mode {
            StartMode::NewRun => None,
            StartMode::Resume => journal.resumable_run(&id)?,
        };
        let intents = Journal::open_with(&setup.journal, Durability::Full)?;
        let runner = match resume {
            Some(resume) => {
                check_unchanged(setup, &journal, &resume)?;
                resume_run(
                    setup,
                    runtime,
                    durable,
                    handle,
                    chain,
                    (journal, intents),
                    resume,
                )?
            }
            None => new_run(setup, runtime, durable, handle, chain, journal, intents)?,
        };
        Ok(LiveDeployment { id, runner })
    }

    /// The deployment loop.
    pub fn runner(&self) -> &Runner<EvmVenue, Recorder> {
        &self.runner
    }

    /// Run one tick: settle what became known, read the chain, run the
    /// strategy, execute what it was allowed to do. Denials, failed
    /// actions and pauses are logged with the deployment id.
    pub fn tick(&mut self) -> Result<TickRecord, LiveError> {
        // The tick sequence is the candle cursor: a resumed run reads on
        // where it stopped, and a paused tick (which runs nothing) does not
        // move it.
        let index = usize::try_from(self.runner.deployment().sequence()).unwrap_or(usize::MAX);
        let record = self.runner.step(index, |_, _| {})?;
        log_tick(&self.id, &record);
        match &record.result {
            Ok(_) => Ok(record),
            Err(failure) => Err(LiveError::Tick {
                sequence: failure.sequence,
                error: Box::new(failure.error.clone()),
            }),
        }
    }
}

/// A run is resumed only with what it was started with.
fn check_unchanged(
    setup: &LiveSetup,
    journal: &Journal,
    resume: &RunResume,
) -> Result<(), LiveError> {
    let record = journal.run(resume.run)?;
    let changed = |what| LiveError::Changed {
        deployment: setup.entry.id.clone(),
        run: resume.run.0,
        what,
    };
    if record.run.component_sha256 != setup.component.info().sha256 {
        return Err(changed("strategy"));
    }
    let same_policy = matches!(
        &record.run.policy,
        RunPolicy::File { sha256, .. } if *sha256 == setup.policy.sha256
    );
    if !same_policy {
        return Err(changed("policy"));
    }
    if record.run.spec != setup.spec {
        return Err(changed("config or limits"));
    }
    Ok(())
}

fn resume_run(
    setup: &LiveSetup,
    runtime: &Runtime,
    durable: &Durable,
    handle: &Handle,
    chain: Chain,
    (mut journal, intents): (Journal, Journal),
    resume: RunResume,
) -> Result<Runner<EvmVenue, Recorder>, LiveError> {
    let resumed = crate::durable::resume(durable, setup.id(), &mut journal, resume)?;
    let policy = resumed.policy(Arc::clone(&setup.policy.compiled))?;
    let (recorder, venue, oracle) = recording(
        setup,
        durable,
        handle,
        (chain, journal, intents),
        resumed.run,
    );
    let venue = venue.with_unsettled(resumed.unsettled);
    Ok(Runner::resume(
        runtime,
        &setup.component,
        setup.spec.clone(),
        Arc::new(Mutex::new(venue)),
        oracle,
        policy,
        recorder,
        resumed.at,
        resumed.undelivered,
    )?)
}

fn new_run(
    setup: &LiveSetup,
    runtime: &Runtime,
    durable: &Durable,
    handle: &Handle,
    chain: Chain,
    mut journal: Journal,
    intents: Journal,
) -> Result<Runner<EvmVenue, Recorder>, LiveError> {
    let entry = &setup.entry;
    let component_path =
        std::path::absolute(&entry.strategy).map_err(|source| LiveError::Read {
            path: entry.strategy.clone(),
            source,
        })?;
    let new = NewRun {
        spec: setup.spec.clone(),
        component_sha256: setup.component.info().sha256.clone(),
        component_path: Some(component_path),
        policy: RunPolicy::File {
            source: setup.policy.source.clone(),
            sha256: setup.policy.sha256.clone(),
            origin: Some(entry.policy.clone()),
        },
        initial_policy_state: None,
        assets: setup.assets.clone(),
        label: Some(format!("stratbox run {}", entry.id)),
    };
    let run = journal.begin_run(&new)?;
    tracing::info!(deployment = %entry.id, run = run.0, "starting a new run");
    let (recorder, venue, oracle) =
        recording(setup, durable, handle, (chain, journal, intents), run);
    let policy = PolicyEngine::new(Arc::clone(&setup.policy.compiled));
    Ok(Runner::start(
        runtime,
        &setup.component,
        setup.spec.clone(),
        Arc::new(Mutex::new(venue)),
        oracle,
        policy,
        recorder,
    )?)
}

/// What records `run` (the journal, snapshots sealed into `store`) and the
/// venue that executes its actions on `chain` (intents journaled through
/// `intents`), with the oracle that reads what the venue fetched.
fn recording(
    setup: &LiveSetup,
    durable: &Durable,
    handle: &Handle,
    (chain, journal, intents): (Chain, Journal, Journal),
    run: RunId,
) -> (Recorder, EvmVenue, crate::oracle::ChainOracle) {
    let recorder = durable.recorder(setup.id(), journal, run);
    let executor = Executor::new(chain, intents, run);
    let (venue, oracle) = EvmVenue::new(handle.clone(), executor, setup.feed.clone());
    (recorder, venue, oracle)
}

/// Guest-chosen text (denial details name its values, failure reasons its
/// assets) is logged quoted, control characters escaped.
fn log_tick(id: &str, record: &TickRecord) {
    let trace = match &record.result {
        Ok(report) => &report.trace,
        Err(failure) => &*failure.trace,
    };
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
        Err(failure) if failure.paused => tracing::error!(
            deployment = %id,
            sequence = failure.sequence,
            error = %failure.error,
            "deployment paused after repeated failures"
        ),
        Err(_) => {}
    }
}

/// A deployment as the daemon drives it: set up offline, connected on its
/// first tick (a chain that cannot be reached fails that tick, and the
/// next one tries again).
pub struct LiveTicker {
    setup: LiveSetup,
    runtime: Arc<Runtime>,
    durable: Durable,
    handle: Handle,
    mode: StartMode,
    live: Option<LiveDeployment>,
}

impl LiveTicker {
    /// A ticker for `setup`, resuming or starting as `mode` says.
    pub fn new(
        setup: LiveSetup,
        runtime: Arc<Runtime>,
        durable: Durable,
        handle: Handle,
        mode: StartMode,
    ) -> LiveTicker {
        LiveTicker {
            setup,
            runtime,
            durable,
            handle,
            mode,
            live: None,
        }
    }

    /// Connect if not connected yet, then run one tick.
    pub fn tick(&mut self) -> Result<(), LiveError> {
        let live = match &mut self.live {
            Some(live) => live,
            None => {
                let live = LiveDeployment::connect(
                    &self.setup,
                    &self.runtime,
                    &self.durable,
                    &self.handle,
                    self.mode,
                )?;
                // A new run is started once: a reconnect resumes it.
                self.mode = StartMode::Resume;
                self.live.insert(live)
            }
        };
        let result = live.tick().map(drop);
        if let Err(LiveError::Run(RunError::Journal { .. } | RunError::Halted { .. })) = &result {
            // The journal failed after the deployment moved on: this
            // instance is done; the next tick resumes the run from what
            // the journal holds.
            tracing::error!(deployment = %self.setup.id(), "journal write failed; the deployment resumes from its journal at the next tick");
            self.live = None;
        }
        result
    }
}
