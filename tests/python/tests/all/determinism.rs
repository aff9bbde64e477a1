//! Same component, config and tape: same actions, logs and fuel, in fresh
//! engines with and without pooling; and the SDK's shims make `print`,
//! `logging`, `time`, `datetime`, `random` and `hash()` deterministic while
//! OS randomness, files, sockets, sleeping and late imports raise.

use serde_json::json;
use stratbox_backtest::PaperRun;
use stratbox_runtime::types::Level;
use stratbox_runtime::{
    AllowAll, CallTrace, Deployment, DeploymentHost, Runtime, RuntimeConfig, TickInput,
};
use stratbox_test_artifacts::Guest;

use crate::support::{Clock, block, eth_tape, load, load_in, messages, paper_run, runtime, spec};

/// Everything a tick observably did, except wall-clock time.
fn observable(trace: &CallTrace) -> String {
    format!(
        "{:?} {:?} {:?} fuel={}",
        trace.emissions, trace.logs, trace.oracle_reads, trace.fuel_used
    )
}

fn fingerprint(run: &PaperRun) -> Vec<String> {
    run.ticks
        .iter()
        .map(|tick| match &tick.result {
            Ok(report) => format!(
                "ok {:?} {} {:?}",
                report.actions,
                observable(&report.trace),
                tick.outcomes
            ),
            Err(failure) => format!("err {:?}", failure.error),
        })
        .collect()
}

#[test]
fn bollinger_tape_is_identical_in_fresh_engines_with_and_without_pooling() {
    let config = json!({"cooldown_ms": 0});
    let plain = Runtime::new(RuntimeConfig::default()).unwrap();
    let pooled = Runtime::new(RuntimeConfig::pooled()).unwrap();
    let run = |runtime: &Runtime| {
        let component = load_in(runtime, Guest::PyBollinger);
        fingerprint(&paper_run(
            runtime,
            &component,
            "det",
            &config,
            eth_tape(2_000),
        ))
    };
    let (a, b) = (run(&plain), run(&pooled));
    assert_eq!(a.len(), 2_000);
    assert!(a.iter().filter(|t| t.contains("Swap")).count() >= 6);
    for (n, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x, y, "tick {n} differs");
    }
}

/// Ticks of the determinism probe in a fresh runtime: (observable trace,
/// log lines) per tick, init first.
fn shim_run(runtime: &Runtime) -> Vec<(String, Vec<(Level, String)>)> {
    let component = load_in(runtime, Guest::PyProbe);
    let (mut deployment, init) = Deployment::new(
        runtime,
        &component,
        spec("determinism", &json!({"mode": "determinism"})),
        DeploymentHost::new(Clock, AllowAll),
    )
    .unwrap();
    let lines = |trace: &CallTrace| {
        trace
            .logs
            .iter()
            .map(|l| (l.level, l.message.clone()))
            .collect::<Vec<_>>()
    };
    let mut out = vec![(observable(&init), lines(&init))];
    for n in 0..4 {
        let report = deployment.tick(TickInput::at(block(n))).unwrap();
        out.push((
            format!("{:?} {}", report.actions, observable(&report.trace)),
            lines(&report.trace),
        ));
    }
    out
}

