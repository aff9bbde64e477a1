//! The store directory: sealed bundles in, loaded components and restored
//! checkpoints out.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use stratbox_runtime::bundle::{Kek, KeyProvider, Manifest, ObjectKind, open_object, seal_object};
use stratbox_runtime::{CacheOutcome, Checkpoint, Runtime, StrategyComponent};

use crate::artifacts::SealedArtifactCache;
use crate::atomic::{remove_leftovers, sync_dir, write_atomically};
use crate::checkpoint;
use crate::error::StoreError;
use crate::store_key::StoreKey;

const BUNDLES: &str = "bundles";
const ARTIFACTS: &str = "artifacts";
const SNAPSHOTS: &str = "snapshots";
const TMP: &str = "tmp";
/// Longest deployment id, in bytes (its hex form must fit a file name).
const MAX_DEPLOYMENT_ID: usize = 100;

pub(crate) struct Inner {
    pub root: PathBuf,
    pub bundles: Dir,
    pub artifacts: Dir,
    pub snapshots: Dir,
    pub tmp: Dir,
    /// Opens the bundles (sealed by their authors for this host).
    pub key: Arc<dyn StoreKey>,
    /// Seals and opens the store's own objects (compiled code, snapshots):
    /// symmetric, derived from the secret ([`StoreKey::object_key`]), so a
    /// holder of the host's public key cannot forge one.
    pub object_key: Kek,
}

impl Inner {
    pub fn io(
        &self,
        action: &'static str,
        path: impl AsRef<Path>,
    ) -> impl FnOnce(std::io::Error) -> StoreError {
        let path = self.root.join(path);
        move |source| StoreError::Io {
            action,
            path,
            source,
        }
    }
}

/// An encrypted store directory. Cheap to clone; one process should own a
/// store directory at a time (opening it removes unfinished writes).
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("root", &self.inner.root)
            .finish_non_exhaustive()
    }
}

/// A strategy loaded from the store.
#[derive(Debug)]
pub struct LoadedStrategy {
    /// The compiled component, ready to deploy.
    pub component: StrategyComponent,
    /// Its authenticated manifest.
    pub manifest: Manifest,
    /// Whether its compiled code came from the sealed cache.
    pub cache: CacheOutcome,
}

impl Store {
    /// Open (creating if needed) the store at `path`. `key` opens the
    /// bundles filed there; the store's compiled code and snapshots are
    /// sealed and opened with its [`StoreKey::object_key`], a symmetric key
    /// derived from the secret.
    pub fn open(path: impl AsRef<Path>, key: Arc<dyn StoreKey>) -> Result<Store, StoreError> {
        let root = path.as_ref().to_owned();
        let io = |action, path: &Path| {
            let path = path.to_owned();
            move |source| StoreError::Io {
                action,
                path,
                source,
            }
        };
        Dir::create_ambient_dir_all(&root, ambient_authority())
            .map_err(io("creating the store directory", &root))?;
        let dir = Dir::open_ambient_dir(&root, ambient_authority())
            .map_err(io("opening the store directory", &root))?;
        let sub = |name: &str| -> Result<Dir, StoreError> {
            dir.create_dir_all(name)
                .and_then(|()| dir.open_dir(name))
                .map_err(io("opening", &root.join(name)))
        };
        let inner = Inner {
            bundles: sub(BUNDLES)?,
            artifacts: sub(ARTIFACTS)?,
            snapshots: sub(SNAPSHOTS)?,
            tmp: sub(TMP)?,
            root,
            object_key: key.object_key(),
            key,
        };
        let removed = remove_leftovers(&inner.tmp).map_err(inner.io("cleaning", TMP))?;
        if removed > 0 {
            tracing::warn!(removed, store = %inner.root.display(), "removed unfinished writes");
        }
        Ok(Store {
            inner: Arc::new(inner),
        })
    }

    /// Where the store lives.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// The sealed cache of compiled code, to pass to
    /// [`Runtime::load_cached`] or [`Runtime::load_bundle`].
    pub fn artifact_cache(&self) -> SealedArtifactCache {
        SealedArtifactCache::new(Arc::clone(&self.inner))
    }

    /// Check that `bundle` opens with the store's key (authentication,
    /// component hash, import allow-list) and file it under its strategy
    /// name, replacing any earlier version. Returns its manifest.
    pub fn import_bundle(&self, runtime: &Runtime, bundle: &[u8]) -> Result<Manifest, StoreError> {
        let opened = runtime.open_bundle(bundle, self.key())?;
        let manifest = opened.manifest().clone();
        drop(opened);
        let file = bundle_file(&manifest.name)?;
        write_atomically(&self.inner.tmp, &self.inner.bundles, &file, bundle)
            .map_err(self.inner.io("writing", Path::new(BUNDLES).join(&file)))?;
        tracing::info!(name = %manifest.name, version = %manifest.version, "bundle imported");
        Ok(manifest)
    }

