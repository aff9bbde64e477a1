//! `logging.series` (world 0.2.1): a strategy's named series are recorded
//! per tick, deterministically and within their bounds; and components of
//! world 0.2.0, which has no such function, still link.

use stratbox_runtime::{
    AllowAll, DeployError, Deployment, DeploymentHost, Limits, ResourceExceeded, TickError,
    TickInput,
};
use stratbox_test_artifacts::Guest;

use crate::support::{Clock, block, eth_tape, hostile_spec, load, paper_run, runtime};

#[test]
fn the_ema_crossover_records_both_averages_every_tick_and_identically_again() {
    let config = r#"{"fast": 3, "slow": 8}"#;
    let first = paper_run(runtime(), Guest::EmaCrossover, config, eth_tape(200));
    let series: Vec<Vec<(String, f64)>> = first
        .ticks
        .iter()
        .map(|tick| {
            let report = tick.result.as_ref().expect("tick succeeds");
            report
                .trace
                .series
                .iter()
                .map(|point| (point.name.to_string(), point.value))
                .collect()
        })
        .collect();
    // Once both averages are warm, every tick records the two of them.
    let recorded: Vec<_> = series.iter().filter(|points| !points.is_empty()).collect();
    assert!(recorded.len() >= 190, "{} ticks recorded", recorded.len());
    for points in &recorded {
        let names: Vec<_> = points.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["overlay:ema fast", "overlay:ema slow"]);
        assert!(points.iter().all(|(_, value)| *value > 0.0));
    }
    let again = paper_run(runtime(), Guest::EmaCrossover, config, eth_tape(200));
    for (a, b) in first.ticks.iter().zip(&again.ticks) {
        let (a, b) = (a.result.as_ref().unwrap(), b.result.as_ref().unwrap());
        assert_eq!(a.trace.series, b.trace.series);
    }
}

/// Tick 0 of the hostile fixture attacking with `attack` under `limits`.
fn attack_at_tick_0(
    attack: &str,
    limits: Limits,
) -> Result<stratbox_runtime::TickReport, TickError> {
    let component = load(runtime(), Guest::Hostile);
    let spec = hostile_spec(attack, Some(0)).with_limits(limits);
    let (mut deployment, _) = Deployment::new(
        runtime(),
        &component,
        spec,
        DeploymentHost::new(Clock, AllowAll),
    )
    .expect("starts");
    deployment
        .tick(TickInput::at(block(0)))
        .map_err(|failure| failure.error)
}

#[test]
fn points_per_tick_are_bounded() {
    assert_eq!(
        attack_at_tick_0("series-flood", Limits::default()).unwrap_err(),
        TickError::Resource(ResourceExceeded::SeriesPointsPerTick { limit: 64 })
    );
}

#[test]
fn distinct_series_are_bounded() {
    assert_eq!(
        attack_at_tick_0("series-name-flood", Limits::default()).unwrap_err(),
        TickError::Resource(ResourceExceeded::SeriesNames { limit: 32 })
    );
    // Within a larger bound the same tick succeeds with all 100 of them.
    let roomy = Limits {
        series_names: 100,
        series_points_per_tick: 100,
        ..Limits::default()
    };
    let report = attack_at_tick_0("series-name-flood", roomy).expect("fits");
    assert_eq!(report.trace.series.len(), 100);
}

#[test]
fn a_name_id_the_host_never_gave_out_is_refused() {
    assert_eq!(
        attack_at_tick_0("series-unknown-id", Limits::default()).unwrap_err(),
        TickError::Resource(ResourceExceeded::SeriesNameUnknown { id: u32::MAX })
    );
}

#[test]
fn non_finite_values_are_gaps_not_points() {
    let report = attack_at_tick_0("series-point", Limits::default()).expect("ticks");
    let points: Vec<_> = report
        .trace
        .series
        .iter()
        .map(|point| (&*point.name, point.value))
        .collect();
    assert_eq!(points, [("recorded", 42.5)]);
}

#[test]
fn points_recorded_outside_a_tick_are_dropped() {
    // `"at_sequence": null` attacks in `init`: nothing is recorded there,
    // and init succeeds.
    let component = load(runtime(), Guest::Hostile);
    let spec = hostile_spec("series-point", None);
    let (_, init) = Deployment::new(
        runtime(),
        &component,
        spec,
        DeploymentHost::new(Clock, AllowAll),
    )
    .expect("starts");
    assert!(init.series.is_empty(), "{:?}", init.series);
}

#[test]
fn a_component_of_world_0_2_0_still_links() {
    // 0.2.1 only added `logging.series`: the linker serves a component
    // built against 0.2.0 (a dummy whose exports trap), which gets as far
    // as running `init`, where it traps, instead of failing to link.
    let runtime = runtime();
    let component = runtime
        .load(&Guest::WorldV0_2_0.bytes())
        .expect("0.2.0 is compatible with 0.2.1");
    assert_eq!(
        component
            .info()
            .world_version
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("0.2.0")
    );
    let spec = stratbox_runtime::DeploymentSpec::new("old", "{}");
    match Deployment::new(
        runtime,
        &component,
        spec,
        DeploymentHost::new(Clock, AllowAll),
    ) {
        Err(DeployError::Init(failure)) => assert!(
            matches!(failure.error, TickError::GuestTrap { .. }),
            "{:?}",
            failure.error
        ),
        Err(other) => panic!("expected init to trap, got {other:?}"),
        Ok(_) => panic!("the dummy's init traps"),
    }
}
