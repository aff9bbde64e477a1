//! Sealing a component into a bundle.

use sha2::{Digest, Sha256};

use super::envelope::seal_object;
use super::error::SealError;
use super::format::ObjectKind;
use super::manifest::{Manifest, StrategyMetadata, validate_fields};
use super::provider::KeyWrapper;
use crate::runtime::Runtime;

/// Seal `component` with `manifest` for whoever `to` wraps for. The
/// manifest's hash and size must describe `component`. Prefer
/// [`Runtime::seal_bundle`], which builds the manifest and refuses
/// components that would not load.
pub fn seal_bundle(
    component: &[u8],
    manifest: &Manifest,
    to: &dyn KeyWrapper,
) -> Result<Vec<u8>, SealError> {
    validate_fields(&manifest.name, &manifest.version, &manifest.author)?;
    let sha256 = hex::encode(Sha256::digest(component));
    if manifest.component_sha256 != sha256 || manifest.component_bytes != component.len() as u64 {
        return Err(SealError::InvalidMetadata {
            field: "component_sha256",
            reason: "the manifest does not describe this component".into(),
        });
    }
    seal_object(ObjectKind::Bundle, &manifest.to_json(), &[], component, to)
}

impl Runtime {
    /// Check `component` as [`Runtime::inspect`] does, then seal it with a
    /// manifest built from `metadata` and the component itself.
    pub fn seal_bundle(
        &self,
        component: &[u8],
        metadata: StrategyMetadata,
        to: &dyn KeyWrapper,
    ) -> Result<Vec<u8>, SealError> {
        metadata.validate()?;
        let info = self.inspect(component)?;
        let manifest = Manifest {
            name: metadata.name,
            version: metadata.version,
            world_version: info
                .world_version
                .map_or_else(|| crate::WORLD_VERSION.to_owned(), |v| v.to_string()),
            language: metadata.language,
            component_sha256: info.sha256,
            component_bytes: info.size_bytes,
            created_at_unix: metadata.created_at_unix,
            author: metadata.author,
        };
        seal_bundle(component, &manifest, to)
    }
}
