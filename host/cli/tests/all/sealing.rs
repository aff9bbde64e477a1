//! `keygen`, `seal`, `inspect` on bundles and `rekey`, end to end.

use std::path::Path;

use stratbox_test_artifacts::Guest;

use crate::{stratbox, text};

fn arg(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn run_ok(args: &[&str]) -> String {
    let output = stratbox(args);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{args:?}: {stderr}");
    stdout
}

fn run_err(args: &[&str]) -> String {
    let output = stratbox(args);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{args:?} should fail");
    stderr
}

#[test]
fn keygen_seal_inspect_rekey_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let old_key = dir.path().join("old.key");
    let new_key = dir.path().join("new.key");
    let bundle = dir.path().join("rsi.bundle");
    run_ok(&["keygen", "--out", arg(&old_key)]);
    run_ok(&["keygen", "--kind", "kek", "--out", arg(&new_key)]);
    let component = Guest::RsiMomentum.path().to_str().unwrap();
    run_ok(&[
        "seal",
        component,
        "--name",
        "rsi",
        "--version",
        "2.0.0",
        "--author",
        "alice",
        "--key",
        arg(&old_key),
        "-o",
        arg(&bundle),
    ]);

    // Without a key: the manifest, marked unauthenticated.
    let shown = run_ok(&["inspect", arg(&bundle)]);
    assert!(shown.contains("name        rsi"), "{shown}");
    assert!(shown.contains("version     2.0.0"), "{shown}");
    assert!(shown.contains("NOT authenticated"), "{shown}");
    // With the key: authenticated, still without decrypting the code.
    let shown = run_ok(&["inspect", arg(&bundle), "--key", arg(&old_key), "--json"]);
    let json: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(json["authenticated"], true);
    assert_eq!(json["manifest"]["author"], "alice");
    let old_id = json["key_id"].as_str().unwrap().to_owned();

    run_ok(&[
        "rekey",
        arg(&bundle),
        "--key",
        arg(&old_key),
        "--to",
        arg(&new_key),
    ]);
    let shown = run_ok(&["inspect", arg(&bundle), "--key", arg(&new_key), "--json"]);
    let json: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_ne!(json["key_id"].as_str().unwrap(), old_id);
    let stderr = run_err(&["inspect", arg(&bundle), "--key", arg(&old_key)]);
    assert!(stderr.contains("does not hold"), "{stderr}");
}

#[test]
fn an_author_seals_to_a_host_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let host_key = dir.path().join("host.key");
    let bundle = dir.path().join("ema.bundle");
    run_ok(&["keygen", "--kind", "x25519", "--out", arg(&host_key)]);
    let public = dir.path().join("host.pub");
    assert!(public.exists());
    run_ok(&[
        "seal",
        Guest::EmaCrossover.path().to_str().unwrap(),
        "--version",
        "1",
        "--author",
        "bob",
        "--to",
        arg(&public),
        "-o",
        arg(&bundle),
    ]);
    let shown = run_ok(&["inspect", arg(&bundle), "--key", arg(&host_key)]);
    assert!(shown.contains("name        ema-crossover"), "{shown}");
    assert!(
        shown.contains("authenticated with the given key"),
        "{shown}"
    );
    // A public key cannot open anything.
    let stderr = run_err(&["inspect", arg(&bundle), "--key", arg(&public)]);
    assert!(stderr.contains("expected a secret key"), "{stderr}");

    let sealed = std::fs::read(&bundle).unwrap();
    let plain = Guest::EmaCrossover.bytes();
    let window = &plain[plain.len() / 2..plain.len() / 2 + 64];
    assert!(!sealed.windows(64).any(|w| w == window));
}

#[test]
fn bad_sealing_input_is_refused_with_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("host.key");
    run_ok(&["keygen", "--out", arg(&key)]);
    let stderr = run_err(&["keygen", "--out", arg(&key)]);
    assert!(stderr.contains("already exists"), "{stderr}");

    let out = dir.path().join("evil.bundle");
    let stderr = run_err(&[
        "seal",
        Guest::ForeignImport.path().to_str().unwrap(),
        "--version",
        "1",
        "--author",
        "eve",
        "--key",
        arg(&key),
        "-o",
        arg(&out),
    ]);
    assert!(stderr.contains("evil:exfil/net"), "{stderr}");
    assert!(!out.exists());

    let stderr = run_err(&[
        "seal",
        Guest::Minimal.path().to_str().unwrap(),
        "--version",
        "1",
        "--author",
        "eve",
    ]);
    assert!(stderr.contains("no key"), "{stderr}");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let stderr = run_err(&[
            "seal",
            Guest::Minimal.path().to_str().unwrap(),
            "--version",
            "1",
            "--author",
            "eve",
            "--key",
            arg(&key),
        ]);
        assert!(stderr.contains("chmod 600"), "{stderr}");
    }
}

/// `inspect` reads the manifest (and, with a key, authenticates it through
/// the key slot) without decrypting the component: a bundle whose payload
/// is destroyed still shows its manifest, with and without the key.
#[test]
fn inspect_shows_the_manifest_of_a_bundle_whose_payload_is_corrupted() {
    use stratbox_runtime::bundle::{AuthenticatedPart, OpenError, read_bundle};
    use stratbox_store::keys::FileKeyProvider;

    let dir = tempfile::tempdir().unwrap();
    for kind in ["kek", "x25519"] {
        let key = dir.path().join(format!("{kind}.key"));
        let bundle = dir.path().join(format!("{kind}.bundle"));
        run_ok(&["keygen", "--kind", kind, "--out", arg(&key)]);
        run_ok(&[
            "seal",
            Guest::Minimal.path().to_str().unwrap(),
            "--name",
            "corrupted",
            "--version",
            "3.1.4",
            "--author",
            "carol",
            "--key",
            arg(&key),
            "-o",
            arg(&bundle),
        ]);
        // Destroy every byte of the payload (ciphertext and tag).
        let mut bytes = std::fs::read(&bundle).unwrap();
        let payload = read_bundle(&bytes).unwrap().header.payload_bytes;
        let at = bytes.len() - payload;
        bytes[at..].iter_mut().for_each(|b| *b ^= 0xA5);
        std::fs::write(&bundle, &bytes).unwrap();
        // Opening (which decrypts) refuses it...
        let provider = FileKeyProvider::load(&key).unwrap();
        let runtime =
            stratbox_runtime::Runtime::new(stratbox_runtime::RuntimeConfig::default()).unwrap();
        assert!(matches!(
            runtime.open_bundle(&bytes, &provider),
            Err(OpenError::Authentication {
                part: AuthenticatedPart::Payload
            })
        ));

        // ...inspecting does not decrypt, so it still shows the manifest.
        let shown = run_ok(&["inspect", arg(&bundle)]);
        assert!(shown.contains("name        corrupted"), "{shown}");
        assert!(shown.contains("version     3.1.4"), "{shown}");
        assert!(shown.contains("author      carol"), "{shown}");
        assert!(shown.contains("NOT authenticated"), "{shown}");
        let shown = run_ok(&["inspect", arg(&bundle), "--key", arg(&key)]);
        assert!(shown.contains("name        corrupted"), "{shown}");
        assert!(
            shown.contains("authenticated with the given key (component not decrypted)"),
            "{shown}"
        );
        let shown = run_ok(&["inspect", arg(&bundle), "--key", arg(&key), "--json"]);
        let json: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(json["authenticated"], true);
        assert_eq!(json["manifest"]["name"], "corrupted");
        assert_eq!(json["payload_bytes"], payload);
    }
}
