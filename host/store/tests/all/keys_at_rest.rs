//! Secret keys never rest on disk in the clear: key files are sealed under
//! a passphrase-derived key (Argon2id, parameters in the file), a plaintext
//! secret key file is refused with a typed error naming the command that
//! seals it, and the environment-variable route removes the variable once
//! read.

use stratbox_runtime::bundle::{HostSecretKey, Kek, SecretKey};
use stratbox_store::keys::{
    EnvKeyProvider, FileKeyProvider, KdfParams, KeyLoadError, KeyText, Passphrase, SealedKind,
    encode_secret_key, parse_key_text, seal_plaintext_key_file, seal_secret, write_secret_key,
};
use zeroize::Zeroizing;

use crate::key_providers::passphrase;

fn write_private(path: &std::path::Path, text: &[u8]) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

#[test]
fn a_key_file_holds_the_key_sealed_and_opens_only_with_its_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("host.key");
    let secret = HostSecretKey::generate().unwrap();
    let raw = secret.to_bytes();
    let key = SecretKey::X25519(secret);
    write_secret_key(&path, &key, &passphrase(), KdfParams::default()).unwrap();

    // Neither the key's bytes nor their hex are in the file; the Argon2id
    // parameters are.
    let text = std::fs::read(&path).unwrap();
    assert!(!text.windows(32).any(|w| w == raw.as_slice()));
    let hex_key = hex::encode(raw.as_slice());
    assert!(!String::from_utf8_lossy(&text).contains(&hex_key));
    match parse_key_text("host.key", &text).unwrap() {
        KeyText::Sealed(sealed) => {
            assert_eq!(sealed.kind(), SealedKind::X25519Secret);
            assert_eq!(sealed.params(), KdfParams::default());
            assert_eq!(sealed.id(), key.id().to_string());
        }
        other => panic!("expected a sealed key, got {other:?}"),
    }

    let loaded = FileKeyProvider::load(&path, Some(&passphrase())).unwrap();
    assert_eq!(loaded.id(), key.id());
    let wrong = Passphrase::new(Zeroizing::new("wrong".into()), "test").unwrap();
    assert!(matches!(
        FileKeyProvider::load(&path, Some(&wrong)),
        Err(KeyLoadError::WrongPassphrase { .. })
    ));
    assert!(matches!(
        FileKeyProvider::load(&path, None),
        Err(KeyLoadError::PassphraseRequired { .. })
    ));

    // Every stored field is authenticated: a changed parameter, kind or id
    // fails like a wrong passphrase (or is refused as out of range).
    let original = String::from_utf8(text).unwrap();
    for (from, to) in [
        ("\"iterations\":3", "\"iterations\":4"),
        ("\"memory_kib\":65536", "\"memory_kib\":65537"),
        ("\"kind\":\"x25519-secret\"", "\"kind\":\"kek\""),
    ] {
        assert!(original.contains(from), "{from} in {original}");
        std::fs::remove_file(&path).unwrap();
        write_private(&path, original.replace(from, to).as_bytes());
        assert!(
            matches!(
                FileKeyProvider::load(&path, Some(&passphrase())),
                Err(KeyLoadError::WrongPassphrase { .. })
            ),
            "{to}"
        );
    }
    std::fs::remove_file(&path).unwrap();
    write_private(
        &path,
        original
            .replace("\"memory_kib\":65536", "\"memory_kib\":8")
            .as_bytes(),
    );
    assert!(matches!(
        FileKeyProvider::load(&path, Some(&passphrase())),
        Err(KeyLoadError::Malformed { .. })
    ));
    // Unknown fields are refused, as in every user file.
    std::fs::remove_file(&path).unwrap();
    write_private(
        &path,
        original.replacen('{', "{\"surprise\":1,", 1).as_bytes(),
    );
    assert!(matches!(
        FileKeyProvider::load(&path, Some(&passphrase())),
        Err(KeyLoadError::Malformed { .. })
    ));
}

