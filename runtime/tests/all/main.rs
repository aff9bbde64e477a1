//! Integration tests of the runtime against real guest components.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod bundle_key_errors;
mod bundle_roundtrip;
mod bundle_tampering;
mod callbacks;
mod compile_bombs;
mod crafted;
mod determinism;
mod examples;
mod hostile;
mod loading;
mod memories;
mod metering;
mod names;
mod policy;
mod protocol;
mod series;
mod support;
