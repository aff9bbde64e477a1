//! `scripts/setup.sh` refuses, with a message saying what to install, a
//! missing or too old Python and one without a working venv module; and
//! on a machine that is already set up it does nothing.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::repo_root;

/// A copy of the repository's `scripts/setup.sh` in a scratch directory,
/// so that the `.venv` it would create is the scratch directory's.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("scripts")).unwrap();
        std::fs::copy(
            repo_root().join("scripts/setup.sh"),
            dir.path().join("scripts/setup.sh"),
        )
        .unwrap();
        Scratch { dir }
    }

    /// An executable shell script `name` in the scratch directory.
    fn fake(&self, name: &str, body: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// Run the copied setup with `python` as the interpreter: (success,
    /// stderr).
    fn setup(&self, python: &Path) -> (bool, String) {
        let output = Command::new("bash")
            .arg(self.dir.path().join("scripts/setup.sh"))
            .env("STRATBOX_PYTHON", python)
            .output()
            .expect("bash runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    fn venv(&self) -> PathBuf {
        self.dir.path().join(".venv")
    }
}

#[test]
fn a_missing_python_is_named() {
    let scratch = Scratch::new();
    let (ok, stderr) = scratch.setup(Path::new("/nonexistent/python3"));
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains("/nonexistent/python3 not found") && stderr.contains(">= 3.11"),
        "{stderr}"
    );
    assert!(stderr.contains("python3-venv"), "{stderr}");
    assert!(!scratch.venv().exists());
}

#[test]
fn a_python_older_than_the_sdk_requires_is_refused() {
    let scratch = Scratch::new();
    // Answers the version question with 3.10.4, fails everything else.
    let old = scratch.fake(
        "python-3.10",
        r#"case "$2" in *python_version*) echo 3.10.4; exit 0;; esac; exit 1"#,
    );
    let (ok, stderr) = scratch.setup(&old);
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains("is Python 3.10.4, but Python strategies need CPython >= 3.11"),
        "{stderr}"
    );
    assert!(!scratch.venv().exists());
}

#[test]
fn a_python_without_the_venv_module_names_the_debian_package() {
    let scratch = Scratch::new();
    // A real python3 whose `ensurepip` is missing (Debian without
    // python3-venv).
    let no_ensurepip = scratch.fake(
        "python-no-ensurepip",
        r#"case "$2" in *ensurepip*) echo "No module named 'ensurepip'" >&2; exit 1;; esac
exec python3 "$@""#,
    );
    let (ok, stderr) = scratch.setup(&no_ensurepip);
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains("venv module") && stderr.contains("python3-venv"),
        "{stderr}"
    );
    assert!(!scratch.venv().exists());

    // One whose `python3 -m venv` fails half-way (leaving a python but no
    // pip, as Debian's does): the half-made .venv is removed, not kept.
    let half_venv = scratch.fake(
        "python-half-venv",
        r#"if [ "$1" = -m ] && [ "$2" = venv ]; then
    for target; do :; done
    mkdir -p "$target/bin" && ln -sf "$(command -v python3)" "$target/bin/python"
    echo "The virtual environment was not created successfully because ensurepip is not available." >&2
    exit 1
fi
exec python3 "$@""#,
    );
    let (ok, stderr) = scratch.setup(&half_venv);
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("python3-venv"), "{stderr}");
    assert!(!scratch.venv().exists());
}

#[test]
fn setup_on_a_machine_already_set_up_changes_nothing() {
    // The repository's own .venv exists (the Python tests need it), so the
    // real script must find everything in place, whatever python3 is.
    crate::support::venv_python();
    let output = Command::new("bash")
        .arg(repo_root().join("scripts/setup.sh"))
        .env("STRATBOX_PYTHON", "/nonexistent/python3")
        .output()
        .expect("bash runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("setup:"), "{stderr}");
}
