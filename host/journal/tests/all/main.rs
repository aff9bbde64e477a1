//! Integration tests of the journal: schema and migrations, recording real
//! runs, crash consistency, resuming a run, and replay.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod chain;
mod crash;
mod files;
mod lease;
mod recording;
mod replay;
mod resume;
mod schema;
mod support;
