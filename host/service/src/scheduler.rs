//! Deployments on a bounded pool of worker threads. Each deployment's
//! instance is created on, and stays on, one worker (the least loaded when
//! it starts). A worker ticks its deployments in the order they are due;
//! a deployment that falls behind (its own slow tick, or a busy worker)
//! skips the ticks it missed and goes on at its next slot of its
//! schedule, so it never queues more than one tick and never delays the
//! others by catching up. A tenant over its hourly fuel quota has its
//! deployments' ticks skipped until the hour turns.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::control::ControlPlane;
use crate::metrics::{Metrics, TenantSeries};
use crate::paper::{PaperDeployment, PaperPlan, Ticked};
use crate::request::DeploymentState;

/// A deployment's key: its tenant and id.
pub type Key = (String, String);

/// What the API shows of a deployment a worker holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveCounters {
    /// Ticks run by this process.
    pub ticks: u64,
    /// Of those, failed.
    pub failed: u64,
    /// Ticks skipped.
    pub skipped: u64,
    /// Sequence of the next tick.
    pub next_sequence: u64,
    /// The paper account's balances after the last tick, in base units.
    pub balances: std::collections::BTreeMap<String, u128>,
}

/// A tenant's hourly fuel budget, shared by its deployments' slots: the
/// hot path reads and charges it without a lock.
#[derive(Debug)]
struct FuelBudget {
    /// Fuel the tenant may burn per hour.
    quota: AtomicU64,
    /// The hour `used` counts.
    hour: AtomicU64,
    used: AtomicU64,
}

impl FuelBudget {
    fn new(quota: u64) -> FuelBudget {
        FuelBudget {
            quota: AtomicU64::new(quota),
            hour: AtomicU64::new(current_hour()),
            used: AtomicU64::new(0),
        }
    }

    /// Whether the tenant may burn more fuel this hour.
    fn left(&self) -> bool {
        self.roll();
        self.used.load(Ordering::Relaxed) < self.quota.load(Ordering::Relaxed)
    }

    fn burn(&self, fuel: u64) {
        self.roll();
        // Saturating: a tenant never wraps back under its quota.
        let _ = self
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                Some(used.saturating_add(fuel))
            });
    }

    /// Start counting afresh when the hour turns.
    fn roll(&self) {
        let hour = current_hour();
        let seen = self.hour.load(Ordering::Relaxed);
        if seen != hour
            && self
                .hour
                .compare_exchange(seen, hour, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.used.store(0, Ordering::Relaxed);
        }
    }
}

/// What the workers share with the service.
#[derive(Debug)]
pub struct Shared {
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// The control plane, for state changes the workers decide
    /// (finished, failed).
    pub control: Arc<ControlPlane>,
    counters: Mutex<HashMap<Key, LiveCounters>>,
    /// Fuel budgets, by tenant.
    budgets: Mutex<HashMap<String, Arc<FuelBudget>>>,
    /// The latest ticks' latencies (schedule to commit), µs, at most
    /// [`LATENCY_SAMPLES`]: exact percentiles for benchmarks, where the
    /// metrics' histogram has factor-2 buckets.
    latencies: Mutex<std::collections::VecDeque<u32>>,
}

/// Latency samples kept (4 MB).
pub const LATENCY_SAMPLES: usize = 1 << 20;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// The counters of a deployment a worker holds.
    pub fn counters(&self, key: &Key) -> Option<LiveCounters> {
        lock(&self.counters).get(key).cloned()
    }

    /// The latencies sampled since the last call, µs, oldest first.
    pub fn take_latencies(&self) -> Vec<u32> {
        lock(&self.latencies).drain(..).collect()
    }

    fn sample_latency(&self, latency: Duration) {
        let mut samples = lock(&self.latencies);
        if samples.len() == LATENCY_SAMPLES {
            samples.pop_front();
        }
        samples.push_back(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
    }

    /// Set a tenant's hourly fuel quota.
    pub fn set_fuel_quota(&self, tenant: &str, fuel_per_hour: u64) {
        let mut budgets = lock(&self.budgets);
        match budgets.get(tenant) {
            Some(budget) => budget.quota.store(fuel_per_hour, Ordering::Relaxed),
            None => {
                budgets.insert(tenant.to_owned(), Arc::new(FuelBudget::new(fuel_per_hour)));
            }
        }
    }

    /// `tenant`'s fuel budget. A tenant created by another process
    /// (`stratbox tenant create` beside a running server) has its quota
    /// read from the control plane on first use.
    fn budget(&self, tenant: &str) -> Arc<FuelBudget> {
        if let Some(budget) = lock(&self.budgets).get(tenant) {
            return Arc::clone(budget);
        }
        let quota = match self.control.quotas(tenant) {
            Ok(Some(quotas)) => quotas.fuel_per_hour,
            // No row, or the database failed: the tenant gets the default
            // quota, never an unlimited one.
            Ok(None) | Err(_) => crate::config::Quotas::default().fuel_per_hour,
        };
        Arc::clone(
            lock(&self.budgets)
                .entry(tenant.to_owned())
                .or_insert_with(|| Arc::new(FuelBudget::new(quota))),
        )
    }
}

