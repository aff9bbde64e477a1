use stratbox_test_artifacts::Guest;

use crate::{stratbox, text};

/// Every row of the comparison table, by the start of its label.
const ROWS: &[&str] = &[
    "tick, empty Rust strategy, one candle (snapshot every 1,000 ticks)",
    "tick, empty Rust strategy, one candle, snapshot every tick",
    "tick, Rust strategy reading one price",
    "one oracle read inside the guest",
    "engine floor: component call, no arguments or results",
    "engine floor: world 0.2 tick context (one candle, flat arguments, flat result)",
    "engine floor: world 0.1 tick context (candle list, market string, result)",
    "empty Rust SDK strategy, one-candle tick, called without the runtime",
    "engine floor: one price(base, quote) import call, strings (world 0.1), constant answer",
    "engine floor: one price(base-id, quote-id) import call, u32 ids (world 0.2), constant answer",
    "RSI over 2,000 candles, native",
    "RSI over 2,000 candles, sandboxed, fuel off",
    "RSI over 2,000 candles, sandboxed, fuel on",
    "RSI time, sandboxed (fuel on) / native",
    "Rust strategy throughput",
    "fuel metering overhead",
    "Python Bollinger per tick, sandboxed, snapshot every 1,000 ticks",
    "Python Bollinger per tick, native CPython",
    "Python per tick, sandboxed / native CPython, snapshot every 1,000 ticks",
    "Python Bollinger per tick, sandboxed, snapshot every tick",
    "Python per tick, sandboxed / native CPython, snapshot every tick",
    "Python: compile from bytes",
    "Python: deserialize from the cached artifact",
    "Python: instantiate, on-demand allocator",
    "Python: instantiate, pooled, copy-on-write",
    "Python: deploy: instantiate, init, first snapshot, drop",
    "Python: cold start from the sealed store",
    "Rust: compile from bytes",
    "Rust: deserialize from the cached artifact",
    "Rust: instantiate, on-demand allocator",
    "Rust: instantiate, pooled, copy-on-write",
    "Rust: deploy: instantiate, init, first snapshot, drop",
    "Rust: cold start from the sealed store",
    "density: resident memory per instance, 3 RSI instances",
    "density: tick all 3 RSI instances once",
    "density: 10,000 idle RSI instances, resident",
    "policy checks per second, 20-rule policy",
    "journal writes per second, one tick per transaction (synchronous=NORMAL)",
    "journal writes per second, one tick per transaction (synchronous=FULL)",
    "stratbox backtest per tick, RSI over 2,000 synthetic candles",
    "engine loop alone per tick, the same candles",
    "stratbox backtest per tick / engine loop per tick",
];

#[test]
fn bench_prints_one_table_with_every_measurement_and_target() {
    let path = |guest: Guest| guest.path().to_str().expect("utf-8 path").to_owned();
    let output = stratbox(&[
        "bench",
        "--quick",
        "--candles",
        "2000",
        "--instances",
        "3",
        "--samples",
        "1",
        "--batch",
        "16",
        "--replays",
        "1",
        "--compiles",
        "1",
        "--python-ticks",
        "4",
        "--empty",
        &path(Guest::Empty),
        "--oracle-read",
        &path(Guest::OracleRead),
        "--rsi",
        &path(Guest::RsiMomentum),
        "--bollinger",
        &path(Guest::PyBollinger),
    ]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("what") && l.contains("measured")),
        "{stdout}"
    );
    for row in ROWS {
        let line = lines
            .iter()
            .find(|line| line.starts_with(row))
            .unwrap_or_else(|| panic!("no row {row:?} in:\n{stdout}"));
        assert!(!line.contains("skipped"), "{line}");
    }
    // Every row the issue sets a target for says whether it is met.
    let judged = lines
        .iter()
        .filter(|l| l.contains(" met (") || l.contains("MISSED by"))
        .count();
    assert_eq!(judged, 12, "{stdout}");
    assert!(stdout.contains("extrapolated from 3 instances"), "{stdout}");

    // The backtest rows alone.
    let output = stratbox(&[
        "bench",
        "--backtest-only",
        "--candles",
        "2000",
        "--replays",
        "1",
        "--rsi",
        &path(Guest::RsiMomentum),
    ]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("stratbox backtest") || l.starts_with("engine loop"))
        .collect();
    assert_eq!(rows.len(), 3, "{stdout}");
}
