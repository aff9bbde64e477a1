//! Reading tapes from CSV.
//!
//! A small line-based parser rather than a general CSV reader: tape files
//! have one record per line, and reporting the exact line of a problem
//! matters more here than multi-line quoted fields, which no tape needs.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::str::FromStr;

use crate::candle::check_next;
use crate::{COLUMNS, Candle, HEADER, RowErrorKind, Tape, TapeError};

/// Reads a tape for `market` from CSV data with the header
/// `timestamp_ms,open,high,low,close,volume`.
///
/// One record per line, `\n` or `\r\n` line endings. Fields may be quoted
/// (`"1.5"`) and surrounded by spaces or tabs; a UTF-8 byte order mark and
/// blank lines are skipped (row numbers stay line numbers). Every row is
/// checked, and the first problem is returned as a [`TapeError`] with its
/// row number; errors carry no path (use [`load_csv`] for that).
///
/// ```
/// let csv = "timestamp_ms,open,high,low,close,volume\n\
///            1515560100000,0.0984,0.0994766,0.09828605,0.0994766,1820.54447418\n";
/// let tape = stratbox_tape::read_csv(csv.as_bytes(), "ETH/BTC")?;
/// assert_eq!(tape.candles()[0].open, 0.0984);
/// # Ok::<(), stratbox_tape::TapeError>(())
/// ```
pub fn read_csv(reader: impl Read, market: &str) -> Result<Tape, TapeError> {
    parse(reader, market, None)
}

/// Loads a tape for `market` from the CSV file at `path`, like [`read_csv`];
/// every error names the file ([`TapeError::path`]).
pub fn load_csv(path: &Path, market: &str) -> Result<Tape, TapeError> {
    let file = File::open(path).map_err(|source| TapeError::Io {
        path: Some(path.to_path_buf()),
        source,
    })?;
    let tape = parse(file, market, Some(path))?;
    tracing::debug!(
        path = %path.display(),
        market,
        candles = tape.len(),
        interval_ms = ?tape.interval_ms(),
        gaps = tape.gaps(),
        "loaded tape"
    );
    Ok(tape)
}

fn parse(reader: impl Read, market: &str, path: Option<&Path>) -> Result<Tape, TapeError> {
    let owned_path = || path.map(Path::to_path_buf);
    let mut lines = Lines::new(reader);

    // The header: the first line, blank or not.
    let header = match lines.next_line() {
        Ok(Some((_, line))) => line,
        Ok(None) => return Err(TapeError::Empty { path: owned_path() }),
        Err(source) => {
            return Err(TapeError::Io {
                path: owned_path(),
                source,
            });
        }
    };
    let header = header.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(header);
    let fields = split_fields(header);
    if fields.len() != COLUMNS.len()
        || fields
            .iter()
            .zip(COLUMNS)
            .any(|(f, c)| f.as_ref() != c.as_bytes())
    {
        return Err(TapeError::Header {
            path: owned_path(),
            found: fields
                .iter()
                .map(|f| String::from_utf8_lossy(f))
                .collect::<Vec<_>>()
                .join(","),
            expected: HEADER,
        });
    }

    let mut candles = Vec::new();
    let mut previous_ms = None;
    loop {
        let (row, line) = match lines.next_line() {
            Ok(Some(next)) => next,
            Ok(None) => break,
            Err(source) => {
                return Err(TapeError::Io {
                    path: owned_path(),
                    source,
                });
            }
        };
        if line.trim_ascii().is_empty() {
            continue;
        }
        let candle = parse_row(&split_fields(line))
            .and_then(|candle| check_next(&candle, previous_ms).map(|()| candle))
            .map_err(|kind| TapeError::Row {
                path: owned_path(),
                row,
                kind,
            })?;
        previous_ms = Some(candle.timestamp_ms);
        candles.push(candle);
    }
    if candles.is_empty() {
        return Err(TapeError::Empty { path: owned_path() });
    }
    Ok(Tape::from_checked(market.to_owned(), candles))
}

/// Lines of the input with their 1-based numbers, without line endings.
struct Lines<R> {
    reader: BufReader<R>,
    buffer: Vec<u8>,
    number: usize,
}

impl<R: Read> Lines<R> {
    fn new(reader: R) -> Self {
        Self {
            reader: BufReader::new(reader),
            buffer: Vec::new(),
            number: 0,
        }
    }

    fn next_line(&mut self) -> std::io::Result<Option<(usize, &[u8])>> {
        self.buffer.clear();
        if self.reader.read_until(b'\n', &mut self.buffer)? == 0 {
            return Ok(None);
        }
        self.number += 1;
        let line = self.buffer.strip_suffix(b"\n").unwrap_or(&self.buffer);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        Ok(Some((self.number, line)))
    }
}

/// Splits a line at commas outside double quotes; each field is trimmed of
/// spaces and tabs and unquoted (`"a""b"` becomes `a"b`).
fn split_fields(line: &[u8]) -> Vec<Cow<'_, [u8]>> {
    let mut fields = Vec::with_capacity(COLUMNS.len());
    let mut start = 0;
    let mut in_quotes = false;
    for (i, &byte) in line.iter().enumerate() {
        match byte {
            b'"' => in_quotes = !in_quotes,
            b',' if !in_quotes => {
                fields.push(unquote(&line[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    fields.push(unquote(&line[start..]));
    fields
}

fn unquote(field: &[u8]) -> Cow<'_, [u8]> {
    let field = field.trim_ascii();
    match field {
        [b'"', inner @ .., b'"'] => {
            if inner.contains(&b'"') {
                let mut out = Vec::with_capacity(inner.len());
                let mut bytes = inner.iter().copied().peekable();
                while let Some(byte) = bytes.next() {
                    out.push(byte);
                    if byte == b'"' && bytes.peek() == Some(&b'"') {
                        bytes.next();
                    }
                }
                Cow::Owned(out)
            } else {
                Cow::Borrowed(inner)
            }
        }
        _ => Cow::Borrowed(field),
    }
}

fn parse_row(fields: &[Cow<'_, [u8]>]) -> Result<Candle, RowErrorKind> {
    if fields.len() != COLUMNS.len() {
        return Err(RowErrorKind::ColumnCount {
            found: fields.len(),
            expected: COLUMNS.len(),
        });
    }
    Ok(Candle {
        timestamp_ms: field(fields, 0)?,
        open: field(fields, 1)?,
        high: field(fields, 2)?,
        low: field(fields, 3)?,
        close: field(fields, 4)?,
        volume: field(fields, 5)?,
    })
}

/// Parses field `index` with `FromStr` (for `f64`, bit-exact to the text).
fn field<T: FromStr>(fields: &[Cow<'_, [u8]>], index: usize) -> Result<T, RowErrorKind> {
    let bytes: &[u8] = &fields[index];
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| RowErrorKind::BadNumber {
            column: COLUMNS[index],
            text: String::from_utf8_lossy(bytes).into_owned(),
        })
}
