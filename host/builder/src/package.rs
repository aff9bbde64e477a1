use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::cargo::{RustBuild, WasmTarget};
use crate::componentize::componentize;
use crate::error::BuildError;

/// A Rust strategy crate, as cargo describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RustPackage {
    /// Package name.
    pub name: String,
    /// Its `Cargo.toml`.
    pub manifest_path: PathBuf,
    /// The target directory of its workspace.
    pub target_directory: PathBuf,
}

impl RustPackage {
    /// Find the package whose `Cargo.toml` is in `dir`.
    pub fn locate(dir: &Path) -> Result<Self, BuildError> {
        let manifest = dir.join("Cargo.toml");
        if !manifest.is_file() {
            return Err(BuildError::NotAStrategy {
                dir: dir.to_owned(),
                reason: "no Cargo.toml (a Rust strategy is a cdylib crate) and no strategy.py (a Python strategy)".into(),
            });
        }
        let manifest = manifest.canonicalize().map_err(|source| BuildError::Io {
            path: manifest.clone(),
            source,
        })?;
        let program = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let output = Command::new(&program)
            .args([
                "metadata",
                "--no-deps",
                "--format-version",
                "1",
                "--manifest-path",
            ])
            .arg(&manifest)
            .stderr(Stdio::inherit())
            .output()
            .map_err(|source| BuildError::CargoNotFound {
                program: program.clone(),
                source,
            })?;
        if !output.status.success() {
            return Err(BuildError::NotAStrategy {
                dir: dir.to_owned(),
                reason: format!("`cargo metadata` failed ({})", output.status),
            });
        }
        let metadata: Metadata =
            serde_json::from_slice(&output.stdout).map_err(|e| BuildError::NotAStrategy {
                dir: dir.to_owned(),
                reason: format!("unreadable `cargo metadata` output: {e}"),
            })?;
        let package = metadata
            .packages
            .into_iter()
            .find(|p| p.manifest_path == manifest)
            .ok_or_else(|| BuildError::NotAStrategy {
                dir: dir.to_owned(),
                reason: "Cargo.toml has no [package] (is it a workspace root?)".into(),
            })?;
        Ok(RustPackage {
            name: package.name,
            manifest_path: manifest,
            target_directory: metadata.target_directory,
        })
    }

    /// Compile for `wasm32-unknown-unknown` and componentize. Build products
    /// go to `<target>/stratbox-guests`, shared with the test suite's guest
    /// builds.
    pub fn build_component(&self) -> Result<Vec<u8>, BuildError> {
        let modules = RustBuild::new(&self.manifest_path, &[&self.name], WasmTarget::Unknown)
            .target_dir(self.target_directory.join("stratbox-guests"))
            .run()?;
        let module = modules
            .into_iter()
            .next()
            .ok_or_else(|| BuildError::NoArtifact {
                package: self.name.clone(),
            })?;
        componentize(&module.path)
    }
}

#[derive(serde::Deserialize)]
struct Metadata {
    packages: Vec<MetadataPackage>,
    target_directory: PathBuf,
}

#[derive(serde::Deserialize)]
struct MetadataPackage {
    name: String,
    manifest_path: PathBuf,
}
