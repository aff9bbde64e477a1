//! An attacker holding everything an author holds (the host's public key, a
//! key-encryption key the host shares with authors, the bundles they
//! sealed) plus write access to the store directory. Whatever they write
//! (compiled code, snapshots, bundles) under any key they can compute is
//! never loaded: each attempt ends in a typed error. Copies of the host's
//! own objects moved elsewhere (another cache key, another deployment,
//! another strategy's name, an older snapshot put back) are refused too.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hkdf::Hkdf;
use sha2_hkdf::Sha256;
use stratbox_runtime::bundle::{
    HostPublicKey, HostSecretKey, Kek, KeyWrapper, Language, ObjectKind, OpenError, SecretKey,
    StrategyMetadata, seal_object,
};
use stratbox_runtime::{ArtifactCache, ArtifactCacheError, CacheOutcome, Checkpoint};
use stratbox_store::{Store, StoreError};
use stratbox_test_artifacts::Guest;
use zeroize::Zeroizing;

use crate::support::{files_under, runtime};

/// What an author holds.
struct Attacker {
    /// The host's public key, which every author is given.
    public: HostPublicKey,
    /// A key-encryption key the host shares with authors (if it does).
    shared_kek: Kek,
}

impl Attacker {
    /// Every key the attacker can compute: the public key itself, the
    /// shared KEK, and keys derived from either with HKDF under every label
    /// the store uses or used (the labels are public).
    fn keys(&self) -> Vec<(String, Box<dyn KeyWrapper>)> {
        let mut keys: Vec<(String, Box<dyn KeyWrapper>)> = vec![
            (
                "the host's public key".into(),
                Box::new(self.public.clone()),
            ),
            (
                "the shared KEK".into(),
                Box::new(Kek::from_bytes(Zeroizing::new(
                    *self.shared_kek.expose_secret(),
                ))),
            ),
        ];
        let labels: [(&[u8], &[u8]); 5] = [
            (
                b"stratbox store v1",
                b"stratbox store v1: object key (artifacts, snapshots) from a kek",
            ),
            (
                b"stratbox store v1",
                b"stratbox store v1: object key (artifacts, snapshots) from an x25519 secret key",
            ),
            (
                b"stratbox store v2: host-only keys",
                b"stratbox store v2: compiled artifacts",
            ),
            (
                b"stratbox store v2: host-only keys",
                b"stratbox store v2: snapshots",
            ),
            (
                b"stratbox store v2: host-only keys",
                b"stratbox store v2: bundle receipts",
            ),
        ];
        let inputs: [(&str, [u8; 32]); 2] = [
            ("the shared KEK", *self.shared_kek.expose_secret()),
            ("the public key", self.public.to_bytes()),
        ];
        for (input_name, input) in inputs {
            for (salt, info) in labels {
                let mut okm = Zeroizing::new([0u8; 32]);
                Hkdf::<Sha256>::new(Some(salt), &input)
                    .expand(info, okm.as_mut_slice())
                    .unwrap();
                keys.push((
                    format!(
                        "HKDF of {input_name} with `{}`",
                        String::from_utf8_lossy(info)
                    ),
                    Box::new(Kek::from_bytes(okm)),
                ));
            }
        }
        keys
    }

    /// `plaintext` sealed as `kind` under every key the attacker has, with
    /// every context and metadata the store uses or used.
    fn forge(
        &self,
        kind: ObjectKind,
        contexts: &[Vec<u8>],
        metadata: &[Vec<u8>],
        plaintext: &[u8],
    ) -> Vec<(String, Vec<u8>)> {
        let mut forged = Vec::new();
        for (key_name, key) in self.keys() {
            for context in contexts {
                for meta in metadata {
                    forged.push((
                        format!(
                            "{kind} under {key_name}, context {:?}",
                            String::from_utf8_lossy(context)
                        ),
                        seal_object(kind, meta, context, plaintext, key.as_ref()).unwrap(),
                    ));
                }
            }
        }
        forged
    }
}

fn only_file(dir: &Path) -> PathBuf {
    let files = files_under(dir);
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}

fn snapshot_path(store: &Path, deployment: &str) -> PathBuf {
    store
        .join("snapshots")
        .join(format!("{}.snapshot", hex::encode(deployment)))
}

