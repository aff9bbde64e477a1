//! Python strategies: a directory with `strategy.py`, built with
//! componentize-py into a component that imports only the stratbox world.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use crate::cargo::read;
use crate::error::BuildError;
use crate::python_errors::diagnose;
use crate::python_sdk::{ENTRY_MODULE, SDK_FILES, WORLD_NAME, WORLD_WIT};
use crate::tools::{find_tool, locate_strategy_dir};
use crate::world_check::check_world_imports;

/// The componentize-py release stratbox builds with (pinned: the SDK's
/// sandbox shims depend on how it pre-initializes the interpreter).
pub const COMPONENTIZE_PY_VERSION: &str = "0.25.1";

/// The module of a Python strategy directory that defines the strategy.
pub const STRATEGY_FILE: &str = "strategy.py";

/// Environment variable naming the `componentize-py` executable to use,
/// instead of looking for the repository's `.venv`.
pub const COMPONENTIZE_PY_ENV: &str = "STRATBOX_COMPONENTIZE_PY";

/// A `componentize-py` executable of the pinned version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonToolchain {
    componentize_py: PathBuf,
}

impl PythonToolchain {
    /// The executable named by `STRATBOX_COMPONENTIZE_PY`, or else
    /// `.venv/bin/componentize-py` in the first of `starts` (or of their
    /// ancestors) that has one: `scripts/setup.sh` creates it at the
    /// repository root. Checks the version.
    pub fn find(starts: &[&Path]) -> Result<Self, BuildError> {
        if let Some(path) = std::env::var_os(COMPONENTIZE_PY_ENV) {
            return Self::at(PathBuf::from(path));
        }
        match find_tool(starts, ".venv/bin/componentize-py") {
            Ok((_, path)) => Self::at(path),
            Err(searched) => Err(BuildError::ComponentizePyMissing { searched }),
        }
    }

    /// The executable at `path`, after checking that it runs and has the
    /// pinned version.
    pub fn at(path: PathBuf) -> Result<Self, BuildError> {
        let output = Command::new(&path)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .map_err(|_| BuildError::ComponentizePyMissing {
                searched: vec![path.clone()],
            })?;
        let text = String::from_utf8_lossy(&output.stdout);
        // `componentize-py 0.25.1`
        let found = text.split_whitespace().nth(1).unwrap_or_default();
        if !output.status.success() || found != COMPONENTIZE_PY_VERSION {
            return Err(BuildError::ComponentizePyVersion {
                path,
                found: found.to_owned(),
                expected: COMPONENTIZE_PY_VERSION,
            });
        }
        Ok(PythonToolchain {
            componentize_py: path,
        })
    }

    /// The executable.
    pub fn path(&self) -> &Path {
        &self.componentize_py
    }
}

/// A Python strategy directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonStrategy {
    dir: PathBuf,
    name: String,
}

impl PythonStrategy {
    /// Whether `dir` looks like a Python strategy (has `strategy.py`).
    pub fn is_python_strategy(dir: &Path) -> bool {
        dir.join(STRATEGY_FILE).is_file()
    }

    /// The strategy in `dir`, which must contain `strategy.py`.
    pub fn locate(dir: &Path) -> Result<Self, BuildError> {
        let (dir, name) = locate_strategy_dir(dir, STRATEGY_FILE, || {
            format!("no {STRATEGY_FILE} (a Python strategy defines its class there)")
        })?;
        Ok(PythonStrategy { dir, name })
    }

    /// The strategy's name: its directory's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The strategy directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// SHA-256 (hex) of everything the component is built from: the
    /// strategy's files, the SDK, the WIT world and the componentize-py
    /// version. Equal fingerprints build equal programs, so a build can be
    /// cached under it.
    pub fn fingerprint(&self) -> Result<String, BuildError> {
        let mut hasher = Sha256::new();
        let mut feed = |label: &str, bytes: &[u8]| {
            hasher.update((label.len() as u64).to_le_bytes());
            hasher.update(label.as_bytes());
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        };
        feed("componentize-py", COMPONENTIZE_PY_VERSION.as_bytes());
        feed("wit", WORLD_WIT.as_bytes());
        for (path, text) in SDK_FILES {
            feed(path, text.as_bytes());
        }
        for path in source_files(&self.dir)? {
            let relative = path.strip_prefix(&self.dir).unwrap_or(&path);
            feed(&relative.to_string_lossy(), &read(&path)?);
        }
        Ok(hex::encode(hasher.finalize()))
    }

