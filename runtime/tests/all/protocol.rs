//! The tick protocol: verdicts at emission, release only on success,
//! rollback, redelivery, pause, checkpoints.

use std::sync::{Arc, Mutex};

use serde_json::json;
use stratbox_runtime::types::{Action, ActionOutcome, Failure, Level, MarketCandle, Rejection};
use stratbox_runtime::{
    DenyAll, DeployError, Deployment, DeploymentHost, DeploymentSpec, DeploymentStatus, Limits,
    Runtime, RuntimeConfig, TickError, TickInput,
};
use stratbox_test_artifacts::Guest;

use crate::support::{
    Clock, Heard, RecordingPolicy, block, count_line, eth_tape, hostile_spec, load, runtime,
};

fn candles(n: usize) -> Vec<MarketCandle> {
    stratbox_backtest::market_candles(&eth_tape(n))
}

#[test]
fn denials_are_returned_to_the_guest_which_adapts() {
    let runtime = runtime();
    let component = load(runtime, Guest::RsiMomentum);
    // A tiny RSI period and a huge overbought/oversold band guarantee an
    // attempt within a few candles.
    let config = json!({"period": 2, "oversold": 99.0, "overbought": 99.5, "cooldown_ms": 0});
    let spec = DeploymentSpec::new("denied", config.to_string());
    let (mut deployment, _) = Deployment::new(
        runtime,
        &component,
        spec,
        DeploymentHost::new(Clock, DenyAll),
    )
    .expect("starts");
    let mut denial_logged = false;
    for (i, candle) in candles(20).into_iter().enumerate() {
        let report = deployment
            .tick(TickInput {
                block: block(i as u64),
                candles: vec![candle],
                results: Vec::new(),
            })
            .expect("a denial is not a failure");
        assert!(
            report.actions.is_empty(),
            "nothing is released under deny-all"
        );
        for emission in &report.trace.emissions {
            match &emission.verdict {
                Err(Rejection::Denied(denial)) => {
                    assert_eq!(denial.code, "DENY_ALL");
                    assert_eq!(denial.rule, "default");
                    assert_eq!(denial.detail, "DENY_ALL: kind=swap");
                }
                other => panic!("expected a denial, got {other:?}"),
            }
        }
        // The guest saw the denial and logged it: the verdict came back.
        denial_logged |=
            report.trace.logs.iter().any(|l| {
                l.level == Level::Warn && l.message.contains("rejected: DENY_ALL: kind=swap")
            });
    }
    assert!(
        denial_logged,
        "the strategy must have received and logged a denial"
    );
}

#[test]
fn accepted_actions_are_released_only_when_the_tick_succeeds() {
    let runtime = runtime();
    let component = load(runtime, Guest::Hostile);
    let heard = Arc::new(Mutex::new(Heard::default()));
    let policy = RecordingPolicy(Arc::clone(&heard));
    let (mut deployment, _) = Deployment::new(
        runtime,
        &component,
        hostile_spec("return-error", Some(1)),
        DeploymentHost::new(Clock, policy),
    )
    .expect("starts");
    deployment
        .tick(TickInput::at(block(0)))
        .expect("tick 0 behaves");
    let failure = deployment
        .tick(TickInput::at(block(1)))
        .expect_err("tick 1 fails");
    // The hold was accepted at emission (the trace goes on with the
    // rebuild's `init`, whose own emission is refused)...
    let accepted: Vec<_> = failure
        .trace
        .emissions
        .iter()
        .filter(|e| e.verdict.is_ok())
        .collect();
    assert!(matches!(
        accepted.as_slice(),
        [e] if matches!(e.action, Action::Hold(_))
    ));
    // ...but dropped with the tick, and the policy heard so.
    let heard = heard.lock().unwrap();
    assert_eq!(heard.checked.len(), 1);
    assert!(heard.released.is_empty());
    assert_eq!(heard.dropped.len(), 1);
}

