//! Market data tapes for stratbox: a [`Tape`] is a validated, time-ordered
//! series of OHLCV [`Candle`]s for one market.
//!
//! Tapes are read from CSV files with the header
//! `timestamp_ms,open,high,low,close,volume` (see [`HEADER`]), where
//! `timestamp_ms` is the candle's open time in milliseconds since the Unix
//! epoch (UTC). Every row is checked; the first problem found is reported as
//! a typed [`TapeError`] naming the file and the row (the line number in the
//! file, the header being row 1).
//!
//! ```no_run
//! use std::path::Path;
//!
//! let tape = stratbox_tape::load_csv(Path::new("data/ETH_BTC-5m.csv"), "ETH/BTC")?;
//! println!(
//!     "{}: {} candles every {:?} ms, {} gaps",
//!     tape.market(),
//!     tape.len(),
//!     tape.interval_ms(),
//!     tape.gaps()
//! );
//! # Ok::<(), stratbox_tape::TapeError>(())
//! ```
//!
//! Numbers are parsed with Rust's `f64::from_str`, so every value is
//! bit-for-bit the one written in the file.

mod candle;
mod error;
mod read;
pub mod synthetic;
mod tape;

pub use candle::{COLUMNS, Candle, HEADER};
pub use error::{RowErrorKind, TapeError};
pub use read::{load_csv, read_csv};
pub use synthetic::{SyntheticConfig, SyntheticError, generate};
pub use tape::Tape;
