//! Key providers: key files (private to their owner, never overwritten),
//! environment variables holding key-file text, and the KMS hook.

use std::sync::Arc;

use stratbox_runtime::bundle::{HostSecretKey, Kek, OpenError, SecretKey};
use stratbox_store::Store;
use stratbox_store::keys::{
    EnvKeyProvider, FileKeyProvider, KdfParams, KeyLoadError, KmsClient, KmsKeyProvider,
    Passphrase, encode_secret_key, load_public_key, load_wrap_target, write_public_key,
    write_secret_key,
};
use stratbox_test_artifacts::Guest;
use zeroize::Zeroizing;

use crate::support::{runtime, sealed};

/// The passphrase the tests seal key files under.
pub fn passphrase() -> Passphrase {
    Passphrase::new(
        Zeroizing::new("correct horse battery staple".into()),
        "test",
    )
    .unwrap()
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_key_file_round_trips_and_opens_what_its_key_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("host.key");
    let key = SecretKey::Kek(Kek::generate().unwrap());
    write_secret_key(&path, &key, &passphrase(), KdfParams::default()).unwrap();
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);
    let provider = FileKeyProvider::load(&path, Some(&passphrase())).unwrap();
    assert_eq!(provider.id(), key.id());
    let bundle = sealed(Guest::Minimal, "k", &key);
    runtime().open_bundle(&bundle, &provider).unwrap();
}

#[test]
fn key_files_are_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("host.key");
    let first = SecretKey::Kek(Kek::generate().unwrap());
    write_secret_key(&path, &first, &passphrase(), KdfParams::default()).unwrap();
    let second = SecretKey::Kek(Kek::generate().unwrap());
    assert!(matches!(
        write_secret_key(&path, &second, &passphrase(), KdfParams::default()),
        Err(KeyLoadError::Exists { .. })
    ));
    assert_eq!(
        FileKeyProvider::load(&path, Some(&passphrase()))
            .unwrap()
            .id(),
        first.id()
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[cfg(unix)]
#[test]
fn a_secret_key_file_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("host.key");
    write_secret_key(
        &path,
        &SecretKey::Kek(Kek::generate().unwrap()),
        &passphrase(),
        KdfParams::default(),
    )
    .unwrap();
    for loose in [0o644, 0o640, 0o604, 0o660] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(loose)).unwrap();
        match FileKeyProvider::load(&path, Some(&passphrase())) {
            Err(KeyLoadError::Permissions { mode, .. }) => assert_eq!(mode, loose),
            other => panic!("expected Permissions for {loose:o}, got {other:?}"),
        }
        assert!(matches!(
            load_wrap_target(&path, Some(&passphrase())),
            Err(KeyLoadError::Permissions { .. })
        ));
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
    FileKeyProvider::load(&path, Some(&passphrase())).unwrap();
}

#[test]
fn a_public_key_file_seals_but_cannot_open() {
    let dir = tempfile::tempdir().unwrap();
    let secret = HostSecretKey::generate().unwrap();
    let public_path = dir.path().join("host.pub");
    write_public_key(&public_path, secret.public_key()).unwrap();
    #[cfg(unix)]
    assert_eq!(mode(&public_path), 0o644);
    assert_eq!(&load_public_key(&public_path).unwrap(), secret.public_key());
    assert!(matches!(
        FileKeyProvider::load(&public_path, None),
        Err(KeyLoadError::WrongKind { .. })
    ));

    let target = load_wrap_target(&public_path, None).unwrap();
    let bundle = runtime()
        .seal_bundle(
            &Guest::Minimal.bytes(),
            stratbox_runtime::bundle::StrategyMetadata::new(
                "pub",
                "1",
                stratbox_runtime::bundle::Language::Rust,
                "a",
            ),
            target.as_ref(),
        )
        .unwrap();
    let secret_path = dir.path().join("host.key");
    write_secret_key(
        &secret_path,
        &SecretKey::X25519(secret),
        &passphrase(),
        KdfParams::default(),
    )
    .unwrap();
    let host = FileKeyProvider::load(&secret_path, Some(&passphrase())).unwrap();
    runtime().open_bundle(&bundle, &host).unwrap();
}

#[test]
fn malformed_key_files_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.key");
    for text in [
        "not json",
        r#"{"format":1,"kind":"kek","key":"abcd"}"#,
        r#"{"format":2,"kind":"kek","key":"00"}"#,
        r#"{"format":1,"kind":"rsa","key":"00"}"#,
    ] {
        std::fs::write(&path, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        assert!(
            matches!(
                FileKeyProvider::load(&path, Some(&passphrase())),
                Err(KeyLoadError::Malformed { .. })
            ),
            "{text}"
        );
    }
    assert!(matches!(
        FileKeyProvider::load(dir.path().join("absent.key"), None),
        Err(KeyLoadError::Io { .. })
    ));
}

#[test]
fn an_environment_key_holds_key_file_text() {
    let key = SecretKey::X25519(HostSecretKey::generate().unwrap());
    let provider =
        EnvKeyProvider::from_text("STRATBOX_KEY", encode_secret_key(&key).as_bytes(), None)
            .unwrap();
    assert_eq!(provider.id(), key.id());
    let bundle = sealed(Guest::Minimal, "env", &key);
    runtime().open_bundle(&bundle, &provider).unwrap();
    assert!(matches!(
        EnvKeyProvider::load("STRATBOX_TEST_SURELY_UNSET_VARIABLE", None),
        Err(KeyLoadError::MissingVariable { .. })
    ));
    assert!(matches!(
        EnvKeyProvider::from_text("STRATBOX_KEY", b"{}", None),
        Err(KeyLoadError::Malformed { .. })
    ));
}

/// A stand-in KMS: "encrypts" by reversing, and can be unreachable.
struct FakeKms {
    reachable: bool,
}

impl KmsClient for FakeKms {
    fn decrypt(&self, key_ref: &str, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
        if !self.reachable {
            return Err(format!("{key_ref}: connection refused"));
        }
        Ok(Zeroizing::new(ciphertext.iter().rev().copied().collect()))
    }
}

#[test]
fn the_kms_hook_unseals_a_store_key() {
    let key = SecretKey::Kek(Kek::generate().unwrap());
    let encrypted: Vec<u8> = encode_secret_key(&key).bytes().rev().collect();
    let provider =
        KmsKeyProvider::unseal(&FakeKms { reachable: true }, "kms://host-key", &encrypted).unwrap();
    assert_eq!(provider.id(), key.id());
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Arc::new(provider)).unwrap();
    store
        .import_bundle(runtime(), &sealed(Guest::Minimal, "kms", &key))
        .unwrap();
    assert!(matches!(
        KmsKeyProvider::unseal(&FakeKms { reachable: false }, "kms://host-key", &encrypted),
        Err(KeyLoadError::Kms { .. })
    ));
    // A store opened under another key refuses what this one sealed.
    let other = Store::open(
        dir.path(),
        Arc::new(SecretKey::Kek(Kek::generate().unwrap())),
    )
    .unwrap();
    assert!(matches!(
        other.load_strategy(runtime(), "kms"),
        Err(stratbox_store::StoreError::Open(OpenError::WrongKey { .. }))
    ));
}
