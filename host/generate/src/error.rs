//! Why a spec was refused.

use std::path::PathBuf;

/// A spec could not be read, parsed or validated, or its crate written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// The file could not be read.
    #[error("reading {}: {source}", file.display())]
    Read {
        /// The spec file.
        file: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The TOML is malformed or does not have the spec's shape.
    #[error("{}:{line}: {message}", file.display())]
    Syntax {
        /// The spec file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// A field's value is not valid (unknown indicator, bad period...).
    #[error("{}:{line}: {field}: {reason}", file.display())]
    Invalid {
        /// The spec file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// Dotted path of the field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// Writing the generated crate failed.
    #[error("writing {}: {source}", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}
