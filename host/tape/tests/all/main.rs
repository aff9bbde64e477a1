//! Integration tests for `stratbox-tape`, one module per scenario.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod files;
mod real_data;
mod tape_ops;
mod validation;

/// A CSV tape text: the header, then `rows` one per line.
pub fn csv(rows: &[&str]) -> String {
    let mut text = String::from(stratbox_tape::HEADER);
    text.push('\n');
    for row in rows {
        text.push_str(row);
        text.push('\n');
    }
    text
}
