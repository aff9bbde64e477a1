//! A running strategy: the tick protocol, commits, rollback after failure,
//! and pausing after repeated failures.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::Store;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::bindings::StrategyWorld;
use crate::bindings::exports::stratbox::strategy::strategy::TickContext;
use crate::error::{DeployError, ResourceExceeded, TickError, TrapCode};
use crate::host::{DenyAll, LogSink, Oracle, Policy};
use crate::limits::Limits;
use crate::report::{CallTrace, TickFailure, TickReport};
use crate::runtime::{EpochTicker, Runtime, StrategyComponent};
use crate::state::{HostState, Phase};
use crate::types::{ActionId, ActionOutcome, BlockInfo, DeploymentInfo, MarketCandle};

/// The oracle of a probe instance, which is never called.
struct NoOracle;

impl Oracle for NoOracle {
    fn block(&mut self) -> BlockInfo {
        BlockInfo {
            chain_id: 0,
            number: 0,
            timestamp_ms: 0,
        }
    }
}

/// Deadline used when no epoch thread runs: effectively never, without
/// overflowing the engine's epoch arithmetic.
const NO_DEADLINE: u64 = u64::MAX / 4;

/// Who a deployment is and how it is bounded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeploymentSpec {
    /// Stable identifier (also seeds guest-side randomness).
    pub id: String,
    /// The account actions execute from, as shown to the guest.
    pub account: String,
    /// Strategy config, JSON text, passed to `init`.
    pub config: String,
    /// Resource limits.
    pub limits: Limits,
    /// Take a snapshot every this many successful ticks (at least 1). With
    /// more than 1, a failed tick rolls the strategy back further than the
    /// previous tick, trading crash-consistency for speed.
    pub commit_every: u32,
    /// Pause after this many consecutive failed ticks (0: never).
    pub max_consecutive_failures: u32,
    /// Pause after this many failed ticks within a window of ticks, whether
    /// or not they follow each other (a strategy failing every other tick).
    /// Default: 10 failures within 100 ticks.
    #[serde(default)]
    pub failure_window: FailureWindow,
}

/// Repeated failures that pause a deployment even when successful ticks
/// come between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FailureWindow {
    /// Failed ticks that pause the deployment (0: never). Default 10.
    pub failures: u32,
    /// Over how many of the most recent ticks they are counted. Default 100.
    pub ticks: u32,
}

impl Default for FailureWindow {
    fn default() -> Self {
        FailureWindow {
            failures: 10,
            ticks: 100,
        }
    }
}

impl DeploymentSpec {
    /// A spec with default limits, committing every tick and pausing after
    /// three consecutive failures.
    pub fn new(id: impl Into<String>, config: impl Into<String>) -> Self {
        let id = id.into();
        DeploymentSpec {
            account: id.clone(),
            id,
            config: config.into(),
            limits: Limits::default(),
            commit_every: 1,
            max_consecutive_failures: 3,
            failure_window: FailureWindow::default(),
        }
    }

    /// Replace the limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}

/// What the embedder plugs into a deployment.
pub struct DeploymentHost {
    /// Where reads are served from.
    pub oracle: Box<dyn Oracle>,
    /// Who judges actions.
    pub policy: Box<dyn Policy>,
    /// Where log lines go as they happen (they are in reports regardless).
    pub log_sink: Option<Arc<dyn LogSink>>,
}

impl DeploymentHost {
    /// An oracle and a policy, no log sink.
    pub fn new(oracle: impl Oracle + 'static, policy: impl Policy + 'static) -> Self {
        DeploymentHost {
            oracle: Box::new(oracle),
            policy: Box::new(policy),
            log_sink: None,
        }
    }

    /// Forward log lines to `sink` as they are emitted.
    pub fn with_log_sink(mut self, sink: Arc<dyn LogSink>) -> Self {
        self.log_sink = Some(sink);
        self
    }
}

impl std::fmt::Debug for DeploymentHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeploymentHost").finish_non_exhaustive()
    }
}

/// Input of one tick.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TickInput {
    /// The block (or simulated step) of this tick.
    pub block: BlockInfo,
    /// Candles closed since the previous tick.
    pub candles: Vec<MarketCandle>,
    /// Outcomes of earlier actions that became known since the last tick,
    /// delivered to the guest (and the policy) before `on-tick`.
    pub results: Vec<(ActionId, ActionOutcome)>,
}

