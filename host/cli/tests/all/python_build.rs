//! `stratbox build` on Python strategy directories.

use crate::{stratbox, text};

#[test]
fn build_turns_a_python_strategy_into_a_loadable_component() {
    let out = tempfile::tempdir().expect("temp dir");
    let component = out.path().join("bollinger.wasm");
    let output = stratbox(&[
        "build",
        "strategies/python/bollinger",
        "--output",
        component.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("bollinger.wasm"), "{stdout}");
    let inspected = stratbox(&["inspect", component.to_str().unwrap()]);
    assert!(inspected.status.success(), "{}", text(&inspected).1);
}

#[test]
fn a_python_syntax_error_names_the_file_and_line_without_a_panic() {
    let output = stratbox(&["build", "strategies/python/fixtures/syntax-error"]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("strategies/python/fixtures/syntax-error/strategy.py:8: syntax error: "),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
