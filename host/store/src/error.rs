//! Typed errors of the store.

use std::path::PathBuf;

use stratbox_runtime::bundle::{OpenError, SealError};

/// Why a store operation failed. Nothing stored before the failure is lost
/// or half-written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The file system refused.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// Where, relative to the store for files inside it.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A strategy name or deployment id cannot name a file.
    #[error("invalid {what} `{name}`")]
    InvalidName {
        /// `strategy name`, `deployment id` or `cache key`.
        what: &'static str,
        /// The name, escaped.
        name: String,
    },
    /// No bundle of that name is stored.
    #[error("no strategy `{name}` in the store")]
    NotFound {
        /// The name asked for.
        name: String,
    },
    /// A sealed object did not open (wrong key, tampering, refused
    /// component...).
    #[error(transparent)]
    Open(#[from] OpenError),
    /// An object could not be sealed.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// The store was opened with a key authors may hold too (a
    /// key-encryption key), so it has no host-only key to seal or open
    /// snapshots with. Open it with the host's X25519 secret key.
    #[error(
        "{what} need a host-only key, and this store was opened with a key-encryption key \
         (authors may hold it): open the store with the host's X25519 secret key"
    )]
    NoHostKey {
        /// What needed it, e.g. `snapshots`.
        what: &'static str,
    },
    /// The snapshot on disk is older than the one the host last wrote or
    /// the caller expects: an older sealed snapshot was copied back over a
    /// newer one (rollback).
    #[error(
        "snapshot of deployment `{deployment}` is at sequence {found}, older than the expected \
         {expected}: an older snapshot was put back (rollback)"
    )]
    SnapshotRollback {
        /// The deployment.
        deployment: String,
        /// The sequence the host last wrote, or the caller expects.
        expected: u64,
        /// The sequence sealed into the snapshot on disk.
        found: u64,
    },
    /// The snapshot on disk is newer than the caller expects (its journal
    /// records an older one).
    #[error(
        "snapshot of deployment `{deployment}` is at sequence {found}, newer than the expected \
         {expected}"
    )]
    SnapshotAhead {
        /// The deployment.
        deployment: String,
        /// The sequence the caller expects.
        expected: u64,
        /// The sequence sealed into the snapshot on disk.
        found: u64,
    },
    /// No snapshot is stored, but the host wrote one or the caller expects
    /// one (it was removed behind the store's back).
    #[error("snapshot of deployment `{deployment}` at sequence {expected} is missing")]
    SnapshotMissing {
        /// The deployment.
        deployment: String,
        /// The sequence expected.
        expected: u64,
    },
    /// The bundle filed under this name was not imported by this host: its
    /// receipt is missing or names other bytes (a bundle written into the
    /// store directory directly, or copied over another one).
    #[error(
        "the bundle filed as `{name}` was not imported by this host (no matching receipt); \
         import it with the store"
    )]
    NotImported {
        /// The strategy name.
        name: String,
    },
    /// An authenticated checkpoint does not decode (written by an
    /// incompatible store version).
    #[error("checkpoint of deployment `{deployment}` is in an unknown encoding")]
    CheckpointEncoding {
        /// The deployment.
        deployment: String,
    },
}