    /// The sealed bundle stored under `name`.
    pub fn bundle(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        let file = bundle_file(name)?;
        self.inner.bundles.read(&file).map_err(|e| {
            if e.kind() == ErrorKind::NotFound {
                StoreError::NotFound {
                    name: name.to_owned(),
                }
            } else {
                self.inner.io("reading", Path::new(BUNDLES).join(&file))(e)
            }
        })
    }

    /// Names of the stored strategies, sorted.
    pub fn strategies(&self) -> Result<Vec<String>, StoreError> {
        let mut names = Vec::new();
        for entry in self
            .inner
            .bundles
            .entries()
            .map_err(self.inner.io("listing", BUNDLES))?
        {
            let entry = entry.map_err(self.inner.io("listing", BUNDLES))?;
            if let Some(name) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".bundle"))
            {
                names.push(name.to_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    /// Open the bundle stored under `name` and load its component, its
    /// compiled code coming from (or going to) the sealed cache.
    pub fn load_strategy(
        &self,
        runtime: &Runtime,
        name: &str,
    ) -> Result<LoadedStrategy, StoreError> {
        let bundle = self.bundle(name)?;
        let (component, manifest, cache) =
            runtime.load_bundle(&bundle, self.key(), &self.artifact_cache())?;
        tracing::debug!(name, ?cache, "strategy loaded");
        Ok(LoadedStrategy {
            component,
            manifest,
            cache,
        })
    }

    /// Seal and store the checkpoint of deployment `deployment`, replacing
    /// the previous one atomically.
    pub fn save_checkpoint(
        &self,
        deployment: &str,
        checkpoint: &Checkpoint,
    ) -> Result<(), StoreError> {
        let file = snapshot_file(deployment)?;
        let plaintext = checkpoint::encode(checkpoint);
        let sealed = seal_object(
            ObjectKind::Snapshot,
            &[],
            deployment.as_bytes(),
            &plaintext,
            &self.inner.object_key,
        )?;
        write_atomically(&self.inner.tmp, &self.inner.snapshots, &file, &sealed)
            .map_err(self.inner.io("writing", Path::new(SNAPSHOTS).join(&file)))
    }

    /// The last checkpoint stored for deployment `deployment`, if any.
    pub fn load_checkpoint(&self, deployment: &str) -> Result<Option<Checkpoint>, StoreError> {
        let file = snapshot_file(deployment)?;
        let sealed = match self.inner.snapshots.read(&file) {
            Ok(sealed) => sealed,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(self.inner.io("reading", Path::new(SNAPSHOTS).join(&file))(
                    e,
                ));
            }
        };
        let opened = open_object(
            ObjectKind::Snapshot,
            deployment.as_bytes(),
            &sealed,
            &self.inner.object_key,
        )?;
        checkpoint::decode(&opened.plaintext)
            .map(Some)
            .ok_or_else(|| StoreError::CheckpointEncoding {
                deployment: deployment.to_owned(),
            })
    }

    /// Forget the checkpoint of deployment `deployment`.
    pub fn remove_checkpoint(&self, deployment: &str) -> Result<(), StoreError> {
        let file = snapshot_file(deployment)?;
        match self.inner.snapshots.remove_file(&file) {
            Err(e) if e.kind() != ErrorKind::NotFound => {
                return Err(self.inner.io("removing", Path::new(SNAPSHOTS).join(&file))(
                    e,
                ));
            }
            _ => {}
        }
        sync_dir(&self.inner.snapshots).map_err(self.inner.io("syncing", SNAPSHOTS))
    }

    fn key(&self) -> &dyn KeyProvider {
        &*self.inner.key
    }
}

fn bundle_file(name: &str) -> Result<String, StoreError> {
    if !Manifest::is_valid_name(name) {
        return Err(StoreError::InvalidName {
            what: "strategy name",
            name: name.escape_default().to_string(),
        });
    }
    Ok(format!("{name}.bundle"))
}

/// Deployment ids are free text, so their file names are hex.
fn snapshot_file(deployment: &str) -> Result<String, StoreError> {
    if deployment.is_empty() || deployment.len() > MAX_DEPLOYMENT_ID {
        return Err(StoreError::InvalidName {
            what: "deployment id",
            name: deployment.escape_default().to_string(),
        });
    }
    Ok(format!("{}.snapshot", hex::encode(deployment)))
}
