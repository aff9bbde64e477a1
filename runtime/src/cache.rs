//! A cache of compiled code, so that loading a component a second time
//! deserializes instead of compiling (seconds for a Python component).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::error::LoadError;
use crate::inspect::ComponentInfo;
use crate::runtime::{Runtime, StrategyComponent};
use crate::secret::SecretBytes;

/// Why a cache could not serve or keep an artifact.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArtifactCacheError {
    /// The stored artifact failed authentication (tampered or wrong key).
    #[error("cached artifact {key} failed authentication")]
    Unauthenticated {
        /// Cache key.
        key: String,
    },
    /// The cache's storage failed.
    #[error("artifact cache storage failed: {reason}")]
    Storage {
        /// What failed.
        reason: String,
    },
}

/// Where compiled artifacts are kept between loads, under
/// [`Runtime::artifact_key`] keys.
///
/// # Safety
///
/// Bytes returned by [`ArtifactCache::get`] become executable code.
/// Implementations must return only bytes that were passed to
/// [`ArtifactCache::put`] under the same key, and if those bytes ever left
/// this process's memory (a file, a database), they must have been
/// authenticated since (e.g. by an AEAD tag under a key the attacker does not
/// have). Return [`ArtifactCacheError::Unauthenticated`] otherwise.
// Declaring the trait `unsafe` moves the obligation to every implementor,
// each of which must state why its bytes are trusted.
#[allow(unsafe_code)]
pub unsafe trait ArtifactCache: Send + Sync {
    /// The artifact stored under `key`, if any, in a buffer wiped on
    /// drop (compiled code is its author's secret as much as the component).
    fn get(&self, key: &str) -> Result<Option<SecretBytes>, ArtifactCacheError>;

    /// Keep `artifact` under `key`.
    fn put(&self, key: &str, artifact: &[u8]) -> Result<(), ArtifactCacheError>;
}

/// What [`Runtime::load_cached`] did.
#[derive(Debug)]
#[non_exhaustive]
pub enum CacheOutcome {
    /// Deserialized from the cache.
    Hit,
    /// Compiled, and the artifact stored.
    Miss,
    /// Compiled; the cache could not serve or keep the artifact (reported,
    /// never fatal: the component is still loaded from its own bytes).
    Bypassed(ArtifactCacheError),
}

/// An in-process cache. Artifacts never leave memory, and are zeroized when
/// the cache drops them.
#[derive(Debug, Default)]
pub struct MemoryArtifactCache {
    artifacts: Mutex<HashMap<String, SecretBytes>>,
}

impl MemoryArtifactCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of artifacts held.
    pub fn len(&self) -> usize {
        self.artifacts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

// SAFETY: artifacts are only ever the bytes `put` received, and they never
// leave this process's memory.
#[allow(unsafe_code)]
unsafe impl ArtifactCache for MemoryArtifactCache {
    fn get(&self, key: &str) -> Result<Option<SecretBytes>, ArtifactCacheError> {
        Ok(self
            .artifacts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned())
    }

    fn put(&self, key: &str, artifact: &[u8]) -> Result<(), ArtifactCacheError> {
        self.artifacts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.to_owned(), SecretBytes::new(artifact.to_vec()));
        Ok(())
    }
}

impl Runtime {
    /// Load a component through `cache`: deserialize its compiled code if the
    /// cache has it for this engine and runtime version, otherwise compile
    /// and store it. The static checks (imports, world version, limits) run
    /// on `bytes` either way, before any code is deserialized.
    pub fn load_cached(
        &self,
        bytes: &[u8],
        cache: &dyn ArtifactCache,
    ) -> Result<(StrategyComponent, CacheOutcome), LoadError> {
        let info = self.inspect(bytes)?;
        self.load_cached_inspected(bytes, info, cache)
    }

    /// [`Runtime::load_cached`] for bytes `inspect` accepted as `info`
    /// (inspecting a Python component takes tens of milliseconds: once is
    /// enough).
    pub(crate) fn load_cached_inspected(
        &self,
        bytes: &[u8],
        info: ComponentInfo,
        cache: &dyn ArtifactCache,
    ) -> Result<(StrategyComponent, CacheOutcome), LoadError> {
        let key = self.artifact_key(&info.sha256);
        match cache.get(&key) {
            Ok(Some(artifact)) => {
                // SAFETY: `ArtifactCache` implementations guarantee the bytes
                // are what `put` stored under this key, authenticated.
                #[allow(unsafe_code)]
                let loaded = unsafe { self.deserialize(info.clone(), &artifact) };
                match loaded {
                    Ok(component) => return Ok((component, CacheOutcome::Hit)),
                    Err(LoadError::IncompatibleArtifact { reason }) => {
                        tracing::warn!(%key, %reason, "cached artifact unusable; recompiling");
                    }
                    Err(other) => return Err(other),
                }
            }
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(%key, %error, "artifact cache refused; compiling");
                return Ok((self.compile(bytes, info)?, CacheOutcome::Bypassed(error)));
            }
        }
        let component = self.compile(bytes, info)?;
        let artifact = SecretBytes::new(self.serialize(&component)?);
        match cache.put(&key, &artifact) {
            Ok(()) => Ok((component, CacheOutcome::Miss)),
            Err(error) => {
                tracing::warn!(%key, %error, "could not store compiled artifact");
                Ok((component, CacheOutcome::Bypassed(error)))
            }
        }
    }
}
