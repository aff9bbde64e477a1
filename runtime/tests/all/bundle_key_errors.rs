//! Each reason a bundle does not open is its own typed error: wrong key,
//! wrong recipient, unknown format version, unknown algorithm, wrong kind of
//! object, not a sealed object at all.

use stratbox_runtime::bundle::{
    FORMAT_VERSION, HostSecretKey, Kek, Language, ObjectKind, OpenError, StrategyMetadata,
    open_object, seal_object,
};
use stratbox_test_artifacts::Guest;

use crate::support::runtime;

fn sealed_with(kek: &Kek) -> Vec<u8> {
    runtime()
        .seal_bundle(
            &Guest::Minimal.bytes(),
            StrategyMetadata::new("keys", "1", Language::Rust, "test"),
            kek,
        )
        .unwrap()
}

#[test]
fn wrong_key_names_the_key_the_bundle_needs() {
    let kek = Kek::generate().unwrap();
    let bundle = sealed_with(&kek);
    match runtime().open_bundle(&bundle, &Kek::generate().unwrap()) {
        Err(OpenError::WrongKey { key_id }) => assert_eq!(key_id, kek.id()),
        other => panic!("expected WrongKey, got {other:?}"),
    }
    // A host holding only an X25519 key has no KEK either.
    assert!(matches!(
        runtime().open_bundle(&bundle, &HostSecretKey::generate().unwrap()),
        Err(OpenError::WrongKey { .. })
    ));
}

#[test]
fn wrong_recipient_names_the_public_key_the_bundle_was_sealed_to() {
    let host = HostSecretKey::generate().unwrap();
    let bundle = runtime()
        .seal_bundle(
            &Guest::Minimal.bytes(),
            StrategyMetadata::new("keys", "1", Language::Rust, "test"),
            host.public_key(),
        )
        .unwrap();
    for other in [
        Box::new(HostSecretKey::generate().unwrap())
            as Box<dyn stratbox_runtime::bundle::KeyProvider>,
        Box::new(Kek::generate().unwrap()),
    ] {
        match runtime().open_bundle(&bundle, other.as_ref()) {
            Err(OpenError::WrongRecipient { recipient }) => assert_eq!(recipient, host.id()),
            other => panic!("expected WrongRecipient, got {other:?}"),
        }
    }
}

#[test]
fn an_unknown_format_version_is_named() {
    let kek = Kek::generate().unwrap();
    let mut bundle = sealed_with(&kek);
    bundle[8..10].copy_from_slice(&2u16.to_be_bytes());
    match runtime().open_bundle(&bundle, &kek) {
        Err(OpenError::UnknownFormatVersion { found, supported }) => {
            assert_eq!((found, supported), (2, FORMAT_VERSION));
        }
        other => panic!("expected UnknownFormatVersion, got {other:?}"),
    }
}

#[test]
fn unknown_algorithms_are_named_by_field() {
    let kek = Kek::generate().unwrap();
    let bundle = sealed_with(&kek);
    for (at, expected_field) in [(10, "payload"), (12, "key-wrap")] {
        let mut changed = bundle.clone();
        changed[at..at + 2].copy_from_slice(&0x4145u16.to_be_bytes());
        match runtime().open_bundle(&changed, &kek) {
            Err(OpenError::UnknownAlgorithm { field, id }) => {
                assert_eq!((field, id), (expected_field, 0x4145));
            }
            other => panic!("expected UnknownAlgorithm, got {other:?}"),
        }
    }
}

#[test]
fn other_sealed_objects_and_other_files_are_not_bundles() {
    let kek = Kek::generate().unwrap();
    let snapshot = seal_object(ObjectKind::Snapshot, &[], b"dep-1", b"state", &kek).unwrap();
    assert!(matches!(
        runtime().open_bundle(&snapshot, &kek),
        Err(OpenError::WrongKind {
            expected: ObjectKind::Bundle,
            found: ObjectKind::Snapshot
        })
    ));
    for not_sealed in [Guest::Minimal.bytes(), b"hello, world".to_vec()] {
        assert!(matches!(
            runtime().open_bundle(&not_sealed, &kek),
            Err(OpenError::NotSealed { .. })
        ));
    }
}

#[test]
fn the_context_binds_an_object_to_where_it_is_filed() {
    let kek = Kek::generate().unwrap();
    let sealed = seal_object(ObjectKind::Snapshot, &[], b"dep-1", b"state", &kek).unwrap();
    assert_eq!(
        open_object(ObjectKind::Snapshot, b"dep-1", &sealed, &kek)
            .unwrap()
            .plaintext
            .as_slice(),
        b"state"
    );
    assert!(matches!(
        open_object(ObjectKind::Snapshot, b"dep-2", &sealed, &kek),
        Err(OpenError::Authentication { .. })
    ));
}
