//! Test support for Python strategies: a directory-backed cache of
//! compiled artifacts, so that each ~18 MB interpreter component is compiled
//! by wasmtime once per change instead of once per test process.
//!
//! Test use only: the cache trusts its directory (under the build's own
//! target directory) instead of authenticating what it reads back.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use stratbox_runtime::{ArtifactCache, ArtifactCacheError, SecretBytes};

/// Compiled artifacts as files `<dir>/<key>.cwasm`.
#[derive(Debug, Clone)]
pub struct DirArtifactCache {
    dir: PathBuf,
}

impl DirArtifactCache {
    /// A cache in `dir` (created on first store).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        DirArtifactCache { dir: dir.into() }
    }

    /// The cache of the test suite, under the target directory.
    pub fn for_tests() -> Self {
        Self::new(stratbox_test_artifacts::compiled_cache_dir())
    }

    fn file(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.cwasm"))
    }
}

fn storage(path: &Path, error: &std::io::Error) -> ArtifactCacheError {
    ArtifactCacheError::Storage {
        reason: format!("{}: {error}", path.display()),
    }
}

// SAFETY: test-only. The files are written by this crate's `put` into the
// workspace's own target directory and read back only by its tests; anyone
// able to write there can already replace the test binaries themselves, so
// authenticating the bytes would protect nothing. Production caches (the
// sealed store) authenticate every artifact.
#[allow(unsafe_code)]
unsafe impl ArtifactCache for DirArtifactCache {
    fn get(&self, key: &str) -> Result<Option<SecretBytes>, ArtifactCacheError> {
        let path = self.file(key);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(SecretBytes::new(bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(storage(&path, &e)),
        }
    }

    fn put(&self, key: &str, artifact: &[u8]) -> Result<(), ArtifactCacheError> {
        let path = self.file(key);
        std::fs::create_dir_all(&self.dir).map_err(|e| storage(&self.dir, &e))?;
        // Other test threads or processes may store the same key at the
        // same time: write a private temporary file, sync it, rename it
        // into place.
        static WRITES: AtomicU64 = AtomicU64::new(0);
        let temp = self.dir.join(format!(
            "{key}.{}-{}.tmp",
            std::process::id(),
            WRITES.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&temp, artifact)
            .and_then(|()| std::fs::File::open(&temp)?.sync_all())
            .and_then(|()| std::fs::rename(&temp, &path))
            .map_err(|e| storage(&path, &e))
    }
}
