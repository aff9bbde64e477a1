//! Sealing and opening bundles: KEK and public-key round trips, host
//! isolation, rekeying, the manifest, and the checks made after decryption.

use std::sync::Mutex;

use stratbox_runtime::bundle::{
    DataKey, HostSecretKey, Kek, KeySlot, KeyWrapper, Language, ObjectKind, OpenError, SealError,
    StrategyMetadata, WrapAlgorithm, authenticate_manifest, read_bundle, rekey, seal_bundle,
    seal_object,
};
use stratbox_runtime::{
    AllowAll, CacheOutcome, Deployment, DeploymentHost, DeploymentSpec, LoadError, LoadLimits,
    MemoryArtifactCache, Runtime, RuntimeConfig, TickInput,
};
use stratbox_test_artifacts::Guest;

use crate::support::{Clock, block, runtime};

fn metadata(name: &str) -> StrategyMetadata {
    StrategyMetadata::new(name, "1.2.3", Language::Rust, "alice@example.com")
}

#[test]
fn a_kek_sealed_bundle_opens_loads_and_runs() {
    let kek = Kek::generate().unwrap();
    let component = Guest::RsiMomentum.bytes();
    let bundle = runtime()
        .seal_bundle(&component, metadata("rsi"), &kek)
        .unwrap();
    let opened = runtime().open_bundle(&bundle, &kek).unwrap();
    assert_eq!(opened.component(), component.as_slice());
    let manifest = opened.manifest();
    assert_eq!(manifest.name, "rsi");
    assert_eq!(manifest.version, "1.2.3");
    assert_eq!(manifest.world_version, stratbox_runtime::WORLD_VERSION);
    assert_eq!(manifest.language, Language::Rust);
    assert_eq!(manifest.author, "alice@example.com");
    assert_eq!(manifest.component_bytes, component.len() as u64);
    assert_eq!(manifest.component_sha256, opened.info().sha256);

    let cache = MemoryArtifactCache::new();
    let (first, _, outcome) = runtime().load_bundle(&bundle, &kek, &cache).unwrap();
    assert!(matches!(outcome, CacheOutcome::Miss));
    let (second, _, outcome) = runtime().load_bundle(&bundle, &kek, &cache).unwrap();
    assert!(matches!(outcome, CacheOutcome::Hit));
    for component in [first, second] {
        let (mut deployment, _) = Deployment::new(
            runtime(),
            &component,
            DeploymentSpec::new("sealed-rsi", "{}"),
            DeploymentHost::new(Clock, AllowAll),
        )
        .unwrap();
        deployment.tick(TickInput::at(block(1))).unwrap();
    }
}

#[test]
fn an_author_seals_to_a_host_public_key_without_its_secret() {
    let host = HostSecretKey::generate().unwrap();
    let public = host.public_key().clone();
    let component = Guest::Minimal.bytes();
    let bundle = runtime()
        .seal_bundle(&component, metadata("minimal"), &public)
        .unwrap();
    let opened = runtime().open_bundle(&bundle, &host).unwrap();
    assert_eq!(opened.component(), component.as_slice());
    assert_eq!(read_bundle(&bundle).unwrap().header.key_id, public.id());
}

#[test]
fn a_bundle_sealed_for_host_a_cannot_be_opened_by_host_b() {
    let component = Guest::Minimal.bytes();
    let host_a = HostSecretKey::generate().unwrap();
    let host_b = HostSecretKey::generate().unwrap();
    let bundle = runtime()
        .seal_bundle(&component, metadata("for-a"), host_a.public_key())
        .unwrap();
    match runtime().open_bundle(&bundle, &host_b) {
        Err(OpenError::WrongRecipient { recipient }) => assert_eq!(recipient, host_a.id()),
        other => panic!("expected WrongRecipient, got {other:?}"),
    }

    let kek_a = Kek::generate().unwrap();
    let kek_b = Kek::generate().unwrap();
    let bundle = runtime()
        .seal_bundle(&component, metadata("for-a"), &kek_a)
        .unwrap();
    match runtime().open_bundle(&bundle, &kek_b) {
        Err(OpenError::WrongKey { key_id }) => assert_eq!(key_id, kek_a.id()),
        other => panic!("expected WrongKey, got {other:?}"),
    }
}