fn current_hour() -> u64 {
    stratbox_journal::now_ms() / 3_600_000
}

/// A command to a worker.
enum Command {
    /// Create (or resume) a deployment and schedule it.
    Start {
        plan: Box<PaperPlan>,
        every: Duration,
        running: bool,
        reply: SyncSender<Result<(), String>>,
    },
    /// Pause (`false`) or resume (`true`) ticking.
    SetRunning {
        key: Key,
        running: bool,
        reply: SyncSender<bool>,
    },
    /// Drop the deployment's instance (after its current tick).
    Unload { key: Key, reply: SyncSender<bool> },
}

struct Worker {
    commands: Sender<Command>,
    load: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

/// The pool of workers.
pub struct Scheduler {
    workers: Vec<Worker>,
    placement: Mutex<HashMap<Key, usize>>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("workers", &self.workers.len())
            .finish_non_exhaustive()
    }
}

/// Why the scheduler could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// The deployment could not start on its worker.
    #[error("{0}")]
    Start(String),
    /// No worker holds the deployment.
    #[error("the deployment is not loaded")]
    NotLoaded,
    /// A worker thread is gone.
    #[error("worker thread stopped")]
    WorkerGone,
}

impl Scheduler {
    /// Start `workers` worker threads (at least one).
    pub fn new(
        workers: usize,
        metrics: Arc<Metrics>,
        control: Arc<ControlPlane>,
    ) -> std::io::Result<Scheduler> {
        let shared = Arc::new(Shared {
            metrics,
            control,
            counters: Mutex::new(HashMap::new()),
            budgets: Mutex::new(HashMap::new()),
            latencies: Mutex::new(std::collections::VecDeque::new()),
        });
        let mut pool = Vec::new();
        for index in 0..workers.max(1) {
            let (commands, inbox) = mpsc::channel();
            let load = Arc::new(AtomicUsize::new(0));
            let worker_shared = Arc::clone(&shared);
            let worker_load = Arc::clone(&load);
            let thread = std::thread::Builder::new()
                .name(format!("stratbox-worker-{index}"))
                .spawn(move || WorkerLoop::new(worker_shared, worker_load).run(&inbox))?;
            pool.push(Worker {
                commands,
                load,
                thread: Some(thread),
            });
        }
        Ok(Scheduler {
            workers: pool,
            placement: Mutex::new(HashMap::new()),
            shared,
        })
    }

    /// What the workers share.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Create (or resume from its journal) the deployment of `plan` on the
    /// least loaded worker, ticking every `every` if `running`. Returns
    /// once its `init` (or restore) has run there.
    pub fn start(
        &self,
        plan: PaperPlan,
        every: Duration,
        running: bool,
    ) -> Result<(), ScheduleError> {
        let key = (plan.tenant.clone(), plan.id.clone());
        let index = self
            .workers
            .iter()
            .enumerate()
            .min_by_key(|(_, worker)| worker.load.load(Ordering::Relaxed))
            .map_or(0, |(index, _)| index);
        let (reply, answer) = mpsc::sync_channel(1);
        self.workers[index]
            .commands
            .send(Command::Start {
                plan: Box::new(plan),
                every,
                running,
                reply,
            })
            .map_err(|_| ScheduleError::WorkerGone)?;
        answer
            .recv()
            .map_err(|_| ScheduleError::WorkerGone)?
            .map_err(ScheduleError::Start)?;
        lock(&self.placement).insert(key, index);
        Ok(())
    }

    /// Pause or resume a loaded deployment.
    pub fn set_running(&self, key: &Key, running: bool) -> Result<(), ScheduleError> {
        let worker = self.worker_of(key)?;
        let (reply, answer) = mpsc::sync_channel(1);
        self.workers[worker]
            .commands
            .send(Command::SetRunning {
                key: key.clone(),
                running,
                reply,
            })
            .map_err(|_| ScheduleError::WorkerGone)?;
        match answer.recv() {
            Ok(true) => Ok(()),
            Ok(false) => Err(ScheduleError::NotLoaded),
            Err(_) => Err(ScheduleError::WorkerGone),
        }
    }

