//! Typed errors. Every variant is matchable; none is meant to be parsed.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Why market data could not be turned into a [`Tape`](crate::Tape).
///
/// Errors from [`load_csv`](crate::load_csv) carry the file's path, those
/// from [`read_csv`](crate::read_csv) and [`Tape::new`](crate::Tape::new)
/// carry none; the messages name the file when it is known, e.g.
/// `data/x.csv row 7: high 1.2 is below low 1.3`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TapeError {
    /// The file could not be opened or read.
    #[error("{}cannot read market data: {source}", Location(.path.as_deref(), ": "))]
    Io {
        /// The file, when reading from a path.
        path: Option<PathBuf>,
        /// What the operating system (or the CSV reader) reported.
        #[source]
        source: io::Error,
    },
    /// The first line is not exactly the expected header.
    #[error(
        "{}the header must be exactly `{expected}`, found `{found}` ({})",
        Location(.path.as_deref(), ": "),
        HeaderDiff(found, expected)
    )]
    Header {
        /// The file, when reading from a path.
        path: Option<PathBuf>,
        /// The header line as read (fields trimmed, joined by commas).
        found: String,
        /// The header a tape file must have: [`HEADER`](crate::HEADER).
        expected: &'static str,
    },
    /// A data row is malformed or describes an impossible candle.
    #[error("{}row {row}: {kind}", Location(.path.as_deref(), " "))]
    Row {
        /// The file, when reading from a path.
        path: Option<PathBuf>,
        /// The line number in the file: the header is row 1, the first
        /// candle row 2.
        row: usize,
        /// What is wrong with the row.
        kind: RowErrorKind,
    },
    /// A candle passed to [`Tape::new`](crate::Tape::new) is invalid.
    #[error("candle at index {index}: {kind}")]
    Candle {
        /// Position of the candle in the vector, from 0.
        index: usize,
        /// What is wrong with the candle.
        kind: RowErrorKind,
    },
    /// There are no candles: the file is empty or has only a header.
    #[error("{}no candles (the market data has no data rows)", Location(.path.as_deref(), ": "))]
    Empty {
        /// The file, when reading from a path.
        path: Option<PathBuf>,
    },
}

impl TapeError {
    /// The file the error is about, if the data was loaded from a path.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::Io { path, .. }
            | Self::Header { path, .. }
            | Self::Row { path, .. }
            | Self::Empty { path } => path.as_deref(),
            Self::Candle { .. } => None,
        }
    }

    /// The row (line number in the file) the error is about: 1 for a header
    /// error, the data row's line otherwise; `None` when no row is involved.
    pub fn row(&self) -> Option<usize> {
        match self {
            Self::Header { .. } => Some(1),
            Self::Row { row, .. } => Some(*row),
            _ => None,
        }
    }

    /// What is wrong with the offending row or candle, if one is at fault.
    pub fn row_error(&self) -> Option<&RowErrorKind> {
        match self {
            Self::Row { kind, .. } | Self::Candle { kind, .. } => Some(kind),
            _ => None,
        }
    }
}

/// What is wrong with one row of a tape file (or one candle of a tape).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RowErrorKind {
    /// The row does not have exactly one field per column.
    #[error("expected {expected} columns (`{}`), found {found}", crate::HEADER)]
    ColumnCount {
        /// Fields in the row.
        found: usize,
        /// Columns a row must have (6).
        expected: usize,
    },
    /// A field is not a number (for `timestamp_ms`: not a whole,
    /// non-negative number of milliseconds).
    #[error("{}", BadNumber(column, text))]
    BadNumber {
        /// The column of the field.
        column: &'static str,
        /// The field as written (trimmed).
        text: String,
    },
    /// A value is NaN or infinite.
    #[error("{column} is {value}, which is not a finite number")]
    NotFinite {
        /// The column of the value.
        column: &'static str,
        /// The value read.
        value: f64,
    },
    /// A price (`open`, `high`, `low` or `close`) is zero or negative.
    #[error("{column} is {value}, but prices must be greater than zero")]
    NonPositive {
        /// The column of the price.
        column: &'static str,
        /// The price read.
        value: f64,
    },
    /// The volume is negative (zero is allowed).
    #[error("{column} is {value}, but it must not be negative")]
    Negative {
        /// The column of the value (`volume`).
        column: &'static str,
        /// The value read.
        value: f64,
    },
    /// `high` is below `low`.
    #[error("high {high} is below low {low}")]
    HighBelowLow {
        /// The candle's high.
        high: f64,
        /// The candle's low.
        low: f64,
    },
    /// `open` or `close` lies outside `[low, high]`.
    #[error("{column} {value} is outside the candle's range [low {low}, high {high}]")]
    OutsideRange {
        /// `open` or `close`.
        column: &'static str,
        /// The offending price.
        value: f64,
        /// The candle's low.
        low: f64,
        /// The candle's high.
        high: f64,
    },
    /// The timestamp is not after the previous candle's: timestamps must
    /// strictly increase (equal means a duplicate candle).
    #[error("{}", NotIncreasing(*previous_ms, *current_ms))]
    NotIncreasing {
        /// Timestamp of the previous candle.
        previous_ms: u64,
        /// Timestamp of this candle.
        current_ms: u64,
    },
}

/// Writes `path` followed by `separator`, or nothing without a path.
struct Location<'a>(Option<&'a Path>, &'static str);

impl fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(path) => write!(f, "{}{}", path.display(), self.1),
            None => Ok(()),
        }
    }
}

/// Says which column of a header is wrong.
struct HeaderDiff<'a>(&'a str, &'a str);

impl fmt::Display for HeaderDiff<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let found: Vec<&str> = if self.0.is_empty() {
            Vec::new()
        } else {
            self.0.split(',').collect()
        };
        let expected: Vec<&str> = self.1.split(',').collect();
        for (i, want) in expected.iter().enumerate() {
            match found.get(i) {
                Some(got) if got == want => {}
                Some(got) => {
                    return write!(f, "column {} is `{got}` instead of `{want}`", i + 1);
                }
                None => return write!(f, "column {} `{want}` is missing", i + 1),
            }
        }
        match found.get(expected.len()) {
            Some(extra) => write!(
                f,
                "unexpected extra column {} `{extra}`",
                expected.len() + 1
            ),
            None => write!(f, "columns differ"),
        }
    }
}

/// Message for an unparsable field.
struct BadNumber<'a>(&'a str, &'a str);

impl fmt::Display for BadNumber<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (column, text) = (self.0, self.1);
        if text.is_empty() {
            write!(f, "{column} is empty")
        } else if column == "timestamp_ms" {
            write!(
                f,
                "{column} `{text}` is not a whole number of milliseconds since the Unix epoch"
            )
        } else {
            write!(f, "{column} `{text}` is not a number")
        }
    }
}

/// Message for timestamps out of order.
struct NotIncreasing(u64, u64);

impl fmt::Display for NotIncreasing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (previous, current) = (self.0, self.1);
        if previous == current {
            write!(
                f,
                "duplicate timestamp_ms {current} (same as the previous candle); timestamps must strictly increase"
            )
        } else {
            write!(
                f,
                "timestamp_ms {current} comes before the previous candle's {previous}; timestamps must strictly increase"
            )
        }
    }
}
