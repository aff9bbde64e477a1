//! `keygen`, `seal`, `inspect` on bundles and `rekey`, end to end; key
//! files sealed under a passphrase, plaintext ones refused and converted.

use std::path::Path;
use std::process::{Command, Output};

use stratbox_test_artifacts::Guest;

use crate::text;

/// The variable every command here reads its passphrase from.
const PASS_VAR: &str = "STRATBOX_TEST_PASSPHRASE";
/// `--passphrase-env PASS_VAR`.
const PASS: [&str; 2] = ["--passphrase-env", PASS_VAR];

/// Run `stratbox` with `args`, the passphrase in [`PASS_VAR`].
fn stratbox(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(args)
        .env(PASS_VAR, "correct horse battery staple")
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .expect("stratbox runs")
}

/// `args` followed by [`PASS`].
fn with_pass<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = args.to_vec();
    all.extend(PASS);
    all
}

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
    run_ok(&with_pass(&["keygen", "--out", arg(&old_key)]));
    run_ok(&with_pass(&[
        "keygen",
        "--kind",
        "kek",
        "--out",
        arg(&new_key),
    ]));
    let component = Guest::RsiMomentum.path().to_str().unwrap();
    run_ok(&with_pass(&[
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
    ]));

    // Without a key: the manifest, marked unauthenticated.
    let shown = run_ok(&["inspect", arg(&bundle)]);
    assert!(shown.contains("name        rsi"), "{shown}");
    assert!(shown.contains("version     2.0.0"), "{shown}");
    assert!(shown.contains("NOT authenticated"), "{shown}");
    // With the key: authenticated, still without decrypting the code.
    let shown = run_ok(&with_pass(&[
        "inspect",
        arg(&bundle),
        "--key",
        arg(&old_key),
        "--json",
    ]));
    let json: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(json["authenticated"], true);
    assert_eq!(json["manifest"]["author"], "alice");
    let old_id = json["key_id"].as_str().unwrap().to_owned();

    run_ok(&with_pass(&[
        "rekey",
        arg(&bundle),
        "--key",
        arg(&old_key),
        "--to",
        arg(&new_key),
    ]));
    let shown = run_ok(&with_pass(&[
        "inspect",
        arg(&bundle),
        "--key",
        arg(&new_key),
        "--json",
    ]));
    let json: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_ne!(json["key_id"].as_str().unwrap(), old_id);
    let stderr = run_err(&with_pass(&[
        "inspect",
        arg(&bundle),
        "--key",
        arg(&old_key),
    ]));
    assert!(stderr.contains("does not hold"), "{stderr}");
}

#[test]
fn an_author_seals_to_a_host_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let host_key = dir.path().join("host.key");
    let bundle = dir.path().join("ema.bundle");
    run_ok(&with_pass(&[
        "keygen",
        "--kind",
        "x25519",
        "--out",
        arg(&host_key),
    ]));
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
    let shown = run_ok(&with_pass(&[
        "inspect",
        arg(&bundle),
        "--key",
        arg(&host_key),
    ]));
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
    run_ok(&with_pass(&["keygen", "--out", arg(&key)]));
    let stderr = run_err(&with_pass(&["keygen", "--out", arg(&key)]));
    assert!(stderr.contains("already exists"), "{stderr}");

    let out = dir.path().join("evil.bundle");
    let stderr = run_err(&with_pass(&[
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
    ]));
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
        let stderr = run_err(&with_pass(&[
            "seal",
            Guest::Minimal.path().to_str().unwrap(),
            "--version",
            "1",
            "--author",
            "eve",
            "--key",
            arg(&key),
        ]));
        assert!(stderr.contains("chmod 600"), "{stderr}");
    }
}