impl TickInput {
    /// A tick at `block` with nothing else to deliver.
    pub fn at(block: BlockInfo) -> Self {
        TickInput {
            block,
            candles: Vec::new(),
            results: Vec::new(),
        }
    }
}

/// The committed state of a deployment: enough to resume it in another
/// process. The snapshot is the strategy's private state; store it sealed.
/// It is zeroized when the checkpoint is dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Sequence number of the next tick.
    pub sequence: u64,
    /// Next action id to hand out.
    pub next_action_id: ActionId,
    /// The strategy's snapshot.
    pub snapshot: Vec<u8>,
}

impl Drop for Checkpoint {
    fn drop(&mut self) {
        // Vec's `zeroize` wipes its whole capacity, not just its length.
        self.snapshot.zeroize();
    }
}

impl ZeroizeOnDrop for Checkpoint {}

impl std::fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print strategy state: it is its author's secret.
        f.debug_struct("Checkpoint")
            .field("sequence", &self.sequence)
            .field("next_action_id", &self.next_action_id)
            .field("snapshot_bytes", &self.snapshot.len())
            .finish()
    }
}

/// Where a deployment resumed in another process goes on from: its last
/// committed checkpoint, and what happened after it that the journal
/// recorded. Ticks after the checkpoint that failed still used their
/// sequence numbers and action ids, and the outcomes they delivered were
/// rolled back with them (the policy heard them already).
#[derive(Debug)]
pub struct ResumeAt {
    /// The last committed checkpoint.
    pub checkpoint: Checkpoint,
    /// Sequence of the next tick (at least the checkpoint's).
    pub sequence: u64,
    /// Next action id to hand out (at least the checkpoint's).
    pub next_action_id: ActionId,
    /// Outcomes the strategy must be shown again before its next tick; the
    /// policy is not told them again.
    pub redeliver: Vec<(ActionId, ActionOutcome)>,
    /// Its failed ticks so far: a deployment paused before the restart
    /// stays paused, and the failure window goes on counting.
    pub failures: FailureHistory,
}

/// The failed ticks of a deployment, as its journal recorded them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailureHistory {
    /// Sequences of the failed ticks, oldest first (those outside the
    /// failure window are ignored).
    pub failed: Vec<u64>,
    /// How many of the last ticks failed in a row.
    pub consecutive: u32,
    /// Whether the last failure paused the deployment.
    pub paused: bool,
}

/// Whether a deployment accepts ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentStatus {
    /// Ticks run.
    Active,
    /// Too many consecutive failures, or too many within the failure
    /// window; ticks are refused until [`Deployment::resume`].
    Paused {
        /// Consecutive failures when it paused.
        consecutive_failures: u32,
    },
}

enum Instance {
    Live {
        store: Store<HostState>,
        bindings: StrategyWorld,
    },
    /// Discarded after a failure; the host state waits for a rebuild.
    Parked(Box<HostState>),
}

/// One strategy instance with its own store, limits, oracle and policy.
pub struct Deployment {
    component: StrategyComponent,
    engine: wasmtime::Engine,
    /// Whether the engine meters fuel ([`crate::RuntimeConfig::fuel`]).
    metered: bool,
    /// Keeps the runtime's epoch thread (the deadline clock) running while
    /// the deployment lives.
    epoch: Option<Arc<EpochTicker>>,
    /// Epoch ticks a call may last (the spec's deadline, computed once).
    deadline: u64,
    spec: DeploymentSpec,
    /// Always `Some` between calls.
    instance: Option<Instance>,
    committed: Checkpoint,
    sequence: u64,
    since_commit: u32,
    consecutive_failures: u32,
    /// Sequences of the failed ticks within the failure window.
    recent_failures: std::collections::VecDeque<u64>,
    paused: bool,
    /// Outcomes delivered during a failed tick: the rollback erased them from
    /// the guest's state, so they are delivered again.
    redeliver: Vec<(ActionId, ActionOutcome)>,
}

