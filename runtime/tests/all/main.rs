//! Integration tests of the runtime against real guest components.

mod determinism;
mod examples;
mod hostile;
mod loading;
mod protocol;
mod support;