#[test]
fn print_time_random_and_hash_are_identical_across_runs() {
    let first = shim_run(&Runtime::new(RuntimeConfig::default()).unwrap());
    let second = shim_run(&Runtime::new(RuntimeConfig::pooled()).unwrap());
    assert_eq!(first, second);

    let (_, tick0) = &first[1];
    let (_, tick1) = &first[2];
    let text = |lines: &[(Level, String)]| lines.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>();
    let (t0, t1) = (text(tick0), text(tick1));
    // `time.time()` is the tick's block timestamp.
    let seconds = |n: u64| block(n).timestamp_ms as f64 / 1000.0;
    assert!(
        t0[0].starts_with(&format!(
            "tick 0: time={:?} ns={}",
            seconds(0),
            block(0).timestamp_ms * 1_000_000
        )),
        "{t0:?}"
    );
    assert!(
        t1[0].starts_with(&format!("tick 1: time={:?}", seconds(1))),
        "{t1:?}"
    );
    assert_eq!(t0[1], "now=2023-11-14T22:13:20 today=2023-11-14", "{t0:?}");
    assert_eq!(t0[2], "gmtime=2023-11-14 22:13:20");
    // `random` is reseeded per tick: different draws each tick.
    assert!(
        t0[3].starts_with("random=") && t0[3] != t1[3],
        "{t0:?} {t1:?}"
    );
    // `hash()` and set order are stable within a run (and, above, across runs).
    assert_eq!(t0[4], t1[4]);
    assert!(t0[4].ends_with(" (partial line flushed at the end of the call)"));
    // print goes to the log at info, logging at its own level (debug is
    // below the root logger's default level).
    assert_eq!(tick0[0].0, Level::Info);
    assert!(
        tick0.contains(&(Level::Info, "logging at info, sequence 0".into())),
        "{tick0:?}"
    );
    assert!(
        tick0.contains(&(Level::Warn, "logging at warning".into())),
        "{tick0:?}"
    );
    assert!(!t0.iter().any(|m| m.contains("debug")), "{t0:?}");
}

#[test]
fn os_randomness_files_sockets_sleep_and_late_imports_raise_python_exceptions() {
    let (mut deployment, _) = Deployment::new(
        runtime(),
        &load(Guest::PyProbe),
        spec("sandbox", &json!({"mode": "sandbox"})),
        DeploymentHost::new(Clock, AllowAll),
    )
    .unwrap();
    let report = deployment.tick(TickInput::at(block(0))).unwrap();
    let logs = messages(&report.trace);
    let outcome = |probe: &str| {
        logs.iter()
            .find_map(|l| l.strip_prefix(&format!("{probe}: ")))
            .unwrap_or_else(|| panic!("no line for {probe} in {logs:?}"))
    };
    for probe in [
        "os.urandom",
        "SystemRandom",
        "secrets",
        "open",
        "os.listdir",
        "socket",
        "create_connection",
        "sleep",
        "input",
    ] {
        assert!(
            outcome(probe).starts_with("sandbox SandboxError: "),
            "{probe}: {}",
            outcome(probe)
        );
    }
    assert!(
        outcome("late import").starts_with(
            "other ModuleNotFoundError: module 'this' is not available in the stratbox sandbox"
        ),
        "{}",
        outcome("late import")
    );
    assert_eq!(outcome("os.path.exists"), "False");
    // A logged traceback and a warning format without source files.
    let traceback = logs
        .iter()
        .find(|l| l.starts_with("caught on purpose\n"))
        .unwrap_or_else(|| panic!("{logs:?}"));
    assert!(
        traceback.contains("ZeroDivisionError: division by zero"),
        "{traceback}"
    );
    assert!(
        logs.iter()
            .any(|l| l.contains("UserWarning: a warning on purpose")),
        "{logs:?}"
    );
    // The tick itself succeeded: nothing trapped.
    assert!(report.trace.fuel_used > 0);
}

/// The `random.random()` draws of four ticks of the counter probe running
/// as deployment `id`.
fn draws(id: &str) -> Vec<String> {
    let (mut deployment, _) = Deployment::new(
        runtime(),
        &load(Guest::PyProbe),
        spec(id, &json!({"mode": "counter"})),
        DeploymentHost::new(Clock, AllowAll),
    )
    .unwrap();
    (0..4)
        .map(|n| {
            let report = deployment.tick(TickInput::at(block(n))).unwrap();
            let logs = messages(&report.trace);
            let [line] = logs.as_slice() else {
                panic!("{logs:?}")
            };
            line.split_once(" draw=")
                .unwrap_or_else(|| panic!("{line}"))
                .1
                .to_owned()
        })
        .collect()
}

#[test]
fn random_is_seeded_from_the_deployment_id() {
    let (a, again, b) = (draws("seed-a"), draws("seed-a"), draws("seed-b"));
    // Same deployment id: the same numbers, tick for tick.
    assert_eq!(a, again);
    // Another id, same ticks, config and blocks: other numbers at every tick.
    for (n, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_ne!(x, y, "tick {n}: both deployments drew {x}");
    }
    // Within one deployment, each tick draws afresh.
    assert_ne!(a[0], a[1]);
}
