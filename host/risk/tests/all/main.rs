//! Integration tests for `stratbox-risk`, one module per area.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod jump;
mod normal;
mod portfolio;
mod study;
mod var;

/// Assert `|actual - expected| <= tolerance`, naming the quantity.
#[track_caller]
pub fn assert_close(what: &str, actual: f64, expected: f64, tolerance: f64) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: {actual} is not within {tolerance} of {expected}"
    );
}
