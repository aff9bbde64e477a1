//! Integration tests of Python strategies in the sandbox.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod build_errors;
mod determinism;
mod examples;
mod hostile;
mod protocol;
mod sdk_parity;
mod setup_script;
mod soak;
mod support;
