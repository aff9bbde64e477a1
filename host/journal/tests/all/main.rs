//! Integration tests of the journal: schema and migrations, recording real
//! runs, crash consistency, and replay.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod crash;
mod files;
mod lease;
mod recording;
mod replay;
mod schema;
mod support;
