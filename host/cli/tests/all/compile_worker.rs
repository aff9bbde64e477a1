//! Commands compile components in a worker process: the hidden
//! `compile-worker` command of the same binary.

use std::process::{Command, Stdio};

use stratbox_test_artifacts::Guest;

use crate::{stratbox, text};

#[test]
fn inspect_compiles_in_the_hidden_worker_command() {
    let output = Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(["inspect", Guest::RsiMomentum.path().to_str().unwrap()])
        .env("STRATBOX_LOG", "stratbox_runtime=debug")
        // Compiled code from the local cache would need no worker.
        .env("STRATBOX_NO_CACHE", "1")
        .output()
        .expect("stratbox runs");
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("instantiates yes"), "{stdout}");
    assert!(stderr.contains("compile worker started"), "{stderr}");
    assert!(stderr.contains("compile worker exited"), "{stderr}");
}

#[test]
fn the_worker_command_is_hidden_and_refuses_what_is_not_a_request() {
    let (help, _) = text(&stratbox(&["--help"]));
    assert!(help.contains("inspect"), "{help}");
    assert!(!help.contains("compile-worker"), "{help}");

    // No request on stdin: a worker failure frame (tag 3) and status 1,
    // nothing else on stdout.
    let output = Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .arg("compile-worker")
        .stdin(Stdio::null())
        .output()
        .expect("stratbox runs");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(output.stdout.first(), Some(&3), "{output:?}");
    let length = u64::from_le_bytes(output.stdout[1..9].try_into().unwrap());
    assert_eq!(output.stdout.len() as u64, 9 + length);
}
