//! `generate` then `build`: a spec equivalent to the RSI example trades
//! exactly like it.

use stratbox_test_artifacts::Guest;

use crate::{stratbox, text};

#[test]
fn the_rsi_spec_generates_a_strategy_that_trades_like_the_hand_written_one() {
    let dir = tempfile::tempdir().unwrap();
    let crate_dir = dir.path().join("rsi-spec");
    let output = stratbox(&[
        "generate",
        "examples/specs/rsi.toml",
        "-o",
        crate_dir.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output).1);
    let source = std::fs::read_to_string(crate_dir.join("src/lib.rs")).unwrap();
    assert!(source.contains("let entry = now.rsi < 30.0;"), "{source}");

    let component = dir.path().join("rsi-spec.wasm");
    let output = stratbox(&[
        "build",
        crate_dir.to_str().unwrap(),
        "-o",
        component.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output).1);

    let trades = |component: &str| {
        let output = stratbox(&["backtest", component, "--quiet", "--json"]);
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{stderr}");
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        (report["trades"].clone(), report["denials"].clone())
    };
    let generated = trades(component.to_str().unwrap());
    let hand_written = trades(Guest::RsiMomentum.path().to_str().unwrap());
    assert!(
        generated.0.as_array().unwrap().len() >= 4,
        "the RSI example trades over the bundled candles"
    );
    assert_eq!(generated, hand_written);
}

#[test]
fn a_malformed_spec_is_refused_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("broken.toml");
    let text_of_spec = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/specs/rsi.toml"
    ))
    .unwrap()
    .replace("right = 30", "right = \"rsi_slow\"");
    std::fs::write(&spec, text_of_spec).unwrap();
    let out = dir.path().join("out");
    let output = stratbox(&[
        "generate",
        spec.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("broken.toml:"), "{stderr}");
    assert!(
        stderr.contains("entry.right: unknown series `rsi_slow`"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing is written for a refused spec");
}
