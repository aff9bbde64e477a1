//! Benchmarks of the stratbox runtime against native baselines.
//!
//! The criterion benches (`benches/`) and the `stratbox bench` command
//! measure with the same pieces, kept here: the strategies' market and the
//! one replay loop ([`drive`]), the native baseline of a Rust strategy
//! driven through the SDK's host trait ([`native`]), native CPython for the
//! Python one ([`cpython`]), the 20-rule policy ([`policy`]), journal ticks
//! ([`journal`]), resident memory ([`memory`]), and the quick in-process
//! suite with the targets ([`suite`]). Figures: `BENCHMARKS.md`.

pub mod cpython;
pub mod drive;
pub mod floor;
pub mod journal;
pub mod machine;
pub mod market;
pub mod memory;
pub mod native;
pub mod oracles;
pub mod policy;
pub mod report;
pub mod suite;
pub mod timing;

use std::path::PathBuf;

use stratbox_runtime::bundle::{KeyError, SealError};
use stratbox_runtime::{ArtifactCacheError, DeployError, EngineError, LoadError, TickFailure};

/// Why a measurement could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// The wasm engine could not be created.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A component did not load.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A deployment could not start.
    #[error(transparent)]
    Deploy(#[from] DeployError),
    /// A tick failed.
    #[error(transparent)]
    Tick(#[from] Box<TickFailure>),
    /// The artifact cache refused an artifact.
    #[error(transparent)]
    Cache(#[from] ArtifactCacheError),
    /// A key could not be made.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A bundle could not be sealed.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// The sealed store failed.
    #[error(transparent)]
    Store(#[from] stratbox_store::StoreError),
    /// The journal failed.
    #[error(transparent)]
    Journal(#[from] stratbox_journal::JournalError),
    /// A tape could not be read or generated.
    #[error(transparent)]
    Tape(#[from] stratbox_tape::TapeError),
    /// A synthetic tape could not be generated.
    #[error(transparent)]
    Synthetic(#[from] stratbox_tape::SyntheticError),
    /// A temporary directory could not be made.
    #[error("temporary directory: {0}")]
    Io(#[from] std::io::Error),
    /// The natively compiled strategy returned an error.
    #[error("native strategy failed: {reason}")]
    Native {
        /// Its message.
        reason: String,
    },
    /// The native CPython baseline could not run.
    #[error("native CPython ({}) failed: {reason}", python.display())]
    Cpython {
        /// The interpreter.
        python: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A fixture could not be set up.
    #[error("benchmark setup failed: {reason}")]
    Setup {
        /// What went wrong.
        reason: String,
    },
    /// A measured run did something it must not (a wrong verdict, sandboxed
    /// and native runs disagreeing): its figure would be meaningless.
    #[error("unexpected result: {reason}")]
    Unexpected {
        /// What happened.
        reason: String,
    },
}
