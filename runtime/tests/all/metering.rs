//! The fuel switch (`RuntimeConfig::fuel`, for measuring what metering
//! costs) and `Deployment::probe` (instantiation alone, for the load
//! benchmarks).

use std::time::Duration;

use stratbox_backtest::PaperRun;
use stratbox_runtime::{
    AllowAll, DeployError, Deployment, DeploymentHost, Limits, Runtime, RuntimeConfig, TickError,
    TickInput,
};
use stratbox_test_artifacts::Guest;

use crate::support::{Clock, block, eth_tape, hostile_spec, load, paper_run, runtime};

fn unmetered() -> Runtime {
    Runtime::new(RuntimeConfig {
        fuel: false,
        ..RuntimeConfig::default()
    })
    .unwrap()
}

#[test]
fn an_unmetered_run_trades_exactly_like_a_metered_one_and_reports_no_fuel() {
    let metered = paper_run(runtime(), Guest::RsiMomentum, "{}", eth_tape(5_000));
    let free = paper_run(&unmetered(), Guest::RsiMomentum, "{}", eth_tape(5_000));
    let trades = |run: &PaperRun| -> Vec<_> {
        run.ticks
            .iter()
            .map(|tick| {
                let report = tick.result.as_ref().expect("every tick succeeds");
                (report.actions.clone(), tick.outcomes.clone())
            })
            .collect()
    };
    let (metered_trades, free_trades) = (trades(&metered), trades(&free));
    assert!(
        metered_trades.iter().filter(|(a, _)| !a.is_empty()).count() > 10,
        "the RSI must trade on this tape"
    );
    assert_eq!(free_trades, metered_trades);
    assert!(metered.reports().all(|r| r.trace.fuel_used > 0));
    assert!(free.reports().all(|r| r.trace.fuel_used == 0));
}

#[test]
fn without_fuel_the_wall_clock_deadline_still_stops_a_runaway_guest() {
    let runtime = unmetered();
    let hostile = load(&runtime, Guest::Hostile);
    let limits = Limits {
        deadline: Duration::from_millis(100),
        ..Limits::default()
    };
    let spec = hostile_spec("infinite-loop", Some(0)).with_limits(limits);
    let (mut deployment, _) = Deployment::new(
        &runtime,
        &hostile,
        spec,
        DeploymentHost::new(Clock, AllowAll),
    )
    .unwrap();
    let failure = deployment.tick(TickInput::at(block(0))).unwrap_err();
    assert!(
        matches!(failure.error, TickError::Deadline { limit } if limit == Duration::from_millis(100)),
        "{:?}",
        failure.error
    );
}

#[test]
fn metered_and_unmetered_engines_never_share_compiled_code() {
    let sha256 = load(runtime(), Guest::RsiMomentum).info().sha256.clone();
    assert_ne!(
        runtime().artifact_key(&sha256),
        unmetered().artifact_key(&sha256)
    );
}

#[test]
fn probe_instantiates_without_calling_the_guest_and_checks_limits() {
    let runtime = runtime();
    // No config is given: a probe calls nothing in the guest, not even
    // `init`.
    let hostile = load(runtime, Guest::Hostile);
    Deployment::probe(runtime, &hostile, &Limits::default()).unwrap();
    let too_few = Limits {
        instances: 0,
        ..Limits::default()
    };
    assert!(matches!(
        Deployment::probe(runtime, &hostile, &too_few),
        Err(DeployError::ComponentTooLarge { .. })
    ));
}
