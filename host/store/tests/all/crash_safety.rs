//! Writes are atomic: a crash leaves the old file or the new one, leftovers
//! of unfinished writes are cleaned up, and a refused import changes
//! nothing.

use stratbox_runtime::Checkpoint;
use stratbox_runtime::bundle::OpenError;
use stratbox_store::StoreError;
use stratbox_test_artifacts::Guest;

use crate::support::{files_under, host_key, runtime, sealed, store};

#[test]
fn leftovers_of_a_crashed_write_are_removed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let key = host_key();
    let store = store(dir.path(), &key);
    store
        .save_checkpoint(
            "dep",
            &Checkpoint {
                sequence: 1,
                next_action_id: 1,
                snapshot: b"v1".to_vec(),
            },
        )
        .unwrap();
    // A write that crashed after creating its temporary file.
    std::fs::write(dir.path().join("tmp/0123abcd.tmp"), b"half a ciphertext").unwrap();
    drop(store);
    let store = crate::support::store(dir.path(), &key);
    assert!(files_under(&dir.path().join("tmp")).is_empty());
    assert_eq!(
        store
            .load_checkpoint("dep")
            .unwrap()
            .unwrap()
            .snapshot
            .as_slice(),
        b"v1"
    );
}

#[test]
fn a_refused_import_leaves_the_stored_bundle_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let key = host_key();
    let store = store(dir.path(), &key);
    let good = sealed(Guest::Minimal, "minimal", &key);
    store.import_bundle(runtime(), &good).unwrap();

    let mut tampered = sealed(Guest::Minimal, "minimal", &key);
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(matches!(
        store.import_bundle(runtime(), &tampered),
        Err(StoreError::Open(OpenError::Authentication { .. }))
    ));
    let foreign = sealed(Guest::Minimal, "minimal", &host_key());
    assert!(matches!(
        store.import_bundle(runtime(), &foreign),
        Err(StoreError::Open(OpenError::WrongRecipient { .. }))
    ));
    assert_eq!(store.bundle("minimal").unwrap(), good);
    assert!(files_under(&dir.path().join("tmp")).is_empty());
}

#[test]
fn checkpoints_replace_each_other_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path(), &host_key());
    for sequence in 1..=20u64 {
        let checkpoint = Checkpoint {
            sequence,
            next_action_id: sequence,
            snapshot: vec![u8::try_from(sequence).unwrap(); 1000 * sequence as usize],
        };
        store.save_checkpoint("dep", &checkpoint).unwrap();
        assert_eq!(store.load_checkpoint("dep").unwrap().unwrap(), checkpoint);
    }
    // The current checkpoint and the one it replaced, nothing else.
    assert_eq!(files_under(&dir.path().join("snapshots")).len(), 2);
}

/// The journal commits a tick after the store wrote its snapshot: a
/// process that dies in between restarts with the journal one snapshot
/// behind the store, and finds the journal's snapshot still there.
#[test]
fn the_snapshot_the_journal_recorded_survives_a_crash_before_its_commit() {
    let dir = tempfile::tempdir().unwrap();
    let key = host_key();
    let at = |sequence: u64| Checkpoint {
        sequence,
        next_action_id: sequence,
        snapshot: format!("state after tick {sequence}").into_bytes(),
    };
    let store = store(dir.path(), &key);
    store.save_checkpoint("dep", &at(4)).unwrap();
    // Tick 4 commits snapshot 5 in the store; the process dies before the
    // journal's commit, which still says 4.
    store.save_checkpoint("dep", &at(5)).unwrap();
    drop(store);
    let store = crate::support::store(dir.path(), &key);
    assert_eq!(store.load_checkpoint_at("dep", 4).unwrap(), at(4));
    // Or it died after the commit: the journal says 5.
    let store = crate::support::store(dir.path(), &key);
    assert_eq!(store.load_checkpoint_at("dep", 5).unwrap(), at(5));
    // Older than the previous one is still a rollback, not a fallback.
    let store = crate::support::store(dir.path(), &key);
    assert!(matches!(
        store.load_checkpoint_at("dep", 3),
        Err(StoreError::SnapshotAhead {
            expected: 3,
            found: 5,
            ..
        })
    ));
}