    /// Drop a deployment's instance once its current tick ends. `false` if
    /// no worker held it.
    pub fn unload(&self, key: &Key) -> Result<bool, ScheduleError> {
        let Some(worker) = lock(&self.placement).remove(key) else {
            return Ok(false);
        };
        let (reply, answer) = mpsc::sync_channel(1);
        self.workers[worker]
            .commands
            .send(Command::Unload {
                key: key.clone(),
                reply,
            })
            .map_err(|_| ScheduleError::WorkerGone)?;
        answer.recv().map_err(|_| ScheduleError::WorkerGone)
    }

    fn worker_of(&self, key: &Key) -> Result<usize, ScheduleError> {
        lock(&self.placement)
            .get(key)
            .copied()
            .ok_or(ScheduleError::NotLoaded)
    }

    /// Deployments loaded on each worker.
    pub fn loads(&self) -> Vec<usize> {
        self.workers
            .iter()
            .map(|w| w.load.load(Ordering::Relaxed))
            .collect()
    }
}

impl Drop for Scheduler {
    /// Stop the workers after their current tick; their deployments'
    /// journals hold every committed tick.
    fn drop(&mut self) {
        for worker in &mut self.workers {
            // Closing the channel ends the worker's loop.
            let (closed, _) = mpsc::channel();
            drop(std::mem::replace(&mut worker.commands, closed));
        }
        for worker in &mut self.workers {
            if let Some(thread) = worker.thread.take() {
                let _ = thread.join();
            }
        }
    }
}

/// A deployment on its worker.
struct Slot {
    deployment: PaperDeployment,
    /// Its tenant's fuel budget and metric series.
    budget: Arc<FuelBudget>,
    series: TenantSeries,
    /// The paper account's balance changes already copied to the counters.
    balance_changes: u64,
    every: Duration,
    running: bool,
    /// Bumped at each (re)scheduling: queue entries of an older
    /// generation are stale.
    generation: u64,
}

struct WorkerLoop {
    shared: Arc<Shared>,
    load: Arc<AtomicUsize>,
    slots: HashMap<Key, Slot>,
    queue: BinaryHeap<Reverse<(Instant, u64, Key)>>,
}

impl WorkerLoop {
    fn new(shared: Arc<Shared>, load: Arc<AtomicUsize>) -> WorkerLoop {
        WorkerLoop {
            shared,
            load,
            slots: HashMap::new(),
            queue: BinaryHeap::new(),
        }
    }

