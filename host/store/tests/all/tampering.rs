//! What an attacker with write access to the store directory can do: swap,
//! alter or forge files. Every such file is refused before use; a refused
//! compiled artifact is never deserialized and is replaced by a fresh
//! compile.

use std::sync::Arc;

use stratbox_runtime::bundle::{
    HostSecretKey, Language, ObjectKind, OpenError, SecretKey, StrategyMetadata, WrapAlgorithm,
    read_header, seal_object,
};
use stratbox_runtime::{ArtifactCache, ArtifactCacheError, CacheOutcome, Checkpoint, SecretBytes};
use stratbox_store::{Store, StoreError};
use stratbox_test_artifacts::Guest;

use crate::support::{files_under, host_key, runtime, sealed, store};

fn only_file(dir: &std::path::Path) -> std::path::PathBuf {
    let files = files_under(dir);
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}

#[test]
fn an_altered_compiled_artifact_is_refused_and_recompiled() {
    let dir = tempfile::tempdir().unwrap();
    let key = host_key();
    let store = store(dir.path(), &key);
    store
        .import_bundle(runtime(), &sealed(Guest::Minimal, "minimal", &key))
        .unwrap();
    store.load_strategy(runtime(), "minimal").unwrap();
    let artifact = only_file(&dir.path().join("artifacts"));
    let mut bytes = std::fs::read(&artifact).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    std::fs::write(&artifact, &bytes).unwrap();

    let loaded = store.load_strategy(runtime(), "minimal").unwrap();
    assert!(
        matches!(
            loaded.cache,
            CacheOutcome::Bypassed(ArtifactCacheError::Unauthenticated { .. })
        ),
        "{:?}",
        loaded.cache
    );
    // The refused artifact was removed, so the next load compiles and
    // seals a fresh one, and the one after deserializes it.
    let loaded = store.load_strategy(runtime(), "minimal").unwrap();
    assert!(
        matches!(loaded.cache, CacheOutcome::Miss),
        "{:?}",
        loaded.cache
    );
    let loaded = store.load_strategy(runtime(), "minimal").unwrap();
    assert!(
        matches!(loaded.cache, CacheOutcome::Hit),
        "{:?}",
        loaded.cache
    );
}

#[test]
fn an_artifact_filed_under_another_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path(), &host_key());
    let cache = store.artifact_cache();
    let (a, b) = ("a".repeat(64), "b".repeat(64));
    cache.put(&a, b"compiled code of a").unwrap();
    // What comes back is compiled code: it stays in a zeroizing buffer.
    let code: SecretBytes = cache.get(&a).unwrap().unwrap();
    assert_eq!(&*code, b"compiled code of a");
    let artifacts = dir.path().join("artifacts");
    std::fs::rename(
        artifacts.join(format!("{a}.artifact")),
        artifacts.join(format!("{b}.artifact")),
    )
    .unwrap();
    assert!(matches!(
        cache.get(&b),
        Err(ArtifactCacheError::Unauthenticated { .. })
    ));
    assert!(matches!(
        cache.get("../../escape"),
        Err(ArtifactCacheError::Storage { .. })
    ));
}

#[test]
fn another_stores_artifacts_and_snapshots_do_not_open() {
    let dir = tempfile::tempdir().unwrap();
    let key = host_key();
    let checkpoint = Checkpoint {
        sequence: 3,
        next_action_id: 9,
        snapshot: b"secret state".to_vec(),
    };
    store(dir.path(), &key)
        .save_checkpoint("dep", &checkpoint)
        .unwrap();
    store(dir.path(), &key)
        .artifact_cache()
        .put(&"c".repeat(64), b"code")
        .unwrap();
    let other = store(dir.path(), &host_key());
    assert!(matches!(
        other.load_checkpoint("dep"),
        Err(StoreError::Open(OpenError::WrongKey { .. }))
    ));
    assert!(matches!(
        other.artifact_cache().get(&"c".repeat(64)),
        Err(ArtifactCacheError::Unauthenticated { .. })
    ));
}

#[test]
fn a_snapshot_moved_to_another_deployment_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path(), &host_key());
    let checkpoint = Checkpoint {
        sequence: 1,
        next_action_id: 1,
        snapshot: b"state of a".to_vec(),
    };
    store.save_checkpoint("a", &checkpoint).unwrap();
    let snapshots = dir.path().join("snapshots");
    let from = only_file(&snapshots);
    std::fs::copy(
        &from,
        snapshots.join(format!("{}.snapshot", hex::encode("b"))),
    )
    .unwrap();
    assert!(matches!(
        store.load_checkpoint("b"),
        Err(StoreError::Open(OpenError::Authentication { .. }))
    ));

    let mut bytes = std::fs::read(&from).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&from, bytes).unwrap();
    assert!(matches!(
        store.load_checkpoint("a"),
        Err(StoreError::Open(OpenError::Authentication { .. }))
    ));
}

