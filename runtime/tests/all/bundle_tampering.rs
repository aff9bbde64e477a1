//! Exhaustive tampering over a small bundle: every single-byte change and
//! every truncation is rejected, with the error the byte's field calls for.
//!
//! The fixed prefix routes the opening (magic, version, algorithm ids, key
//! id) and is read before any key is at hand, so a change there is reported
//! as what the changed bundle claims (not sealed, unknown version, unknown
//! algorithm, a key or recipient nobody holds). Those fields are also bound
//! into the key slot's associated data or fingerprint the key, so they could
//! never open anyway. Every other byte, and every truncation, fails
//! authentication.

use stratbox_runtime::bundle::{
    HostSecretKey, Kek, KeyProvider, KeyWrapper, Language, OpenError, StrategyMetadata,
};
use stratbox_test_artifacts::Guest;

use crate::support::runtime;

/// XOR masks applied to every byte: lowest bit, highest bit, all bits.
const MASKS: [u8; 3] = [0x01, 0x80, 0xFF];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expected {
    NotSealed,
    UnknownVersion,
    UnknownAlgorithm(&'static str),
    NoSuchKey,
    Authentication,
}

fn expected_at(offset: usize) -> Expected {
    match offset {
        0..8 => Expected::NotSealed,
        8..10 => Expected::UnknownVersion,
        10..12 => Expected::UnknownAlgorithm("payload"),
        12..14 => Expected::UnknownAlgorithm("key-wrap"),
        14..30 => Expected::NoSuchKey,
        _ => Expected::Authentication,
    }
}

fn classify(result: Result<stratbox_runtime::bundle::OpenedBundle, OpenError>) -> Expected {
    match result {
        Err(OpenError::NotSealed { .. }) => Expected::NotSealed,
        Err(OpenError::UnknownFormatVersion { .. }) => Expected::UnknownVersion,
        Err(OpenError::UnknownAlgorithm { field, .. }) => Expected::UnknownAlgorithm(field),
        Err(OpenError::WrongKey { .. } | OpenError::WrongRecipient { .. }) => Expected::NoSuchKey,
        Err(OpenError::Authentication { .. }) => Expected::Authentication,
        other => panic!("a tampered bundle must be rejected, got {other:?}"),
    }
}

fn exhaustively_tamper(to: &dyn KeyWrapper, keys: &dyn KeyProvider) {
    let component = Guest::Minimal.bytes();
    let bundle = runtime()
        .seal_bundle(
            &component,
            StrategyMetadata::new("tamper", "1", Language::Rust, "t"),
            to,
        )
        .unwrap();
    assert!(
        bundle.len() < 64 * 1024,
        "keep the bundle small: {} bytes",
        bundle.len()
    );
    runtime().open_bundle(&bundle, keys).unwrap();

    let mut tampered = bundle.clone();
    for offset in 0..bundle.len() {
        for mask in MASKS {
            tampered[offset] ^= mask;
            let got = classify(runtime().open_bundle(&tampered, keys));
            assert_eq!(
                got,
                expected_at(offset),
                "byte {offset} ^ {mask:#04x} of {}",
                bundle.len()
            );
            tampered[offset] ^= mask;
        }
    }
    for length in 0..bundle.len() {
        assert_eq!(
            classify(runtime().open_bundle(&bundle[..length], keys)),
            Expected::Authentication,
            "truncated to {length} of {} bytes",
            bundle.len()
        );
    }
    let mut extended = bundle.clone();
    extended.push(0);
    assert_eq!(
        classify(runtime().open_bundle(&extended, keys)),
        Expected::Authentication
    );
}

#[test]
fn every_byte_flip_and_truncation_of_a_kek_bundle_is_rejected() {
    let kek = Kek::generate().unwrap();
    exhaustively_tamper(&kek, &kek);
}

#[test]
fn every_byte_flip_and_truncation_of_a_public_key_bundle_is_rejected() {
    let host = HostSecretKey::generate().unwrap();
    exhaustively_tamper(host.public_key(), &host);
}