/// `inspect` reads the manifest (and, with a key, authenticates it through
/// the key slot) without decrypting the component: a bundle whose payload
/// is destroyed still shows its manifest, with and without the key.
#[test]
fn inspect_shows_the_manifest_of_a_bundle_whose_payload_is_corrupted() {
    use stratbox_runtime::bundle::{AuthenticatedPart, OpenError, read_bundle};
    use stratbox_store::keys::{FileKeyProvider, Passphrase};

    let dir = tempfile::tempdir().unwrap();
    for kind in ["kek", "x25519"] {
        let key = dir.path().join(format!("{kind}.key"));
        let bundle = dir.path().join(format!("{kind}.bundle"));
        run_ok(&with_pass(&["keygen", "--kind", kind, "--out", arg(&key)]));
        run_ok(&with_pass(&[
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
        ]));
        // Destroy every byte of the payload (ciphertext and tag).
        let mut bytes = std::fs::read(&bundle).unwrap();
        let payload = read_bundle(&bytes).unwrap().header.payload_bytes;
        let at = bytes.len() - payload;
        bytes[at..].iter_mut().for_each(|b| *b ^= 0xA5);
        std::fs::write(&bundle, &bytes).unwrap();
        // Opening (which decrypts) refuses it...
        let pass_file = dir.path().join("pass");
        std::fs::write(&pass_file, "correct horse battery staple\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&pass_file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let passphrase = Passphrase::from_file(&pass_file).unwrap();
        let provider = FileKeyProvider::load(&key, Some(&passphrase)).unwrap();
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
        let shown = run_ok(&with_pass(&["inspect", arg(&bundle), "--key", arg(&key)]));
        assert!(shown.contains("name        corrupted"), "{shown}");
        assert!(
            shown.contains("authenticated with the given key (component not decrypted)"),
            "{shown}"
        );
        let shown = run_ok(&with_pass(&[
            "inspect",
            arg(&bundle),
            "--key",
            arg(&key),
            "--json",
        ]));
        let json: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(json["authenticated"], true);
        assert_eq!(json["manifest"]["name"], "corrupted");
        assert_eq!(json["payload_bytes"], payload);
    }
}

/// `keygen` seals the key file under the passphrase; commands need the
/// passphrase to use it, a wrong one is refused, and a plaintext key file
/// (as earlier versions wrote) is refused with the command that seals it,
/// which then works.
#[test]
fn key_files_are_sealed_and_plaintext_ones_are_refused_until_converted() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("host.key");
    let stderr = run_err(&["keygen", "--out", arg(&key)]);
    assert!(stderr.contains("--passphrase-env"), "{stderr}");
    assert!(!key.exists());
    run_ok(&with_pass(&[
        "keygen",
        "--kind",
        "x25519",
        "--out",
        arg(&key),
    ]));
    let file = std::fs::read_to_string(&key).unwrap();
    assert!(file.contains("\"format\":2"), "{file}");
    assert!(file.contains("\"argon2id\""), "{file}");
    assert!(!file.contains("\"key\""), "{file}");

    let out = dir.path().join("minimal.bundle");
    let seal = |key: &Path, extra: &[&str]| {
        let _ = std::fs::remove_file(&out);
        let mut args = vec![
            "seal",
            Guest::Minimal.path().to_str().unwrap(),
            "--version",
            "1",
            "--author",
            "dan",
            "--key",
            arg(key),
            "-o",
            arg(&out),
        ];
        args.extend_from_slice(extra);
        stratbox(&args)
    };
    let output = seal(&key, &[]);
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(stderr.contains("sealed under a passphrase"), "{stderr}");
    let wrong = Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args([
            "seal",
            Guest::Minimal.path().to_str().unwrap(),
            "--version",
            "1",
            "--author",
            "dan",
            "--key",
            arg(&key),
            "--passphrase-env",
            "WRONG_PASS",
            "-o",
            arg(&dir.path().join("wrong.bundle")),
        ])
        .env("WRONG_PASS", "not it")
        .output()
        .unwrap();
    let (_, stderr) = text(&wrong);
    assert!(!wrong.status.success());
    assert!(stderr.contains("wrong passphrase"), "{stderr}");
    assert!(seal(&key, &PASS).status.success());

    // A plaintext key file, as earlier versions wrote it.
    let plaintext = dir.path().join("plain.key");
    std::fs::write(
        &plaintext,
        format!(
            "{{\"format\":1,\"kind\":\"kek\",\"key\":\"{}\"}}\n",
            "ab".repeat(32)
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&plaintext, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let output = seal(&plaintext, &PASS);
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(stderr.contains("plaintext secret key"), "{stderr}");
    assert!(
        stderr.contains("stratbox keygen --from-plaintext"),
        "{stderr}"
    );
    let converted = dir.path().join("converted.key");
    let stdout = run_ok(&with_pass(&[
        "keygen",
        "--from-plaintext",
        arg(&plaintext),
        "--out",
        arg(&converted),
    ]));
    assert!(stdout.contains("delete"), "{stdout}");
    assert!(seal(&converted, &PASS).status.success());
}
