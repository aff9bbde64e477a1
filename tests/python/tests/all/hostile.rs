//! Hostile Python: for each attack the expected typed error, a bystander
//! Python deployment in the same runtime unaffected, nothing emitted in the
//! failed tick released, and the next tick resumed from the last committed
//! snapshot.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use stratbox_runtime::types::{Action, MarketCandle};
use stratbox_runtime::{
    AllowAll, CallTrace, Deployment, DeploymentHost, Limits, TickError, TickInput,
};
use stratbox_test_artifacts::Guest;

use crate::support::{
    Clock, Heard, RecordingPolicy, block, load, market_candles, messages, runtime, spec,
};

const ATTACK_AT: u64 = 2;
const TICKS: u64 = 5;

fn observable(trace: &CallTrace) -> (String, String, String, u64) {
    (
        format!("{:?}", trace.emissions),
        format!("{:?}", trace.logs),
        format!("{:?}", trace.oracle_reads),
        trace.fuel_used,
    )
}

fn candles() -> Vec<MarketCandle> {
    market_candles(TICKS as usize)
}

fn bystander_input(n: u64, candles: &[MarketCandle]) -> TickInput {
    TickInput {
        block: block(n),
        candles: vec![candles[n as usize].clone()],
        results: Vec::new(),
    }
}

/// The Bollinger example with bands so narrow that it trades at once.
fn bystander() -> Deployment {
    let config = json!({"period": 2, "k": 0.0, "cooldown_ms": 0});
    Deployment::new(
        runtime(),
        &load(Guest::PyBollinger),
        spec("bystander", &config),
        DeploymentHost::new(Clock, AllowAll),
    )
    .expect("bystander starts")
    .0
}

fn count_line(trace: &CallTrace) -> String {
    messages(trace)
        .into_iter()
        .find(|m| m.starts_with("count="))
        .unwrap_or("<no count line>")
        .to_owned()
}

fn scenario(attack: &str, limits: Limits, expected: impl Fn(&TickError) -> bool) {
    let candles = candles();
    let mut alone = bystander();
    let solo: Vec<_> = (0..TICKS)
        .map(|n| {
            let report = alone
                .tick(bystander_input(n, &candles))
                .expect("bystander ticks");
            (report.actions, observable(&report.trace))
        })
        .collect();

    let heard = Arc::new(Mutex::new(Heard::default()));
    let config = json!({"attack": attack, "at_sequence": ATTACK_AT});
    let (mut attacker, _) = Deployment::new(
        runtime(),
        &load(Guest::PyHostile),
        spec(&format!("hostile-{attack}"), &config).with_limits(limits),
        DeploymentHost::new(Clock, RecordingPolicy(Arc::clone(&heard))),
    )
    .expect("attacker starts");
    let mut neighbour = bystander();

    for n in 0..TICKS {
        match (n, attacker.tick(TickInput::at(block(n)))) {
            (ATTACK_AT, Err(failure)) => {
                assert!(
                    expected(&failure.error),
                    "{attack}: unexpected error {:?}",
                    failure.error
                );
                assert!(
                    failure
                        .trace
                        .emissions
                        .first()
                        .is_some_and(|e| matches!(e.action, Action::Hold(_)) && e.verdict.is_ok()),
                    "{attack}: {:?}",
                    failure.trace.emissions
                );
            }
            (ATTACK_AT, Ok(_)) => panic!("{attack}: the attack tick succeeded"),
            (_, Err(failure)) => panic!("{attack}: tick {n} failed: {failure}"),
            (_, Ok(report)) => {
                // The attack tick's increment was rolled back.
                let count = if n < ATTACK_AT { n + 1 } else { n };
                assert_eq!(
                    count_line(&report.trace),
                    format!("count={count}"),
                    "{attack}: tick {n}"
                );
                // The failed tick rebuilds at once on what it left of its
                // budget; one that left too little rebuilds in the next.
                if n != ATTACK_AT + 1 {
                    assert_eq!(report.trace.rebuild_fuel, None, "{attack}: tick {n}");
                }
            }
        }
        let report = neighbour
            .tick(bystander_input(n, &candles))
            .expect("bystander ticks");
        assert_eq!(
            (report.actions, observable(&report.trace)),
            solo[n as usize],
            "{attack}: the bystander's tick {n} differs from its solo run"
        );
    }
    let heard = heard.lock().unwrap();
    assert!(
        heard.released.is_empty(),
        "{attack}: nothing may be released"
    );
    assert_eq!(
        heard.dropped.len(),
        1,
        "{attack}: the hold was dropped with the tick"
    );
}

#[test]
fn infinite_loop_runs_out_of_fuel() {
    scenario("infinite-loop", Limits::python(), |e| {
        matches!(e, TickError::OutOfFuel { limit: 100_000_000 })
    });
}

#[test]
fn memory_growth_hits_the_256_mib_limit() {
    // Python zero-fills what it allocates, which costs fuel per byte: with
    // the default budget fuel runs out first (next test). With fuel and
    // time to spare, memory is what stops it.
    let limits = Limits {
        fuel_per_tick: u64::MAX / 4,
        deadline: Duration::from_secs(60),
        ..Limits::python()
    };
    scenario(
        "memory-growth",
        limits,
        |e| matches!(e, TickError::MemoryLimit { limit, requested } if *limit == 256 << 20 && *requested > *limit),
    );
}

#[test]
fn memory_growth_under_default_limits_runs_out_of_fuel_first() {
    scenario("memory-growth", Limits::python(), |e| {
        matches!(e, TickError::OutOfFuel { limit: 100_000_000 })
    });
}

#[test]
fn recursion_raises_recursion_error() {
    scenario(
        "recursion",
        Limits::python(),
        |e| matches!(e, TickError::GuestError { message } if message.starts_with("RecursionError: ")),
    );
}

#[test]
fn deep_recursion_past_the_python_limit_overflows_the_wasm_stack() {
    scenario("deep-recursion", Limits::python(), |e| {
        matches!(e, TickError::StackOverflow)
    });
}

#[test]
fn an_exception_fails_the_tick_with_its_type_message_and_line() {
    scenario("raise", Limits::python(), |e| {
        matches!(e, TickError::GuestError { message }
            if message.starts_with("ValueError: hostile strategy raises on purpose (at strategy.py:"))
    });
}

#[test]
fn sys_exit_is_an_error_not_an_exit() {
    scenario(
        "sys-exit",
        Limits::python(),
        |e| matches!(e, TickError::GuestError { message } if message.starts_with("SystemExit: 3")),
    );
}