#[test]
fn action_outcomes_reach_the_policy_once_and_the_guest_again_after_a_rollback() {
    let runtime = runtime();
    let component = load(runtime, Guest::Hostile);
    let heard = Arc::new(Mutex::new(Heard::default()));
    let (mut deployment, _) = Deployment::new(
        runtime,
        &component,
        hostile_spec("return-error", Some(0)),
        DeploymentHost::new(Clock, RecordingPolicy(Arc::clone(&heard))),
    )
    .expect("starts");
    let outcome = ActionOutcome::Failed(Failure {
        code: "TEST".into(),
        reason: "delivered during a failing tick".into(),
        tx_hash: None,
    });
    let input = TickInput {
        block: block(0),
        candles: Vec::new(),
        results: vec![(7, outcome)],
    };
    let failure = deployment
        .tick(input)
        .expect_err("tick 0 fails after the outcome was delivered");
    assert!(
        failure
            .trace
            .logs
            .iter()
            .any(|l| l.message == "outcome id=7")
    );
    let report = deployment
        .tick(TickInput::at(block(1)))
        .expect("tick 1 behaves");
    assert!(
        report
            .trace
            .logs
            .iter()
            .any(|l| l.message == "outcome id=7"),
        "the rollback erased the delivery, so the guest gets the outcome again"
    );
    assert_eq!(
        heard.lock().unwrap().outcomes,
        vec![7],
        "the policy hears an outcome once"
    );
}

#[test]
fn next_tick_starts_from_the_last_committed_snapshot() {
    let runtime = runtime();
    let component = load(runtime, Guest::Hostile);
    let (mut deployment, _) = Deployment::new(
        runtime,
        &component,
        hostile_spec("panic", Some(2)),
        DeploymentHost::new(Clock, DenyAll),
    )
    .expect("starts");
    let count = |report: &stratbox_runtime::TickReport| count_line(&report.trace).to_owned();
    assert_eq!(
        count(&deployment.tick(TickInput::at(block(0))).unwrap()),
        "count=1"
    );
    assert_eq!(
        count(&deployment.tick(TickInput::at(block(1))).unwrap()),
        "count=2"
    );
    let failure = deployment.tick(TickInput::at(block(2))).unwrap_err();
    assert_eq!(
        count_line(&failure.trace),
        "count=3",
        "the failed tick counted too"
    );
    assert!(
        failure.trace.rebuild_fuel.is_some(),
        "the instance was rebuilt at once, on the failed tick's budget"
    );
    let report = deployment.tick(TickInput::at(block(3))).unwrap();
    assert_eq!(report.trace.rebuild_fuel, None);
    assert_eq!(
        count(&report),
        "count=3",
        "state rolled back to the commit after tick 1"
    );
    assert_eq!(report.sequence, 3);
}

#[test]
fn repeated_failures_pause_the_deployment_until_resumed() {
    let runtime = runtime();
    let component = load(runtime, Guest::Hostile);
    let config = json!({"attack": "return-error", "at_sequence": 1, "repeat": true});
    let mut spec = DeploymentSpec::new("flaky", config.to_string());
    spec.max_consecutive_failures = 3;
    let (mut deployment, _) = Deployment::new(
        runtime,
        &component,
        spec,
        DeploymentHost::new(Clock, DenyAll),
    )
    .expect("starts");
    deployment
        .tick(TickInput::at(block(0)))
        .expect("tick 0 behaves");
    for n in 1..=3 {
        let failure = deployment.tick(TickInput::at(block(n))).unwrap_err();
        assert!(matches!(failure.error, TickError::GuestError { .. }));
        assert_eq!(
            failure.paused,
            n == 3,
            "paused exactly at the third failure"
        );
    }
    assert_eq!(
        deployment.status(),
        DeploymentStatus::Paused {
            consecutive_failures: 3
        }
    );
    let refused = deployment.tick(TickInput::at(block(4))).unwrap_err();
    assert!(matches!(
        refused.error,
        TickError::Paused {
            consecutive_failures: 3
        }
    ));
    assert_eq!(
        refused.trace.fuel_used, 0,
        "a paused deployment runs nothing"
    );
    assert_eq!(
        deployment.sequence(),
        4,
        "a refused tick consumes no sequence number"
    );

    deployment.resume();
    assert_eq!(deployment.status(), DeploymentStatus::Active);
    let again = deployment.tick(TickInput::at(block(4))).unwrap_err();
    assert!(!again.paused, "the failure count restarts after resume");
}

