//! A failed tick stops a backtest by default, naming the tick, the cause
//! and the limit; asked to, a backtest runs past failures and lists every
//! one.

use stratbox_backtest::BacktestError;
use stratbox_runtime::{Limits, TickError};
use stratbox_test_artifacts::Guest;

use crate::support::{backtest, eth_tape, hostile_spec, load};

/// Close time of candle `index` of the ETH/BTC tape (its open time plus
/// the 5-minute interval).
fn close_ms(index: usize) -> u64 {
    eth_tape(index + 1).candles()[index].timestamp_ms + 300_000
}

#[test]
fn a_memory_bomb_stops_the_backtest_naming_tick_time_cause_and_limit() {
    let hostile = load(Guest::Hostile);
    let limit = Limits::rust().memory_bytes;
    let error = backtest(&hostile, hostile_spec("memory-bomb", 5, false), 20, false)
        .expect_err("a failed tick stops the backtest");
    let BacktestError::TickFailed(stopped) = error else {
        panic!("expected TickFailed, got {error:?}");
    };
    assert_eq!(
        (stopped.sequence, stopped.candle, stopped.candles),
        (5, 5, 20)
    );
    assert_eq!(stopped.timestamp_ms, close_ms(5));
    assert!(
        matches!(stopped.cause, TickError::MemoryLimit { limit: l, requested } if l == limit && requested > limit),
        "{:?}",
        stopped.cause
    );
    let text = stopped.to_string();
    assert!(
        text.contains("tick 5 (candle 6 of 20, closing 2018-01-10 "),
        "{text}"
    );
    assert!(text.contains(&format!("limit {limit}")), "{text}");

    // The report of the ticks run comes with the error: the failed tick is
    // listed, and nothing after it ran.
    let report = &stopped.report;
    assert!(report.stopped);
    assert_eq!((report.metrics.ticks, report.metrics.failed_ticks), (6, 1));
    assert_eq!(report.equity.len(), 6);
    assert_eq!(report.failures.len(), 1);
    let failure = &report.failures[0];
    assert_eq!((failure.sequence, failure.count), (5, 1));
    assert_eq!(failure.timestamp_ms, close_ms(5));
    assert_eq!(failure.cause, stopped.cause);
    assert_eq!(failure.message, stopped.cause.to_string());
    // Nothing of the failed tick was released.
    assert!(report.trades.iter().all(|t| t.sequence != 5));
}

#[test]
fn running_out_of_fuel_names_the_fuel_budget() {
    let hostile = load(Guest::Hostile);
    let budget = Limits::rust().fuel_per_tick;
    let Err(BacktestError::TickFailed(stopped)) =
        backtest(&hostile, hostile_spec("infinite-loop", 2, false), 10, false)
    else {
        panic!("the backtest stops at the failed tick");
    };
    assert_eq!(stopped.cause, TickError::OutOfFuel { limit: budget });
    assert!(stopped.to_string().contains(&budget.to_string()));
}

#[test]
fn a_panic_is_listed_with_its_message_from_the_tick_log() {
    let hostile = load(Guest::Hostile);
    let Err(BacktestError::TickFailed(stopped)) =
        backtest(&hostile, hostile_spec("panic", 3, false), 10, false)
    else {
        panic!("the backtest stops at the failed tick");
    };
    assert!(matches!(stopped.cause, TickError::GuestTrap { .. }));
    let failure = &stopped.report.failures[0];
    assert!(
        failure
            .logs
            .iter()
            .any(|line| line.contains("hostile strategy panicked on purpose")),
        "{:?}",
        failure.logs
    );
}

#[test]
fn continuing_past_a_failure_runs_every_candle_and_lists_it() {
    let hostile = load(Guest::Hostile);
    let report = backtest(&hostile, hostile_spec("return-error", 3, false), 20, true)
        .expect("the backtest runs past its failure");
    assert!(!report.stopped);
    assert_eq!(report.equity.len(), 20);
    assert_eq!((report.metrics.ticks, report.metrics.failed_ticks), (20, 1));
    assert_eq!(report.failures.len(), 1);
    let failure = &report.failures[0];
    assert_eq!((failure.sequence, failure.timestamp_ms), (3, close_ms(3)));
    assert_eq!(
        failure.cause,
        TickError::GuestError {
            message: "hostile strategy refuses to tick".into()
        }
    );
}

#[test]
fn the_ticks_of_a_paused_deployment_are_one_record() {
    let hostile = load(Guest::Hostile);
    // Failing at every tick from 3 on: the third failure in a row pauses
    // the deployment, and every later tick fails as paused.
    let report = backtest(&hostile, hostile_spec("return-error", 3, true), 20, true)
        .expect("the backtest runs past its failures");
    assert_eq!(
        (report.metrics.ticks, report.metrics.failed_ticks),
        (20, 17)
    );
    let summary: Vec<(u64, u64, u64, bool)> = report
        .failures
        .iter()
        .map(|f| (f.sequence, f.timestamp_ms, f.count, f.paused))
        .collect();
    assert_eq!(
        summary,
        vec![
            (3, close_ms(3), 1, false),
            (4, close_ms(4), 1, false),
            (5, close_ms(5), 1, true),
            (6, close_ms(6), 14, true),
        ]
    );
    assert_eq!(
        report.failures[3].cause,
        TickError::Paused {
            consecutive_failures: 3
        }
    );
    let listed: u64 = report.failures.iter().map(|f| f.count).sum();
    assert_eq!(listed, report.metrics.failed_ticks as u64);
}

#[test]
fn a_report_round_trips_its_failures_through_json() {
    let hostile = load(Guest::Hostile);
    let report = backtest(&hostile, hostile_spec("return-error", 2, false), 8, true).unwrap();
    let json = report.to_json(false);
    let again: stratbox_backtest::report::BacktestReport = serde_json::from_str(&json).unwrap();
    assert_eq!(again.failures, report.failures);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        value["failures"][0]["cause"]["GuestError"]["message"],
        "hostile strategy refuses to tick"
    );
    // Reports written before failures were listed still read.
    let mut old = value.clone();
    let object = old.as_object_mut().unwrap();
    object.remove("failures");
    object.remove("stopped");
    let old: stratbox_backtest::report::BacktestReport = serde_json::from_value(old).unwrap();
    assert!(old.failures.is_empty() && !old.stopped);
}