/// A checkpoint's plaintext encoding (no secret: it is in the source).
fn checkpoint_plaintext(sequence: u64, state: &[u8]) -> Vec<u8> {
    let mut plaintext = vec![1u8];
    plaintext.extend_from_slice(&sequence.to_le_bytes());
    plaintext.extend_from_slice(&1u64.to_le_bytes());
    plaintext.extend_from_slice(state);
    plaintext
}

fn seal_for(key: &dyn KeyWrapper, name: &str, guest: Guest) -> Vec<u8> {
    runtime()
        .seal_bundle(
            &guest.bytes(),
            StrategyMetadata::new(name, "1.0.0", Language::Rust, "author"),
            key,
        )
        .unwrap()
}

/// The host's store key is the very KEK it shares with authors. Whatever
/// the store derived from it, an author derives too: such a store must
/// never take compiled code or snapshots from its directory.
#[test]
fn a_store_keyed_by_a_kek_authors_hold_loads_no_code_or_state_they_forge() {
    let dir = tempfile::tempdir().unwrap();
    let shared = Kek::generate().unwrap();
    let attacker = Attacker {
        public: HostSecretKey::generate().unwrap().public_key().clone(),
        shared_kek: Kek::from_bytes(Zeroizing::new(*shared.expose_secret())),
    };
    let store = Store::open(dir.path(), Arc::new(SecretKey::Kek(shared))).unwrap();
    let cache = store.artifact_cache();
    let cache_key = "e".repeat(64);
    let artifact = dir
        .path()
        .join("artifacts")
        .join(format!("{cache_key}.artifact"));
    let contexts = [format!("artifact:{cache_key}").into_bytes()];
    for (what, forged) in attacker.forge(
        ObjectKind::Artifact,
        &contexts,
        &[vec![]],
        b"attacker-chosen native code",
    ) {
        std::fs::write(&artifact, &forged).unwrap();
        match cache.get(&cache_key) {
            Err(ArtifactCacheError::Unauthenticated { .. }) => {}
            Ok(Some(_)) => panic!("{what}: forged compiled code returned for deserialization"),
            other => panic!("{what}: expected Unauthenticated, got {other:?}"),
        }
    }
    // Nor does it cache what it compiles: authors could forge that too.
    assert!(matches!(
        cache.put(&cache_key, b"compiled"),
        Err(ArtifactCacheError::Storage { .. })
    ));

    let snapshot = snapshot_path(dir.path(), "dep");
    for (what, forged) in attacker.forge(
        ObjectKind::Snapshot,
        &[b"dep".to_vec(), b"snapshot:dep".to_vec()],
        &[vec![], 9u64.to_be_bytes().to_vec()],
        &checkpoint_plaintext(9, b"attacker-chosen state"),
    ) {
        std::fs::write(&snapshot, &forged).unwrap();
        match store.load_checkpoint("dep") {
            Err(StoreError::NoHostKey { .. }) => {}
            Ok(Some(_)) => panic!("{what}: forged state restored"),
            other => panic!("{what}: expected NoHostKey, got {other:?}"),
        }
    }
    let checkpoint = Checkpoint {
        sequence: 1,
        next_action_id: 1,
        snapshot: b"state".to_vec(),
    };
    assert!(matches!(
        store.save_checkpoint("dep", &checkpoint),
        Err(StoreError::NoHostKey { .. })
    ));
}

