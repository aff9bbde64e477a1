use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::BuildError;

/// The WebAssembly target to compile for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WasmTarget {
    /// `wasm32-unknown-unknown`: no WASI, the module imports only what the
    /// code imports. The target for strategies.
    Unknown,
    /// `wasm32-wasip2`: the output is already a component, importing WASI.
    /// Only used to build hostile fixtures.
    Wasip2,
}

impl WasmTarget {
    /// The rustc target triple.
    pub fn triple(self) -> &'static str {
        match self {
            WasmTarget::Unknown => "wasm32-unknown-unknown",
            WasmTarget::Wasip2 => "wasm32-wasip2",
        }
    }
}

/// A compiled `.wasm` file of one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltModule {
    /// Cargo package name.
    pub package: String,
    /// The `.wasm` artifact (a core module, or a component for wasip2).
    pub path: PathBuf,
}

/// A `cargo build` of one or more strategy packages for a wasm target.
#[derive(Debug, Clone)]
pub struct RustBuild {
    manifest: PathBuf,
    packages: Vec<String>,
    target: WasmTarget,
    target_dir: Option<PathBuf>,
    quiet: bool,
}

/// Environment variables cargo sets for build scripts that must not leak
/// into a nested build (they would redirect or re-flag it).
const SCRUBBED_ENV: &[&str] = &[
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTFLAGS",
    "RUSTC",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "RUSTC_LINKER",
    "RUSTDOC",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_PKG_NAME",
    "OUT_DIR",
    "TARGET",
    "HOST",
    "PROFILE",
    "OPT_LEVEL",
    "DEBUG",
    "NUM_JOBS",
];

impl RustBuild {
    /// Build `packages` of the workspace or crate at `manifest`
    /// (a `Cargo.toml`).
    pub fn new(manifest: impl Into<PathBuf>, packages: &[&str], target: WasmTarget) -> Self {
        RustBuild {
            manifest: manifest.into(),
            packages: packages.iter().map(|p| (*p).to_owned()).collect(),
            target,
            target_dir: None,
            quiet: false,
        }
    }

    /// Put build products in `dir` instead of cargo's default.
    pub fn target_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.target_dir = Some(dir.into());
        self
    }

    /// Pass `--quiet` to cargo (errors are still printed).
    pub fn quiet(mut self, quiet: bool) -> Self {
        self.quiet = quiet;
        self
    }

    /// Run the build and return one module per package, in the order the
    /// packages were given. Compiler output goes to this process's stderr.
    pub fn run(&self) -> Result<Vec<BuiltModule>, BuildError> {
        let program = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut command = Command::new(&program);
        command
            .arg("build")
            .arg("--release")
            .arg("--manifest-path")
            .arg(&self.manifest)
            .arg("--target")
            .arg(self.target.triple())
            .arg("--message-format=json-render-diagnostics");
        if self.quiet {
            command.arg("--quiet");
        }
        for package in &self.packages {
            command.arg("--package").arg(package);
        }
        if let Some(dir) = &self.target_dir {
            command.arg("--target-dir").arg(dir);
        }
        for var in SCRUBBED_ENV {
            command.env_remove(var);
        }
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            if key.starts_with("CARGO_CFG_") || key.starts_with("CARGO_FEATURE_") {
                command.env_remove(key.as_ref());
            }
        }
        // Guests are small: optimize them fully, without debug info, and
        // abort on panic (the SDK logs the message first).
        command
            .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "3")
            .env("CARGO_PROFILE_RELEASE_LTO", "true")
            .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
            .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
            .env("CARGO_PROFILE_RELEASE_PANIC", "abort")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command
            .spawn()
            .map_err(|source| BuildError::CargoNotFound {
                program: program.clone(),
                source,
            })?;
        let mut artifacts = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            for line in BufReader::new(stdout).lines() {
                let line = line.map_err(|source| BuildError::Io {
                    path: PathBuf::from("<cargo stdout>"),
                    source,
                })?;
                if let Some(artifact) = parse_artifact(&line) {
                    artifacts.push(artifact);
                }
            }
        }
        let status = child.wait().map_err(|source| BuildError::Io {
            path: PathBuf::from("<cargo>"),
            source,
        })?;
        if !status.success() {
            return Err(BuildError::CargoFailed {
                packages: self.packages.join(", "),
                status: status.to_string(),
            });
        }
        self.packages
            .iter()
            .map(|package| {
                let lib = package.replace('-', "_");
                artifacts
                    .iter()
                    .find(|a| a.target_name == lib || a.target_name == *package)
                    .map(|a| BuiltModule {
                        package: package.clone(),
                        path: a.wasm.clone(),
                    })
                    .ok_or_else(|| BuildError::NoArtifact {
                        package: package.clone(),
                    })
            })
            .collect()
    }
}

struct Artifact {
    target_name: String,
    wasm: PathBuf,
}

#[derive(serde::Deserialize)]
struct Message {
    reason: String,
    #[serde(default)]
    target: Option<Target>,
    #[serde(default)]
    filenames: Vec<PathBuf>,
}

#[derive(serde::Deserialize)]
struct Target {
    name: String,
    kind: Vec<String>,
}

/// A `compiler-artifact` message for a cdylib, with its `.wasm` file.
fn parse_artifact(line: &str) -> Option<Artifact> {
    let message: Message = serde_json::from_str(line).ok()?;
    if message.reason != "compiler-artifact" {
        return None;
    }
    let target = message.target?;
    if !target.kind.iter().any(|k| k == "cdylib") {
        return None;
    }
    let wasm = message
        .filenames
        .into_iter()
        .find(|f| f.extension().is_some_and(|e| e == "wasm"))?;
    Some(Artifact {
        target_name: target.name,
        wasm,
    })
}

/// Read a file, naming it in the error.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, BuildError> {
    std::fs::read(path).map_err(|source| BuildError::Io {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_messages_are_recognised() {
        let line = r#"{"reason":"compiler-artifact","package_id":"x","target":{"name":"rsi_momentum","kind":["cdylib","rlib"]},"filenames":["/t/rsi_momentum.wasm","/t/librsi_momentum.rlib"]}"#;
        let artifact = parse_artifact(line).expect("a cdylib artifact");
        assert_eq!(artifact.target_name, "rsi_momentum");
        assert_eq!(artifact.wasm, PathBuf::from("/t/rsi_momentum.wasm"));
        assert!(parse_artifact(r#"{"reason":"build-finished","success":true}"#).is_none());
        assert!(parse_artifact("not json").is_none());
    }
}
