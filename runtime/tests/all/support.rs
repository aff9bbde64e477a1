//! Shared fixtures: runtimes, components, tapes, simple oracles and a policy
//! that records what it hears.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use stratbox_backtest::{PaperMarket, PaperMarketConfig, PaperRun, run_paper};
use stratbox_runtime::types::{Action, ActionId, ActionOutcome, BlockInfo};
use stratbox_runtime::{
    AcceptedAction, AllowAll, CompileIsolation, CompileWorker, DeploymentSpec, LoadLimits, Oracle,
    Policy, PolicyContext, Runtime, RuntimeConfig, StrategyComponent, Verdict,
};
use stratbox_tape::Tape;
use stratbox_test_artifacts::{Guest, data_dir};

/// A deployment of the hostile fixture that runs `attack` at tick
/// `at_sequence` (never, if `None`).
pub fn hostile_spec(attack: &str, at_sequence: Option<u64>) -> DeploymentSpec {
    DeploymentSpec::new(
        format!("hostile-{attack}"),
        serde_json::json!({ "attack": attack, "at_sequence": at_sequence }).to_string(),
    )
}

/// One runtime shared by the tests of this binary, as in a host process
/// that runs many deployments.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: LazyLock<Runtime> =
        LazyLock::new(|| Runtime::new(RuntimeConfig::default()).expect("runtime"));
    &RUNTIME
}

/// Load (and compile) a guest once per runtime configuration.
pub fn load(runtime: &Runtime, guest: Guest) -> StrategyComponent {
    static CACHE: LazyLock<Mutex<HashMap<(usize, Guest), StrategyComponent>>> =
        LazyLock::new(Mutex::default);
    let key = (std::ptr::from_ref(runtime) as usize, guest);
    if let Some(component) = CACHE.lock().unwrap().get(&key) {
        return component.clone();
    }
    let component = runtime
        .load(&guest.bytes())
        .unwrap_or_else(|e| panic!("loading {guest:?}: {e}"));
    // Only the shared runtime lives long enough for its address to be a key.
    if std::ptr::eq(runtime, crate::support::runtime()) {
        CACHE.lock().unwrap().insert(key, component.clone());
    }
    component
}

/// The first `n` candles of the real ETH/BTC 5-minute tape.
pub fn eth_tape(n: usize) -> Tape {
    let tape = stratbox_tape::load_csv(&data_dir().join("ETH_BTC-5m.csv"), "ETH/BTC")
        .expect("bundled ETH/BTC tape");
    tape.take(n)
}

/// Run a Rust example strategy over `tape` with a paper venue and no policy
/// restrictions.
pub fn paper_run(runtime: &Runtime, guest: Guest, config: &str, tape: Tape) -> PaperRun {
    let component = load(runtime, guest);
    let market = PaperMarket::new(tape, PaperMarketConfig::new("ETH", "BTC", 1));
    run_paper(
        runtime,
        &component,
        DeploymentSpec::new(format!("{guest:?}"), config),
        market,
        AllowAll,
        |_, _| {},
    )
    .expect("deployment starts")
}

pub fn block(number: u64) -> BlockInfo {
    BlockInfo {
        chain_id: 1,
        number,
        timestamp_ms: 1_700_000_000_000 + number * 60_000,
    }
}

/// An oracle that only knows the time.
#[derive(Debug, Default, Clone)]
pub struct Clock;

impl Oracle for Clock {
    fn block(&mut self) -> BlockInfo {
        block(0)
    }
}

/// What a [`RecordingPolicy`] heard.
#[derive(Debug, Default)]
pub struct Heard {
    pub checked: Vec<Action>,
    pub released: Vec<AcceptedAction>,
    pub dropped: Vec<AcceptedAction>,
    pub outcomes: Vec<ActionId>,
}

/// Accepts everything and records every callback.
#[derive(Debug, Clone, Default)]
pub struct RecordingPolicy(pub Arc<Mutex<Heard>>);

impl Policy for RecordingPolicy {
    fn check(&mut self, action: &Action, _ctx: &PolicyContext<'_>) -> Verdict {
        self.0.lock().unwrap().checked.push(action.clone());
        Verdict::Accept
    }
    fn on_released(&mut self, actions: &[AcceptedAction]) {
        self.0.lock().unwrap().released.extend_from_slice(actions);
    }
    fn on_dropped(&mut self, actions: &[AcceptedAction]) {
        self.0.lock().unwrap().dropped.extend_from_slice(actions);
    }
    fn on_outcome(&mut self, id: ActionId, _outcome: &ActionOutcome) {
        self.0.lock().unwrap().outcomes.push(id);
    }
}

/// The hostile fixture's `count=<n>` log line of a trace (a rebuild's init
/// logs come first).
pub fn count_line(trace: &stratbox_runtime::CallTrace) -> &str {
    trace
        .logs
        .iter()
        .map(|l| l.message.as_str())
        .find(|m| m.starts_with("count="))
        .unwrap_or("<no count line>")
}

/// Everything a tick observably did, except wall-clock time.
pub fn fingerprint(run: &PaperRun) -> Vec<String> {
    run.ticks
        .iter()
        .map(|tick| match &tick.result {
            Ok(report) => format!(
                "ok {:?} {:?} {:?} {:?} fuel={} {:?}",
                report.actions,
                report.trace.emissions,
                report.trace.logs,
                report.trace.oracle_reads,
                report.trace.fuel_used,
                tick.outcomes
            ),
            Err(failure) => format!("err {:?}", failure.error),
        })
        .collect()
}

/// The runtime's own compile worker program.
pub fn worker() -> CompileWorker {
    CompileWorker::new(env!("CARGO_BIN_EXE_stratbox-compile-worker"))
}

/// A runtime of `config` that compiles in `worker`.
pub fn isolated(config: RuntimeConfig, worker: CompileWorker) -> Runtime {
    Runtime::new(config)
        .expect("runtime")
        .with_compile_isolation(CompileIsolation::Subprocess(worker))
}

/// A runtime whose worker (its command line marked with `marker`, to find
/// it among processes) is killed after `timeout` of compiling.
pub fn isolated_with_timeout(timeout: Duration, marker: &str) -> Runtime {
    isolated(
        RuntimeConfig {
            load: LoadLimits {
                compile_timeout: timeout,
                ..LoadLimits::default()
            },
            ..RuntimeConfig::default()
        },
        worker().arg(marker),
    )
}

/// Processes whose command line contains `marker`.
pub fn processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if String::from_utf8_lossy(&cmdline).contains(marker) {
            found.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    found
}
