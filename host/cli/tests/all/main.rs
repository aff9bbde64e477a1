//! End-to-end tests of the `stratbox` binary.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod author_loop;
mod backtest;
mod bad_input;
mod bench;
mod build;
mod compile_worker;
mod demo;
mod examples_live;
mod generate;
mod inspect;
mod javascript_build;
mod journal;
mod live_daemon;
mod operator;
mod optimize;
mod python_build;
mod resume;
mod sealing;
mod service;
mod study;
mod templates;
mod tick_failures;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Run `stratbox` with `args` from the repository root.
pub fn stratbox(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .expect("stratbox runs")
}

/// Standard output and error as text.
pub fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The variable that holds the passphrase of [`host_key`]'s key file.
pub const HOST_PASSPHRASE_VAR: &str = "STRATBOX_TEST_HOST_PASSPHRASE";
/// The passphrase of [`host_key`]'s key file.
pub const HOST_PASSPHRASE: &str = "test host key passphrase";

/// A host secret key (X25519) sealed under [`HOST_PASSPHRASE`] in `dir`,
/// made as an operator would; returns the arguments that pass it (the
/// child needs [`HOST_PASSPHRASE_VAR`] set).
pub fn host_key(dir: &Path) -> Vec<String> {
    let path: PathBuf = dir.join("host.key");
    if !path.exists() {
        let made = Command::new(env!("CARGO_BIN_EXE_stratbox"))
            .args(["keygen", "--kind", "x25519", "--out"])
            .arg(&path)
            .args(["--passphrase-env", HOST_PASSPHRASE_VAR])
            .env(HOST_PASSPHRASE_VAR, HOST_PASSPHRASE)
            .output()
            .expect("stratbox keygen runs");
        assert!(made.status.success(), "{made:?}");
    }
    vec![
        "--key".into(),
        path.display().to_string(),
        "--passphrase-env".into(),
        HOST_PASSPHRASE_VAR.into(),
    ]
}
