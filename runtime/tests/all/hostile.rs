//! The hostile-guest corpus. For each attack: the expected typed error, the
//! process keeps running, a bystander deployment in the same runtime is
//! unaffected, nothing emitted in the failed tick is released, and the next
//! tick starts from the last committed snapshot.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use stratbox_runtime::types::{Action, MarketCandle};
use stratbox_runtime::{
    AllowAll, CallTrace, Deployment, DeploymentHost, DeploymentSpec, Limits, ResourceExceeded,
    TickError, TickInput, TrapCode,
};
use stratbox_test_artifacts::Guest;

use crate::support::{
    Clock, Heard, RecordingPolicy, block, count_line, eth_tape, hostile_spec, load, runtime,
};

/// Ticks the attacker attacks at.
const ATTACK_AT: u64 = 2;
/// Ticks run in each scenario.
const TICKS: u64 = 5;

/// The parts of a trace that must be reproducible (everything but time).
fn observable(trace: &CallTrace) -> (String, String, String, u64) {
    (
        format!("{:?}", trace.emissions),
        format!("{:?}", trace.logs),
        format!("{:?}", trace.oracle_reads),
        trace.fuel_used,
    )
}

fn bystander_input(n: u64, candles: &[MarketCandle]) -> TickInput {
    TickInput {
        block: block(n),
        candles: vec![candles[n as usize].clone()],
        results: Vec::new(),
    }
}

/// Run the RSI strategy alone, or beside an attacker, and return what it
/// observably did per tick.
fn bystander() -> Deployment {
    let runtime = runtime();
    let component = load(runtime, Guest::RsiMomentum);
    let config = json!({"period": 2, "oversold": 99.0, "overbought": 99.5, "cooldown_ms": 0});
    let spec = DeploymentSpec::new("bystander", config.to_string());
    Deployment::new(
        runtime,
        &component,
        spec,
        DeploymentHost::new(Clock, AllowAll),
    )
    .expect("bystander starts")
    .0
}

fn market_candles() -> Vec<MarketCandle> {
    stratbox_backtest::market_candles(&eth_tape(TICKS as usize))
}

fn scenario(attack: &str, limits: Limits, expected: impl Fn(&TickError) -> bool) {
    let runtime = runtime();
    let candles = market_candles();

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
    let hostile = load(runtime, Guest::Hostile);
    let spec = hostile_spec(attack, Some(ATTACK_AT)).with_limits(limits);
    let (mut attacker, _) = Deployment::new(
        runtime,
        &hostile,
        spec,
        DeploymentHost::new(Clock, RecordingPolicy(Arc::clone(&heard))),
    )
    .expect("attacker starts");
    let mut neighbour = bystander();
    let mut accepted_in_failed_tick = 0;

    for n in 0..TICKS {
        let result = attacker.tick(TickInput::at(block(n)));
        match (n, result) {
            (ATTACK_AT, Err(failure)) => {
                assert!(
                    expected(&failure.error),
                    "{attack}: unexpected error {:?}",
                    failure.error
                );
                // The hold emitted just before the attack was accepted at
                // emission, then dropped with the tick.
                assert!(
                    failure
                        .trace
                        .emissions
                        .first()
                        .is_some_and(|e| matches!(e.action, Action::Hold(_)) && e.verdict.is_ok()),
                    "{attack}: {:?}",
                    failure.trace.emissions
                );
                accepted_in_failed_tick = failure
                    .trace
                    .emissions
                    .iter()
                    .filter(|e| e.verdict.is_ok())
                    .count();
            }
            (ATTACK_AT, Ok(_)) => panic!("{attack}: the attack tick succeeded"),
            (_, Err(failure)) => panic!("{attack}: tick {n} failed: {failure}"),
            (_, Ok(report)) => {
                assert!(report.actions.is_empty(), "{attack}: a hold from tick {n}");
                // Ticks before the attack count 1, 2; the attack tick's
                // increment is rolled back, so tick 3 counts 3 again.
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
        accepted_in_failed_tick,
        "{attack}: everything accepted in the failed tick was dropped"
    );
}

#[test]
fn infinite_loop_runs_out_of_fuel() {
    scenario("infinite-loop", Limits::default(), |e| {
        matches!(e, TickError::OutOfFuel { limit: 100_000_000 })
    });
}

#[test]
fn wall_clock_deadline_is_a_separate_error_from_fuel() {
    let limits = Limits {
        fuel_per_tick: u64::MAX / 4,
        deadline: Duration::from_millis(100),
        ..Limits::default()
    };
    scenario(
        "infinite-loop",
        limits,
        |e| matches!(e, TickError::Deadline { limit } if *limit == Duration::from_millis(100)),
    );
}

#[test]
fn memory_bomb_hits_the_memory_limit() {
    scenario(
        "memory-bomb",
        Limits::default(),
        |e| matches!(e, TickError::MemoryLimit { limit, requested } if *limit == 64 << 20 && *requested > *limit),
    );
}

#[test]
fn unbounded_recursion_overflows_the_stack() {
    scenario("recursion", Limits::default(), |e| {
        matches!(e, TickError::StackOverflow)
    });
}

#[test]
fn panic_traps_and_the_message_is_logged() {
    scenario("panic", Limits::default(), |e| {
        matches!(
            e,
            TickError::GuestTrap {
                code: TrapCode::Unreachable
            }
        )
    });
    let runtime = runtime();
    let hostile = load(runtime, Guest::Hostile);
    let spec = hostile_spec("panic", Some(0));
    let (mut deployment, _) = Deployment::new(
        runtime,
        &hostile,
        spec,
        DeploymentHost::new(Clock, AllowAll),
    )
    .unwrap();
    let failure = deployment.tick(TickInput::at(block(0))).unwrap_err();
    assert!(
        failure
            .trace
            .logs
            .iter()
            .any(|l| l.message.contains("hostile strategy panicked on purpose")),
        "{:?}",
        failure.trace.logs
    );
}

#[test]
fn action_flood_hits_the_actions_per_tick_limit() {
    scenario("action-flood", Limits::default(), |e| {
        matches!(
            e,
            TickError::Resource(ResourceExceeded::ActionsPerTick { limit: 16 })
        )
    });
}

#[test]
fn log_flood_hits_the_log_bytes_limit() {
    scenario("log-flood", Limits::default(), |e| {
        matches!(
            e,
            TickError::Resource(ResourceExceeded::LogBytesPerTick { limit: 4096 })
        )
    });
}

#[test]
fn huge_argument_is_refused_at_the_boundary() {
    scenario("huge-argument", Limits::default(), |e| {
        matches!(
            e,
            TickError::Resource(ResourceExceeded::ArgumentBytes { function, bytes, limit: 65_536 })
                if function == "oracle.intern" && *bytes >= 8 << 20
        )
    });
}

#[test]
fn name_flood_hits_the_interned_names_limit() {
    let limits = Limits {
        interned_names: 100,
        ..Limits::default()
    };
    scenario("name-flood", limits, |e| {
        matches!(
            e,
            TickError::Resource(ResourceExceeded::InternedNames { limit: 100 })
        )
    });
}

#[test]
fn returned_error_fails_the_tick() {
    scenario(
        "return-error",
        Limits::default(),
        |e| matches!(e, TickError::GuestError { message } if message == "hostile strategy refuses to tick"),
    );
}
