use std::path::PathBuf;

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The directory is not a buildable strategy.
    #[error("{} is not a strategy: {reason}", dir.display())]
    NotAStrategy {
        /// The directory.
        dir: PathBuf,
        /// Why.
        reason: String,
    },
    /// `cargo` could not be started.
    #[error("could not run cargo ({program}): {source}")]
    CargoNotFound {
        /// The program that was tried.
        program: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `cargo build` failed; its diagnostics were printed to stderr.
    #[error(
        "cargo build failed for {packages} (exit status {status}); see the compiler output above"
    )]
    CargoFailed {
        /// Packages that were being built.
        packages: String,
        /// Exit status.
        status: String,
    },
    /// cargo finished but did not report a `.wasm` artifact for a package.
    #[error("cargo produced no .wasm artifact for package `{package}`: is it a `cdylib`?")]
    NoArtifact {
        /// The package.
        package: String,
    },
    /// The module could not be turned into a component.
    #[error("could not turn {} into a component: {reason}", module.display())]
    Componentize {
        /// The module file.
        module: PathBuf,
        /// wit-component's diagnostic.
        reason: String,
    },
    /// WIT could not be parsed or encoded.
    #[error("WIT error: {reason}")]
    Wit {
        /// Diagnostic.
        reason: String,
    },
}
