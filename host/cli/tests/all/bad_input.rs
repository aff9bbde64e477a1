//! Bad input gets a clear message and a non-zero exit.

use std::io::Write;

use stratbox_test_artifacts::Guest;

use crate::{stratbox, text};

fn rsi() -> &'static str {
    Guest::RsiMomentum.path().to_str().expect("utf-8 path")
}

#[test]
fn bad_csv_row_is_reported_with_its_number() {
    let mut csv = tempfile::NamedTempFile::new().expect("temp file");
    writeln!(csv, "timestamp_ms,open,high,low,close,volume").unwrap();
    writeln!(csv, "1000,1.0,1.1,0.9,1.0,5").unwrap();
    writeln!(csv, "2000,1.0,0.8,0.9,1.0,5").unwrap();
    let data = csv.path().to_str().unwrap();
    let output = stratbox(&["demo", "--component", rsi(), "--data", data]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("row 3"), "{stderr}");
}

#[test]
fn malformed_component_is_refused() {
    let mut bogus = tempfile::NamedTempFile::new().expect("temp file");
    bogus.write_all(b"\0asm\x0d\0\x01\0garbage").unwrap();
    let output = stratbox(&["inspect", bogus.path().to_str().unwrap()]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("malformed component"), "{stderr}");
}

#[test]
fn invalid_strategy_config_is_refused_before_running() {
    let output = stratbox(&["demo", "--component", rsi(), "--config", "{not json"]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("--config must be valid JSON"), "{stderr}");

    let output = stratbox(&["demo", "--component", rsi(), "--config", r#"{"period": 0}"#]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("period must be at least 1"), "{stderr}");
}

#[test]
fn building_a_directory_that_is_not_a_strategy_fails_clearly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = stratbox(&["build", dir.path().to_str().unwrap()]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr.contains("is not a strategy: no Cargo.toml"),
        "{stderr}"
    );
}

#[test]
fn missing_files_are_named() {
    let output = stratbox(&["inspect", "does/not/exist.wasm"]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("does/not/exist.wasm"), "{stderr}");
}
