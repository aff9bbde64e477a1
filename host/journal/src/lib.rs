//! The stratbox run journal: every call of a deployment (init and each
//! tick) in one SQLite file in WAL mode, with its input, oracle reads
//! (request and response, in order), emissions with verdicts and denial
//! details, logs, fuel, duration, snapshot reference and policy state;
//! policy versions; the venue's results; and, for live runs, transaction
//! intents journaled before broadcast. A tick is written in one
//! transaction together with its snapshot reference, so a crash mid-tick
//! leaves the previous committed state intact. The schema is versioned
//! (`user_version`) and migrated on open.
//!
//! [`Recorder`] is the journal as a deployment loop's
//! [`JournalSink`](stratbox_runtime::JournalSink); [`replay`] re-executes a
//! recorded run and reports the first divergence.
//!
//! Snapshots themselves never enter the journal, only their digest and
//! where a [`SnapshotSink`] stored them (sealed).

mod candles;
mod chain;
mod error;
mod head;
mod intents;
mod journal;
mod lease;
mod model;
mod private;
mod recorder;
mod replay;
mod resume;
mod schema;
mod snapshot;
mod status;

pub use chain::{ChainCheck, ChainKey};
pub use error::JournalError;
pub use head::{head_file, heads_dir};
pub use intents::{StoredTxIntent, TxIntent, TxStatus};
pub use journal::{Committed, Durability, Journal, ResumePoint, now_ms};
pub use lease::{HeldLease, Lease, LeaseHolder};
pub use model::{
    Call, CallOutcome, CallRecord, EmissionRow, NewRun, ReadRow, ResultRow, RunId, RunPolicy,
    RunRecord, RunSummary, SnapshotRef, VerdictKind, level_name,
};
pub use private::private_file;
pub use recorder::Recorder;
pub use replay::{Divergence, ReplayError, ReplaySummary, replay, replay_bytes, replay_cached};
pub use resume::RunResume;
pub use schema::SCHEMA_VERSION;
pub use snapshot::{
    CommittedSnapshot, DigestOnly, INLINE_LOCATION, SnapshotSink, SnapshotSinkError,
};
pub use status::{DeploymentState, RECENT_FAILURES};