#[test]
fn rekey_rewraps_the_data_key_and_keeps_the_payload() {
    let component = Guest::Minimal.bytes();
    let old = Kek::generate().unwrap();
    let new = Kek::generate().unwrap();
    let bundle = runtime()
        .seal_bundle(&component, metadata("rekeyed"), &old)
        .unwrap();
    let rekeyed = rekey(&bundle, &old, &new).unwrap();

    let before = read_bundle(&bundle).unwrap();
    let after = read_bundle(&rekeyed).unwrap();
    assert_eq!(after.header.key_id, new.id());
    assert_eq!(after.manifest, before.manifest);
    assert_eq!(after.header.payload_bytes, before.header.payload_bytes);
    let payload = before.header.payload_bytes;
    assert_eq!(
        rekeyed[rekeyed.len() - payload..],
        bundle[bundle.len() - payload..],
        "payload ciphertext must be byte-for-byte unchanged"
    );

    assert_eq!(
        runtime().open_bundle(&rekeyed, &new).unwrap().component(),
        component.as_slice()
    );
    assert!(matches!(
        runtime().open_bundle(&rekeyed, &old),
        Err(OpenError::WrongKey { .. })
    ));

    // Rekeying also moves a bundle from a KEK to a host's public key.
    let host = HostSecretKey::generate().unwrap();
    let to_host = rekey(&rekeyed, &new, host.public_key()).unwrap();
    assert_eq!(
        runtime().open_bundle(&to_host, &host).unwrap().component(),
        component.as_slice()
    );
    assert_eq!(
        to_host[to_host.len() - payload..],
        bundle[bundle.len() - payload..]
    );
}

#[test]
fn the_manifest_reads_without_a_key_and_authenticates_with_one() {
    let kek = Kek::generate().unwrap();
    let bundle = runtime()
        .seal_bundle(&Guest::Minimal.bytes(), metadata("shown"), &kek)
        .unwrap();
    let summary = read_bundle(&bundle).unwrap();
    assert_eq!(summary.manifest.name, "shown");
    assert_eq!(summary.header.key_id, kek.id());
    assert_eq!(
        authenticate_manifest(&bundle, &kek).unwrap().manifest,
        summary.manifest
    );
    assert!(matches!(
        authenticate_manifest(&bundle, &Kek::generate().unwrap()),
        Err(OpenError::WrongKey { .. })
    ));
}

#[test]
fn opening_checks_the_component_hash_after_decryption() {
    let kek = Kek::generate().unwrap();
    let component = Guest::Minimal.bytes();
    let good = runtime()
        .seal_bundle(&component, metadata("liar"), &kek)
        .unwrap();
    // An authentic bundle (sealed by a key holder) whose manifest names
    // another component.
    let mut manifest = read_bundle(&good).unwrap().manifest;
    manifest.component_sha256 = "00".repeat(32);
    let lying = seal_object(
        ObjectKind::Bundle,
        &serde_json::to_vec(&manifest).unwrap(),
        &[],
        &component,
        &kek,
    )
    .unwrap();
    assert!(matches!(
        runtime().open_bundle(&lying, &kek),
        Err(OpenError::HashMismatch { .. })
    ));
}

#[test]
fn opening_checks_the_import_allow_list_before_compiling() {
    let kek = Kek::generate().unwrap();
    let component = Guest::ForeignImport.bytes();
    // `Runtime::seal_bundle` refuses it up front...
    assert!(matches!(
        runtime().seal_bundle(&component, metadata("evil"), &kek),
        Err(SealError::Component(LoadError::ForbiddenImports { .. }))
    ));
    // ...and a bundle made around that check is refused on opening.
    let mut manifest = read_bundle(
        &runtime()
            .seal_bundle(&Guest::Minimal.bytes(), metadata("evil"), &kek)
            .unwrap(),
    )
    .unwrap()
    .manifest;
    (manifest.component_sha256, manifest.component_bytes) = sha256_and_len(&component);
    let bundle = seal_bundle(&component, &manifest, &kek).unwrap();
    match runtime().open_bundle(&bundle, &kek) {
        Err(OpenError::Component(LoadError::ForbiddenImports { imports })) => {
            assert!(
                imports.iter().any(|i| i.contains("evil:exfil")),
                "{imports:?}"
            );
        }
        other => panic!("expected ForbiddenImports, got {other:?}"),
    }
}

