//! The deployment loop: where a tick goes. [`Runner::step`] settles what
//! became known, moves the venue to the tick, runs the deployment (the
//! runtime's `Deployment::tick`), journals the tick before any action
//! leaves (write-ahead), executes the accepted actions at the venue,
//! journals their results and hands them to the strategy at the next
//! step. Backtests, paper runs, live deployments and the service all run
//! this loop; only the venue, the oracle and the journal sink change.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use stratbox_runtime::types::{ActionId, ActionOutcome};
use stratbox_runtime::{
    CallTrace, DeployError, Deployment, DeploymentHost, DeploymentSpec, JournalSink,
    JournalSinkError, Oracle, Policy, ResumeAt, Runtime, StrategyComponent, TickError, TickFailure,
    TickInput, TickReport,
};

use crate::venue::Venue;

/// What one tick of a run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct TickRecord {
    /// The tick's report, or why it failed.
    pub result: Result<TickReport, TickFailure>,
    /// Outcomes of the tick's actions at the venue, by action id.
    pub outcomes: Vec<(ActionId, ActionOutcome)>,
}

/// A finished run.
#[derive(Debug)]
pub struct Run<V> {
    /// What `init` did.
    pub init: CallTrace,
    /// One record per candle.
    pub ticks: Vec<TickRecord>,
    /// The venue at the end (balances).
    pub market: Arc<Mutex<V>>,
}

impl<V> Run<V> {
    /// Successful ticks.
    pub fn reports(&self) -> impl Iterator<Item = &TickReport> {
        self.ticks.iter().filter_map(|t| t.result.as_ref().ok())
    }

    /// Failed ticks.
    pub fn failures(&self) -> impl Iterator<Item = &TickFailure> {
        self.ticks.iter().filter_map(|t| t.result.as_ref().err())
    }

    /// The venue, locked.
    pub fn venue(&self) -> MutexGuard<'_, V> {
        lock(&self.market)
    }
}