/// Key files written by earlier versions held the key in hex: refused, with
/// an error that names the command sealing them; the conversion keeps the
/// key.
#[test]
fn a_plaintext_secret_key_file_is_refused_and_can_be_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.key");
    let key = SecretKey::Kek(Kek::generate().unwrap());
    write_private(&old, encode_secret_key(&key).as_bytes());
    let error = FileKeyProvider::load(&old, Some(&passphrase())).unwrap_err();
    assert!(
        matches!(error, KeyLoadError::PlaintextSecret { .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("stratbox keygen --from-plaintext"),
        "{error}"
    );
    assert!(matches!(
        stratbox_store::keys::load_wrap_target(&old, None),
        Err(KeyLoadError::PlaintextSecret { .. })
    ));

    let new = dir.path().join("new.key");
    let id = seal_plaintext_key_file(&old, &new, &passphrase(), KdfParams::default()).unwrap();
    assert_eq!(id, key.id());
    assert_eq!(
        FileKeyProvider::load(&new, Some(&passphrase()))
            .unwrap()
            .id(),
        key.id()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&new).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

/// A key (or a passphrase) read from an environment variable is removed
/// from the environment once read.
#[test]
fn the_environment_route_removes_the_variable_after_reading() {
    const KEY_VAR: &str = "STRATBOX_TEST_KEYS_AT_REST_KEY";
    const PASS_VAR: &str = "STRATBOX_TEST_KEYS_AT_REST_PASSPHRASE";
    let key = SecretKey::X25519(HostSecretKey::generate().unwrap());
    let text = encode_secret_key(&key);
    // SAFETY: these variables are this test's own; no other test reads or
    // writes them.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var(KEY_VAR, text.as_str());
        std::env::set_var(PASS_VAR, "correct horse battery staple");
    }
    let provider = EnvKeyProvider::load(KEY_VAR, None).unwrap();
    assert_eq!(provider.id(), key.id());
    assert!(std::env::var_os(KEY_VAR).is_none());
    // This process still has it (a reconnect, a second deployment naming
    // the same variable); nothing it starts does.
    assert_eq!(EnvKeyProvider::load(KEY_VAR, None).unwrap().id(), key.id());
    let child = std::process::Command::new("sh")
        .args(["-c", &format!("printenv {KEY_VAR} || true")])
        .output()
        .unwrap();
    assert!(child.stdout.is_empty(), "a child process sees the key");

    let pass = Passphrase::from_env(PASS_VAR).unwrap();
    assert!(std::env::var_os(PASS_VAR).is_none());
    // The passphrase from the variable opens a key sealed under the same
    // text.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("host.key");
    write_secret_key(&path, &key, &passphrase(), KdfParams::default()).unwrap();
    assert_eq!(
        FileKeyProvider::load(&path, Some(&pass)).unwrap().id(),
        key.id()
    );
    assert!(matches!(
        Passphrase::from_env("STRATBOX_TEST_SURELY_UNSET_PASSPHRASE"),
        Err(KeyLoadError::MissingVariable { .. })
    ));
}

/// A deployment signing key (secp256k1) seals the same way, and is not
/// taken for a host key.
#[test]
fn a_sealed_signing_key_is_not_a_host_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deployer.key");
    let secret = [7u8; 32];
    let text = seal_secret(
        SealedKind::Secp256k1Secret,
        "0xdeployer",
        &secret,
        &passphrase(),
        KdfParams::default(),
    )
    .unwrap();
    write_private(&path, text.as_bytes());
    assert!(matches!(
        FileKeyProvider::load(&path, Some(&passphrase())),
        Err(KeyLoadError::WrongKind { .. })
    ));
    match parse_key_text("deployer.key", text.as_bytes()).unwrap() {
        KeyText::Sealed(sealed) => assert_eq!(*sealed.open(&passphrase()).unwrap(), secret),
        other => panic!("expected a sealed key, got {other:?}"),
    }
}
