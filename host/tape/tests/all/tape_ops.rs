//! Building tapes in memory, and the operations on them.

use stratbox_tape::{Candle, RowErrorKind, Tape, TapeError};

fn candle(timestamp_ms: u64) -> Candle {
    Candle {
        timestamp_ms,
        open: 1.0,
        high: 2.0,
        low: 0.5,
        close: 1.5,
        volume: 10.0,
    }
}

fn tape(timestamps: &[u64]) -> Tape {
    Tape::new("T/BTC", timestamps.iter().copied().map(candle).collect()).expect("valid tape")
}

#[test]
fn new_checks_every_candle_with_its_index() {
    let mut bad = candle(3_000);
    bad.close = 3.0;
    let err = Tape::new("T/BTC", vec![candle(1_000), candle(2_000), bad]).expect_err("invalid");
    assert!(
        matches!(
            err,
            TapeError::Candle {
                index: 2,
                kind: RowErrorKind::OutsideRange {
                    column: "close",
                    ..
                }
            }
        ),
        "{err:?}"
    );
    assert!(err.path().is_none());
    assert!(err.row().is_none());
}

#[test]
fn new_checks_timestamp_order() {
    let err = Tape::new("T/BTC", vec![candle(1_000), candle(2_000), candle(2_000)])
        .expect_err("duplicate");
    assert!(
        matches!(
            err,
            TapeError::Candle {
                index: 2,
                kind: RowErrorKind::NotIncreasing {
                    previous_ms: 2_000,
                    current_ms: 2_000
                }
            }
        ),
        "{err:?}"
    );
}

#[test]
fn new_refuses_no_candles() {
    let err = Tape::new("T/BTC", Vec::new()).expect_err("empty");
    assert!(matches!(err, TapeError::Empty { path: None }), "{err:?}");
}

#[test]
fn interval_is_most_common_gap() {
    assert_eq!(tape(&[0]).interval_ms(), None);
    assert_eq!(tape(&[0, 60]).interval_ms(), Some(60));
    assert_eq!(tape(&[0, 60, 120, 300, 360, 420]).interval_ms(), Some(60));
    // A tie goes to the smallest gap.
    assert_eq!(tape(&[0, 100, 150]).interval_ms(), Some(50));
}

#[test]
fn gaps_count_missing_stretches() {
    assert_eq!(tape(&[0]).gaps(), 0);
    assert_eq!(tape(&[0, 60, 120, 180]).gaps(), 0);
    // One stretch of missing candles counts once, however long.
    assert_eq!(tape(&[0, 60, 120, 600, 660, 780, 840]).gaps(), 2);
}

#[test]
fn slice_and_take() {
    let full = tape(&[0, 60, 120, 600, 660]);
    let head = full.take(3);
    assert_eq!(head.len(), 3);
    assert_eq!(head.market(), "T/BTC");
    assert_eq!(head.first_timestamp_ms(), Some(0));
    assert_eq!(head.last_timestamp_ms(), Some(120));
    assert_eq!(head.gaps(), 0);
    assert_eq!(full.take(100), full);

    let tail = full.slice(2..);
    assert_eq!(tail.candles(), &full.candles()[2..]);
    assert_eq!(tail.interval_ms(), Some(60));
    assert_eq!(tail.gaps(), 1);

    let one = full.slice(1..=1);
    assert_eq!(one.len(), 1);
    assert_eq!(one.interval_ms(), None);

    let none = full.take(0);
    assert!(none.is_empty());
    assert_eq!(none.first_timestamp_ms(), None);
    assert_eq!(none.last_timestamp_ms(), None);
    assert_eq!(none.gaps(), 0);
}

#[test]
#[should_panic]
fn slice_out_of_bounds_panics() {
    let _ = tape(&[0, 60]).slice(1..5);
}

#[test]
fn candle_validate_accepts_flat_candle_and_zero_volume() {
    let flat = Candle {
        timestamp_ms: 0,
        open: 1.0,
        high: 1.0,
        low: 1.0,
        close: 1.0,
        volume: 0.0,
    };
    assert_eq!(flat.validate(), Ok(()));
}
