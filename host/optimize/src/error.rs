//! Typed errors of the optimiser.

use serde_json::Value;

/// An evaluator's error, whatever its type (the CLI's are `anyhow`'s).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A parameter or a search space that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SpaceError {
    /// The text is not `KEY=...`.
    #[error("{text}: expected {expected}")]
    Syntax {
        /// The text given.
        text: String,
        /// What was expected instead.
        expected: &'static str,
    },
    /// `=VALUES` with nothing before the `=`.
    #[error("{text}: the key is empty")]
    EmptyKey {
        /// The text given.
        text: String,
    },
    /// `KEY=` with no value after it.
    #[error("{text}: no values")]
    NoValues {
        /// The text given.
        text: String,
    },
    /// A range whose bounds are not numbers or are the wrong way round.
    #[error("{text}: {reason}")]
    BadRange {
        /// The text given.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Two parameters with the same key.
    #[error("parameter `{key}` is given twice")]
    DuplicateKey {
        /// The key.
        key: String,
    },
    /// A grid needs a finite list of values; a float range has none.
    #[error(
        "parameter `{key}` is a float range: a grid needs values or an integer range (lo..=hi); \
         search it with TPE or random search"
    )]
    NotEnumerable {
        /// The key.
        key: String,
    },
    /// The grid has more combinations than the limit.
    #[error("the grid has {combinations} combinations, more than {limit}: search it with TPE")]
    TooLarge {
        /// Combinations (saturating).
        combinations: u128,
        /// The limit ([`MAX_COMBINATIONS`](crate::space::MAX_COMBINATIONS)).
        limit: usize,
    },
    /// The base config is not a JSON object.
    #[error("the base config must be a JSON object")]
    BaseNotObject,
}

/// Why a search, a walk-forward or a Monte Carlo run produced no result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OptimizeError {
    /// The search space is unusable.
    #[error(transparent)]
    Space(#[from] SpaceError),
    /// The evaluator failed for `config`.
    #[error("combination {config}")]
    Evaluation {
        /// The config it was evaluating.
        config: Value,
        /// The evaluator's error.
        #[source]
        source: BoxError,
    },
    /// A walk-forward window failed.
    #[error("walk-forward window {index} ({part})")]
    Window {
        /// Window number, from 1.
        index: usize,
        /// `in-sample` or `out-of-sample`.
        part: &'static str,
        /// What failed.
        #[source]
        source: Box<OptimizeError>,
    },
    /// The walk-forward lengths do not fit the tape.
    #[error("walk-forward: {0}")]
    Windows(String),
    /// A search or Monte Carlo setting is out of range.
    #[error("{0}")]
    Config(String),
}
