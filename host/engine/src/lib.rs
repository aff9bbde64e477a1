//! The stratbox deployment engine: the one loop every deployment runs
//! ([`Runner`]) and the venue it executes against ([`Venue`]). A tick reads
//! in two files: [`Runner::step`] here, and `Deployment::tick` in the
//! runtime.

mod runner;
mod venue;

pub use runner::{NoJournal, Run, RunError, Runner, TickRecord, lock, run};
pub use venue::{TickStart, Venue};