impl std::fmt::Debug for Deployment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployment")
            .field("id", &self.spec.id)
            .field("sequence", &self.sequence)
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl Deployment {
    /// Instantiate `component`, call `init` with the spec's config, and
    /// commit the first snapshot.
    pub fn new(
        runtime: &Runtime,
        component: &StrategyComponent,
        spec: DeploymentSpec,
        host: DeploymentHost,
    ) -> Result<(Self, CallTrace), DeployError> {
        let checkpoint = Checkpoint {
            sequence: 0,
            next_action_id: 1,
            snapshot: Vec::new(),
        };
        Self::start(runtime, component, spec, host, checkpoint, false)
    }

    /// Rebuild a deployment from a [`Checkpoint`] taken earlier (possibly in
    /// another process): `init` with the spec's config, then `restore`.
    pub fn resume_from(
        runtime: &Runtime,
        component: &StrategyComponent,
        spec: DeploymentSpec,
        host: DeploymentHost,
        checkpoint: Checkpoint,
    ) -> Result<(Self, CallTrace), DeployError> {
        Self::start(runtime, component, spec, host, checkpoint, true)
    }

    /// Rebuild a deployment where another process left it: `init`, then
    /// `restore` of the checkpoint, then the tick sequence, action ids and
    /// outcomes to deliver again that its journal recorded after the
    /// checkpoint (see [`ResumeAt`]).
    pub fn resume_at(
        runtime: &Runtime,
        component: &StrategyComponent,
        spec: DeploymentSpec,
        host: DeploymentHost,
        at: ResumeAt,
    ) -> Result<(Self, CallTrace), DeployError> {
        let ResumeAt {
            checkpoint,
            sequence,
            next_action_id,
            redeliver,
            failures,
        } = at;
        let (mut deployment, trace) =
            Self::start(runtime, component, spec, host, checkpoint, true)?;
        deployment.sequence = deployment.sequence.max(sequence);
        let state = deployment.state_mut();
        state.next_action_id = state.next_action_id.max(next_action_id);
        deployment.redeliver = redeliver;
        deployment.consecutive_failures = failures.consecutive;
        deployment.recent_failures = failures.failed.into_iter().collect();
        deployment.forget_old_failures();
        deployment.paused = failures.paused;
        Ok((deployment, trace))
    }

    fn start(
        runtime: &Runtime,
        component: &StrategyComponent,
        spec: DeploymentSpec,
        host: DeploymentHost,
        checkpoint: Checkpoint,
        restore: bool,
    ) -> Result<(Self, CallTrace), DeployError> {
        spec.limits.validate(runtime.config())?;
        if spec.commit_every == 0 {
            return Err(DeployError::InvalidLimits {
                reason: "commit_every must be at least 1".into(),
            });
        }
        check_static_resources(component, &spec.limits)?;
        let state = HostState::new(
            host.oracle,
            host.policy,
            host.log_sink,
            DeploymentInfo {
                id: spec.id.clone(),
                account: spec.account.clone(),
            },
            spec.limits.clone(),
            checkpoint.next_action_id,
        );
        let mut deployment = Deployment {
            component: component.clone(),
            engine: runtime.engine().clone(),
            metered: runtime.config().fuel,
            deadline: epoch_deadline(runtime.epoch_ticker().as_deref(), spec.limits.deadline),
            epoch: runtime.epoch_ticker(),
            sequence: checkpoint.sequence,
            committed: checkpoint,
            spec,
            instance: None,
            since_commit: 0,
            consecutive_failures: 0,
            recent_failures: std::collections::VecDeque::new(),
            paused: false,
            redeliver: Vec::new(),
        };
        let started = Instant::now();
        let snapshot = restore.then(|| Zeroizing::new(deployment.committed.snapshot.clone()));
        let budget = deployment.full_budget();
        let booted = deployment.boot(state, snapshot.as_ref().map(|s| s.as_slice()), budget);
        let outcome = booted.and_then(|fuel| {
            if restore {
                return Ok(fuel);
            }
            // The initial snapshot makes a failure of the very first tick
            // recoverable like any other.
            let (snapshot, more) = deployment.snapshot_now()?;
            deployment.committed.snapshot = snapshot;
            Ok(fuel + more)
        });
        let mut trace = deployment.state_mut().take_trace();
        trace.duration = started.elapsed();
        match outcome {
            Ok(fuel) => {
                trace.fuel_used = fuel;
                Ok((deployment, trace))
            }
            Err((error, fuel)) => {
                trace.fuel_used = fuel;
                Err(DeployError::Init(Box::new(TickFailure {
                    sequence: deployment.sequence,
                    error,
                    trace: Box::new(trace),
                    paused: false,
                })))
            }
        }
    }

    /// Instantiate `component` under `limits` in a fresh store and drop it
    /// at once, calling nothing in it: whether it instantiates at all, and
    /// what an instance costs before `init` (what the benchmarks call
    /// instantiation).
    pub fn probe(
        runtime: &Runtime,
        component: &StrategyComponent,
        limits: &Limits,
    ) -> Result<(), DeployError> {
        limits.validate(runtime.config())?;
        check_static_resources(component, limits)?;
        let state = HostState::new(
            Box::new(NoOracle),
            Box::new(DenyAll),
            None,
            DeploymentInfo {
                id: String::new(),
                account: String::new(),
            },
            limits.clone(),
            1,
        );
        let mut store = new_store(runtime.engine(), state);
        let fuel = runtime.config().fuel.then_some(limits.fuel_per_tick);
        let deadline = epoch_deadline(runtime.epoch_ticker().as_deref(), limits.deadline);
        prepare_call(&mut store, fuel, deadline)
            .and_then(|()| {
                component
                    .pre
                    .instantiate(&mut store)
                    .map_err(|e| classify(e, limits, Stage::Instantiate))
            })
            .map(drop)
            .map_err(|error| {
                DeployError::Init(Box::new(TickFailure {
                    sequence: 0,
                    error,
                    trace: Box::default(),
                    paused: false,
                }))
            })
    }

    /// The deployment's id.
    pub fn id(&self) -> &str {
        &self.spec.id
    }

    /// Sequence number the next tick will get.
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// The last committed state.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.committed
    }

    /// Whether ticks run.
    pub fn status(&self) -> DeploymentStatus {
        if self.paused {
            DeploymentStatus::Paused {
                consecutive_failures: self.consecutive_failures,
            }
        } else {
            DeploymentStatus::Active
        }
    }

    /// Bytes of linear memory the live instance holds, over all of its
    /// memories (0 while it waits for a rebuild): what
    /// [`Limits::memory_bytes`] bounds, for soak tests and metrics.
    pub fn memory_bytes(&self) -> u64 {
        match &self.instance {
            Some(Instance::Live { store, .. }) => store.data().memory_bytes(),
            _ => 0,
        }
    }

    /// What the policy must remember across a restart, as of the last
    /// tick (see [`Policy::persistent_state`]).
    pub fn policy_state(&self) -> Option<Vec<u8>> {
        self.state().policy.persistent_state()
    }

    /// Rebuild the instance from the last committed snapshot now, outside
    /// any tick, as a process resuming the deployment does (`init`, then
    /// `restore`): what a replay does where the recorded run was resumed,
    /// so that its ticks run on an instance in the same state. Returns the
    /// fuel it used; on failure the instance waits for the next tick's
    /// rebuild.
    pub fn reboot(&mut self) -> Result<u64, TickError> {
        self.park();
        let budget = self.full_budget();
        self.rebuild(budget).map_err(|(error, _)| error)
    }

    /// Accept ticks again after a pause.
    pub fn resume(&mut self) {
        self.paused = false;
        self.consecutive_failures = 0;
        self.recent_failures.clear();
    }

    /// Run one tick: deliver outcomes, call `on-tick`, commit. On success the
    /// accepted actions are returned for release; on failure nothing is, and
    /// the instance is rebuilt from the last committed snapshot before the
    /// next tick.
    pub fn tick(&mut self, input: TickInput) -> Result<TickReport, TickFailure> {
        let started = Instant::now();
        let sequence = self.sequence;
        if self.paused {
            // Nothing runs, but outcomes that became known are not lost:
            // the policy hears them now, the strategy when it resumes.
            for (id, outcome) in &input.results {
                self.state_mut().policy.on_outcome(*id, outcome);
            }
            self.redeliver.extend(input.results);
            return Err(TickFailure {
                sequence,
                error: TickError::Paused {
                    consecutive_failures: self.consecutive_failures,
                },
                trace: Box::default(),
                paused: true,
            });
        }
        let _span = tracing::debug_span!("tick", deployment = %self.spec.id, sequence).entered();
        for (id, outcome) in &input.results {
            self.state_mut().policy.on_outcome(*id, outcome);
        }
        let mut results = std::mem::take(&mut self.redeliver);
        results.extend(input.results);

        // One budget (fuel and deadline) for the whole tick: the rebuild
        // after a failed tick, outcome delivery, on-tick and the snapshot.
        let budget = self.full_budget();
        let mut rebuild_fuel = None;
        if let Some(Instance::Parked(_)) = self.instance {
            match self.rebuild(budget) {
                Ok(fuel) => rebuild_fuel = Some(fuel),
                Err((error, fuel)) => {
                    let failure = self.fail(sequence, error, 0, Some(fuel), results, started);
                    return Err(failure);
                }
            }
        }

        let context = match self
            .state_mut()
            .tick_context(sequence, input.block, &input.candles)
        {
            Ok(context) => context,
            Err(error) => {
                return Err(self.fail(sequence, error, 0, rebuild_fuel, results, started));
            }
        };
        let commit = self.since_commit + 1 >= self.spec.commit_every;
        let fuel_limit = self.spec.limits.fuel_per_tick;
        let limits = self.spec.limits.clone();
        let Some(Instance::Live { store, bindings }) = self.instance.as_mut() else {
            unreachable!("the instance is live after a successful rebuild");
        };
        store
            .data_mut()
            .begin(Phase::Outcome, sequence, input.block);
        // A rebuilt instance goes on with what the rebuild left of the
        // budget; otherwise the budget is armed now.
        let armed = if rebuild_fuel.is_some() {
            Ok(())
        } else {
            prepare_call(store, budget.fuel, budget.deadline)
        };
        let outcome =
            armed.and_then(|()| run_tick(store, bindings, &results, context, commit, &limits));
        let fuel_used = fuel_used(store, fuel_limit).saturating_sub(rebuild_fuel.unwrap_or(0));

        match outcome {
            Ok(snapshot) => {
                let state = store.data_mut();
                let actions = std::mem::take(&mut state.accepted);
                state.policy.on_released(&actions);
                let next_action_id = state.next_action_id;
                let memory = state.memory_bytes();
                let mut trace = state.take_trace();
                trace.fuel_used = fuel_used;
                trace.rebuild_fuel = rebuild_fuel;
                trace.duration = started.elapsed();
                self.sequence += 1;
                self.consecutive_failures = 0;
                self.forget_old_failures();
                let committed = snapshot.is_some();
                if let Some(snapshot) = snapshot {
                    self.committed = Checkpoint {
                        sequence: self.sequence,
                        next_action_id,
                        snapshot,
                    };
                    self.since_commit = 0;
                    // The committed snapshot is the whole state: an instance
                    // whose heap crept past the threshold is rebuilt from it
                    // before the next tick, deterministically (memory
                    // growth is), instead of failing a tick at the limit.
                    if self
                        .spec
                        .limits
                        .recycle_threshold()
                        .is_some_and(|threshold| memory > threshold)
                    {
                        tracing::debug!(deployment = %self.spec.id, memory, "instance recycled");
                        self.park();
                    }
                } else {
                    self.since_commit += 1;
                }
                Ok(TickReport {
                    sequence,
                    actions,
                    committed,
                    trace,
                })
            }
            Err(error) => {
                Err(self.fail(sequence, error, fuel_used, rebuild_fuel, results, started))
            }
        }
    }

    /// The budget of one call sequence: all of the fuel and the deadline.
    fn full_budget(&self) -> Budget {
        Budget {
            fuel: self.metered.then_some(self.spec.limits.fuel_per_tick),
            deadline: self.deadline,
        }
    }

    /// Rebuild a parked instance from the last committed snapshot within
    /// `budget`, leaving what is left of it armed in the new store.
    fn rebuild(&mut self, budget: Budget) -> Result<u64, (TickError, u64)> {
        let Some(Instance::Parked(state)) = self.instance.take() else {
            return Err((host_fault("no parked instance to rebuild"), 0));
        };
        let snapshot = std::mem::take(&mut self.committed.snapshot);
        let booted = self.boot(*state, Some(&snapshot), budget);
        self.committed.snapshot = snapshot;
        booted
    }

    /// Instantiate, `init`, and `restore` if a snapshot is given, within
    /// `budget`. Returns the fuel used; on failure the host state is parked.
    fn boot(
        &mut self,
        mut state: HostState,
        snapshot: Option<&[u8]>,
        budget: Budget,
    ) -> Result<u64, (TickError, u64)> {
        state.new_instance();
        let mut store = new_store(&self.engine, state);
        let sequence = self.sequence;
        let block = self.committed_block();
        store.data_mut().begin(Phase::Setup, sequence, block);
        let fuel_limit = budget.fuel.unwrap_or(0);
        let limits = self.spec.limits.clone();
        let result = prepare_call(&mut store, budget.fuel, budget.deadline).and_then(|()| {
            let bindings = self
                .component
                .pre
                .instantiate(&mut store)
                .map_err(|e| classify(e, &limits, Stage::Instantiate))?;
            let guest = bindings.stratbox_strategy_strategy();
            guest
                .call_init(&mut store, &self.spec.config)
                .map_err(|e| classify(e, &limits, Stage::Call))?
                .map_err(|message| guest_error(message, &limits))?;
            if let Some(snapshot) = snapshot {
                guest
                    .call_restore(&mut store, snapshot)
                    .map_err(|e| classify(e, &limits, Stage::Call))?
                    .map_err(|message| guest_error(message, &limits))?;
            }
            Ok(bindings)
        });
        let fuel = fuel_used(&store, fuel_limit);
        match result {
            Ok(bindings) => {
                self.instance = Some(Instance::Live { store, bindings });
                Ok(fuel)
            }
            Err(error) => {
                self.instance = Some(Instance::Parked(Box::new(store.into_data())));
                Err((error, fuel))
            }
        }
    }

    /// Take a snapshot outside a tick (after init). Returns it and the fuel
    /// used.
    fn snapshot_now(&mut self) -> Result<(Vec<u8>, u64), (TickError, u64)> {
        let fuel_limit = self.spec.limits.fuel_per_tick;
        let budget = self.full_budget();
        let limits = self.spec.limits.clone();
        let Some(Instance::Live { store, bindings }) = self.instance.as_mut() else {
            return Err((host_fault("no live instance to snapshot"), 0));
        };
        store.data_mut().enter(Phase::Snapshot);
        let result = prepare_call(store, budget.fuel, budget.deadline)
            .and_then(|()| take_snapshot(store, bindings, &limits));
        let fuel = fuel_used(store, fuel_limit);
        match result {
            Ok(snapshot) => Ok((snapshot, fuel)),
            Err(error) => {
                self.park();
                Err((error, fuel))
            }
        }
    }

    fn fail(
        &mut self,
        sequence: u64,
        error: TickError,
        fuel_used: u64,
        rebuild_fuel: Option<u64>,
        results: Vec<(ActionId, ActionOutcome)>,
        started: Instant,
    ) -> TickFailure {
        self.park();
        let state = self.state_mut();
        let dropped = std::mem::take(&mut state.accepted);
        state.policy.on_dropped(&dropped);
        self.redeliver = results;
        self.sequence += 1;
        self.consecutive_failures += 1;
        self.recent_failures.push_back(sequence);
        self.forget_old_failures();
        let max = self.spec.max_consecutive_failures;
        let window = self.spec.failure_window;
        let too_many_in_window =
            window.failures > 0 && self.recent_failures.len() >= window.failures as usize;
        if (max > 0 && self.consecutive_failures >= max) || too_many_in_window {
            self.paused = true;
            tracing::warn!(
                deployment = %self.spec.id,
                consecutive = self.consecutive_failures,
                in_window = self.recent_failures.len(),
                "deployment paused after repeated failures"
            );
        }
        // The failed instance is rebuilt at once, on what the failed tick
        // left of its budget: a strategy that fails every other tick costs no
        // more than its budget per tick. A rebuild that does not fit (or
        // fails) is tried again at the start of the next tick, on that
        // tick's budget.
        let mut rebuild_fuel = rebuild_fuel;
        if !self.paused && rebuild_fuel.is_none() {
            let budget = self.remaining_budget(fuel_used, started);
            match self.rebuild(budget) {
                Ok(fuel) => rebuild_fuel = Some(fuel),
                Err((rebuild_error, fuel)) => {
                    rebuild_fuel = Some(fuel);
                    tracing::debug!(
                        deployment = %self.spec.id,
                        sequence,
                        error = %rebuild_error,
                        "rebuild after the failed tick did not fit its budget; retried at the next tick"
                    );
                }
            }
        }
        let mut trace = self.state_mut().take_trace();
        trace.fuel_used = fuel_used;
        trace.rebuild_fuel = rebuild_fuel;
        trace.duration = started.elapsed();
        tracing::debug!(deployment = %self.spec.id, sequence, %error, "tick failed");
        TickFailure {
            sequence,
            error,
            trace: Box::new(trace),
            paused: self.paused,
        }
    }

    /// Discard a live instance, keeping its host state for the rebuild; an
    /// instance already parked stays as it is.
    fn park(&mut self) {
        self.instance = match self.instance.take() {
            Some(Instance::Live { store, .. }) => {
                Some(Instance::Parked(Box::new(store.into_data())))
            }
            other => other,
        };
    }

    /// What a tick that used `fuel_used` since `started` has left of its
    /// budget.
    fn remaining_budget(&self, fuel_used: u64, started: Instant) -> Budget {
        let fuel = self
            .metered
            .then(|| self.spec.limits.fuel_per_tick.saturating_sub(fuel_used));
        let left = self.spec.limits.deadline.saturating_sub(started.elapsed());
        Budget {
            fuel,
            deadline: epoch_deadline(self.epoch.as_deref(), left),
        }
    }

    /// Drop failures that fell out of the failure window.
    fn forget_old_failures(&mut self) {
        let window = u64::from(self.spec.failure_window.ticks);
        while let Some(&oldest) = self.recent_failures.front() {
            if oldest + window <= self.sequence {
                self.recent_failures.pop_front();
            } else {
                break;
            }
        }
    }

    fn state(&self) -> &HostState {
        match self.instance.as_ref() {
            Some(Instance::Live { store, .. }) => store.data(),
            Some(Instance::Parked(state)) => state.as_ref(),
            None => unreachable!("a deployment always holds its host state between calls"),
        }
    }

    fn state_mut(&mut self) -> &mut HostState {
        match self.instance.as_mut() {
            Some(Instance::Live { store, .. }) => store.data_mut(),
            Some(Instance::Parked(state)) => state.as_mut(),
            None => unreachable!("a deployment always holds its host state between calls"),
        }
    }

    fn committed_block(&self) -> BlockInfo {
        BlockInfo {
            chain_id: 0,
            number: 0,
            timestamp_ms: 0,
        }
    }
}

