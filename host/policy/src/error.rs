//! Why a policy file was refused: always the file, and the line and column
//! when the problem has a place.

use std::path::PathBuf;

use stratbox_runtime::policy::PolicyError;

/// A policy file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyFileError {
    /// The file could not be read.
    #[error("reading policy {}: {source}", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, or does not have the policy's shape
    /// (unknown field, wrong type, missing field, malformed amount...).
    #[error("{}:{line}:{column}: {message}", file.display())]
    Syntax {
        /// The file.
        file: PathBuf,
        /// Line, from 1.
        line: usize,
        /// Column, from 1.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The file is well formed, but a rule cannot be used for this
    /// deployment (unknown token, amount finer than the token's decimals,
    /// value rule without a quote asset...).
    #[error("{}:{line}:{column}: {source}", file.display())]
    Rule {
        /// The file.
        file: PathBuf,
        /// Line of the rule, from 1.
        line: usize,
        /// Column of the rule, from 1.
        column: usize,
        /// What is wrong, naming the rule's path.
        #[source]
        source: PolicyError,
    },
}
