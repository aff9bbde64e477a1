//! Integration tests of the runtime against real guest components.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod determinism;
mod examples;
mod hostile;
mod loading;
mod protocol;
mod support;
