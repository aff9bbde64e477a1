//! The compiled-artifact cache: native code sealed under the store's
//! host-only artifact key and authenticated before the runtime may
//! deserialize it.

use std::io::ErrorKind;
use std::path::Path;
use std::sync::Arc;

use stratbox_runtime::bundle::{ObjectKind, OpenError, open_object, seal_object};
use stratbox_runtime::{ArtifactCache, ArtifactCacheError, SecretBytes};

use crate::atomic::write_atomically;
use crate::store::Inner;

const ARTIFACTS: &str = "artifacts";

/// Compiled code in `<store>/artifacts`, one sealed file per
/// [`Runtime::artifact_key`](stratbox_runtime::Runtime::artifact_key).
#[derive(Clone)]
pub struct SealedArtifactCache {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SealedArtifactCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedArtifactCache")
            .field("root", &self.inner.root)
            .finish_non_exhaustive()
    }
}

impl SealedArtifactCache {
    pub(crate) fn new(inner: Arc<Inner>) -> Self {
        SealedArtifactCache { inner }
    }
}

/// Cache keys are the runtime's SHA-256 hex digests; anything else could
/// escape the directory.
fn file_name(key: &str) -> Result<String, ArtifactCacheError> {
    if key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(format!("{key}.artifact"))
    } else {
        Err(ArtifactCacheError::Storage {
            reason: format!("invalid cache key `{}`", key.escape_default()),
        })
    }
}

/// The associated context of an artifact: its cache key, so a sealed
/// artifact filed under another key (another component, another engine)
/// fails authentication.
fn context(key: &str) -> Vec<u8> {
    [b"artifact:".as_slice(), key.as_bytes()].concat()
}

fn storage(action: &str, path: &Path, error: &std::io::Error) -> ArtifactCacheError {
    ArtifactCacheError::Storage {
        reason: format!("{action} {}: {error}", path.display()),
    }
}

// SAFETY: `get` returns only the plaintext of a sealed object that
// `open_object` has authenticated (XChaCha20-Poly1305 tag on the payload,
// key slot bound to the header) under the store's host-only artifact key,
// with the cache key as associated context. That key is symmetric, derived
// with HKDF-SHA256 and its own label from the host's X25519 secret key
// (`StoreKey::host_keys`), never from a key-encryption key authors seal
// with (a store opened with one has no artifact key and returns nothing),
// and `Kek::unwrap` refuses every slot not wrapped under it, HPKE slots
// included: holding the host's public key or a shared KEK, as authors do,
// does not let anyone seal an artifact this cache accepts. Only a holder
// of the secret, which never enters the store directory, can produce such
// an object, and this cache seals only what `put` received. Anything else
// is reported as `Unauthenticated` and never returned.
#[allow(unsafe_code)]
unsafe impl ArtifactCache for SealedArtifactCache {
    fn get(&self, key: &str) -> Result<Option<SecretBytes>, ArtifactCacheError> {
        let file = file_name(key)?;
        let path = Path::new(ARTIFACTS).join(&file);
        let sealed = match self.inner.artifacts.read(&file) {
            Ok(sealed) => sealed,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(storage("reading", &self.inner.root.join(path), &e)),
        };
        let Some(keys) = &self.inner.host_keys else {
            // This store never writes artifacts, so someone else did.
            tracing::warn!(%key, "artifact in a store without a host-only key; removing it");
            let _ = self.inner.artifacts.remove_file(&file);
            return Err(ArtifactCacheError::Unauthenticated {
                key: key.to_owned(),
            });
        };
        match open_object(
            ObjectKind::Artifact,
            &context(key),
            &sealed,
            keys.artifacts(),
        ) {
            Ok(opened) => Ok(Some(opened.plaintext)),
            Err(OpenError::KeyProvider { reason }) => Err(ArtifactCacheError::Storage { reason }),
            Err(error) => {
                // A forged or foreign artifact would be refused on every
                // load; remove it so the next load compiles and re-seals.
                tracing::warn!(%key, %error, "sealed artifact refused; removing it");
                let _ = self.inner.artifacts.remove_file(&file);
                Err(ArtifactCacheError::Unauthenticated {
                    key: key.to_owned(),
                })
            }
        }
    }

    fn put(&self, key: &str, artifact: &[u8]) -> Result<(), ArtifactCacheError> {
        let file = file_name(key)?;
        let keys = self
            .inner
            .host_keys
            .as_ref()
            .ok_or_else(|| ArtifactCacheError::Storage {
                reason: "not cached: the store was opened with a key-encryption key, \
                         which authors may hold; open it with the host's X25519 secret key"
                    .into(),
            })?;
        let sealed = seal_object(
            ObjectKind::Artifact,
            &[],
            &context(key),
            artifact,
            keys.artifacts(),
        )
        .map_err(|e| ArtifactCacheError::Storage {
            reason: e.to_string(),
        })?;
        write_atomically(&self.inner.tmp, &self.inner.artifacts, &file, &sealed)
            .map_err(|e| storage("writing", &self.inner.root.join(ARTIFACTS).join(&file), &e))
    }
}
