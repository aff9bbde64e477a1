//! Spec parsing, refusals and rendering, through the public API.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod machine;
mod refusals;
mod simple_form;

use std::path::Path;

use stratbox_generate::{SpecError, parse};

/// `text` must be refused; the refusal.
pub fn refusal(text: &str) -> SpecError {
    parse(text, Path::new("spec.toml")).expect_err("the spec is refused")
}

/// The line and message of a `Syntax` refusal.
pub fn syntax(text: &str) -> (usize, String) {
    match refusal(text) {
        SpecError::Syntax { line, message, .. } => (line, message),
        other => panic!("{other:?}"),
    }
}

/// The line, field and reason of an `Invalid` refusal.
pub fn invalid(text: &str) -> (usize, String, String) {
    match refusal(text) {
        SpecError::Invalid {
            line,
            field,
            reason,
            ..
        } => (line, field, reason),
        other => panic!("{other:?}"),
    }
}
