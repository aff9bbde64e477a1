//! The store directory: sealed bundles in, loaded components and restored
//! checkpoints out.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use sha2_hkdf::{Digest, Sha256};
use stratbox_runtime::bundle::{KeyProvider, Manifest, ObjectKind, open_object, seal_object};
use stratbox_runtime::{CacheOutcome, Checkpoint, Runtime, StrategyComponent};

use crate::artifacts::SealedArtifactCache;
use crate::atomic::{remove_leftovers, sync_dir, write_atomically};
use crate::checkpoint;
use crate::error::StoreError;
use crate::store_key::{HostKeys, StoreKey};

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
    /// Seal and open the store's own objects (compiled code, snapshots,
    /// bundle receipts): symmetric, derived from the host's secret
    /// ([`StoreKey::host_keys`]), so nothing an author holds forges one.
    /// `None` for a store opened with a key-encryption key.
    pub host_keys: Option<HostKeys>,
    /// Per deployment, the sequence of the last snapshot this store wrote
    /// or read: a snapshot older than that is a rollback.
    pub high_water: Mutex<HashMap<String, u64>>,
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
    /// bundles filed there; the store's compiled code, snapshots and bundle
    /// receipts are sealed and opened with its [`StoreKey::host_keys`],
    /// symmetric keys derived from the host's secret. A key-encryption key
    /// has none (authors may hold it): such a store opens bundles, but
    /// caches no compiled code and keeps no snapshots.
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
            host_keys: key.host_keys(),
            high_water: Mutex::new(HashMap::new()),
            key,
        };
        if inner.host_keys.is_none() {
            tracing::warn!(
                store = %inner.root.display(),
                "store opened with a key-encryption key: no compiled-code cache, no snapshots, \
                 no bundle receipts; open it with the host's X25519 secret key"
            );
        }
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
    /// name, replacing any earlier version, with a receipt sealed under the
    /// host's receipt key that names its SHA-256: only bundles imported
    /// here load ([`Store::load_strategy`]). Returns its manifest.
    pub fn import_bundle(&self, runtime: &Runtime, bundle: &[u8]) -> Result<Manifest, StoreError> {
        let opened = runtime.open_bundle(bundle, self.key())?;
        let manifest = opened.manifest().clone();
        drop(opened);
        let file = bundle_file(&manifest.name)?;
        write_atomically(&self.inner.tmp, &self.inner.bundles, &file, bundle)
            .map_err(self.inner.io("writing", Path::new(BUNDLES).join(&file)))?;
        if let Some(keys) = &self.inner.host_keys {
            // Written after the bundle: a crash in between leaves a bundle
            // without a matching receipt, which is refused until imported
            // again, never a receipt for bytes that are not there.
            let receipt = seal_object(
                ObjectKind::Receipt,
                Sha256::digest(bundle).as_slice(),
                &receipt_context(&manifest.name),
                &[],
                keys.receipts(),
            )?;
            let receipt_file = format!("{}.receipt", manifest.name);
            write_atomically(
                &self.inner.tmp,
                &self.inner.bundles,
                &receipt_file,
                &receipt,
            )
            .map_err(
                self.inner
                    .io("writing", Path::new(BUNDLES).join(&receipt_file)),
            )?;
        }
        tracing::info!(name = %manifest.name, version = %manifest.version, "bundle imported");
        Ok(manifest)
    }

    /// Check the receipt of the bundle filed as `name`: sealed under the
    /// host's receipt key for this name, naming these bytes.
    fn check_receipt(&self, keys: &HostKeys, name: &str, bundle: &[u8]) -> Result<(), StoreError> {
        let file = format!("{name}.receipt");
        let sealed = match self.inner.bundles.read(&file) {
            Ok(sealed) => sealed,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(StoreError::NotImported {
                    name: name.to_owned(),
                });
            }
            Err(e) => return Err(self.inner.io("reading", Path::new(BUNDLES).join(&file))(e)),
        };
        let receipt = open_object(
            ObjectKind::Receipt,
            &receipt_context(name),
            &sealed,
            keys.receipts(),
        )?;
        if receipt.metadata != Sha256::digest(bundle).as_slice() {
            return Err(StoreError::NotImported {
                name: name.to_owned(),
            });
        }
        Ok(())
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
    /// compiled code coming from (or going to) the sealed cache. Refused
    /// before anything is decrypted: a bundle without this host's receipt
    /// ([`StoreError::NotImported`]: written into the directory by someone
    /// else), and a bundle whose authenticated manifest names another
    /// strategy ([`OpenError::NameMismatch`](stratbox_runtime::bundle::OpenError::NameMismatch):
    /// copied over another strategy's file).
    pub fn load_strategy(
        &self,
        runtime: &Runtime,
        name: &str,
    ) -> Result<LoadedStrategy, StoreError> {
        let bundle = self.bundle(name)?;
        if let Some(keys) = &self.inner.host_keys {
            self.check_receipt(keys, name, &bundle)?;
        }
        let (component, manifest, cache) =
            runtime.load_named_bundle(name, &bundle, self.key(), &self.artifact_cache())?;
        tracing::debug!(name, ?cache, "strategy loaded");
        Ok(LoadedStrategy {
            component,
            manifest,
            cache,
        })
    }

    /// Seal and store the checkpoint of deployment `deployment`, replacing
    /// the previous one atomically. The checkpoint's sequence is sealed
    /// into the snapshot's authenticated header, and remembered: this store
    /// refuses to load an older one for the deployment afterwards.
    pub fn save_checkpoint(
        &self,
        deployment: &str,
        checkpoint: &Checkpoint,
    ) -> Result<(), StoreError> {
        let file = snapshot_file(deployment)?;
        let sealed = self.seal_checkpoint(deployment, checkpoint)?;
        // The current snapshot is kept as the previous one first: a caller
        // that records the new sequence elsewhere (a journal commit after
        // this write) and crashes before that commit still finds the one
        // it recorded (`load_checkpoint_at`).
        match self.inner.snapshots.read(&file) {
            Ok(current) => {
                let previous = previous_file(&file);
                write_atomically(&self.inner.tmp, &self.inner.snapshots, &previous, &current)
                    .map_err(
                        self.inner
                            .io("writing", Path::new(SNAPSHOTS).join(&previous)),
                    )?;
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => {
                return Err(self.inner.io("reading", Path::new(SNAPSHOTS).join(&file))(
                    e,
                ));
            }
        }
        write_atomically(&self.inner.tmp, &self.inner.snapshots, &file, &sealed)
            .map_err(self.inner.io("writing", Path::new(SNAPSHOTS).join(&file)))?;
        self.marks()
            .insert(deployment.to_owned(), checkpoint.sequence);
        Ok(())
    }

    /// The last checkpoint stored for deployment `deployment`, if any.
    ///
    /// Refused with [`StoreError::SnapshotRollback`] when it is older than
    /// the last one this store wrote or read for the deployment, and with
    /// [`StoreError::SnapshotMissing`] when one was written and is gone.
    /// Across restarts only the caller knows which snapshot is current:
    /// prefer [`Store::load_checkpoint_at`] with the sequence its journal
    /// recorded.
    pub fn load_checkpoint(&self, deployment: &str) -> Result<Option<Checkpoint>, StoreError> {
        let expected = self.marks().get(deployment).copied();
        let found = self.read_checkpoint(deployment)?;
        match (expected, found) {
            (Some(expected), None) => Err(StoreError::SnapshotMissing {
                deployment: deployment.to_owned(),
                expected,
            }),
            (Some(expected), Some(found)) if found.sequence < expected => {
                Err(StoreError::SnapshotRollback {
                    deployment: deployment.to_owned(),
                    expected,
                    found: found.sequence,
                })
            }
            (_, Some(found)) => {
                self.marks().insert(deployment.to_owned(), found.sequence);
                Ok(Some(found))
            }
            (None, None) => Ok(None),
        }
    }

    /// The checkpoint of deployment `deployment` whose sequence is
    /// `expected` (the one the caller's journal recorded last): an older
    /// one is a rollback ([`StoreError::SnapshotRollback`]), a newer one
    /// is not the one recorded ([`StoreError::SnapshotAhead`]), and none at
    /// all is [`StoreError::SnapshotMissing`]. When the current snapshot is
    /// one ahead of the journal (the process died between this store's
    /// write and the journal's commit), the previous one, kept by
    /// [`Store::save_checkpoint`], is the recorded one. With a run journal, the
    /// expected sequence is the `next_sequence` of the journal's last
    /// committed snapshot (`stratbox_journal::Journal::resume_point`): the
    /// journal, not the store directory, anchors which snapshot is current.
    pub fn load_checkpoint_at(
        &self,
        deployment: &str,
        expected: u64,
    ) -> Result<Checkpoint, StoreError> {
        let found =
            self.read_checkpoint(deployment)?
                .ok_or_else(|| StoreError::SnapshotMissing {
                    deployment: deployment.to_owned(),
                    expected,
                })?;
        let remembered = self.marks().get(deployment).copied().unwrap_or(0);
        if found.sequence < expected.max(remembered) {
            return Err(StoreError::SnapshotRollback {
                deployment: deployment.to_owned(),
                expected: expected.max(remembered),
                found: found.sequence,
            });
        }
        if found.sequence > expected {
            if let Some(previous) = self.read_previous_checkpoint(deployment)?
                && previous.sequence == expected
            {
                self.marks().insert(deployment.to_owned(), expected);
                return Ok(previous);
            }
            return Err(StoreError::SnapshotAhead {
                deployment: deployment.to_owned(),
                expected,
                found: found.sequence,
            });
        }
        self.marks().insert(deployment.to_owned(), found.sequence);
        Ok(found)
    }

    /// Open the snapshot file of `deployment`: authenticated under the
    /// host's snapshot key and the deployment id, its sealed sequence equal
    /// to the checkpoint's.
    fn read_checkpoint(&self, deployment: &str) -> Result<Option<Checkpoint>, StoreError> {
        self.read_checkpoint_file(deployment, &snapshot_file(deployment)?)
    }

    /// The snapshot the last [`Store::save_checkpoint`] replaced, if kept.
    fn read_previous_checkpoint(&self, deployment: &str) -> Result<Option<Checkpoint>, StoreError> {
        self.read_checkpoint_file(deployment, &previous_file(&snapshot_file(deployment)?))
    }

    fn read_checkpoint_file(
        &self,
        deployment: &str,
        file: &str,
    ) -> Result<Option<Checkpoint>, StoreError> {
        let sealed = match self.inner.snapshots.read(file) {
            Ok(sealed) => sealed,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(self.inner.io("reading", Path::new(SNAPSHOTS).join(file))(e));
            }
        };
        self.open_sealed_checkpoint(deployment, &sealed).map(Some)
    }

    /// Seal `checkpoint` of deployment `deployment` under the host's
    /// snapshot key, bound to the deployment and its sequence, without
    /// storing it: for a caller that keeps it elsewhere (a journal row
    /// committed with its tick).
    pub fn seal_checkpoint(
        &self,
        deployment: &str,
        checkpoint: &Checkpoint,
    ) -> Result<Vec<u8>, StoreError> {
        let keys = self.snapshot_keys()?;
        let plaintext = zeroize::Zeroizing::new(checkpoint::encode(checkpoint));
        Ok(seal_object(
            ObjectKind::Snapshot,
            &checkpoint.sequence.to_be_bytes(),
            &snapshot_context(deployment),
            &plaintext,
            keys.snapshots(),
        )?)
    }

    /// Open a checkpoint [`Store::seal_checkpoint`] sealed for
    /// `deployment`, refusing it unless it is the one that resumes at
    /// `expected` ([`StoreError::SnapshotRollback`] for another).
    pub fn open_checkpoint(
        &self,
        deployment: &str,
        sealed: &[u8],
        expected: u64,
    ) -> Result<Checkpoint, StoreError> {
        let checkpoint = self.open_sealed_checkpoint(deployment, sealed)?;
        if checkpoint.sequence != expected {
            return Err(StoreError::SnapshotRollback {
                deployment: deployment.to_owned(),
                expected,
                found: checkpoint.sequence,
            });
        }
        Ok(checkpoint)
    }

    fn open_sealed_checkpoint(
        &self,
        deployment: &str,
        sealed: &[u8],
    ) -> Result<Checkpoint, StoreError> {
        let keys = self.snapshot_keys()?;
        let opened = open_object(
            ObjectKind::Snapshot,
            &snapshot_context(deployment),
            sealed,
            keys.snapshots(),
        )?;
        let encoding = || StoreError::CheckpointEncoding {
            deployment: deployment.to_owned(),
        };
        let sealed_sequence = <[u8; 8]>::try_from(opened.metadata)
            .map(u64::from_be_bytes)
            .map_err(|_| encoding())?;
        let checkpoint = checkpoint::decode(&opened.plaintext).ok_or_else(encoding)?;
        if checkpoint.sequence != sealed_sequence {
            return Err(encoding());
        }
        Ok(checkpoint)
    }

    fn snapshot_keys(&self) -> Result<&HostKeys, StoreError> {
        self.inner
            .host_keys
            .as_ref()
            .ok_or(StoreError::NoHostKey { what: "snapshots" })
    }

    fn marks(&self) -> std::sync::MutexGuard<'_, HashMap<String, u64>> {
        self.inner
            .high_water
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Forget the checkpoint of deployment `deployment`.
    pub fn remove_checkpoint(&self, deployment: &str) -> Result<(), StoreError> {
        let file = snapshot_file(deployment)?;
        self.marks().remove(deployment);
        for file in [previous_file(&file), file] {
            match self.inner.snapshots.remove_file(&file) {
                Err(e) if e.kind() != ErrorKind::NotFound => {
                    return Err(self.inner.io("removing", Path::new(SNAPSHOTS).join(&file))(
                        e,
                    ));
                }
                _ => {}
            }
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

/// The associated context of a snapshot: its deployment id, so a snapshot
/// filed under another deployment fails authentication.
fn snapshot_context(deployment: &str) -> Vec<u8> {
    [b"snapshot:".as_slice(), deployment.as_bytes()].concat()
}

/// The associated context of a bundle receipt: the strategy name, so a
/// receipt filed under another name fails authentication.
fn receipt_context(name: &str) -> Vec<u8> {
    [b"receipt:".as_slice(), name.as_bytes()].concat()
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

/// Where the snapshot a save replaced is kept.
fn previous_file(file: &str) -> String {
    format!("{file}.previous")
}