/// Fuel (`None`: not metered) and epoch deadline a call sequence may use.
#[derive(Debug, Clone, Copy)]
struct Budget {
    fuel: Option<u64>,
    deadline: u64,
}

/// The epoch deadline of a call that may last `deadline`.
fn epoch_deadline(epoch: Option<&EpochTicker>, deadline: std::time::Duration) -> u64 {
    match epoch {
        Some(ticker) => ticker.ticks(deadline),
        None => NO_DEADLINE,
    }
}

/// A store for one instance: its limits enforced, a missed deadline traps.
fn new_store(engine: &wasmtime::Engine, state: HostState) -> Store<HostState> {
    let mut store = Store::new(engine, state);
    store.limiter(|state| state as &mut dyn wasmtime::ResourceLimiter);
    store.epoch_deadline_trap();
    store
}

/// Refill the store's fuel (`None`: the engine does not meter) and arm the
/// wall-clock deadline for the next guest call.
fn prepare_call(
    store: &mut Store<HostState>,
    fuel: Option<u64>,
    deadline: u64,
) -> Result<(), TickError> {
    if let Some(fuel) = fuel {
        store
            .set_fuel(fuel)
            .map_err(|e| host_fault(&format!("setting fuel: {e:#}")))?;
    }
    store.set_epoch_deadline(deadline);
    Ok(())
}