/// A host whose store key is an X25519 secret hands its public key to
/// authors. An attacker holding only that public key (and write access to
/// the store directory) seals a compiled artifact and a snapshot to it, as
/// the store's own format would: both are refused, because the store seals
/// its own objects under a symmetric key derived from the secret.
#[test]
fn artifacts_and_snapshots_sealed_to_the_hosts_public_key_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let host = HostSecretKey::generate().unwrap();
    let public = host.public_key().clone();
    let store = Store::open(dir.path(), Arc::new(SecretKey::X25519(host))).unwrap();

    // Authors seal to the public key; the store opens, compiles and caches.
    let component = Guest::Minimal.bytes();
    let bundle = runtime()
        .seal_bundle(
            &component,
            StrategyMetadata::new("minimal", "1.0.0", Language::Rust, "author"),
            &public,
        )
        .unwrap();
    store.import_bundle(runtime(), &bundle).unwrap();
    let loaded = store.load_strategy(runtime(), "minimal").unwrap();
    assert!(
        matches!(loaded.cache, CacheOutcome::Miss),
        "{:?}",
        loaded.cache
    );
    let artifact_file = only_file(&dir.path().join("artifacts"));
    let sealed = std::fs::read(&artifact_file).unwrap();
    let header = read_header(&sealed, ObjectKind::Artifact).unwrap();
    assert_eq!(header.wrap_algorithm, WrapAlgorithm::Kek);
    assert_ne!(header.key_id, public.id());

    // The attacker replaces the artifact with "native code" sealed to the
    // public key, under the right cache key and associated context.
    let cache_key = runtime().artifact_key(&runtime().inspect(&component).unwrap().sha256);
    assert_eq!(
        artifact_file.file_name().unwrap().to_str().unwrap(),
        format!("{cache_key}.artifact")
    );
    let forged = seal_object(
        ObjectKind::Artifact,
        &[],
        format!("artifact:{cache_key}").as_bytes(),
        b"attacker-chosen native code",
        &public,
    )
    .unwrap();
    std::fs::write(&artifact_file, &forged).unwrap();
    let cache = store.artifact_cache();
    assert!(
        matches!(
            cache.get(&cache_key),
            Err(ArtifactCacheError::Unauthenticated { .. })
        ),
        "a forged artifact must never be returned for deserialization"
    );
    // Refused and removed: the next load compiles afresh.
    std::fs::write(&artifact_file, &forged).unwrap();
    let loaded = store.load_strategy(runtime(), "minimal").unwrap();
    assert!(
        matches!(
            loaded.cache,
            CacheOutcome::Bypassed(ArtifactCacheError::Unauthenticated { .. })
        ),
        "{:?}",
        loaded.cache
    );

    // The same for a snapshot: the checkpoint encoding is no secret.
    let mut plaintext = vec![1u8];
    plaintext.extend_from_slice(&7u64.to_le_bytes());
    plaintext.extend_from_slice(&1u64.to_le_bytes());
    plaintext.extend_from_slice(b"attacker-chosen state");
    let forged = seal_object(ObjectKind::Snapshot, &[], b"dep", &plaintext, &public).unwrap();
    std::fs::write(
        dir.path()
            .join("snapshots")
            .join(format!("{}.snapshot", hex::encode("dep"))),
        &forged,
    )
    .unwrap();
    assert!(matches!(
        store.load_checkpoint("dep"),
        Err(StoreError::Open(OpenError::WrongRecipient { .. }))
    ));

    // What the store seals itself still round-trips under the secret.
    let checkpoint = Checkpoint {
        sequence: 7,
        next_action_id: 1,
        snapshot: b"real state".to_vec(),
    };
    store.save_checkpoint("dep", &checkpoint).unwrap();
    assert_eq!(store.load_checkpoint("dep").unwrap(), Some(checkpoint));
}

/// The object key is derived from the secret, not random per process: a
/// store reopened with the same X25519 secret (read back from its bytes)
/// opens what it sealed before, and one opened with another secret does
/// not.
#[test]
fn an_x25519_store_reopens_its_own_objects() {
    let dir = tempfile::tempdir().unwrap();
    let host = HostSecretKey::generate().unwrap();
    let secret = host.to_bytes();
    let checkpoint = Checkpoint {
        sequence: 2,
        next_action_id: 3,
        snapshot: b"state".to_vec(),
    };
    let store = Store::open(dir.path(), Arc::new(SecretKey::X25519(host))).unwrap();
    store.save_checkpoint("dep", &checkpoint).unwrap();
    store
        .artifact_cache()
        .put(&"d".repeat(64), b"code")
        .unwrap();
    drop(store);

    let same = HostSecretKey::from_bytes(&secret).unwrap();
    let store = Store::open(dir.path(), Arc::new(same)).unwrap();
    assert_eq!(store.load_checkpoint("dep").unwrap(), Some(checkpoint));
    assert_eq!(
        store
            .artifact_cache()
            .get(&"d".repeat(64))
            .unwrap()
            .unwrap()
            .as_slice(),
        b"code"
    );
    let other = Store::open(dir.path(), Arc::new(HostSecretKey::generate().unwrap())).unwrap();
    assert!(matches!(
        other.load_checkpoint("dep"),
        Err(StoreError::Open(OpenError::WrongKey { .. }))
    ));
}
