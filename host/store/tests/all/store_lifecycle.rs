//! A strategy's life in the store: imported sealed, loaded (compiled once,
//! then deserialized from the sealed cache), run, checkpointed, resumed.

use stratbox_runtime::{
    AllowAll, CacheOutcome, Deployment, DeploymentHost, DeploymentSpec, TickInput,
};
use stratbox_store::StoreError;
use stratbox_test_artifacts::Guest;

use crate::support::{Clock, block, files_under, host_key, runtime, sealed, store};

#[test]
fn import_load_run_checkpoint_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let key = host_key();
    let store = store(dir.path(), &key);
    let manifest = store
        .import_bundle(runtime(), &sealed(Guest::RsiMomentum, "rsi", &key))
        .unwrap();
    assert_eq!(manifest.name, "rsi");
    assert_eq!(store.strategies().unwrap(), ["rsi"]);

    let loaded = store.load_strategy(runtime(), "rsi").unwrap();
    assert!(
        matches!(loaded.cache, CacheOutcome::Miss),
        "{:?}",
        loaded.cache
    );
    let (mut deployment, _) = Deployment::new(
        runtime(),
        &loaded.component,
        DeploymentSpec::new("rsi-1", "{}"),
        DeploymentHost::new(Clock, AllowAll),
    )
    .unwrap();
    for n in 1..=3 {
        deployment.tick(TickInput::at(block(n))).unwrap();
    }
    store
        .save_checkpoint("rsi-1", deployment.checkpoint())
        .unwrap();
    assert_eq!(store.load_checkpoint("rsi-2").unwrap(), None);

    // As a restarted host would: reopen the store, load from the cache.
    let reopened = crate::support::store(dir.path(), &key);
    let loaded = reopened.load_strategy(runtime(), "rsi").unwrap();
    assert!(
        matches!(loaded.cache, CacheOutcome::Hit),
        "{:?}",
        loaded.cache
    );
    let checkpoint = reopened.load_checkpoint("rsi-1").unwrap().unwrap();
    assert_eq!(&checkpoint, deployment.checkpoint());
    let (mut resumed, _) = Deployment::resume_from(
        runtime(),
        &loaded.component,
        DeploymentSpec::new("rsi-1", "{}"),
        DeploymentHost::new(Clock, AllowAll),
        checkpoint,
    )
    .unwrap();
    assert_eq!(resumed.sequence(), 3);
    resumed.tick(TickInput::at(block(4))).unwrap();

    reopened.remove_checkpoint("rsi-1").unwrap();
    assert_eq!(reopened.load_checkpoint("rsi-1").unwrap(), None);
    assert!(
        files_under(&dir.path().join("tmp")).is_empty(),
        "no temporary file outlives a write"
    );
}

#[test]
fn unknown_names_and_unsafe_names_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path(), &host_key());
    assert!(matches!(
        store.load_strategy(runtime(), "absent"),
        Err(StoreError::NotFound { .. })
    ));
    for name in ["../escape", "", "a/b", ".hidden"] {
        assert!(matches!(
            store.bundle(name),
            Err(StoreError::InvalidName { .. })
        ));
    }
    assert!(matches!(
        store.load_checkpoint(&"x".repeat(101)),
        Err(StoreError::InvalidName { .. })
    ));
    // Deployment ids are free text: they never become paths.
    assert_eq!(store.load_checkpoint("../../etc/passwd").unwrap(), None);
}
