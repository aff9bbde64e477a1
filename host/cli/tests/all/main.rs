//! End-to-end tests of the `stratbox` binary.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod backtest;
mod bad_input;
mod bench;
mod build;
mod demo;
mod generate;
mod inspect;
mod javascript_build;
mod journal;
mod live_daemon;
mod operator;
mod python_build;
mod sealing;
mod templates;
mod tick_failures;

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
