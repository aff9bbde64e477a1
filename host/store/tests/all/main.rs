//! Integration tests of the encrypted store against real guest components.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod attacker;
mod canary;
mod crash_safety;
mod key_providers;
mod keys_at_rest;
mod plaintext_buffers;
mod store_lifecycle;
mod support;
mod tampering;
