//! Opening a bundle: authenticate, decrypt, check the hash, check the
//! imports, and only then compile.

use sha2::{Digest, Sha256};

use super::envelope::{decrypt_payload, unwrap_data_key};
use super::error::OpenError;
use super::format::{ObjectKind, Parsed, SealedHeader, TAG_LEN, parse};
use super::manifest::Manifest;
use super::provider::KeyProvider;
use crate::cache::{ArtifactCache, CacheOutcome};
use crate::error::{LoadError, LoadLimit};
use crate::inspect::{ComponentInfo, inspect_hashed};
use crate::runtime::{Runtime, StrategyComponent};
use crate::secret::SecretBytes;

/// A bundle's header and manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleSummary {
    /// Format, algorithms and key id.
    pub header: SealedHeader,
    /// The manifest.
    pub manifest: Manifest,
}

/// Read a bundle's header and manifest without any key and without
/// decrypting anything. Nothing returned is authenticated: use
/// [`authenticate_manifest`] or [`Runtime::open_bundle`] before trusting it.
pub fn read_bundle(bundle: &[u8]) -> Result<BundleSummary, OpenError> {
    let parsed = parse(bundle, ObjectKind::Bundle)?;
    Ok(BundleSummary {
        header: parsed.header.clone(),
        manifest: manifest(&parsed)?,
    })
}

/// Authenticate a bundle's header and manifest by unwrapping its data key,
/// without decrypting the component. The component itself is authenticated
/// only by [`Runtime::open_bundle`].
pub fn authenticate_manifest(
    bundle: &[u8],
    keys: &dyn KeyProvider,
) -> Result<BundleSummary, OpenError> {
    let parsed = parse(bundle, ObjectKind::Bundle)?;
    unwrap_data_key(&parsed, &[], keys)?;
    Ok(BundleSummary {
        header: parsed.header.clone(),
        manifest: manifest(&parsed)?,
    })
}

fn manifest(parsed: &Parsed<'_>) -> Result<Manifest, OpenError> {
    Manifest::from_json(parsed.metadata).map_err(|e| OpenError::InvalidManifest {
        reason: e.to_string(),
    })
}

/// A bundle opened and checked: the manifest, and the plaintext component
/// (wiped on drop) with what [`Runtime::inspect`] found in it.
pub struct OpenedBundle {
    manifest: Manifest,
    component: SecretBytes,
    info: ComponentInfo,
}

impl std::fmt::Debug for OpenedBundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the component: it is its author's secret.
        f.debug_struct("OpenedBundle")
            .field("manifest", &self.manifest)
            .finish_non_exhaustive()
    }
}

impl OpenedBundle {
    /// The authenticated manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The plaintext component. Keep it in memory only.
    pub fn component(&self) -> &[u8] {
        &self.component
    }

    /// What the component imports and exports.
    pub fn info(&self) -> &ComponentInfo {
        &self.info
    }
}

impl Runtime {
    /// Open a sealed bundle: unwrap its data key with `keys` (which
    /// authenticates the header and manifest), decrypt and authenticate the
    /// component, check its SHA-256 against the manifest, then check its
    /// imports, world version and size as [`Runtime::inspect`] does, and
    /// that the manifest names the world version the component targets.
    /// Nothing is compiled.
    pub fn open_bundle(
        &self,
        bundle: &[u8],
        keys: &dyn KeyProvider,
    ) -> Result<OpenedBundle, OpenError> {
        let parsed = parse(bundle, ObjectKind::Bundle)?;
        // Refuse an oversized payload before spending a decryption on it.
        let size = (parsed.header.payload_bytes - TAG_LEN) as u64;
        let limit = self.config().load.component_bytes;
        if size > limit {
            return Err(LoadError::LimitExceeded {
                what: LoadLimit::ComponentBytes,
                actual: size,
                limit,
            }
            .into());
        }
        let data_key = unwrap_data_key(&parsed, &[], keys)?;
        let manifest = manifest(&parsed)?;
        let component = decrypt_payload(&parsed, &[], &data_key)?;
        let actual = hex::encode(Sha256::digest(component.as_slice()));
        if actual != manifest.component_sha256 {
            return Err(OpenError::HashMismatch {
                expected: manifest.component_sha256,
                actual,
            });
        }
        let info = inspect_hashed(&component, || actual, &self.config().load)?;
        // What `Runtime::seal_bundle` writes: the component's version, or
        // the runtime's for a component whose interfaces carry none.
        let targeted = info
            .world_version
            .as_ref()
            .map_or_else(|| crate::WORLD_VERSION.to_owned(), ToString::to_string);
        if targeted != manifest.world_version {
            return Err(OpenError::WorldVersionMismatch {
                manifest: manifest.world_version,
                component: targeted,
            });
        }
        tracing::debug!(
            name = %manifest.name,
            version = %manifest.version,
            key_id = %parsed.header.key_id,
            "bundle opened"
        );
        Ok(OpenedBundle {
            manifest,
            component,
            info,
        })
    }

    /// Open a bundle ([`Runtime::open_bundle`]) and load its component
    /// through `cache` ([`Runtime::load_cached`]). The plaintext component is
    /// zeroized before this returns.
    pub fn load_bundle(
        &self,
        bundle: &[u8],
        keys: &dyn KeyProvider,
        cache: &dyn ArtifactCache,
    ) -> Result<(StrategyComponent, Manifest, CacheOutcome), OpenError> {
        let opened = self.open_bundle(bundle, keys)?;
        let (component, outcome) =
            self.load_cached_inspected(opened.component(), opened.info.clone(), cache)?;
        Ok((component, opened.manifest, outcome))
    }

    /// [`Runtime::load_bundle`] for a bundle filed as strategy `name`: its
    /// authenticated manifest must name `name`, else
    /// [`OpenError::NameMismatch`] before anything is decrypted or
    /// compiled (a bundle copied over another strategy's file).
    pub fn load_named_bundle(
        &self,
        name: &str,
        bundle: &[u8],
        keys: &dyn KeyProvider,
        cache: &dyn ArtifactCache,
    ) -> Result<(StrategyComponent, Manifest, CacheOutcome), OpenError> {
        let summary = authenticate_manifest(bundle, keys)?;
        if summary.manifest.name != name {
            return Err(OpenError::NameMismatch {
                expected: name.to_owned(),
                found: summary.manifest.name,
            });
        }
        self.load_bundle(bundle, keys, cache)
    }
}
