//! Where committed snapshots go. The journal keeps only a reference (the
//! digest and the location a sink reports): plaintext strategy state never
//! reaches the database.

use stratbox_runtime::types::ActionId;

use crate::model::{Call, RunId};

/// A snapshot a call committed, with where the deployment goes on from it.
#[derive(Clone, Copy)]
pub struct CommittedSnapshot<'a> {
    /// The strategy's snapshot (plaintext: seal it).
    pub bytes: &'a [u8],
    /// Sequence of the next tick after the commit.
    pub next_sequence: u64,
    /// Next action id after the commit.
    pub next_action_id: ActionId,
}

impl std::fmt::Debug for CommittedSnapshot<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print strategy state.
        f.debug_struct("CommittedSnapshot")
            .field("bytes", &self.bytes.len())
            .field("next_sequence", &self.next_sequence)
            .field("next_action_id", &self.next_action_id)
            .finish()
    }
}

/// Why a snapshot could not be stored.
pub type SnapshotSinkError = Box<dyn std::error::Error + Send + Sync>;

/// Stores committed snapshots (sealed) and says where they went. Called
/// inside the transaction that records the call, so a tick and its
/// snapshot reference commit together; if the sink fails, the tick is not
/// recorded.
pub trait SnapshotSink: Send {
    /// Store `snapshot`, committed by `call` of `run`; return its location.
    fn store(
        &mut self,
        run: RunId,
        call: Call,
        snapshot: &CommittedSnapshot<'_>,
    ) -> Result<Option<String>, SnapshotSinkError>;

    /// Seal `snapshot` for the journal to keep in the call's own row:
    /// committed in the call's transaction, with no file of its own to
    /// write and sync ([`INLINE_LOCATION`]; read back with
    /// `Journal::sealed_snapshot`). `None` (the default): the journal calls
    /// [`SnapshotSink::store`] instead.
    fn seal_inline(
        &mut self,
        _run: RunId,
        _call: Call,
        _snapshot: &CommittedSnapshot<'_>,
    ) -> Result<Option<Vec<u8>>, SnapshotSinkError> {
        Ok(None)
    }
}

/// The location the journal records for a snapshot it keeps sealed in its
/// own row ([`SnapshotSink::seal_inline`]).
pub const INLINE_LOCATION: &str = "journal";

/// Stores nothing: the journal records only each snapshot's digest and
/// size. Enough to verify a replay, not to resume elsewhere; a host that
/// resumes deployments plugs in its sealed store instead.
#[derive(Debug, Default, Clone, Copy)]
pub struct DigestOnly;

impl SnapshotSink for DigestOnly {
    fn store(
        &mut self,
        _run: RunId,
        _call: Call,
        _snapshot: &CommittedSnapshot<'_>,
    ) -> Result<Option<String>, SnapshotSinkError> {
        Ok(None)
    }
}
