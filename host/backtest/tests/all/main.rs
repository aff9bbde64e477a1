//! Backtests of real guests end to end: failed ticks, snapshot intervals.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod failures;
mod snapshots;
mod support;