/// Fuel used since [`prepare_call`] refilled `limit`; zero when the engine
/// does not meter (the store then has no fuel to read).
fn fuel_used(store: &Store<HostState>, limit: u64) -> u64 {
    store.get_fuel().map_or(0, |left| limit - left)
}

fn run_tick(
    store: &mut Store<HostState>,
    bindings: &StrategyWorld,
    results: &[(ActionId, ActionOutcome)],
    context: TickContext,
    commit: bool,
    limits: &Limits,
) -> Result<Option<Vec<u8>>, TickError> {
    let guest = bindings.stratbox_strategy_strategy();
    store.data_mut().enter(Phase::Outcome);
    for (id, outcome) in results {
        guest
            .call_on_action_result(&mut *store, *id, outcome)
            .map_err(|e| classify(e, limits, Stage::Call))?
            .map_err(|message| guest_error(message, limits))?;
    }
    store.data_mut().enter(Phase::Tick);
    let ticked = guest
        .call_on_tick(&mut *store, context)
        .map_err(|e| classify(e, limits, Stage::Call))?;
    if ticked.is_err() {
        let message = guest
            .call_last_error(&mut *store)
            .map_err(|e| classify(e, limits, Stage::Call))?;
        return Err(guest_error(message, limits));
    }
    if commit {
        return take_snapshot(store, bindings, limits).map(Some);
    }
    Ok(None)
}

