//! Every guest callback, on every path (init, on-tick, on-action-result,
//! snapshot, restore, and the rebuild after a failed tick), ends in a typed
//! error when it traps, spins or misbehaves; actions are accepted only
//! within a tick (`on-action-result`, `on-tick`), never from init, restore
//! or snapshot; a failing strategy costs no more than its budget per tick and
//! is paused when it fails too often.

use serde_json::{Value, json};
use stratbox_runtime::types::{Action, ActionOutcome, Failure, MarketCandle, Rejection};
use stratbox_runtime::{
    AllowAll, Deployment, DeploymentHost, DeploymentSpec, DeploymentStatus, FailureWindow, Limits,
    TickError, TickFailure, TickInput, TrapCode,
};
use stratbox_test_artifacts::Guest;

use crate::support::{Clock, block, load, runtime};

fn deploy(config: Value, limits: Limits) -> Deployment {
    start(DeploymentSpec::new("callbacks", config.to_string()).with_limits(limits))
}

/// The hostile strategy deployed under `spec`, accepting every action.
fn start(spec: DeploymentSpec) -> Deployment {
    let runtime = runtime();
    let hostile = load(runtime, Guest::Hostile);
    Deployment::new(
        runtime,
        &hostile,
        spec,
        DeploymentHost::new(Clock, AllowAll),
    )
    .expect("the hostile strategy starts")
    .0
}

/// What each attack must end in, whichever callback it runs in.
fn expected(attack: &str, error: &TickError) -> bool {
    match attack {
        "panic" => matches!(
            error,
            TickError::GuestTrap {
                code: TrapCode::Unreachable
            }
        ),
        "infinite-loop" => matches!(error, TickError::OutOfFuel { .. }),
        "memory-bomb" => matches!(error, TickError::MemoryLimit { .. }),
        "recursion" => matches!(error, TickError::StackOverflow),
        "return-error" => matches!(error, TickError::GuestError { .. }),
        other => panic!("no expectation for {other}"),
    }
}

const ATTACKS: [&str; 5] = [
    "panic",
    "infinite-loop",
    "memory-bomb",
    "recursion",
    "return-error",
];

/// Limits small enough that spinning and hoarding end quickly.
fn small() -> Limits {
    Limits {
        fuel_per_tick: 20_000_000,
        memory_bytes: 16 << 20,
        ..Limits::default()
    }
}

#[test]
fn a_restore_that_traps_or_spins_during_the_rebuild_is_a_typed_failure() {
    for attack in ATTACKS {
        // Tick 1 fails; every rebuild from then on attacks in `restore`.
        let config = json!({"attack": "return-error", "at_sequence": 1, "in_restore": attack});
        let mut deployment = deploy(config, small());
        // A bystander ticked on the same thread is not taken down.
        let mut bystander = deploy(json!({"attack": "none", "at_sequence": null}), small());
        deployment.tick(TickInput::at(block(0))).expect("tick 0");
        let first = deployment.tick(TickInput::at(block(1))).unwrap_err();
        assert!(
            matches!(first.error, TickError::GuestError { .. }),
            "{attack}: {first}"
        );
        let mut failures = Vec::new();
        for n in 2..8 {
            match deployment.tick(TickInput::at(block(n))) {
                Ok(_) => panic!("{attack}: tick {n} ran on an instance whose restore failed"),
                Err(failure) => failures.push(failure),
            }
            bystander
                .tick(TickInput::at(block(n)))
                .unwrap_or_else(|f| panic!("{attack}: the bystander failed: {f}"));
        }
        let rebuild_failure = &failures[0];
        assert!(
            expected(attack, &rebuild_failure.error),
            "{attack}: the failed rebuild ended in {:?}",
            rebuild_failure.error
        );
        // Failing rebuilds count as failed ticks: the deployment pauses.
        assert!(failures.iter().any(|f| f.paused), "{attack}: never paused");
        assert!(matches!(
            deployment.status(),
            DeploymentStatus::Paused { .. }
        ));
    }
}

