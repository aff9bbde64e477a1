//! The HTML report in a real browser: headless Chromium loads a report of
//! a real backtest and must run it without a JavaScript error and draw
//! every pane of its chart.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod browser;
mod page;
