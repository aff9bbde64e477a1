use std::fmt;
use std::path::PathBuf;

/// A place in a strategy's Python sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLocation {
    /// The file, on the building machine.
    pub file: PathBuf,
    /// The 1-based line, when known.
    pub line: Option<u32>,
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.file.display()),
            None => write!(f, "{}", self.file.display()),
        }
    }
}

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
    /// componentize-py, which builds Python strategies, is not installed.
    #[error(
        "componentize-py not found (looked for {}); run scripts/setup.sh, which installs it into .venv",
        searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    ComponentizePyMissing {
        /// Where it was looked for.
        searched: Vec<PathBuf>,
    },
    /// componentize-py is not the pinned version.
    #[error(
        "{} is componentize-py {found:?}, but stratbox builds with {expected}; run scripts/setup.sh",
        path.display()
    )]
    ComponentizePyVersion {
        /// The executable.
        path: PathBuf,
        /// Its version (empty if it did not say).
        found: String,
        /// The pinned version.
        expected: &'static str,
    },
    /// A Python source file does not parse.
    #[error("{at}: syntax error: {message}")]
    PythonSyntax {
        /// Where.
        at: SourceLocation,
        /// The parser's message.
        message: String,
    },
    /// Importing the strategy raised an exception (module-level code runs
    /// when the component is built).
    #[error("{at}: {exception} raised while importing the strategy: {message}")]
    PythonImport {
        /// The innermost line of the strategy's own code in the traceback.
        at: SourceLocation,
        /// The exception's type.
        exception: String,
        /// The exception's message.
        message: String,
    },
    /// The strategy imports a module that is not available (not in the
    /// strategy directory, the SDK or the standard library).
    #[error("{at}: cannot import `{module}`: {message}")]
    PythonModuleNotFound {
        /// Where it is imported.
        at: SourceLocation,
        /// The module.
        module: String,
        /// Python's message.
        message: String,
    },
    /// The strategy imports bindings of an interface that the stratbox world
    /// does not have: it was written for another world.
    #[error(
        "{at}: `{module}` is not part of the stratbox world (stratbox:strategy@0.2.1 offers oracle, actions and logging); use the stratbox SDK"
    )]
    WrongWorld {
        /// Where it is imported.
        at: SourceLocation,
        /// The missing bindings module.
        module: String,
    },
    /// `strategy.py` defines no `stratbox.Strategy` subclass.
    #[error("{}: defines no subclass of stratbox.Strategy", file.display())]
    MissingStrategyClass {
        /// The strategy module.
        file: PathBuf,
    },
    /// `strategy.py` defines several strategies and marks none.
    #[error(
        "{}: defines several strategies ({}); mark the exported one with @stratbox.export",
        file.display(),
        classes.join(", ")
    )]
    AmbiguousStrategyClass {
        /// The strategy module.
        file: PathBuf,
        /// The candidate classes.
        classes: Vec<String>,
    },
    /// componentize-py failed for a reason the SDK did not report.
    #[error("componentize-py failed ({status}):\n{output}")]
    ComponentizePyFailed {
        /// Exit status.
        status: String,
        /// The end of its output.
        output: String,
    },
    /// componentize-js, which builds JavaScript strategies, is not installed.
    #[error(
        "componentize-js not found (looked for {}); run scripts/setup.sh, which installs it into node_modules",
        searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    ComponentizeJsMissing {
        /// Where it was looked for.
        searched: Vec<PathBuf>,
    },
    /// A JavaScript strategy does not parse.
    #[error("{at}: syntax error: {message}")]
    JsSyntax {
        /// Where.
        at: SourceLocation,
        /// The parser's message.
        message: String,
    },
    /// componentize-js refused the module (syntax error, missing export,
    /// import outside the world); its output names the place.
    #[error("{}: componentize-js failed ({status}):\n{output}", file.display())]
    ComponentizeJsFailed {
        /// The strategy module.
        file: PathBuf,
        /// Exit status.
        status: String,
        /// The end of its output.
        output: String,
    },
    /// The built component imports interfaces outside the stratbox world.
    #[error("the built component imports interfaces outside the stratbox world: {}", imports.join(", "))]
    ForeignImports {
        /// The offending imports.
        imports: Vec<String>,
    },
}