#[test]
fn snapshot_and_outcome_callbacks_that_trap_or_spin_are_typed_failures() {
    for attack in ATTACKS {
        if attack == "return-error" {
            // `snapshot` cannot return an error; the SDK panics instead.
            continue;
        }
        let mut deployment = deploy(
            json!({"attack": "none", "at_sequence": null, "in_snapshot": attack}),
            small(),
        );
        let failure = deployment.tick(TickInput::at(block(0))).unwrap_err();
        assert!(
            expected(attack, &failure.error) || attack == "return-error",
            "{attack} in snapshot: {:?}",
            failure.error
        );
    }
    for attack in ATTACKS {
        let mut deployment = deploy(
            json!({"attack": "none", "at_sequence": null, "in_outcome": attack}),
            small(),
        );
        let input = TickInput {
            results: vec![(7, failed_outcome())],
            ..TickInput::at(block(0))
        };
        let failure = deployment.tick(input).unwrap_err();
        assert!(
            expected(attack, &failure.error),
            "{attack} in on-action-result: {:?}",
            failure.error
        );
    }
}

fn failed_outcome() -> ActionOutcome {
    ActionOutcome::Failed(Failure {
        code: "TEST".into(),
        reason: "a test outcome".into(),
        tx_hash: None,
    })
}

/// The emissions refused as outside `on-tick` in a trace.
fn refused_outside_tick(emissions: &[stratbox_runtime::Emission]) -> usize {
    emissions
        .iter()
        .filter(|e| {
            matches!(&e.verdict, Err(Rejection::Invalid(d)) if d.code == "NOT_IN_TICK")
                && matches!(&e.action, Action::Hold(reason) if reason == "emitted outside on-tick")
        })
        .count()
}

#[test]
fn actions_are_accepted_only_within_a_tick() {
    // From snapshot, committed every tick or every other tick.
    for commit_every in [1, 2] {
        let mut spec = DeploymentSpec::new(
            "emit-in-snapshot",
            json!({"attack": "none", "at_sequence": null, "in_snapshot": "emit-raw"}).to_string(),
        );
        spec.commit_every = commit_every;
        let mut deployment = start(spec);
        for n in 0..4 {
            let report = deployment.tick(TickInput::at(block(n))).unwrap();
            assert!(report.actions.is_empty(), "tick {n}: {:?}", report.actions);
            assert_eq!(
                refused_outside_tick(&report.trace.emissions),
                usize::from(report.committed),
                "tick {n}"
            );
        }
    }

    // From on-action-result, which runs at the start of a tick: accepted and
    // released with the tick (a strategy reacting to a fill at once).
    let mut deployment = deploy(
        json!({"attack": "none", "at_sequence": null, "in_outcome": "emit-raw"}),
        Limits::default(),
    );
    let report = deployment
        .tick(TickInput {
            results: vec![(3, failed_outcome())],
            ..TickInput::at(block(0))
        })
        .unwrap();
    assert_eq!(refused_outside_tick(&report.trace.emissions), 0);
    assert!(
        matches!(report.actions.as_slice(), [a] if matches!(&a.action, Action::Hold(r) if r == "emitted outside on-tick")),
        "{:?}",
        report.actions
    );

    // From restore, during the rebuild after a failed tick.
    let mut deployment = deploy(
        json!({"attack": "return-error", "at_sequence": 1, "in_restore": "emit-raw"}),
        Limits::default(),
    );
    deployment.tick(TickInput::at(block(0))).unwrap();
    let failure = deployment.tick(TickInput::at(block(1))).unwrap_err();
    let next = deployment.tick(TickInput::at(block(2))).unwrap();
    assert!(next.actions.is_empty(), "{:?}", next.actions);
    assert_eq!(
        refused_outside_tick(&failure.trace.emissions)
            + refused_outside_tick(&next.trace.emissions),
        1
    );
}

/// Fuel a tick's budget paid for, rebuild included.
fn spent(trace: &stratbox_runtime::CallTrace) -> u64 {
    trace.fuel_used + trace.rebuild_fuel.unwrap_or(0)
}

