//! What an attacker with write access to the store directory can do: swap,
//! alter or forge files. Every such file is refused before use; a refused
//! compiled artifact is never deserialized and is replaced by a fresh
//! compile.

use stratbox_runtime::bundle::OpenError;
use stratbox_runtime::{ArtifactCache, ArtifactCacheError, CacheOutcome, Checkpoint};
use stratbox_store::StoreError;
use stratbox_test_artifacts::Guest;

use crate::support::{files_under, kek, runtime, sealed, store};

fn only_file(dir: &std::path::Path) -> std::path::PathBuf {
    let files = files_under(dir);
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}

#[test]
fn an_altered_compiled_artifact_is_refused_and_recompiled() {
    let dir = tempfile::tempdir().unwrap();
    let key = kek();
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
    let store = store(dir.path(), &kek());
    let cache = store.artifact_cache();
    let (a, b) = ("a".repeat(64), "b".repeat(64));
    cache.put(&a, b"compiled code of a").unwrap();
    assert_eq!(cache.get(&a).unwrap().unwrap(), b"compiled code of a");
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
    let key = kek();
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
    let other = store(dir.path(), &kek());
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
    let store = store(dir.path(), &kek());
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