/// A run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The deployment could not be created.
    #[error(transparent)]
    Deploy(#[from] DeployError),
    /// The journal failed; the run stopped before releasing anything the
    /// journal does not hold.
    #[error("journaling {what} failed: {source}")]
    Journal {
        /// `init`, `tick N` or `results of tick N`.
        what: String,
        /// The sink's error.
        #[source]
        source: JournalSinkError,
    },
    /// An earlier journal write failed after the deployment had moved on:
    /// this runner stops for good, and the run goes on only in a runner
    /// resumed from the journal (`Runner::resume`), which holds everything
    /// up to the last tick it recorded.
    #[error("halted after the journal failed at tick {sequence}: resume the run from the journal")]
    Halted {
        /// The tick whose journal write failed.
        sequence: u64,
    },
    /// The venue could not move to a candle.
    #[error("the venue failed at candle {index}: {source}")]
    Venue {
        /// Candle index.
        index: usize,
        /// The venue's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Journals nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoJournal;

impl JournalSink for NoJournal {
    fn init(&mut self, _: &Deployment, _: &CallTrace) -> Result<(), JournalSinkError> {
        Ok(())
    }

    fn tick(
        &mut self,
        _: &Deployment,
        _: &TickInput,
        _: &Result<TickReport, TickFailure>,
    ) -> Result<(), JournalSinkError> {
        Ok(())
    }

    fn outcomes(
        &mut self,
        _: u64,
        _: &[(ActionId, ActionOutcome)],
    ) -> Result<(), JournalSinkError> {
        Ok(())
    }
}

/// A deployment being driven tick by tick against a venue: the one loop
/// behind backtests, paper runs and live deployments. Each step journals
/// the tick before its actions reach the venue (write-ahead), executes the
/// accepted actions, journals the venue's results and hands them to the
/// strategy at the next step.
pub struct Runner<V, J> {
    deployment: Deployment,
    venue: Arc<Mutex<V>>,
    journal: J,
    pending: Vec<(ActionId, ActionOutcome)>,
    init: CallTrace,
    /// Set when a journal write failed after the deployment moved on: the
    /// runner refuses to step again (see [`RunError::Halted`]).
    halted: Option<u64>,
}

impl<V: Venue, J: JournalSink> Runner<V, J> {
    /// Create the deployment (running `init`) and journal it.
    pub fn start(
        runtime: &Runtime,
        component: &StrategyComponent,
        spec: DeploymentSpec,
        venue: Arc<Mutex<V>>,
        oracle: impl Oracle + 'static,
        policy: impl Policy + 'static,
        mut journal: J,
    ) -> Result<Runner<V, J>, RunError> {
        let host = DeploymentHost::new(oracle, policy);
        let (deployment, init) = Deployment::new(runtime, component, spec, host)?;
        journal
            .init(&deployment, &init)
            .map_err(journal_error("init".into()))?;
        Ok(Runner::around(deployment, venue, journal, Vec::new(), init))
    }

    fn around(
        deployment: Deployment,
        venue: Arc<Mutex<V>>,
        journal: J,
        pending: Vec<(ActionId, ActionOutcome)>,
        init: CallTrace,
    ) -> Runner<V, J> {
        Runner {
            deployment,
            venue,
            journal,
            pending,
            init,
            halted: None,
        }
    }

    /// Go on with a deployment another process left (see
    /// [`ResumeAt`]): nothing is journaled for the rebuild; `undelivered`
    /// (outcomes its journal recorded and no tick delivered) reach the
    /// strategy and the policy at the next step.
    #[allow(clippy::too_many_arguments)] // a start's parts plus where to resume
    pub fn resume(
        runtime: &Runtime,
        component: &StrategyComponent,
        spec: DeploymentSpec,
        venue: Arc<Mutex<V>>,
        oracle: impl Oracle + 'static,
        policy: impl Policy + 'static,
        journal: J,
        at: ResumeAt,
        undelivered: Vec<(ActionId, ActionOutcome)>,
    ) -> Result<Runner<V, J>, RunError> {
        let host = DeploymentHost::new(oracle, policy);
        let (deployment, init) = Deployment::resume_at(runtime, component, spec, host, at)?;
        Ok(Runner::around(
            deployment,
            venue,
            journal,
            undelivered,
            init,
        ))
    }

    /// What `init` did.
    pub fn init_trace(&self) -> &CallTrace {
        &self.init
    }

    /// The deployment (its id, sequence, checkpoint).
    pub fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    /// The venue.
    pub fn venue(&self) -> &Arc<Mutex<V>> {
        &self.venue
    }

    /// The journal sink.
    pub fn journal(&self) -> &J {
        &self.journal
    }

    /// Run one tick at candle `index` and execute its accepted actions.
    /// `on_tick` sees the record with the venue as the tick left it.
    pub fn step(
        &mut self,
        index: usize,
        on_tick: impl FnOnce(&TickRecord, &V),
    ) -> Result<TickRecord, RunError> {
        if let Some(sequence) = self.halted {
            return Err(RunError::Halted { sequence });
        }
        let settled = lock(&self.venue).settle();
        if !settled.is_empty() {
            // Journaled before any tick sees them: a crash from here on
            // finds them recorded and undelivered.
            let last = self.deployment.sequence().saturating_sub(1);
            if let Err(source) = self.journal.outcomes(last, &settled) {
                // The venue let go of them; the journal still lists their
                // actions as unsettled for a resumed runner.
                self.halted = Some(last);
                return Err(journal_error(format!("settled results after tick {last}"))(
                    source,
                ));
            }
            self.pending.extend(settled);
        }
        let start = lock(&self.venue)
            .begin_tick(index)
            .map_err(|source| RunError::Venue {
                index,
                source: Box::new(source),
            })?;
        let input = TickInput {
            block: start.block,
            candles: start.candles,
            results: std::mem::take(&mut self.pending),
        };
        let result = self.deployment.tick(input.clone());
        let sequence = match &result {
            Ok(report) => report.sequence,
            Err(failure) => failure.sequence,
        };
        // A paused deployment ran nothing (and keeps the outcomes for when
        // it resumes): there is no call to journal, and its refusals all
        // carry the sequence of the tick it will run next.
        let ran = !matches!(
            &result,
            Err(TickFailure {
                error: TickError::Paused { .. },
                ..
            })
        );
        if !ran {
            let record = TickRecord {
                result,
                outcomes: Vec::new(),
            };
            on_tick(&record, &lock(&self.venue));
            return Ok(record);
        }
        if let Err(source) = self.journal.tick(&self.deployment, &input, &result) {
            // Nothing was released, but the deployment committed the tick
            // (its state, its sequence, the policy's reservations) and the
            // journal does not hold it: the runner halts, and a runner
            // resumed from the journal goes on from the last tick it holds.
            self.halted = Some(sequence);
            return Err(journal_error(format!("tick {sequence}"))(source));
        }
        let mut market = lock(&self.venue);
        let mut outcomes = Vec::new();
        if let Ok(report) = &result {
            for accepted in &report.actions {
                if let Some(outcome) = market.execute(accepted.id, &accepted.action) {
                    outcomes.push((accepted.id, outcome));
                }
            }
        }
        self.pending.extend(outcomes.iter().cloned());
        if let Err(source) = self.journal.outcomes(sequence, &outcomes) {
            // The actions left; the journal knows them as released without
            // an outcome, which a resumed runner's venue settles.
            self.halted = Some(sequence);
            return Err(journal_error(format!("results of tick {sequence}"))(source));
        }
        let record = TickRecord { result, outcomes };
        on_tick(&record, &market);
        Ok(record)
    }
}

fn journal_error(what: String) -> impl FnOnce(JournalSinkError) -> RunError {
    move |source| RunError::Journal { what, source }
}

/// Run `component` over every candle of `venue`: one tick per candle,
/// accepted actions executed at that candle, outcomes delivered at the next
/// tick. Every call is journaled to `journal` as it happens: each tick
/// before its actions reach the venue, the venue's results after; the run
/// stops at the first journal failure. A failed tick does not stop it: its
/// record holds the failure ([`Run::failures`]); a backtest that should
/// stop there is a `stratbox_backtest::Backtest`. `on_tick` sees each record with the
/// venue as the tick left it (progress output, equity curves). Every
/// record is kept: for long runs that need only aggregates, drive a
/// [`Runner`] instead.
#[allow(clippy::too_many_arguments)]
pub fn run<V: Venue>(
    runtime: &Runtime,
    component: &StrategyComponent,
    spec: DeploymentSpec,
    venue: Arc<Mutex<V>>,
    oracle: impl Oracle + 'static,
    policy: impl Policy + 'static,
    journal: &mut dyn JournalSink,
    mut on_tick: impl FnMut(usize, &TickRecord, &V),
) -> Result<Run<V>, RunError> {
    let candles = lock(&venue).candle_count().unwrap_or(0);
    let mut runner = Runner::start(runtime, component, spec, venue, oracle, policy, journal)?;
    let mut ticks = Vec::with_capacity(candles);
    for index in 0..candles {
        let record = runner.step(index, |record, venue| on_tick(index, record, venue))?;
        ticks.push(record);
    }
    Ok(Run {
        init: runner.init,
        ticks,
        market: runner.venue,
    })
}

/// Lock a venue, whatever a panicking holder left in it.
pub fn lock<V>(venue: &Mutex<V>) -> MutexGuard<'_, V> {
    venue.lock().unwrap_or_else(PoisonError::into_inner)
}
