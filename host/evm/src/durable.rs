//! What makes a deployment's run outlive its process, whatever its venue:
//! committed snapshots sealed into the host's store ([`SealedSnapshots`]),
//! the journal's hash-chain key ([`Durable`]), and the parts of a run
//! resumed from both ([`resume`]). Live deployments and the service's
//! paper deployments resume through here.

use std::sync::Arc;

use stratbox_journal::{
    ChainKey, CommittedSnapshot, INLINE_LOCATION, Journal, Recorder, RunId, RunResume,
    SnapshotSink, SnapshotSinkError,
};
use stratbox_runtime::policy::{CompiledPolicy, PolicyEngine};
use stratbox_runtime::types::{Action, ActionId, ActionOutcome};
use stratbox_runtime::{Checkpoint, ResumeAt};
use stratbox_store::{Store, StoreError};

use crate::live::LiveError;

/// Where deployments keep what must outlive their process: the host's
/// store (sealed snapshots) and the key of their journals' hash chains
/// (derived from the same host key).
#[derive(Clone)]
pub struct Durable {
    /// Seals snapshots, and keeps them unless `snapshots_in_journal`.
    pub store: Store,
    /// Keys the journal's hash chain.
    pub chain_key: ChainKey,
    /// Keep each sealed snapshot in its journal row, committed with its
    /// tick, instead of a store file written and synced on its own: no
    /// extra file syncs per tick, which is what lets one machine run
    /// thousands of deployments. `false` for live deployments (their
    /// journals sync every commit anyway).
    pub snapshots_in_journal: bool,
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
        let mut sink = SealedSnapshots::new(self.store.clone(), deployment, run);
        sink.inline = self.snapshots_in_journal;
        Recorder::resume_with(journal, run, Box::new(sink))
    }
}

/// Committed snapshots sealed into the host's store, filed under the
/// deployment and its run (so one run's snapshot is never taken for
/// another's).
pub struct SealedSnapshots {
    store: Store,
    name: String,
    /// Hand the sealed snapshot to the journal instead of filing it.
    inline: bool,
}

impl SealedSnapshots {
    /// Snapshots of `run` of `deployment`, sealed into `store`.
    pub fn new(store: Store, deployment: &str, run: RunId) -> SealedSnapshots {
        SealedSnapshots {
            store,
            name: snapshot_name(deployment, run),
            inline: false,
        }
    }
}

/// The store's name for the snapshots of `run` of `deployment`.
pub fn snapshot_name(deployment: &str, run: RunId) -> String {
    format!("{deployment}@{}", run.0)
}

fn checkpoint(snapshot: &CommittedSnapshot<'_>) -> Checkpoint {
    Checkpoint {
        sequence: snapshot.next_sequence,
        next_action_id: snapshot.next_action_id,
        snapshot: snapshot.bytes.to_vec(),
    }
}

impl SnapshotSink for SealedSnapshots {
    fn store(
        &mut self,
        _run: RunId,
        _call: stratbox_journal::Call,
        snapshot: &CommittedSnapshot<'_>,
    ) -> Result<Option<String>, SnapshotSinkError> {
        self.store
            .save_checkpoint(&self.name, &checkpoint(snapshot))?;
        Ok(Some(format!("store:{}", self.name)))
    }

    fn seal_inline(
        &mut self,
        _run: RunId,
        _call: stratbox_journal::Call,
        snapshot: &CommittedSnapshot<'_>,
    ) -> Result<Option<Vec<u8>>, SnapshotSinkError> {
        if !self.inline {
            return Ok(None);
        }
        Ok(Some(
            self.store
                .seal_checkpoint(&self.name, &checkpoint(snapshot))?,
        ))
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
    let name = snapshot_name(deployment, run);
    let at = resume.point.snapshot.next_sequence;
    let checkpoint = if resume.point.snapshot.location.as_deref() == Some(INLINE_LOCATION) {
        let sealed =
            journal
                .sealed_snapshot(run, at)?
                .ok_or_else(|| StoreError::SnapshotMissing {
                    deployment: name.clone(),
                    expected: at,
                })?;
        durable.store.open_checkpoint(&name, &sealed, at)?
    } else {
        durable.store.load_checkpoint_at(&name, at)?
    };
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
