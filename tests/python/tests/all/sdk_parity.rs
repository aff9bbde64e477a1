//! The Python SDK's indicators give the Rust SDK's values, bit for bit, on
//! real candles, inside the sandbox and under the repository's CPython; and
//! the SDK's own unit tests pass.

use std::process::Command;

use serde_json::json;
use stratbox_runtime::{AllowAll, Deployment, DeploymentHost, TickInput};
use stratbox_sdk::indicators;
use stratbox_test_artifacts::{Guest, data_dir};

use crate::support::{
    Clock, block, eth_tape, load, market_candles, messages, repo_root, runtime, spec, venv_python,
};

const CANDLES: usize = 1_500;

/// One `parity ...` line per candle: SMA(20) EMA(20) RSI(14) Bollinger(20,
/// 2) lower/middle/upper ATR(14), `None` before warm-up.
type Row = [Option<f64>; 7];

fn rust_rows() -> Vec<Row> {
    let tape = eth_tape(CANDLES);
    let closes: Vec<f64> = tape.candles().iter().map(|c| c.close).collect();
    let highs: Vec<f64> = tape.candles().iter().map(|c| c.high).collect();
    let lows: Vec<f64> = tape.candles().iter().map(|c| c.low).collect();
    let sma = indicators::sma(&closes, 20);
    let ema = indicators::ema(&closes, 20);
    let rsi = indicators::rsi(&closes, 14);
    let bands = indicators::bollinger(&closes, 20, 2.0);
    let atr = indicators::atr(&highs, &lows, &closes, 14);
    (0..closes.len())
        .map(|i| {
            [
                sma[i],
                ema[i],
                rsi[i],
                bands[i].map(|b| b.lower),
                bands[i].map(|b| b.middle),
                bands[i].map(|b| b.upper),
                atr[i],
            ]
        })
        .collect()
}

/// Parse a `parity` line of Python `repr`s (exact: they round-trip).
fn parse_row(line: &str) -> Row {
    let fields: Vec<&str> = line
        .strip_prefix("parity ")
        .unwrap_or_else(|| panic!("not a parity line: {line}"))
        .split(' ')
        .collect();
    assert_eq!(fields.len(), 7, "{line}");
    let mut row = [None; 7];
    for (slot, field) in row.iter_mut().zip(fields) {
        *slot = (field != "-").then(|| field.parse::<f64>().unwrap());
    }
    row
}

fn assert_same(python: &[Row], rust: &[Row], where_: &str) {
    assert_eq!(python.len(), rust.len(), "{where_}");
    let bits = |row: &Row| row.map(|v| v.map(f64::to_bits));
    for (n, (p, r)) in python.iter().zip(rust).enumerate() {
        assert_eq!(
            bits(p),
            bits(r),
            "{where_}: candle {n}: python {p:?}, rust {r:?}"
        );
    }
    // Past warm-up every indicator has a value.
    assert!(rust[CANDLES - 1].iter().all(Option::is_some));
}

#[test]
fn indicators_in_the_sandbox_match_the_rust_sdk_bit_for_bit() {
    let (mut deployment, _) = Deployment::new(
        runtime(),
        &load(Guest::PyProbe),
        spec("parity", &json!({"mode": "parity"})),
        DeploymentHost::new(Clock, AllowAll),
    )
    .unwrap();
    let candles = market_candles(CANDLES);
    let mut python = Vec::with_capacity(CANDLES);
    for (n, candle) in candles.into_iter().enumerate() {
        let report = deployment
            .tick(TickInput {
                block: block(n as u64),
                candles: vec![candle],
                results: Vec::new(),
            })
            .unwrap();
        python.extend(messages(&report.trace).into_iter().map(parse_row));
    }
    assert_same(&python, &rust_rows(), "sandbox");
}

#[test]
fn indicators_under_cpython_match_the_rust_sdk_bit_for_bit() {
    let output = Command::new(venv_python())
        .arg(repo_root().join("guest-sdk/python/tools/print_indicators.py"))
        .arg(data_dir().join("ETH_BTC-5m.csv"))
        .arg(CANDLES.to_string())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let python: Vec<Row> = stdout.lines().map(parse_row).collect();
    assert_same(&python, &rust_rows(), "cpython");
}

#[test]
fn python_sdk_unit_tests_pass_under_cpython() {
    let sdk = repo_root().join("guest-sdk/python");
    let output = Command::new(venv_python())
        .args(["-m", "unittest", "discover", "--start-directory", "tests"])
        .current_dir(&sdk)
        .env("PYTHONPATH", &sdk)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("\nOK"), "{stderr}");
}

/// Repository paths of Rust files (`a/b/c.rs`) that `text` mentions.
fn rust_paths(text: &str) -> Vec<&str> {
    text.split(|c: char| c.is_whitespace() || "()[]{}`'\",;:".contains(c))
        .map(|word| word.trim_end_matches('.'))
        .filter(|word| word.ends_with(".rs") && word.contains('/'))
        .collect()
}

#[test]
fn the_python_sdk_tests_point_at_rust_tests_that_exist() {
    let tests = repo_root().join("guest-sdk/python/tests");
    let mut mentioned = Vec::new();
    for entry in std::fs::read_dir(&tests).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "py") {
            let text = std::fs::read_to_string(&path).unwrap();
            for rust in rust_paths(&text) {
                mentioned.push((path.clone(), rust.to_owned()));
            }
        }
    }
    // The indicator tests name the parity tests in this file.
    assert!(
        mentioned
            .iter()
            .any(|(_, rust)| rust == "tests/python/tests/all/sdk_parity.rs"),
        "{mentioned:?}"
    );
    for (python, rust) in &mentioned {
        assert!(
            repo_root().join(rust).is_file(),
            "{} mentions {rust}, which does not exist",
            python.display()
        );
    }
}