    fn run(mut self, inbox: &Receiver<Command>) {
        loop {
            self.run_due(inbox);
            let wait = self.queue.peek().map_or(Duration::from_secs(3600), |next| {
                next.0.0.saturating_duration_since(Instant::now())
            });
            match inbox.recv_timeout(wait) {
                Ok(command) => self.handle(command),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    /// Tick every deployment that is due, earliest first, taking commands
    /// between ticks so that the API never waits for a whole round.
    fn run_due(&mut self, inbox: &Receiver<Command>) {
        loop {
            while let Ok(command) = inbox.try_recv() {
                self.handle(command);
            }
            let now = Instant::now();
            let due = match self.queue.peek() {
                Some(Reverse((due, _, _))) if *due <= now => *due,
                _ => return,
            };
            let Some(Reverse((_, generation, key))) = self.queue.pop() else {
                return;
            };
            self.tick(key, generation, due);
        }
    }

    fn tick(&mut self, key: Key, generation: u64, due: Instant) {
        let shared = Arc::clone(&self.shared);
        let Some(slot) = self.slots.get_mut(&key) else {
            return;
        };
        if slot.generation != generation || !slot.running {
            return;
        }
        let tenant = key.0.as_str();
        let mut skipped = 0;
        let outcome = if slot.budget.left() {
            Some(slot.deployment.tick())
        } else {
            skipped += 1;
            None
        };
        let now = Instant::now();
        let mut end = None;
        match outcome {
            None => {}
            Some(Ok(Ticked::Ran(record))) => {
                let (fuel, failed, paused) = match &record.result {
                    Ok(report) => (report.trace.fuel_used, false, false),
                    Err(failure) => (failure.trace.fuel_used, true, failure.paused),
                };
                slot.budget.burn(fuel);
                shared
                    .metrics
                    .tick(tenant, &slot.series, &record, (now - due).as_secs_f64());
                shared.sample_latency(now - due);
                let mut counters = lock(&shared.counters);
                let entry = counters.entry(key.clone()).or_default();
                entry.ticks += 1;
                entry.failed += u64::from(failed);
                entry.next_sequence = slot.deployment.next_sequence();
                let changes = slot.deployment.balance_changes();
                if changes != slot.balance_changes {
                    slot.balance_changes = changes;
                    entry.balances = slot.deployment.balances();
                }
                if paused {
                    end = Some((
                        DeploymentState::Failed,
                        Some("the strategy failed repeatedly and was paused".to_owned()),
                    ));
                }
            }
            Some(Ok(Ticked::Finished)) => end = Some((DeploymentState::Finished, None)),
            Some(Err(error)) => {
                tracing::error!(tenant, deployment = %key.1, %error, "deployment stopped");
                end = Some((DeploymentState::Failed, Some(error.to_string())));
            }
        }
        if let Some((state, reason)) = end {
            // Only over a loaded state: a stop that came in meanwhile
            // stands, a pause that came in meanwhile is replaced.
            for from in [DeploymentState::Running, DeploymentState::Paused] {
                match shared
                    .control
                    .transition(tenant, &key.1, &[from], state, reason.as_deref())
                {
                    Ok(true) => {
                        shared.metrics.state_change(tenant, Some(from), Some(state));
                        break;
                    }
                    Ok(false) => {}
                    Err(error) => {
                        tracing::error!(tenant, deployment = %key.1, %error, "recording the state failed");
                        break;
                    }
                }
            }
            self.slots.remove(&key);
            self.load.store(self.slots.len(), Ordering::Relaxed);
            return;
        }
        // The next slot of the schedule after now: missed slots are
        // skipped, never run late in a burst.
        let every = slot.every;
        let mut next = due + every;
        if next <= now {
            let behind = (now - next).as_nanos() / every.as_nanos().max(1) + 1;
            let behind = u32::try_from(behind).unwrap_or(u32::MAX);
            skipped += u64::from(behind);
            next += every * behind;
        }
        if skipped > 0 {
            shared.metrics.skipped(tenant, skipped);
            lock(&shared.counters)
                .entry(key.clone())
                .or_default()
                .skipped += skipped;
        }
        self.queue.push(Reverse((next, generation, key)));
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::Start {
                plan,
                every,
                running,
                reply,
            } => {
                let key = (plan.tenant.clone(), plan.id.clone());
                let started = PaperDeployment::start(&plan).map_err(|e| e.to_string());
                let answer = match started {
                    Ok(deployment) => {
                        lock(&self.shared.counters).insert(
                            key.clone(),
                            LiveCounters {
                                next_sequence: deployment.next_sequence(),
                                balances: deployment.balances(),
                                ..LiveCounters::default()
                            },
                        );
                        self.slots.insert(
                            key.clone(),
                            Slot {
                                budget: self.shared.budget(&key.0),
                                series: self.shared.metrics.tenant(&key.0),
                                balance_changes: deployment.balance_changes(),
                                deployment,
                                every,
                                running,
                                generation: 0,
                            },
                        );
                        if running {
                            self.schedule(&key);
                        }
                        self.load.store(self.slots.len(), Ordering::Relaxed);
                        Ok(())
                    }
                    Err(error) => Err(error),
                };
                let _ = reply.send(answer);
            }
            Command::SetRunning {
                key,
                running,
                reply,
            } => {
                let found = match self.slots.get_mut(&key) {
                    Some(slot) => {
                        let was = slot.running;
                        slot.running = running;
                        if running && !was {
                            self.schedule(&key);
                        }
                        true
                    }
                    None => false,
                };
                let _ = reply.send(found);
            }
            Command::Unload { key, reply } => {
                let found = self.slots.remove(&key).is_some();
                lock(&self.shared.counters).remove(&key);
                self.load.store(self.slots.len(), Ordering::Relaxed);
                let _ = reply.send(found);
            }
        }
    }

    /// Queue the deployment's next tick within one period from now, at a
    /// phase of the period fixed by its key (thousands of deployments
    /// created at once do not all tick at the same instant), under a new
    /// generation (older queue entries of it become stale).
    fn schedule(&mut self, key: &Key) {
        if let Some(slot) = self.slots.get_mut(key) {
            slot.generation += 1;
            let mut hasher = std::hash::DefaultHasher::new();
            std::hash::Hash::hash(key, &mut hasher);
            let phase = std::hash::Hasher::finish(&hasher) % 1024;
            let due = Instant::now() + slot.every.mul_f64((phase + 1) as f64 / 1024.0);
            self.queue
                .push(Reverse((due, slot.generation, key.clone())));
        }
    }
}
