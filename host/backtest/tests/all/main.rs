//! Backtests of real guests end to end: failed ticks, snapshot intervals,
//! what a run keeps in memory.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod failures;
mod fills;
mod heap;
mod series;
mod snapshots;
mod streaming;
mod support;

#[global_allocator]
static ALLOCATOR: heap::Counting = heap::Counting;
