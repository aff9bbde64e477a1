//! `stratbox build` on JavaScript strategies.

use crate::{stratbox, text};

#[test]
fn a_javascript_syntax_error_names_the_file_and_line_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let strategy = dir.path().join("broken-js");
    std::fs::create_dir(&strategy).unwrap();
    std::fs::write(
        strategy.join("strategy.js"),
        "export const strategy = {\n  init(config) {\n    let x = ;\n  },\n};\n",
    )
    .unwrap();
    let output = stratbox(&["build", strategy.to_str().unwrap()]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("strategy.js:3: syntax error"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
