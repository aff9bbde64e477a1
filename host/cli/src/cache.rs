//! The author's local cache: built components keyed by the fingerprint of
//! their sources and toolchain, and their compiled code, sealed, so that
//! running an unchanged strategy again neither rebuilds nor recompiles it.
//!
//! It lives in `$STRATBOX_CACHE_DIR`, else `$XDG_CACHE_HOME/stratbox`, else
//! `~/.cache/stratbox` (directory mode 0700), and is off with
//! `STRATBOX_NO_CACHE=1`. Compiled code is sealed in a store
//! (`stratbox_store`) under a key of its own, `cache.key`: a random X25519
//! secret made on first use (mode 0600), used for nothing but this cache
//! (never a host key that opens bundles or seals deployments' state), so
//! an artifact planted in the cache by anyone who cannot read that file
//! fails authentication and is recompiled. Built components are not
//! native code: they are checked and compiled like any other.
//!
//! Least recently used entries are removed once the cache holds more than
//! `STRATBOX_CACHE_MAX_BYTES` (default 4 GiB).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::Context;
use stratbox_runtime::bundle::HostSecretKey;
use stratbox_runtime::{CacheOutcome, Runtime, StrategyComponent};
use stratbox_store::Store;
use zeroize::Zeroizing;

use crate::output::{create_private_dir, write_atomically};

/// Turns the cache off when set to anything but `0` or empty.
pub const NO_CACHE_ENV: &str = "STRATBOX_NO_CACHE";
/// Where the cache lives.
pub const CACHE_DIR_ENV: &str = "STRATBOX_CACHE_DIR";
/// Its size bound in bytes.
pub const CACHE_MAX_ENV: &str = "STRATBOX_CACHE_MAX_BYTES";
/// Default size bound: 4 GiB (a Python strategy takes about 60 MB: its
/// 18 MB component and 40 MB of compiled code).
const DEFAULT_MAX_BYTES: u64 = 4 << 30;

const BUILDS: &str = "builds";
const STORE: &str = "store";
const KEY_FILE: &str = "cache.key";

/// The local cache, when enabled and usable.
pub struct LocalCache {
    root: PathBuf,
    store: Store,
    max_bytes: u64,
}

impl std::fmt::Debug for LocalCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCache")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

/// The cache directory the environment names, if any.
fn cache_root() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|value| !value.is_empty());
    if let Some(dir) = var(CACHE_DIR_ENV) {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("stratbox"));
    }
    var("HOME").map(|home| PathBuf::from(home).join(".cache").join("stratbox"))
}

fn disabled() -> bool {
    std::env::var_os(NO_CACHE_ENV).is_some_and(|value| !value.is_empty() && value != "0")
}

impl LocalCache {
    /// The cache, or `None` when it is turned off or has nowhere to live.
    /// A cache that cannot be opened is reported and skipped: it only
    /// saves time.
    pub fn open() -> Option<LocalCache> {
        if disabled() {
            return None;
        }
        let root = cache_root()?;
        match LocalCache::open_at(&root) {
            Ok(cache) => Some(cache),
            Err(error) => {
                tracing::warn!(root = %root.display(), "local cache unusable, not caching: {error:#}");
                None
            }
        }
    }

    fn open_at(root: &Path) -> anyhow::Result<LocalCache> {
        create_private_dir(root).with_context(|| format!("creating {}", root.display()))?;
        let key = cache_key(&root.join(KEY_FILE))?;
        let store = Store::open(root.join(STORE), Arc::new(key))
            .with_context(|| format!("opening the compiled-code cache in {}", root.display()))?;
        let max_bytes = match std::env::var(CACHE_MAX_ENV) {
            Ok(text) => text
                .parse()
                .with_context(|| format!("{CACHE_MAX_ENV}={text} is not a number of bytes"))?,
            Err(_) => DEFAULT_MAX_BYTES,
        };
        Ok(LocalCache {
            root: root.to_owned(),
            store,
            max_bytes,
        })
    }

    /// The component built from sources with `fingerprint`, if cached.
    pub fn component(&self, fingerprint: &str) -> Option<Vec<u8>> {
        let path = self.build_path(fingerprint)?;
        let bytes = std::fs::read(&path).ok()?;
        touch(&path);
        Some(bytes)
    }

    /// Keep the component built from sources with `fingerprint`.
    pub fn put_component(&self, fingerprint: &str, component: &[u8]) {
        let Some(path) = self.build_path(fingerprint) else {
            return;
        };
        if let Err(error) = write_atomically(&path, component) {
            tracing::warn!("not caching the build: {error:#}");
        }
        self.evict();
    }

