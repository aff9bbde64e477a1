use stratbox_test_artifacts::Guest;

use crate::{stratbox, text};

fn path(guest: Guest) -> &'static str {
    guest.path().to_str().expect("utf-8 path")
}

#[test]
fn inspect_shows_the_world_imports_and_exports() {
    let output = stratbox(&["inspect", path(Guest::RsiMomentum)]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stdout.contains("world       stratbox:strategy@0.2.1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("import      stratbox:strategy/oracle@0.2.1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("export      stratbox:strategy/strategy@0.2.1"),
        "{stdout}"
    );
}

#[test]
fn inspect_json_is_machine_readable() {
    let output = stratbox(&["inspect", "--json", path(Guest::EmaCrossover)]);
    assert!(output.status.success());
    let info: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(info["world_version"], "0.2.1");
    assert_eq!(info["sha256"].as_str().map(str::len), Some(64));
}

#[test]
fn inspect_refuses_a_component_with_foreign_imports() {
    let output = stratbox(&["inspect", path(Guest::ForeignImport)]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("evil:exfil/net"), "{stderr}");
}

#[test]
fn inspect_names_the_language_and_the_limits_a_component_runs_under() {
    let output = stratbox(&["inspect", path(Guest::RsiMomentum)]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("language    Rust"), "{stdout}");
    assert!(
        stdout.contains("instantiates yes, under the rust limits"),
        "{stdout}"
    );

    let output = stratbox(&[
        "inspect",
        "--json",
        "--limits",
        "python",
        path(Guest::PyBollinger),
    ]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    let info: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(info["language_hint"], "Python");
    assert_eq!(info["limits"], "python");
    assert_eq!(info["instantiates"], true);
}

/// A component does not earn a bigger limit class by its shape: a Python
/// component file (110 core instances) gets the Rust limits unless the
/// host says otherwise, and is refused under them with the flag to pass.
#[test]
fn a_component_file_does_not_choose_its_limit_class_by_its_shape() {
    let output = stratbox(&["inspect", "--json", path(Guest::PyBollinger)]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    let info: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(info["limits"], "rust");
    assert_eq!(info["instantiates"], false);

    let output = stratbox(&[
        "backtest",
        path(Guest::PyBollinger),
        "--quiet",
        "--config",
        "{}",
    ]);
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(stderr.contains("core instances"), "{stderr}");
    assert!(stderr.contains("--limits python"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