fn sha256_and_len(bytes: &[u8]) -> (String, u64) {
    use sha2::{Digest, Sha256};
    (hex::encode(Sha256::digest(bytes)), bytes.len() as u64)
}

#[test]
fn an_oversized_payload_is_refused_before_decryption() {
    let kek = Kek::generate().unwrap();
    let component = Guest::Minimal.bytes();
    let bundle = runtime()
        .seal_bundle(&component, metadata("big"), &kek)
        .unwrap();
    let small = Runtime::new(RuntimeConfig {
        load: LoadLimits {
            component_bytes: 64,
            ..LoadLimits::default()
        },
        ..RuntimeConfig::default()
    })
    .unwrap();
    // The wrong key proves the refusal comes before any unwrapping.
    assert!(matches!(
        small.open_bundle(&bundle, &Kek::generate().unwrap()),
        Err(OpenError::Component(LoadError::LimitExceeded { .. }))
    ));
}

#[test]
fn metadata_that_cannot_name_a_file_is_refused() {
    let kek = Kek::generate().unwrap();
    for name in ["", "../etc", ".hidden", "a/b", "spaces here"] {
        assert!(
            matches!(
                runtime().seal_bundle(&Guest::Minimal.bytes(), metadata(name), &kek),
                Err(SealError::InvalidMetadata { field: "name", .. })
            ),
            "{name:?}"
        );
    }
}

/// A key wrapper that remembers every data key it is asked to wrap.
struct Recording<'a> {
    inner: &'a dyn KeyWrapper,
    seen: Mutex<Vec<[u8; 32]>>,
}

impl KeyWrapper for Recording<'_> {
    fn wrap(&self, data_key: &DataKey, aad: &[u8]) -> Result<KeySlot, SealError> {
        self.seen.lock().unwrap().push(*data_key.expose_secret());
        self.inner.wrap(data_key, aad)
    }
}

/// Bytes 30..54: the payload nonce (see the format table).
fn payload_nonce(sealed: &[u8]) -> &[u8] {
    &sealed[30..54]
}

#[test]
fn each_seal_uses_a_fresh_data_key_and_nonce() {
    let component = Guest::Minimal.bytes();
    let kek = Kek::generate().unwrap();
    let host = HostSecretKey::generate().unwrap();
    for to in [&kek as &dyn KeyWrapper, host.public_key()] {
        let recording = Recording {
            inner: to,
            seen: Mutex::new(Vec::new()),
        };
        // The same component, metadata and key, sealed twice.
        let metadata = metadata("twice");
        let first = runtime()
            .seal_bundle(&component, metadata.clone(), &recording)
            .unwrap();
        let second = runtime()
            .seal_bundle(&component, metadata, &recording)
            .unwrap();
        let keys = recording.seen.lock().unwrap().clone();
        assert_eq!(keys.len(), 2);
        assert_ne!(keys[0], keys[1], "a data key was reused");
        assert_ne!(keys[0], [0; 32]);
        assert_ne!(payload_nonce(&first), payload_nonce(&second));

        let header = read_bundle(&first).unwrap().header;
        assert_eq!(header, read_bundle(&second).unwrap().header);
        let payload = header.payload_bytes;
        assert_ne!(
            first[first.len() - payload..],
            second[second.len() - payload..],
            "the same component sealed twice must not give the same ciphertext"
        );
        // Key slots differ too (fresh wrap nonce or ephemeral HPKE key).
        let slot_at = 58 + header.metadata_bytes;
        assert_ne!(
            first[slot_at..first.len() - payload],
            second[slot_at..second.len() - payload]
        );
        // The documented layout: prefix, metadata, a 72- or 80-byte slot,
        // the payload with its tag.
        let slot = match header.wrap_algorithm {
            WrapAlgorithm::Kek => 72,
            WrapAlgorithm::HpkeX25519 => 80,
        };
        assert_eq!(first.len(), 58 + header.metadata_bytes + slot + payload);
        assert_eq!(payload, component.len() + 16);
        // Both open, to the same component.
        for bundle in [&first, &second] {
            let opened = match header.wrap_algorithm {
                WrapAlgorithm::Kek => runtime().open_bundle(bundle, &kek),
                WrapAlgorithm::HpkeX25519 => runtime().open_bundle(bundle, &host),
            };
            assert_eq!(opened.unwrap().component(), component.as_slice());
        }
    }
}

