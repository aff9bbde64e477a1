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
    /// An authenticated checkpoint does not decode (written by an
    /// incompatible store version).
    #[error("checkpoint of deployment `{deployment}` is in an unknown encoding")]
    CheckpointEncoding {
        /// The deployment.
        deployment: String,
    },
}
