//! Every file shipped in `data/` loads, with the expected shape.

use std::path::{Path, PathBuf};

use stratbox_tape::load_csv;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data")
}

/// (file, market, candles, interval_ms, gaps, first timestamp, last timestamp)
const FILES: [(&str, &str, usize, u64, usize, u64, u64); 4] = [
    (
        "ETH_BTC-5m.csv",
        "ETH/BTC",
        5760,
        300_000,
        0,
        1_515_560_100_000,
        1_517_287_800_000,
    ),
    (
        "ADA_BTC-5m.csv",
        "ADA/BTC",
        5720,
        300_000,
        5,
        1_515_560_100_000,
        1_517_287_800_000,
    ),
    (
        "DASH_BTC-5m.csv",
        "DASH/BTC",
        5758,
        300_000,
        2,
        1_515_560_100_000,
        1_517_287_800_000,
    ),
    (
        "UNITTEST_BTC-1m.csv",
        "UNITTEST/BTC",
        13681,
        60_000,
        538,
        1_509_836_520_000,
        1_510_700_340_000,
    ),
];

#[test]
fn every_data_file_loads() {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(data_dir()).expect("data/ is readable") {
        let path = entry.expect("data/ entry").path();
        if path.extension().is_some_and(|e| e == "csv") {
            let tape = load_csv(&path, "ANY/BTC")
                .unwrap_or_else(|e| panic!("{} does not load: {e}", path.display()));
            assert!(!tape.is_empty());
            found.push(
                path.file_name()
                    .expect("file name")
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    found.sort();
    let mut expected: Vec<String> = FILES.iter().map(|f| f.0.to_owned()).collect();
    expected.sort();
    assert_eq!(
        found, expected,
        "data/ holds exactly the expected CSV files"
    );
}

#[test]
fn data_files_have_expected_shape() {
    for (file, market, len, interval, gaps, first, last) in FILES {
        let tape = load_csv(&data_dir().join(file), market).expect(file);
        assert_eq!(tape.market(), market);
        assert_eq!(tape.len(), len, "{file}: candles");
        assert_eq!(tape.candles().len(), len, "{file}: candles()");
        assert_eq!(tape.interval_ms(), Some(interval), "{file}: interval");
        assert_eq!(tape.gaps(), gaps, "{file}: gaps");
        assert_eq!(tape.first_timestamp_ms(), Some(first), "{file}: first");
        assert_eq!(tape.last_timestamp_ms(), Some(last), "{file}: last");
    }
}

#[test]
fn first_eth_candle_is_exact() {
    let tape = load_csv(&data_dir().join("ETH_BTC-5m.csv"), "ETH/BTC").expect("ETH loads");
    let first = tape.candles()[0];
    assert_eq!(first.timestamp_ms, 1_515_560_100_000);
    assert_eq!(first.open.to_bits(), 0.0984_f64.to_bits());
    assert_eq!(first.high.to_bits(), 0.0994766_f64.to_bits());
    assert_eq!(first.low.to_bits(), 0.09828605_f64.to_bits());
    assert_eq!(first.close.to_bits(), 0.0994766_f64.to_bits());
    assert_eq!(first.volume.to_bits(), 1820.54447418_f64.to_bits());
    // The second row carries binary noise in the file; it is kept as written.
    let second = tape.candles()[1];
    assert_eq!(second.open.to_bits(), 0.09946999000000001_f64.to_bits());
}

#[test]
fn scientific_notation_is_bit_exact() {
    let tape = load_csv(&data_dir().join("ADA_BTC-5m.csv"), "ADA/BTC").expect("ADA loads");
    let first = tape.candles()[0];
    assert_eq!(first.open.to_bits(), 5.330000000000001e-05_f64.to_bits());
    assert_eq!(first.low.to_bits(), 5.288000000000001e-05_f64.to_bits());
    assert_eq!(first.close.to_bits(), 5.2900000000000005e-05_f64.to_bits());
}