/// A key holder seals a valid component under a manifest naming another
/// world version than the component targets: opening refuses it, before
/// anything is compiled, and so does loading it through a cache.
#[test]
fn a_manifest_naming_another_world_version_is_refused_on_opening() {
    let kek = Kek::generate().unwrap();
    let component = Guest::Minimal.bytes();
    let honest = runtime()
        .seal_bundle(&component, metadata("world"), &kek)
        .unwrap();
    let manifest = read_bundle(&honest).unwrap().manifest;
    assert_eq!(manifest.world_version, stratbox_runtime::WORLD_VERSION);
    runtime().open_bundle(&honest, &kek).unwrap();

    for claimed in ["0.1.0", "0.2.0", "0.2.2", "1.0.0", "not a version"] {
        let mut lying = manifest.clone();
        lying.world_version = claimed.to_owned();
        let bundle = seal_bundle(&component, &lying, &kek).unwrap();
        assert_eq!(
            read_bundle(&bundle).unwrap().manifest.world_version,
            claimed
        );
        match runtime().open_bundle(&bundle, &kek) {
            Err(OpenError::WorldVersionMismatch {
                manifest,
                component,
            }) => {
                assert_eq!(manifest, claimed);
                assert_eq!(component, stratbox_runtime::WORLD_VERSION);
            }
            other => panic!("{claimed}: expected WorldVersionMismatch, got {other:?}"),
        }
        let cache = MemoryArtifactCache::new();
        assert!(matches!(
            runtime().load_bundle(&bundle, &kek, &cache),
            Err(OpenError::WorldVersionMismatch { .. })
        ));
        assert!(cache.is_empty(), "nothing may be compiled");
    }
}

/// A bundle loaded as the strategy its file is named for must be that
/// strategy: the name is in the authenticated manifest, and
/// `load_named_bundle` compares it before decrypting or compiling anything.
#[test]
fn a_bundle_loaded_under_another_strategys_name_is_refused() {
    let host = HostSecretKey::generate().unwrap();
    let bundle = runtime()
        .seal_bundle(
            &Guest::Minimal.bytes(),
            metadata("alpha"),
            host.public_key(),
        )
        .unwrap();
    let cache = MemoryArtifactCache::new();
    match runtime().load_named_bundle("beta", &bundle, &host, &cache) {
        Err(OpenError::NameMismatch { expected, found }) => {
            assert_eq!((expected.as_str(), found.as_str()), ("beta", "alpha"));
        }
        other => panic!("expected NameMismatch, got {:?}", other.map(|(_, m, _)| m)),
    }
    // Nothing was compiled for the refused load.
    let (_, manifest, outcome) = runtime()
        .load_named_bundle("alpha", &bundle, &host, &cache)
        .unwrap();
    assert_eq!(manifest.name, "alpha");
    assert!(matches!(outcome, CacheOutcome::Miss));
}

/// A store's bundle receipt is a kind of its own: it never opens as a
/// bundle, snapshot or artifact, nor they as a receipt.
#[test]
fn receipts_are_their_own_kind_of_sealed_object() {
    let kek = Kek::generate().unwrap();
    let receipt = seal_object(ObjectKind::Receipt, b"digest", b"receipt:x", b"", &kek).unwrap();
    assert!(ObjectKind::Receipt.matches(&receipt));
    for kind in [
        ObjectKind::Bundle,
        ObjectKind::Artifact,
        ObjectKind::Snapshot,
    ] {
        assert!(matches!(
            stratbox_runtime::bundle::open_object(kind, b"receipt:x", &receipt, &kek),
            Err(OpenError::WrongKind {
                found: ObjectKind::Receipt,
                ..
            })
        ));
    }
    let opened =
        stratbox_runtime::bundle::open_object(ObjectKind::Receipt, b"receipt:x", &receipt, &kek)
            .unwrap();
    assert_eq!(opened.metadata, b"digest");
}