fn take_snapshot(
    store: &mut Store<HostState>,
    bindings: &StrategyWorld,
    limits: &Limits,
) -> Result<Vec<u8>, TickError> {
    store.data_mut().enter(Phase::Snapshot);
    let snapshot = bindings
        .stratbox_strategy_strategy()
        .call_snapshot(&mut *store)
        .map_err(|e| classify(e, limits, Stage::Call))?;
    if snapshot.len() > limits.snapshot_bytes as usize {
        return Err(TickError::Resource(ResourceExceeded::SnapshotBytes {
            bytes: snapshot.len() as u64,
            limit: limits.snapshot_bytes,
        }));
    }
    Ok(snapshot)
}

fn check_static_resources(
    component: &StrategyComponent,
    limits: &Limits,
) -> Result<(), DeployError> {
    let info = component.info();
    if info.core_instances > u64::from(limits.instances) {
        return Err(DeployError::ComponentTooLarge {
            what: "core instances",
            needed: info.core_instances,
            limit: u64::from(limits.instances),
        });
    }
    if let Some(required) = component
        .pre
        .instance_pre()
        .component()
        .resources_required()
    {
        let checks = [
            (
                "memories",
                u64::from(required.num_memories),
                u64::from(limits.memories),
            ),
            (
                "tables",
                u64::from(required.num_tables),
                u64::from(limits.tables),
            ),
        ];
        for (what, needed, limit) in checks {
            if needed > limit {
                return Err(DeployError::ComponentTooLarge {
                    what,
                    needed,
                    limit,
                });
            }
        }
    }
    Ok(())
}