    /// Build the component with `--stub-wasi`, then check that it imports
    /// nothing outside the stratbox world.
    pub fn build_component(&self, toolchain: &PythonToolchain) -> Result<Vec<u8>, BuildError> {
        let work = tempfile::tempdir().map_err(|source| BuildError::Io {
            path: std::env::temp_dir(),
            source,
        })?;
        let sdk = work.path().join("sdk");
        for (path, text) in SDK_FILES {
            write(&sdk.join(path), text.as_bytes())?;
        }
        let wit = work.path().join("wit");
        write(&wit.join("strategy.wit"), WORLD_WIT.as_bytes())?;
        let output_path = work.path().join("component.wasm");
        // Mount order matters: errors name files as /<index>/path.
        let python_path = [sdk.as_path(), self.dir.as_path()];
        let mut command = Command::new(&toolchain.componentize_py);
        command
            .arg("--quiet")
            .arg("--wit-path")
            .arg(&wit)
            .arg("--world")
            .arg(WORLD_NAME)
            .arg("componentize")
            .arg(ENTRY_MODULE)
            .arg("--stub-wasi")
            .arg("--output")
            .arg(&output_path);
        for dir in python_path {
            command.arg("--python-path").arg(dir);
        }
        let output = command
            .current_dir(work.path())
            // Only the SDK and the strategy are visible to the interpreter
            // that pre-initializes the component.
            .env_remove("VIRTUAL_ENV")
            .env_remove("PYTHONPATH")
            .env_remove("PYTHONHOME")
            .env("RUST_BACKTRACE", "0")
            .env("RUST_LIB_BACKTRACE", "0")
            .stdin(Stdio::null())
            .output()
            .map_err(|source| BuildError::Io {
                path: toolchain.componentize_py.clone(),
                source,
            })?;
        if !output.status.success() {
            let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&output.stderr));
            return Err(diagnose(
                &text,
                &python_path,
                &self.dir,
                &output.status.to_string(),
            ));
        }
        let component = read(&output_path)?;
        check_world_imports(&component)?;
        Ok(component)
    }
}

/// Python sources and data files of a strategy directory, sorted, without
/// caches and hidden files.
fn source_files(dir: &Path) -> Result<Vec<PathBuf>, BuildError> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current).map_err(|source| BuildError::Io {
            path: current.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| BuildError::Io {
                path: current.clone(),
                source,
            })?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name == "__pycache__" {
                continue;
            }
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    let io_error = |source| BuildError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_error)?;
    }
    std::fs::write(path, bytes).map_err(io_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_script_installs_the_pinned_componentize_py() {
        let setup = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/setup.sh");
        let script = std::fs::read_to_string(setup).expect("scripts/setup.sh");
        assert!(
            script.contains(&format!(
                "componentize_py_version={COMPONENTIZE_PY_VERSION}\n"
            )),
            "scripts/setup.sh must pin componentize-py {COMPONENTIZE_PY_VERSION}"
        );
    }

    #[test]
    fn directories_without_strategy_py_are_not_python_strategies() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(!PythonStrategy::is_python_strategy(dir.path()));
        assert!(matches!(
            PythonStrategy::locate(dir.path()),
            Err(BuildError::NotAStrategy { .. })
        ));
    }

    #[test]
    fn the_fingerprint_follows_the_sources() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(STRATEGY_FILE), "x = 1\n").expect("write");
        let strategy = PythonStrategy::locate(dir.path()).expect("a strategy");
        let before = strategy.fingerprint().expect("fingerprint");
        std::fs::create_dir(dir.path().join("__pycache__")).expect("mkdir");
        std::fs::write(dir.path().join("__pycache__/x.pyc"), "junk").expect("write");
        assert_eq!(strategy.fingerprint().expect("fingerprint"), before);
        std::fs::write(dir.path().join("helpers.py"), "y = 2\n").expect("write");
        assert_ne!(strategy.fingerprint().expect("fingerprint"), before);
    }

    #[test]
    fn a_missing_componentize_py_points_to_the_setup_script() {
        let error = PythonToolchain::at(PathBuf::from("/nonexistent/componentize-py"))
            .expect_err("not installed");
        assert!(matches!(error, BuildError::ComponentizePyMissing { .. }));
    }
}