/// The host opens its store with its X25519 secret; authors seal bundles to
/// its public key, and hold a KEK it also shares with them. Nothing the
/// attacker writes under any key they can compute is loaded.
#[test]
fn an_attacker_with_an_authors_keys_and_write_access_gets_nothing_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let host = HostSecretKey::generate().unwrap();
    let attacker = Attacker {
        public: host.public_key().clone(),
        shared_kek: Kek::generate().unwrap(),
    };
    let store = Store::open(dir.path(), Arc::new(SecretKey::X25519(host))).unwrap();

    // The victim's strategy, imported and compiled: its artifact is cached.
    store
        .import_bundle(
            runtime(),
            &seal_for(&attacker.public, "victim", Guest::Minimal),
        )
        .unwrap();
    let loaded = store.load_strategy(runtime(), "victim").unwrap();
    assert!(
        matches!(loaded.cache, CacheOutcome::Miss),
        "{:?}",
        loaded.cache
    );
    let artifact = only_file(&dir.path().join("artifacts"));
    let cache_key = artifact.file_stem().unwrap().to_str().unwrap().to_owned();

    // Compiled code of the attacker's choosing under the victim's cache key.
    let contexts = [format!("artifact:{cache_key}").into_bytes()];
    let cache = store.artifact_cache();
    for (what, forged) in attacker.forge(
        ObjectKind::Artifact,
        &contexts,
        &[vec![]],
        b"attacker-chosen native code",
    ) {
        std::fs::write(&artifact, &forged).unwrap();
        match cache.get(&cache_key) {
            Err(ArtifactCacheError::Unauthenticated { .. }) => {}
            Ok(Some(_)) => panic!("{what}: forged compiled code returned for deserialization"),
            other => panic!("{what}: expected Unauthenticated, got {other:?}"),
        }
        // Through the whole load path: refused, compiled from the bundle.
        std::fs::write(&artifact, &forged).unwrap();
        let loaded = store.load_strategy(runtime(), "victim").unwrap();
        assert!(
            matches!(
                loaded.cache,
                CacheOutcome::Bypassed(ArtifactCacheError::Unauthenticated { .. })
            ),
            "{what}: {:?}",
            loaded.cache
        );
    }
    // The host's own artifact of another component, filed under the
    // victim's cache key.
    let other_key = "f".repeat(64);
    cache
        .put(&other_key, b"host-compiled code of another component")
        .unwrap();
    let other = dir
        .path()
        .join("artifacts")
        .join(format!("{other_key}.artifact"));
    std::fs::copy(&other, &artifact).unwrap();
    assert!(matches!(
        cache.get(&cache_key),
        Err(ArtifactCacheError::Unauthenticated { .. })
    ));

    // State of the attacker's choosing for the victim's deployment.
    let snapshot = snapshot_path(dir.path(), "victim-1");
    for (what, forged) in attacker.forge(
        ObjectKind::Snapshot,
        &[b"victim-1".to_vec(), b"snapshot:victim-1".to_vec()],
        &[vec![], 9u64.to_be_bytes().to_vec()],
        &checkpoint_plaintext(9, b"attacker-chosen state"),
    ) {
        std::fs::write(&snapshot, &forged).unwrap();
        match store.load_checkpoint("victim-1") {
            Err(StoreError::Open(
                OpenError::WrongKey { .. }
                | OpenError::WrongRecipient { .. }
                | OpenError::Authentication { .. },
            )) => {}
            Ok(Some(_)) => panic!("{what}: forged state restored"),
            other => panic!("{what}: expected an open error, got {other:?}"),
        }
    }
    // The host's own snapshot of another deployment, moved to the victim's.
    let theirs = Checkpoint {
        sequence: 9,
        next_action_id: 1,
        snapshot: b"the attacker's own deployment state".to_vec(),
    };
    store.save_checkpoint("attacker-1", &theirs).unwrap();
    std::fs::copy(snapshot_path(dir.path(), "attacker-1"), &snapshot).unwrap();
    assert!(matches!(
        store.load_checkpoint("victim-1"),
        Err(StoreError::Open(OpenError::Authentication { .. }))
    ));

    // A bundle of the attacker's own, sealed to the host's public key under
    // the victim's name, written over the victim's bundle: the host has no
    // receipt for it.
    let bundles = dir.path().join("bundles");
    let theirs = seal_for(&attacker.public, "victim", Guest::EmaCrossover);
    std::fs::write(bundles.join("victim.bundle"), &theirs).unwrap();
    assert!(matches!(
        store.load_strategy(runtime(), "victim"),
        Err(StoreError::NotImported { .. })
    ));
    // Nor is a receipt the attacker forges for it accepted.
    let digest = {
        use sha2_hkdf::Digest;
        Sha256::digest(theirs.as_slice()).to_vec()
    };
    let receipt = bundles.join("victim.receipt");
    for (what, forged) in attacker.forge(
        ObjectKind::Receipt,
        &[b"receipt:victim".to_vec()],
        &[digest],
        b"",
    ) {
        std::fs::write(&receipt, &forged).unwrap();
        match store.load_strategy(runtime(), "victim") {
            Err(StoreError::Open(
                OpenError::WrongKey { .. }
                | OpenError::WrongRecipient { .. }
                | OpenError::Authentication { .. },
            )) => {}
            Ok(_) => panic!("{what}: a bundle the host never imported was loaded"),
            Err(other) => panic!("{what}: expected an open error, got {other:?}"),
        }
    }
}

