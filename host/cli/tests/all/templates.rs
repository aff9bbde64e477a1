//! `stratbox new`: every template builds into a loadable component, its
//! unit tests pass and its default policy loads.

use std::path::Path;
use std::process::Command;

use stratbox_runtime::policy::AssetCatalog;

use crate::{stratbox, text};

const RUST: [&str; 4] = ["rsi", "ema-cross", "dynamic-lp", "leverage-loop"];
const PYTHON: [&str; 2] = ["bollinger", "stable-rotator"];

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn new_project(dir: &Path, template: &str) -> std::path::PathBuf {
    let project = dir.join(format!("my-{template}"));
    let output = stratbox(&["new", project.to_str().unwrap(), "--template", template]);
    assert!(output.status.success(), "{}", text(&output).1);
    for file in ["README.md", "config.json", "policy.toml"] {
        assert!(project.join(file).is_file(), "{template}: no {file}");
    }
    let assets = AssetCatalog::new()
        .with("ETH", 18)
        .with("BTC", 8)
        .with("USDC", 6);
    stratbox_policy::load(&project.join("policy.toml"), &assets)
        .unwrap_or_else(|e| panic!("{template}: {e}"));
    project
}

/// Build `project` and check the component instantiates under the limit
/// class of its language (`class`, as `--limits` names it).
fn build(project: &Path, target: Option<&Path>, class: &str) {
    let component = project.join("strategy.wasm");
    let mut command = Command::new(env!("CARGO_BIN_EXE_stratbox"));
    command
        .args(["build", project.to_str().unwrap(), "-o"])
        .arg(&component)
        .current_dir(repo());
    if let Some(target) = target {
        command.env("CARGO_TARGET_DIR", target);
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", text(&output).1);
    let output = stratbox(&["inspect", "--limits", class, component.to_str().unwrap()]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("instantiates yes"), "{stdout}");
}

#[test]
fn every_rust_template_builds_and_passes_its_unit_tests() {
    let dir = tempfile::tempdir().unwrap();
    // One target directory for all templates: their dependencies build once.
    let target = repo().join("target/stratbox-templates");
    for template in RUST {
        let project = new_project(dir.path(), template);
        build(&project, Some(&target), "rust");
        let output = Command::new(env!("CARGO"))
            .args(["test", "--quiet", "--manifest-path"])
            .arg(project.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target)
            .output()
            .unwrap();
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{template}: {stdout}{stderr}");
    }
}

#[test]
fn every_python_template_builds_and_passes_its_unit_tests() {
    let dir = tempfile::tempdir().unwrap();
    for template in PYTHON {
        let project = new_project(dir.path(), template);
        build(&project, None, "python");
        let python_path = format!(
            "{}:{}",
            project.display(),
            repo().join("guest-sdk/python").display()
        );
        let output = Command::new(repo().join(".venv/bin/python"))
            .args(["-m", "unittest", "test_strategy"])
            .current_dir(&project)
            .env("PYTHONPATH", python_path)
            .output()
            .unwrap();
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{template}: {stdout}{stderr}");
    }
}

#[test]
fn new_refuses_an_existing_directory_and_a_bad_name() {
    let dir = tempfile::tempdir().unwrap();
    let taken = dir.path().join("taken");
    std::fs::create_dir(&taken).unwrap();
    let output = stratbox(&["new", taken.to_str().unwrap(), "--template", "rsi"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output).1.contains("already exists"));
    let bad = dir.path().join("My Strategy");
    let output = stratbox(&["new", bad.to_str().unwrap(), "--template", "rsi"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output).1.contains("cannot name a strategy"));
    assert!(!bad.exists());
}