/// Where an engine error came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Instantiate,
    Call,
}

/// Turn an engine error into a typed tick error. Errors raised by the host
/// side (limits) travel through the guest as `TickError`s and come back out
/// unchanged.
fn classify(error: wasmtime::Error, limits: &Limits, stage: Stage) -> TickError {
    if let Some(tick_error) = error.downcast_ref::<TickError>() {
        return tick_error.clone();
    }
    if let Some(trap) = error.downcast_ref::<wasmtime::Trap>() {
        use wasmtime::Trap;
        return match trap {
            Trap::OutOfFuel => TickError::OutOfFuel {
                limit: limits.fuel_per_tick,
            },
            Trap::Interrupt => TickError::Deadline {
                limit: limits.deadline,
            },
            Trap::StackOverflow => TickError::StackOverflow,
            other => TickError::GuestTrap {
                code: trap_code(*other),
            },
        };
    }
    match stage {
        Stage::Instantiate => TickError::Instantiation {
            reason: format!("{error:#}"),
        },
        // The host's own functions fail only with `TickError`s (above), so
        // anything else the engine raised in a call is the guest's doing:
        // lifting or lowering values it laid out against the canonical ABI.
        Stage::Call => TickError::GuestAbi {
            reason: format!("{error:#}"),
        },
    }
}

fn trap_code(trap: wasmtime::Trap) -> TrapCode {
    use wasmtime::Trap;
    match trap {
        Trap::UnreachableCodeReached => TrapCode::Unreachable,
        Trap::MemoryOutOfBounds => TrapCode::MemoryOutOfBounds,
        Trap::TableOutOfBounds => TrapCode::TableOutOfBounds,
        Trap::IndirectCallToNull => TrapCode::IndirectCallToNull,
        Trap::BadSignature => TrapCode::BadSignature,
        Trap::IntegerOverflow => TrapCode::IntegerOverflow,
        Trap::IntegerDivisionByZero => TrapCode::IntegerDivisionByZero,
        Trap::BadConversionToInteger => TrapCode::BadConversionToInteger,
        Trap::CannotEnterComponent => TrapCode::CannotEnterComponent,
        other => TrapCode::Other(other.to_string()),
    }
}

fn guest_error(mut message: String, limits: &Limits) -> TickError {
    let max = limits.argument_bytes as usize;
    if message.len() > max {
        let mut end = max;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
    }
    TickError::GuestError { message }
}

fn host_fault(reason: &str) -> TickError {
    TickError::HostFault {
        reason: reason.to_owned(),
    }
}