/// A bundle copied over another strategy's name is refused: by its receipt
/// (bound to the name it was imported as) in a store with host keys, and by
/// the name in its authenticated manifest in any store.
#[test]
fn a_bundle_copied_over_another_strategys_name_is_refused() {
    for host_keys in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let key: Arc<SecretKey> = Arc::new(if host_keys {
            SecretKey::X25519(HostSecretKey::generate().unwrap())
        } else {
            SecretKey::Kek(Kek::generate().unwrap())
        });
        let store = Store::open(dir.path(), Arc::clone(&key) as _).unwrap();
        store
            .import_bundle(runtime(), &seal_for(key.as_ref(), "a", Guest::Minimal))
            .unwrap();
        store
            .import_bundle(runtime(), &seal_for(key.as_ref(), "b", Guest::EmaCrossover))
            .unwrap();
        let bundles = dir.path().join("bundles");
        std::fs::copy(bundles.join("a.bundle"), bundles.join("b.bundle")).unwrap();
        let refused = store.load_strategy(runtime(), "b");
        if host_keys {
            assert!(
                matches!(refused, Err(StoreError::NotImported { ref name }) if name == "b"),
                "{refused:?}"
            );
            // With a's receipt copied along, the receipt names another
            // strategy and fails authentication.
            std::fs::copy(bundles.join("a.receipt"), bundles.join("b.receipt")).unwrap();
            assert!(matches!(
                store.load_strategy(runtime(), "b"),
                Err(StoreError::Open(OpenError::Authentication { .. }))
            ));
        } else {
            assert!(
                matches!(
                    refused,
                    Err(StoreError::Open(OpenError::NameMismatch { ref expected, ref found }))
                        if expected == "b" && found == "a"
                ),
                "{refused:?}"
            );
        }
        store.load_strategy(runtime(), "a").unwrap();
    }
}

/// A sealed snapshot copied back over a newer one is refused: by the store
/// that wrote the newer one, and after a restart against the sequence the
/// caller's journal recorded.
#[test]
fn an_older_snapshot_copied_back_over_a_newer_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let host = HostSecretKey::generate().unwrap();
    let secret = host.to_bytes();
    let store = Store::open(dir.path(), Arc::new(host)).unwrap();
    let at = |sequence: u64| Checkpoint {
        sequence,
        next_action_id: sequence,
        snapshot: format!("state after tick {sequence}").into_bytes(),
    };
    let file = snapshot_path(dir.path(), "dep");
    store.save_checkpoint("dep", &at(3)).unwrap();
    let old = std::fs::read(&file).unwrap();
    store.save_checkpoint("dep", &at(7)).unwrap();
    assert_eq!(store.load_checkpoint("dep").unwrap(), Some(at(7)));

    std::fs::write(&file, &old).unwrap();
    assert!(matches!(
        store.load_checkpoint("dep"),
        Err(StoreError::SnapshotRollback {
            expected: 7,
            found: 3,
            ..
        })
    ));
    // Removed behind the store's back: not "no snapshot yet".
    std::fs::remove_file(&file).unwrap();
    assert!(matches!(
        store.load_checkpoint("dep"),
        Err(StoreError::SnapshotMissing { expected: 7, .. })
    ));

    // After a restart the journal is the anchor: it recorded sequence 7.
    std::fs::write(&file, &old).unwrap();
    drop(store);
    let store = Store::open(
        dir.path(),
        Arc::new(HostSecretKey::from_bytes(&secret).unwrap()),
    )
    .unwrap();
    assert!(matches!(
        store.load_checkpoint_at("dep", 7),
        Err(StoreError::SnapshotRollback {
            expected: 7,
            found: 3,
            ..
        })
    ));
    // A snapshot newer than the journal's is not the recorded one either.
    assert!(matches!(
        store.load_checkpoint_at("dep", 2),
        Err(StoreError::SnapshotAhead {
            expected: 2,
            found: 3,
            ..
        })
    ));
    assert_eq!(store.load_checkpoint_at("dep", 3).unwrap(), at(3));
    std::fs::remove_file(&file).unwrap();
    assert!(matches!(
        store.load_checkpoint_at("dep", 3),
        Err(StoreError::SnapshotMissing { expected: 3, .. })
    ));
}
