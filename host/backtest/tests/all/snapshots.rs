//! Snapshotting at an interval changes how far a failed tick rolls back,
//! never what a clean run does.

use stratbox_backtest::DEFAULT_COMMIT_EVERY;
use stratbox_runtime::DeploymentSpec;
use stratbox_test_artifacts::Guest;

use crate::support::{backtest, load};

/// An RSI config that trades often.
const EAGER_RSI: &str = r#"{"period": 3, "oversold": 40, "overbought": 60, "cooldown_ms": 0}"#;

#[test]
fn a_snapshot_interval_leaves_a_clean_run_unchanged() {
    let rsi = load(Guest::RsiMomentum);
    let run = |commit_every: u32| {
        let mut spec = DeploymentSpec::new("rsi", EAGER_RSI);
        spec.commit_every = commit_every;
        backtest(&rsi, spec, 600, false).expect("a clean run")
    };
    let every_tick = run(1);
    assert!(every_tick.metrics.actions > 0, "the strategy trades");
    for commit_every in [DEFAULT_COMMIT_EVERY, 7, 1_000] {
        let mut sparse = run(commit_every);
        assert_eq!(
            sparse.trades, every_tick.trades,
            "commit_every {commit_every}"
        );
        assert_eq!(
            sparse.equity, every_tick.equity,
            "commit_every {commit_every}"
        );
        assert_eq!(sparse.denials, every_tick.denials);
        assert!(sparse.failures.is_empty());
        // The whole report, but for the fuel (a tick that snapshots pays
        // for its snapshot) and the wall-clock speed.
        assert!(sparse.metrics.fuel_p99 <= every_tick.metrics.fuel_p99);
        sparse.metrics.fuel_p50 = every_tick.metrics.fuel_p50;
        sparse.metrics.fuel_p99 = every_tick.metrics.fuel_p99;
        sparse.metrics.ticks_per_second = every_tick.metrics.ticks_per_second;
        assert!(
            sparse == every_tick,
            "commit_every {commit_every}: {:?} vs {:?}",
            sparse.metrics,
            every_tick.metrics
        );
    }
}
