use crate::{stratbox, text};

#[test]
fn build_turns_a_rust_strategy_into_a_loadable_component() {
    let out = tempfile::tempdir().expect("temp dir");
    let component = out.path().join("ema.wasm");
    let output = stratbox(&[
        "build",
        "strategies/rust/ema-crossover",
        "--output",
        component.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("ema.wasm"), "{stdout}");
    let inspected = stratbox(&["inspect", component.to_str().unwrap()]);
    assert!(inspected.status.success(), "{}", text(&inspected).1);
}