#[test]
fn the_rebuild_after_a_failure_is_paid_from_a_tick_budget() {
    let limits = small();
    for attack in ["return-error", "infinite-loop"] {
        // Fails every other tick.
        let config = json!({"attack": attack, "at_sequence": 2, "repeat": true, "every": 2});
        let mut spec =
            DeploymentSpec::new("every-other", config.to_string()).with_limits(limits.clone());
        spec.failure_window = FailureWindow {
            failures: 0,
            ticks: 0,
        };
        let mut deployment = start(spec);
        let mut rebuilt_in_failed_tick = 0;
        for n in 0..10 {
            let trace = match deployment.tick(TickInput::at(block(n))) {
                Ok(report) => {
                    assert!(n < 2 || n % 2 == 1, "{attack}: tick {n} succeeded");
                    report.trace
                }
                Err(TickFailure { trace, error, .. }) => {
                    assert!(n >= 2 && n % 2 == 0, "{attack}: tick {n} failed: {error}");
                    if trace.rebuild_fuel.is_some_and(|f| f > 0) {
                        rebuilt_in_failed_tick += 1;
                    }
                    *trace
                }
            };
            assert!(
                spent(&trace) <= limits.fuel_per_tick,
                "{attack}: tick {n} spent {} of a {} budget",
                spent(&trace),
                limits.fuel_per_tick
            );
        }
        if attack == "return-error" {
            // A cheap failure leaves room: the rebuild happens in the failed
            // tick, on its budget.
            assert_eq!(rebuilt_in_failed_tick, 4, "{attack}");
        }
    }
}

#[test]
fn failures_that_do_not_follow_each_other_still_pause_the_deployment() {
    let config = json!({"attack": "return-error", "at_sequence": 0, "repeat": true, "every": 2});
    let mut spec = DeploymentSpec::new("every-other", config.to_string());
    spec.failure_window = FailureWindow {
        failures: 3,
        ticks: 10,
    };
    let mut deployment = start(spec);
    let mut paused_at = None;
    for n in 0..12 {
        match deployment.tick(TickInput::at(block(n))) {
            Err(failure) if failure.paused => {
                paused_at = Some(n);
                break;
            }
            _ => {}
        }
    }
    // Failures at 0, 2 and 4: the third within ten ticks pauses.
    assert_eq!(paused_at, Some(4));
    let refused = deployment.tick(TickInput::at(block(5))).unwrap_err();
    assert!(matches!(refused.error, TickError::Paused { .. }));

    // A window that has moved on forgets old failures.
    let mut spec = DeploymentSpec::new("sparse", config.to_string());
    spec.failure_window = FailureWindow {
        failures: 3,
        ticks: 3,
    };
    let mut deployment = start(spec);
    for n in 0..12 {
        if let Err(failure) = deployment.tick(TickInput::at(block(n))) {
            assert!(
                !failure.paused,
                "tick {n}: paused with one failure per window"
            );
        }
    }
}

#[test]
fn candles_of_the_whole_history_hit_the_oracle_bytes_limit() {
    let history: Vec<MarketCandle> =
        stratbox_backtest::market_candles(&crate::support::eth_tape(5_000));
    let runtime = runtime();
    let hostile = load(runtime, Guest::Hostile);
    let limits = Limits {
        oracle_bytes_per_tick: 64 * 1024,
        ..Limits::default()
    };
    let spec = DeploymentSpec::new(
        "history-flood",
        json!({"attack": "history-flood", "at_sequence": 0}).to_string(),
    )
    .with_limits(limits);
    let oracle = History {
        candles: history.iter().map(|c| c.candle).collect(),
        asked: std::sync::Arc::default(),
    };
    let asked = std::sync::Arc::clone(&oracle.asked);
    let (mut deployment, _) = Deployment::new(
        runtime,
        &hostile,
        spec,
        DeploymentHost::new(oracle, AllowAll),
    )
    .unwrap();
    let failure = deployment.tick(TickInput::at(block(0))).unwrap_err();
    assert!(
        matches!(
            failure.error,
            TickError::Resource(stratbox_runtime::ResourceExceeded::OracleBytesPerTick {
                limit: 65_536
            })
        ),
        "{:?}",
        failure.error
    );
    // The oracle was never asked for more than the tick could take.
    let asked = asked.lock().unwrap();
    assert!(!asked.is_empty());
    assert!(
        asked.iter().all(|&count| count <= 65_536 / 48 + 1),
        "{asked:?}"
    );
}

