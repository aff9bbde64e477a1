//! Reading a policy file: TOML into the runtime's policy model, then the
//! runtime's checks against the deployment's assets.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use stratbox_runtime::policy::{AssetCatalog, CompiledPolicy, PolicyConfig};

use crate::error::PolicyFileError;
use crate::location::{line_column, offset_of};

/// A policy file that passed every check.
#[derive(Debug, Clone)]
pub struct PolicyFile {
    /// Where it was read from.
    pub file: PathBuf,
    /// The text as written (journaled as the policy version).
    pub source: String,
    /// SHA-256 of `source`, lowercase hex: the version's identity.
    pub sha256: String,
    /// What it says.
    pub config: PolicyConfig,
    /// Its rules, checked against the deployment's assets.
    pub compiled: Arc<CompiledPolicy>,
}

/// Read and check the policy file at `file` for a deployment holding
/// `assets`.
pub fn load(file: &Path, assets: &AssetCatalog) -> Result<PolicyFile, PolicyFileError> {
    let source = std::fs::read_to_string(file).map_err(|source| PolicyFileError::Read {
        file: file.to_owned(),
        source,
    })?;
    parse(&source, file, assets)
}

/// Check policy `source` (named `file` in errors) for a deployment holding
/// `assets`.
pub fn parse(
    source: &str,
    file: &Path,
    assets: &AssetCatalog,
) -> Result<PolicyFile, PolicyFileError> {
    let config: PolicyConfig = toml::from_str(source).map_err(|error| {
        let (line, column) = line_column(source, error.span().map_or(0, |span| span.start));
        PolicyFileError::Syntax {
            file: file.to_owned(),
            line,
            column,
            message: error.message().trim_end().to_owned(),
        }
    })?;
    let compiled = CompiledPolicy::compile(&config, assets).map_err(|error| {
        let (line, column) = line_column(source, offset_of(source, &error.path()));
        PolicyFileError::Rule {
            file: file.to_owned(),
            line,
            column,
            source: error,
        }
    })?;
    Ok(PolicyFile {
        file: file.to_owned(),
        source: source.to_owned(),
        sha256: hex::encode(Sha256::digest(source.as_bytes())),
        config,
        compiled: Arc::new(compiled),
    })
}
