//! Long runs keep guest memory bounded: example strategies in every
//! language over a long synthetic tape, committing every tick. Linear
//! memory never shrinks, and two guest runtimes creep: componentize-js
//! (a few hundred bytes per call, snapshot or not: its heap is never given
//! back) and componentize-py (the `snapshot` export's result, ~800 bytes
//! per snapshot). The runtime recycles an instance from the snapshot it
//! just committed once its memory passes `Limits::recycle_memory_percent`
//! of the limit, so no tick ever fails at the limit and memory stays below
//! the threshold plus one tick's growth.
//!
//! The memory limit here is small (the guests start at 13 to 18 MB) so
//! that a creeping guest reaches it within the default run.
//! `STRATBOX_SOAK_TICKS` sets the tape's length (default 20,000).

use std::sync::{Arc, Mutex};

use serde_json::json;
use stratbox_backtest::{MarketOracle, NoJournal, PaperMarket, PaperMarketConfig, Runner};
use stratbox_runtime::{AllowAll, DeploymentSpec, Limits};
use stratbox_tape::SyntheticConfig;
use stratbox_test_artifacts::Guest;

use crate::support::{load, runtime};

/// Growth one tick may add past the recycling threshold before the
/// commit that recycles it.
const ONE_TICK_BYTES: u64 = 1 << 20;

/// Memory limit of the soak: a creeping guest reaches its recycling
/// threshold within the default run.
const SOAK_MEMORY: u64 = 32 << 20;

fn soak_ticks() -> usize {
    std::env::var("STRATBOX_SOAK_TICKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

/// Run `guest` over a synthetic tape of `ticks` candles; return the most
/// memory it held after a tick and how often it was recycled.
fn memory_over_run(
    guest: Guest,
    config: serde_json::Value,
    limits: Limits,
    ticks: usize,
) -> (u64, usize) {
    let tape = stratbox_tape::generate(&SyntheticConfig::new("ETH/BTC", ticks, 7)).expect("tape");
    let market = Arc::new(Mutex::new(PaperMarket::new(
        tape,
        PaperMarketConfig::new("ETH", "BTC", 1),
    )));
    let oracle = MarketOracle::new(Arc::clone(&market));
    let spec =
        DeploymentSpec::new(format!("soak-{guest:?}"), config.to_string()).with_limits(limits);
    let mut runner = Runner::start(
        runtime(),
        &load(guest),
        spec,
        market,
        oracle,
        AllowAll,
        NoJournal,
    )
    .expect("starts");
    let (mut most, mut recycled) = (0, 0);
    for index in 0..ticks {
        let record = runner.step(index, |_, _| {}).expect("steps");
        match &record.result {
            Ok(report) => recycled += usize::from(report.trace.rebuild_fuel.is_some()),
            Err(failure) => panic!("{guest:?}: tick {index} failed: {failure}"),
        }
        most = most.max(runner.deployment().memory_bytes());
    }
    (most, recycled)
}

#[test]
fn guest_memory_stays_bounded_over_a_long_run_in_every_language() {
    let ticks = soak_ticks();
    let small = |base: Limits| Limits {
        memory_bytes: SOAK_MEMORY,
        ..base
    };
    let cases = [
        (Guest::RsiMomentum, json!({}), small(Limits::rust())),
        (Guest::EmaCrossover, json!({}), small(Limits::rust())),
        (Guest::JsRsiMomentum, json!({}), small(Limits::rust())),
        (
            Guest::PyBollinger,
            json!({"cooldown_ms": 0}),
            small(Limits::python()),
        ),
    ];
    let threshold = SOAK_MEMORY / 100 * u64::from(Limits::rust().recycle_memory_percent);
    let mut report = Vec::new();
    for (guest, config, limits) in cases {
        let (most, recycled) = memory_over_run(guest, config, limits, ticks);
        report.push(format!(
            "{guest:?}: at most {most} bytes, recycled {recycled} times"
        ));
        assert!(
            most <= threshold + ONE_TICK_BYTES,
            "{guest:?} held {most} bytes, above the recycling threshold of {threshold}"
        );
    }
    eprintln!("guest memory over {ticks} ticks: {}", report.join("; "));
}