#[test]
fn a_strategy_failing_in_init_does_not_deploy() {
    let runtime = runtime();
    let component = load(runtime, Guest::Hostile);
    for (attack, check) in [
        (
            "return-error",
            (|e: &TickError| matches!(e, TickError::GuestError { .. })) as fn(&TickError) -> bool,
        ),
        ("infinite-loop", |e| {
            matches!(e, TickError::OutOfFuel { .. })
        }),
        ("panic", |e| matches!(e, TickError::GuestTrap { .. })),
    ] {
        let result = Deployment::new(
            runtime,
            &component,
            hostile_spec(attack, None),
            DeploymentHost::new(Clock, DenyAll),
        );
        match result {
            Err(DeployError::Init(failure)) => {
                assert!(check(&failure.error), "{attack}: {failure}")
            }
            other => panic!("{attack}: expected an init failure, got {other:?}"),
        }
    }
}

#[test]
fn checkpoints_resume_in_a_fresh_runtime() {
    let first_runtime = Runtime::new(RuntimeConfig::default()).expect("runtime");
    let component = load(&first_runtime, Guest::Hostile);
    let spec = hostile_spec("none", Some(0));
    let (mut deployment, _) = Deployment::new(
        &first_runtime,
        &component,
        spec.clone(),
        DeploymentHost::new(Clock, DenyAll),
    )
    .expect("starts");
    for n in 0..4 {
        deployment.tick(TickInput::at(block(n))).unwrap();
    }
    let checkpoint = deployment.checkpoint().clone();
    assert_eq!(checkpoint.sequence, 4);
    drop(deployment);
    drop(first_runtime);

    // Another runtime, as in another process.
    let second_runtime = Runtime::new(RuntimeConfig::pooled()).expect("runtime");
    let component = load(&second_runtime, Guest::Hostile);
    let (mut resumed, _) = Deployment::resume_from(
        &second_runtime,
        &component,
        spec,
        DeploymentHost::new(Clock, DenyAll),
        checkpoint,
    )
    .expect("resumes");
    let report = resumed.tick(TickInput::at(block(4))).unwrap();
    assert_eq!(report.sequence, 4);
    assert_eq!(count_line(&report.trace), "count=5");
}

#[test]
fn emitting_outside_a_tick_is_invalid() {
    let runtime = runtime();
    let component = load(runtime, Guest::Hostile);
    let (_, init) = Deployment::new(
        runtime,
        &component,
        hostile_spec("none", Some(0)),
        DeploymentHost::new(Clock, RecordingPolicy::default()),
    )
    .expect("starts");
    match init.emissions.as_slice() {
        [emission] => match &emission.verdict {
            Err(Rejection::Invalid(denial)) => assert_eq!(denial.code, "NOT_IN_TICK"),
            other => panic!("expected NOT_IN_TICK, got {other:?}"),
        },
        other => panic!("expected one emission, got {other:?}"),
    }
    assert!(
        init.logs
            .iter()
            .any(|l| l.message == "init emit rejected: NOT_IN_TICK")
    );
}

#[test]
fn limits_are_validated_against_the_runtime() {
    let runtime = Runtime::new(RuntimeConfig::pooled()).expect("runtime");
    let component = load(&runtime, Guest::Hostile);
    let too_big = hostile_spec("none", Some(0)).with_limits(Limits {
        memory_bytes: 1 << 40,
        ..Limits::default()
    });
    assert!(matches!(
        Deployment::new(
            &runtime,
            &component,
            too_big,
            DeploymentHost::new(Clock, DenyAll)
        ),
        Err(DeployError::InvalidLimits { .. })
    ));
    let one_instance = hostile_spec("none", Some(0)).with_limits(Limits {
        instances: 1,
        ..Limits::default()
    });
    assert!(matches!(
        Deployment::new(
            &runtime,
            &component,
            one_instance,
            DeploymentHost::new(Clock, DenyAll)
        ),
        Err(DeployError::ComponentTooLarge {
            what: "core instances",
            ..
        })
    ));
}
