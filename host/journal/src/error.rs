//! Typed errors of the journal and of replay.

use std::path::PathBuf;

use crate::model::Call;

/// The journal could not be opened, written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// A recorded call no longer links to the one before it: it, or a call
    /// before it, was changed, removed or inserted after it was written.
    #[error(
        "run {run}: the journal's hash chain breaks at {call}: recorded content was changed, removed or inserted"
    )]
    ChainBroken {
        /// The run.
        run: i64,
        /// The first call that does not link.
        call: Call,
    },
    /// The run's newest anchored call is gone from the journal (or
    /// changed): calls were removed from its end after they were written,
    /// or lost by a machine crash under relaxed durability.
    #[error(
        "run {run}: the journal lacks its {anchored} as {} records it: the run's newest calls \
         were removed after they were written (or lost in a machine crash)",
        path.display()
    )]
    Truncated {
        /// The run.
        run: i64,
        /// The newest call the anchor records.
        anchored: Call,
        /// The head file.
        path: PathBuf,
    },
    /// A run with calls has no anchor in the head file: the head file was
    /// deleted or replaced, or the journal was moved without it.
    #[error(
        "run {run} has no anchor in {}: its newest calls cannot be checked (a journal file \
         must be moved together with its `.head` file)",
        path.display()
    )]
    HeadMissing {
        /// The run.
        run: i64,
        /// The head file.
        path: PathBuf,
    },
    /// The run's anchor does not carry the tag of its chain key: the head
    /// file was edited.
    #[error("run {run}'s anchor in {} does not verify: the head file was edited", path.display())]
    HeadForged {
        /// The run.
        run: i64,
        /// The head file.
        path: PathBuf,
    },
    /// The head file cannot be parsed.
    #[error("head file {} is malformed: {reason}", path.display())]
    HeadCorrupt {
        /// The head file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The head file could not be read or written.
    #[error("head file {}: {source}", path.display())]
    HeadFile {
        /// The head file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The run's chain is keyed with a host key this journal was not
    /// opened with.
    #[error("run {run}'s hash chain is keyed: open the journal with the host key (--key)")]
    ChainKeyMissing {
        /// The run.
        run: i64,
    },
    /// The run was recorded before journals had hash chains.
    #[error("run {run} was recorded before journals had hash chains: it cannot be verified")]
    NotChained {
        /// The run.
        run: i64,
    },
    /// SQLite failed.
    #[error("journal database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database was written by a newer stratbox.
    #[error("journal schema version {found} is newer than this stratbox supports ({supported})")]
    SchemaTooNew {
        /// `user_version` of the file.
        found: u32,
        /// Latest version this build knows.
        supported: u32,
    },
    /// A value could not be encoded or decoded as JSON.
    #[error("journal record {what}: {source}")]
    Json {
        /// Which record.
        what: &'static str,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
    /// A number does not fit SQLite's 64-bit signed integers.
    #[error("{what} = {value} does not fit in the journal")]
    OutOfRange {
        /// Which number.
        what: &'static str,
        /// Its value.
        value: u128,
    },
    /// The journal holds something this build cannot interpret.
    #[error("journal is inconsistent: {0}")]
    Corrupt(String),
    /// No run with this id (or deployment name).
    #[error("no run `{0}` in the journal")]
    NoSuchRun(String),
    /// No such tick in the run.
    #[error("run {run} has no {call}")]
    NoSuchCall {
        /// The run.
        run: i64,
        /// The call looked for.
        call: Call,
    },
    /// The same tick was recorded twice.
    #[error("run {run} already has {call} recorded")]
    AlreadyRecorded {
        /// The run.
        run: i64,
        /// The call.
        call: Call,
    },
    /// The snapshot sink failed; the tick was not recorded.
    #[error("storing the snapshot of {call} failed: {source}")]
    Snapshot {
        /// The call whose snapshot it was.
        call: Call,
        /// The sink's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Another process holds the deployment's lease: it drives the
    /// deployment, this one must not.
    #[error(
        "deployment `{deployment}` is driven by another process ({holder}); stop that one first \
         (the lease of a process that died on this machine is taken over at once, a hung \
         one's when it expires)"
    )]
    LeaseHeld {
        /// The deployment.
        deployment: String,
        /// The lease's holder (`pid <pid>/<random>`).
        holder: String,
        /// When the lease expires unless its holder renews it.
        expires_ms: u64,
    },
    /// The lease could not be renewed: it expired and another holder took
    /// it, or it was removed. The deployment must stop.
    #[error("lost the lease on deployment `{deployment}`{}", match holder {
        Some(holder) => format!(" to {holder}"),
        None => String::new(),
    })]
    LeaseLost {
        /// The deployment.
        deployment: String,
        /// Who holds it now, if anyone.
        holder: Option<String>,
    },
    /// A background thread (the lease's keep-alive) could not be started.
    #[error("starting a journal thread: {source}")]
    Thread {
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The journal file's permissions could not be set to owner-only.
    #[error("making {} private (mode 0600): {source}", path.display())]
    Permissions {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The journal file's directory could not be created.
    #[error("creating the journal's directory {}: {source}", dir.display())]
    Directory {
        /// The directory.
        dir: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}

pub(crate) fn json(what: &'static str) -> impl FnOnce(serde_json::Error) -> JournalError {
    move |source| JournalError::Json { what, source }
}

/// `u64` to SQLite's `i64`.
pub(crate) fn sql_int(what: &'static str, value: u64) -> Result<i64, JournalError> {
    i64::try_from(value).map_err(|_| JournalError::OutOfRange {
        what,
        value: u128::from(value),
    })
}

/// SQLite's `i64` back to `u64`.
pub(crate) fn from_sql_int(what: &'static str, value: i64) -> Result<u64, JournalError> {
    u64::try_from(value).map_err(|_| JournalError::Corrupt(format!("{what} is negative: {value}")))
}
