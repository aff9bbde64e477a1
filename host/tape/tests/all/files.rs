//! Loading from a path: errors name the file.

use std::io::Write;
use std::path::Path;

use stratbox_tape::{RowErrorKind, TapeError, load_csv};

use crate::csv;

fn file_with(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(text.as_bytes()).expect("write temp file");
    file
}

#[test]
fn row_errors_carry_the_path() {
    let file = file_with(&csv(&["1000,1,2,0.5,1.5,10", "2000,1.25,1.2,1.3,1.25,5"]));
    let err = load_csv(file.path(), "T/BTC").expect_err("high below low");
    match &err {
        TapeError::Row {
            path: Some(path),
            row: 3,
            kind: RowErrorKind::HighBelowLow { .. },
        } => assert_eq!(path, file.path()),
        other => panic!("unexpected error {other:?}"),
    }
    assert_eq!(err.path(), Some(file.path()));
}

#[test]
fn header_and_empty_errors_carry_the_path() {
    let file = file_with("time,o,h,l,c,v\n");
    let err = load_csv(file.path(), "T/BTC").expect_err("bad header");
    assert!(
        matches!(&err, TapeError::Header { path: Some(p), .. } if p == file.path()),
        "{err:?}"
    );

    let file = file_with("");
    let err = load_csv(file.path(), "T/BTC").expect_err("empty");
    assert!(
        matches!(&err, TapeError::Empty { path: Some(p) } if p == file.path()),
        "{err:?}"
    );
}

#[test]
fn missing_file_is_an_io_error_with_the_path() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("no-such-tape.csv");
    let err = load_csv(&path, "T/BTC").expect_err("missing");
    match &err {
        TapeError::Io {
            path: Some(p),
            source,
        } => {
            assert_eq!(p, &path);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn non_utf8_field_is_a_bad_number() {
    let mut bytes = csv(&[]).into_bytes();
    bytes.extend_from_slice(b"1000,1,2,0.5,\xff,10\n");
    let err = stratbox_tape::read_csv(bytes.as_slice(), "T/BTC").expect_err("bad bytes");
    assert!(
        matches!(
            err,
            TapeError::Row {
                row: 2,
                kind: RowErrorKind::BadNumber {
                    column: "close",
                    ..
                },
                ..
            }
        ),
        "{err:?}"
    );
}
