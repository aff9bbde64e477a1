//! Each malformed input is refused with the expected variant and row.

use stratbox_tape::{RowErrorKind as K, TapeError as E, read_csv};

use crate::csv;

const GOOD1: &str = "1000,1.0,2.0,0.5,1.5,10";
const GOOD2: &str = "2000,1.5,2.5,1.0,2.0,20";

type Check = fn(&E) -> bool;

#[test]
fn bad_inputs_give_typed_errors_with_rows() {
    let cases: Vec<(&str, String, Check)> = vec![
        (
            "header with a wrong column",
            "timestamp,open,high,low,close,volume\n1000,1,2,0.5,1.5,10\n".into(),
            |e| {
                matches!(e, E::Header { found, expected, path: None }
                if found == "timestamp,open,high,low,close,volume"
                    && *expected == stratbox_tape::HEADER)
            },
        ),
        (
            "header missing a column",
            "timestamp_ms,open,high,low,close\n".into(),
            |e| matches!(e, E::Header { found, .. } if found == "timestamp_ms,open,high,low,close"),
        ),
        (
            "header with columns reordered",
            "timestamp_ms,open,low,high,close,volume\n1000,1,2,0.5,1.5,10\n".into(),
            |e| matches!(e, E::Header { .. }),
        ),
        (
            "too few columns",
            csv(&[GOOD1, "2000,1.5,2.5,1.0,2.0"]),
            |e| {
                matches!(
                    e,
                    E::Row {
                        row: 3,
                        kind: K::ColumnCount {
                            found: 5,
                            expected: 6
                        },
                        path: None
                    }
                )
            },
        ),
        (
            "too many columns",
            csv(&["1000,1.0,2.0,0.5,1.5,10,7"]),
            |e| {
                matches!(
                    e,
                    E::Row {
                        row: 2,
                        kind: K::ColumnCount {
                            found: 7,
                            expected: 6
                        },
                        ..
                    }
                )
            },
        ),
        (
            "unparsable price",
            csv(&[GOOD1, GOOD2, "3000,1.5,2.5,abc,2.0,20"]),
            |e| {
                matches!(e, E::Row { row: 4, kind: K::BadNumber { column: "low", text }, .. }
                if text == "abc")
            },
        ),
        ("empty field", csv(&["1000,1.0,,0.5,1.5,10"]), |e| {
            matches!(e, E::Row { row: 2, kind: K::BadNumber { column: "high", text }, .. }
                if text.is_empty())
        }),
        (
            "fractional timestamp",
            csv(&["1000.5,1.0,2.0,0.5,1.5,10"]),
            |e| {
                matches!(e, E::Row { row: 2, kind: K::BadNumber { column: "timestamp_ms", text }, .. }
                if text == "1000.5")
            },
        ),
        (
            "negative timestamp",
            csv(&["-1000,1.0,2.0,0.5,1.5,10"]),
            |e| {
                matches!(
                    e,
                    E::Row {
                        row: 2,
                        kind: K::BadNumber {
                            column: "timestamp_ms",
                            ..
                        },
                        ..
                    }
                )
            },
        ),
        ("NaN", csv(&[GOOD1, "2000,NaN,2.5,1.0,2.0,20"]), |e| {
            matches!(e, E::Row { row: 3, kind: K::NotFinite { column: "open", value }, .. }
                if value.is_nan())
        }),
        (
            "infinite volume",
            csv(&[GOOD1, "2000,1.5,2.5,1.0,2.0,inf"]),
            |e| {
                matches!(e, E::Row { row: 3, kind: K::NotFinite { column: "volume", value }, .. }
                if value.is_infinite())
            },
        ),
        (
            "negative price",
            csv(&[GOOD1, "2000,1.5,2.5,-1.0,2.0,20"]),
            |e| {
                matches!(e, E::Row { row: 3, kind: K::NonPositive { column: "low", value }, .. }
                if *value == -1.0)
            },
        ),
        ("zero price", csv(&["1000,0,2.0,0.5,1.5,10"]), |e| {
            matches!(e, E::Row { row: 2, kind: K::NonPositive { column: "open", value }, .. }
                if *value == 0.0)
        }),
        (
            "negative volume",
            csv(&[GOOD1, "2000,1.5,2.5,1.0,2.0,-20"]),
            |e| {
                matches!(e, E::Row { row: 3, kind: K::Negative { column: "volume", value }, .. }
                if *value == -20.0)
            },
        ),
        (
            "high below low",
            csv(&[GOOD1, GOOD2, "3000,1.25,1.2,1.3,1.25,5"]),
            |e| {
                matches!(e, E::Row { row: 4, kind: K::HighBelowLow { high, low }, .. }
                if *high == 1.2 && *low == 1.3)
            },
        ),
        (
            "close above high",
            csv(&[GOOD1, "2000,1.5,2.5,1.0,2.6,20"]),
            |e| {
                matches!(e, E::Row { row: 3, kind: K::OutsideRange { column: "close", value, low, high }, .. }
                if *value == 2.6 && *low == 1.0 && *high == 2.5)
            },
        ),
        ("open below low", csv(&["1000,0.4,2.0,0.5,1.5,10"]), |e| {
            matches!(
                e,
                E::Row {
                    row: 2,
                    kind: K::OutsideRange { column: "open", .. },
                    ..
                }
            )
        }),
        ("duplicate timestamp", csv(&[GOOD1, GOOD2, GOOD2]), |e| {
            matches!(
                e,
                E::Row {
                    row: 4,
                    kind: K::NotIncreasing {
                        previous_ms: 2000,
                        current_ms: 2000
                    },
                    ..
                }
            )
        }),
        (
            "decreasing timestamp",
            csv(&[GOOD1, GOOD2, "1500,1.5,2.5,1.0,2.0,20"]),
            |e| {
                matches!(
                    e,
                    E::Row {
                        row: 4,
                        kind: K::NotIncreasing {
                            previous_ms: 2000,
                            current_ms: 1500
                        },
                        ..
                    }
                )
            },
        ),
        ("header only", csv(&[]), |e| {
            matches!(e, E::Empty { path: None })
        }),
        ("empty input", String::new(), |e| {
            matches!(e, E::Empty { path: None })
        }),
    ];

    let mut failures = Vec::new();
    for (name, input, check) in &cases {
        match read_csv(input.as_bytes(), "T/BTC") {
            Ok(tape) => failures.push(format!("{name}: accepted ({} candles)", tape.len())),
            Err(err) if check(&err) => {}
            Err(err) => failures.push(format!("{name}: unexpected error {err:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn row_numbers_are_line_numbers() {
    let err =
        read_csv(csv(&[GOOD1, GOOD2, "3000,x,1,1,1,1"]).as_bytes(), "T/BTC").expect_err("bad row");
    assert_eq!(err.row(), Some(4));
    assert!(matches!(
        err.row_error(),
        Some(K::BadNumber { column: "open", .. })
    ));

    let err = read_csv("open,high\n".as_bytes(), "T/BTC").expect_err("bad header");
    assert_eq!(err.row(), Some(1));
}

#[test]
fn blank_lines_do_not_shift_row_numbers() {
    let input = format!("{}\n\n{GOOD1}\n\n\n3000,1,1,2,1,1\n", stratbox_tape::HEADER);
    let err = read_csv(input.as_bytes(), "T/BTC").expect_err("bad row");
    assert!(
        matches!(
            err,
            E::Row {
                row: 6,
                kind: K::HighBelowLow { .. },
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn crlf_and_leading_blank_lines_keep_line_numbers() {
    let input = format!(
        "{}\r\n\r\n{GOOD1}\r\n3000,1,1,2,1,1\r\n",
        stratbox_tape::HEADER
    );
    let err = read_csv(input.as_bytes(), "T/BTC").expect_err("bad row");
    assert!(
        matches!(
            err,
            E::Row {
                row: 4,
                kind: K::HighBelowLow { .. },
                ..
            }
        ),
        "{err:?}"
    );

    // A blank first line is where the header should be.
    let input = format!("\n{}\n{GOOD1}\n", stratbox_tape::HEADER);
    let err = read_csv(input.as_bytes(), "T/BTC").expect_err("no header");
    assert!(matches!(err, E::Header { .. }), "{err:?}");
}

#[test]
fn accepted_variations() {
    let inputs = [
        // CRLF line endings
        format!("{}\r\n{GOOD1}\r\n{GOOD2}\r\n", stratbox_tape::HEADER),
        // No final newline
        format!("{}\n{GOOD1}\n{GOOD2}", stratbox_tape::HEADER),
        // Quoted fields and spaces around them
        format!(
            "\"timestamp_ms\", open ,high,low,close,volume\n{GOOD1}\n 2000 , \"1.5\" ,2.5,1.0,2.0, 20\n"
        ),
        // A UTF-8 byte order mark
        format!("\u{feff}{}\n{GOOD1}\n{GOOD2}\n", stratbox_tape::HEADER),
        // Scientific notation, zero volume, flat candle, a gap
        format!(
            "{}\n{GOOD1}\n2000,5e-1,5E-1,0.5,0.5,0\n9000,1.5,2.5,1.0,2.0,20\n",
            stratbox_tape::HEADER
        ),
    ];
    for input in &inputs {
        let tape = read_csv(input.as_bytes(), "T/BTC")
            .unwrap_or_else(|e| panic!("refused {input:?}: {e}"));
        assert_eq!(tape.len(), if input.contains("9000") { 3 } else { 2 });
        assert_eq!(tape.candles()[0].timestamp_ms, 1000);
        assert_eq!(tape.candles()[1].timestamp_ms, 2000);
    }
}