/// An oracle with a long history that records how many candles it was
/// asked for.
struct History {
    candles: Vec<stratbox_runtime::types::Candle>,
    asked: std::sync::Arc<std::sync::Mutex<Vec<u32>>>,
}

impl stratbox_runtime::Oracle for History {
    fn block(&mut self) -> stratbox_runtime::types::BlockInfo {
        block(0)
    }

    fn candles(
        &mut self,
        _market: &str,
        count: u32,
    ) -> Result<Vec<stratbox_runtime::types::Candle>, stratbox_runtime::types::OracleError> {
        self.asked.lock().unwrap().push(count);
        let from = self.candles.len().saturating_sub(count as usize);
        Ok(self.candles[from..].to_vec())
    }
}

#[test]
fn text_an_action_carries_and_names_interned_are_bounded_in_bytes() {
    let mut deployment = deploy(
        json!({"attack": "long-hold", "at_sequence": 0}),
        Limits::default(),
    );
    let failure = deployment.tick(TickInput::at(block(0))).unwrap_err();
    assert!(
        matches!(
            failure.error,
            TickError::Resource(stratbox_runtime::ResourceExceeded::ActionTextBytes {
                bytes: 2048,
                limit: 1024
            })
        ),
        "{:?}",
        failure.error
    );

    let limits = Limits {
        interned_name_bytes: 2_000,
        ..Limits::default()
    };
    let mut deployment = deploy(json!({"attack": "name-flood", "at_sequence": 0}), limits);
    let failure = deployment.tick(TickInput::at(block(0))).unwrap_err();
    assert!(
        matches!(
            failure.error,
            TickError::Resource(stratbox_runtime::ResourceExceeded::InternedNameBytes {
                limit: 2_000
            })
        ),
        "{:?}",
        failure.error
    );
}

#[test]
fn a_guest_that_breaks_the_canonical_abi_gets_a_guest_error_not_a_host_fault() {
    let mut deployment = deploy(
        json!({"attack": "invalid-utf8", "at_sequence": 1}),
        Limits::default(),
    );
    deployment.tick(TickInput::at(block(0))).unwrap();
    let failure = deployment.tick(TickInput::at(block(1))).unwrap_err();
    assert!(
        matches!(failure.error, TickError::GuestAbi { .. }),
        "{:?}",
        failure.error
    );
    assert!(failure.error.is_deterministic());
    // The deployment goes on from its last snapshot.
    deployment.tick(TickInput::at(block(2))).unwrap();
}

#[test]
fn outcomes_that_arrive_while_paused_reach_the_strategy_after_it_resumes() {
    let mut deployment = deploy(
        json!({"attack": "return-error", "at_sequence": 0, "repeat": true}),
        Limits::default(),
    );
    for n in 0..3 {
        deployment.tick(TickInput::at(block(n))).unwrap_err();
    }
    assert!(matches!(
        deployment.status(),
        DeploymentStatus::Paused { .. }
    ));
    let refused = deployment
        .tick(TickInput {
            results: vec![(7, failed_outcome())],
            ..TickInput::at(block(3))
        })
        .unwrap_err();
    assert!(matches!(refused.error, TickError::Paused { .. }));
    deployment.resume();
    let failure = deployment.tick(TickInput::at(block(4))).unwrap_err();
    assert!(
        failure
            .trace
            .logs
            .iter()
            .any(|l| l.message == "outcome id=7"),
        "{:?}",
        failure.trace.logs
    );
}
