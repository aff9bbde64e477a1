//! [`Recorder`]: the journal as a deployment loop's
//! [`JournalSink`](stratbox_runtime::JournalSink), so any loop (backtest or
//! live) records a run the same way.

use stratbox_runtime::types::{ActionId, ActionOutcome};
use stratbox_runtime::{
    CallTrace, Deployment, JournalSink, JournalSinkError, TickFailure, TickInput, TickReport,
};

use crate::error::JournalError;
use crate::journal::{Committed, Journal};
use crate::model::{NewRun, RunId};
use crate::snapshot::{DigestOnly, SnapshotSink};

/// Records one run into a journal.
pub struct Recorder {
    journal: Journal,
    run: RunId,
    snapshots: Box<dyn SnapshotSink>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("run", &self.run)
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// Start recording `run` in `journal`, keeping only snapshot digests.
    pub fn start(journal: Journal, run: &NewRun) -> Result<Recorder, JournalError> {
        Recorder::start_with(journal, run, Box::new(DigestOnly))
    }

    /// Start recording `run`, storing snapshots through `snapshots`.
    pub fn start_with(
        mut journal: Journal,
        run: &NewRun,
        snapshots: Box<dyn SnapshotSink>,
    ) -> Result<Recorder, JournalError> {
        let run = journal.begin_run(run)?;
        Ok(Recorder {
            journal,
            run,
            snapshots,
        })
    }

    /// Go on recording `run`, already in `journal` (a run resumed after
    /// a restart), storing snapshots through `snapshots`.
    pub fn resume_with(journal: Journal, run: RunId, snapshots: Box<dyn SnapshotSink>) -> Recorder {
        Recorder {
            journal,
            run,
            snapshots,
        }
    }

    /// The run being recorded.
    pub fn run(&self) -> RunId {
        self.run
    }

    /// The journal, to read what was recorded.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// Stop recording and hand the journal back.
    pub fn into_journal(self) -> Journal {
        self.journal
    }
}

fn committed<'a>(
    deployment: &'a Deployment,
    snapshot: bool,
    policy_state: Option<&'a [u8]>,
) -> Committed<'a> {
    let checkpoint = deployment.checkpoint();
    Committed {
        snapshot: snapshot.then_some(checkpoint.snapshot.as_slice()),
        next_sequence: checkpoint.sequence,
        next_action_id: checkpoint.next_action_id,
        policy_state,
    }
}

impl JournalSink for Recorder {
    fn init(&mut self, deployment: &Deployment, trace: &CallTrace) -> Result<(), JournalSinkError> {
        let state = deployment.policy_state();
        let committed = committed(deployment, true, state.as_deref());
        self.journal
            .record_init(self.run, trace, committed, self.snapshots.as_mut())?;
        Ok(())
    }

    fn tick(
        &mut self,
        deployment: &Deployment,
        input: &TickInput,
        result: &Result<TickReport, TickFailure>,
    ) -> Result<(), JournalSinkError> {
        let state = deployment.policy_state();
        let snapshot = matches!(result, Ok(report) if report.committed);
        let committed = committed(deployment, snapshot, state.as_deref());
        self.journal
            .record_tick(self.run, input, result, committed, self.snapshots.as_mut())?;
        Ok(())
    }

    fn outcomes(
        &mut self,
        sequence: u64,
        outcomes: &[(ActionId, ActionOutcome)],
    ) -> Result<(), JournalSinkError> {
        self.journal.record_outcomes(self.run, sequence, outcomes)?;
        Ok(())
    }
}