    fn build_path(&self, fingerprint: &str) -> Option<PathBuf> {
        // Fingerprints are SHA-256 hex: nothing else may name a file.
        (fingerprint.len() == 64 && fingerprint.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| self.root.join(BUILDS).join(format!("{fingerprint}.wasm")))
    }

    /// Load `bytes` with `runtime`, from sealed compiled code when the
    /// cache has it, compiling and sealing it otherwise.
    pub fn load(&self, runtime: &Runtime, bytes: &[u8]) -> anyhow::Result<StrategyComponent> {
        let cache = self.store.artifact_cache();
        let (component, outcome) = runtime.load_cached(bytes, &cache)?;
        match outcome {
            CacheOutcome::Hit => {
                let key = runtime.artifact_key(&component.info().sha256);
                touch(&self.artifact_path(&key));
                tracing::debug!("compiled code from the local cache");
            }
            CacheOutcome::Miss => self.evict(),
            CacheOutcome::Bypassed(error) => {
                tracing::warn!("compiled code not cached: {error}");
            }
            _ => {}
        }
        Ok(component)
    }

    fn artifact_path(&self, key: &str) -> PathBuf {
        self.root
            .join(STORE)
            .join("artifacts")
            .join(format!("{key}.artifact"))
    }

    /// Remove the least recently used builds and artifacts until the cache
    /// is back under 80% of its bound, once it is over it.
    fn evict(&self) {
        let mut entries = Vec::new();
        for dir in [
            self.root.join(BUILDS),
            self.root.join(STORE).join("artifacts"),
        ] {
            let Ok(listing) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in listing.flatten() {
                let Ok(meta) = entry.metadata() else { continue };
                if meta.is_file() {
                    let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                    entries.push((used, meta.len(), entry.path()));
                }
            }
        }
        let mut total: u64 = entries.iter().map(|(_, size, _)| size).sum();
        if total <= self.max_bytes {
            return;
        }
        entries.sort();
        let target = self.max_bytes / 5 * 4;
        for (_, size, path) in entries {
            if total <= target {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total -= size;
            }
        }
    }
}

/// Load `bytes` through the local cache when there is one.
pub fn load(runtime: &Runtime, bytes: &[u8]) -> anyhow::Result<StrategyComponent> {
    match LocalCache::open() {
        Some(cache) => cache.load(runtime, bytes),
        None => Ok(runtime.load(bytes)?),
    }
}

/// Mark `path` as just used, for eviction.
fn touch(path: &Path) {
    if let Ok(file) = std::fs::File::options().write(true).open(path) {
        let _ = file.set_modified(SystemTime::now());
    }
}

/// The cache's own key: read, or made once. A new key is written to a
/// temporary file and linked into place, so concurrent first runs agree on
/// one key and none reads a partial file.
fn cache_key(path: &Path) -> anyhow::Result<HostSecretKey> {
    let read = |path: &Path| -> anyhow::Result<Option<HostSecretKey>> {
        match std::fs::read(path) {
            Ok(bytes) => {
                let bytes: [u8; 32] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| anyhow::anyhow!("{} is not a 32-byte key", path.display()))?;
                Ok(Some(HostSecretKey::from_bytes(&Zeroizing::new(bytes))?))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    };
    if let Some(key) = read(path)? {
        return Ok(key);
    }
    let key = HostSecretKey::generate()?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let staged = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("creating a key file in {}", dir.display()))?;
    // `NamedTempFile` is created owner-only (0600).
    std::fs::write(staged.path(), key.to_bytes().as_slice())
        .with_context(|| format!("writing {}", staged.path().display()))?;
    match std::fs::hard_link(staged.path(), path) {
        Ok(()) => Ok(key),
        // Another process made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            read(path)?.with_context(|| format!("{} vanished after it was made", path.display()))
        }
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn concurrent_first_uses_agree_on_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        let keys: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| cache_key(&path).unwrap().id()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(keys.windows(2).all(|pair| pair[0] == pair[1]));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn the_least_recently_used_entries_go_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = LocalCache::open_at(dir.path()).unwrap();
        cache.max_bytes = 2500;
        let fingerprint = |n: u8| format!("{n:064x}");
        for n in 0..3 {
            cache.put_component(&fingerprint(n), &[n; 1000]);
            // Distinct modification times, oldest first.
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        // The third put went over 2,500 bytes: the oldest went, down to 2,000.
        assert!(cache.component(&fingerprint(0)).is_none());
        assert_eq!(cache.component(&fingerprint(1)).unwrap(), vec![1; 1000]);
        assert_eq!(cache.component(&fingerprint(2)).unwrap(), vec![2; 1000]);
        // Only SHA-256 hex names a file.
        cache.put_component("../escape", b"x");
        assert!(!dir.path().join("escape.wasm").exists());
    }
}
