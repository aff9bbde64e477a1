//! What makes a deployment's run outlive its process, whatever its venue:
//! committed snapshots sealed into the host's store ([`SealedSnapshots`]),
//! the journal's hash-chain key ([`Durable`]), and the parts of a run
//! resumed from both ([`resume`]). Live deployments and the service's
//! paper deployments resume through here.

use std::sync::Arc;

use stratbox_journal::{
    ChainKey, CommittedSnapshot, Journal, Recorder, RunId, RunResume, SnapshotSink,
    SnapshotSinkError,
};
use stratbox_runtime::policy::{CompiledPolicy, PolicyEngine};
use stratbox_runtime::types::{Action, ActionId, ActionOutcome};
use stratbox_runtime::{Checkpoint, ResumeAt};
use stratbox_store::Store;

use crate::live::LiveError;

/// Where deployments keep what must outlive their process: the host's
/// store (sealed snapshots) and the key of their journals' hash chains
/// (derived from the same host key).
#[derive(Clone)]
pub struct Durable {
    /// Sealed snapshots.
    pub store: Store,
    /// Keys the journal's hash chain.
    pub chain_key: ChainKey,
}

impl std::fmt::Debug for Durable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Durable").finish_non_exhaustive()
    }
}

impl Durable {
    /// The recorder of `run` of `deployment` into `journal`, its committed
    /// snapshots sealed into the store.
    pub fn recorder(&self, deployment: &str, journal: Journal, run: RunId) -> Recorder {
        Recorder::resume_with(
            journal,
            run,
            Box::new(SealedSnapshots::new(self.store.clone(), deployment, run)),
        )
    }
}

/// Committed snapshots sealed into the host's store, filed under the
/// deployment and its run (so one run's snapshot is never taken for
/// another's).
pub struct SealedSnapshots {
    store: Store,
    name: String,
}

impl SealedSnapshots {
    /// Snapshots of `run` of `deployment`, sealed into `store`.
    pub fn new(store: Store, deployment: &str, run: RunId) -> SealedSnapshots {
        SealedSnapshots {
            store,
            name: snapshot_name(deployment, run),
        }
    }
}

/// The store's name for the snapshots of `run` of `deployment`.
pub fn snapshot_name(deployment: &str, run: RunId) -> String {
    format!("{deployment}@{}", run.0)
}

impl SnapshotSink for SealedSnapshots {
    fn store(
        &mut self,
        _run: RunId,
        _call: stratbox_journal::Call,
        snapshot: &CommittedSnapshot<'_>,
    ) -> Result<Option<String>, SnapshotSinkError> {
        let checkpoint = Checkpoint {
            sequence: snapshot.next_sequence,
            next_action_id: snapshot.next_action_id,
            snapshot: snapshot.bytes.to_vec(),
        };
        self.store.save_checkpoint(&self.name, &checkpoint)?;
        Ok(Some(format!("store:{}", self.name)))
    }
}

/// A run taken up where its last process stopped.
#[derive(Debug)]
pub struct Resumed {
    /// The run.
    pub run: RunId,
    /// Where the deployment goes on (its sealed checkpoint, sequence,
    /// action ids, outcomes to show again, failure history).
    pub at: ResumeAt,
    /// The policy's state at the last committed tick.
    pub policy_state: Option<Vec<u8>>,
    /// Outcomes recorded and never delivered: the next tick's results.
    pub undelivered: Vec<(ActionId, ActionOutcome)>,
    /// Actions released with no recorded outcome, for the venue to
    /// settle.
    pub unsettled: Vec<(ActionId, Action)>,
}

impl Resumed {
    /// The policy engine of `compiled` in the state the run left it.
    pub fn policy(&self, compiled: Arc<CompiledPolicy>) -> Result<PolicyEngine, LiveError> {
        match &self.policy_state {
            Some(state) => {
                PolicyEngine::with_state(compiled, state).map_err(|source| LiveError::PolicyState {
                    run: self.run.0,
                    source,
                })
            }
            None => Ok(PolicyEngine::new(compiled)),
        }
    }
}

/// Take up `resume`, the last run of `deployment` in `journal`: load its
/// sealed checkpoint from `durable`'s store and record the resumption in
/// the journal (a replay rebuilds its instance there too: the ticks from
/// here on run on a restored instance, whose heap, and so fuel, may
/// differ).
pub fn resume(
    durable: &Durable,
    deployment: &str,
    journal: &mut Journal,
    resume: RunResume,
) -> Result<Resumed, LiveError> {
    let run = resume.run;
    let checkpoint = durable.store.load_checkpoint_at(
        &snapshot_name(deployment, run),
        resume.point.snapshot.next_sequence,
    )?;
    tracing::info!(
        deployment,
        run = run.0,
        next_tick = resume.next_sequence,
        undelivered = resume.undelivered.len(),
        redelivered = resume.redeliver.len(),
        unsettled = resume.unsettled.len(),
        "resuming the run where its last process stopped"
    );
    journal.record_resume(run, resume.next_sequence)?;
    Ok(Resumed {
        run,
        at: ResumeAt {
            checkpoint,
            sequence: resume.next_sequence,
            next_action_id: resume.next_action_id,
            redeliver: resume.redeliver,
            failures: resume.failures,
        },
        policy_state: resume.point.policy_state,
        undelivered: resume.undelivered,
        unsettled: resume.unsettled,
    })
}
