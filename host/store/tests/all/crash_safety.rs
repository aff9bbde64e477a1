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
    assert_eq!(files_under(&dir.path().join("snapshots")).len(), 1);
}
