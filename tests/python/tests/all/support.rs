//! Shared fixtures: one runtime, components compiled once (and cached on
//! disk across runs), tapes, simple oracles and policies.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use stratbox_backtest::{PaperMarket, PaperMarketConfig, PaperRun, run_paper};
use stratbox_python_tests::DirArtifactCache;
use stratbox_runtime::types::{Action, ActionId, ActionOutcome, BlockInfo, MarketCandle};
use stratbox_runtime::{
    AcceptedAction, CallTrace, DeploymentSpec, Limits, Oracle, Policy, PolicyContext, Runtime,
    RuntimeConfig, StrategyComponent, Verdict,
};
use stratbox_tape::Tape;
use stratbox_test_artifacts::{Guest, data_dir};

/// One runtime shared by the tests of this binary.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: LazyLock<Runtime> =
        LazyLock::new(|| Runtime::new(RuntimeConfig::default()).expect("runtime"));
    &RUNTIME
}

/// Compiling a Python component takes seconds and both cores: one at a
/// time, so concurrent tests wait for the artifact instead of compiling it
/// again.
static LOADING: Mutex<()> = Mutex::new(());

/// A guest loaded in the shared runtime (compiled at most once per run, and
/// deserialized from the on-disk test cache when it was compiled before).
pub fn load(guest: Guest) -> StrategyComponent {
    static LOADED: LazyLock<Mutex<HashMap<Guest, StrategyComponent>>> =
        LazyLock::new(Mutex::default);
    if let Some(component) = LOADED.lock().unwrap().get(&guest) {
        return component.clone();
    }
    let component = load_in(runtime(), guest);
    LOADED.lock().unwrap().insert(guest, component.clone());
    component
}

/// A guest loaded in another runtime (a fresh engine), through the on-disk
/// test cache.
pub fn load_in(runtime: &Runtime, guest: Guest) -> StrategyComponent {
    let _one_at_a_time = LOADING.lock().unwrap_or_else(|e| e.into_inner());
    let (component, _outcome) = runtime
        .load_cached(&guest.bytes(), &DirArtifactCache::for_tests())
        .unwrap_or_else(|e| panic!("loading {guest:?}: {e}"));
    component
}

/// A deployment spec with the Python limits.
pub fn spec(id: &str, config: &serde_json::Value) -> DeploymentSpec {
    DeploymentSpec::new(id, config.to_string()).with_limits(Limits::python())
}

/// The first `n` candles of the real ETH/BTC 5-minute tape.
pub fn eth_tape(n: usize) -> Tape {
    stratbox_tape::load_csv(&data_dir().join("ETH_BTC-5m.csv"), "ETH/BTC")
        .expect("bundled ETH/BTC tape")
        .take(n)
}

/// The first `n` candles of the ETH/BTC tape as tick inputs see them.
pub fn market_candles(n: usize) -> Vec<MarketCandle> {
    stratbox_backtest::market_candles(&eth_tape(n))
}

/// Run `component` over `tape` against a paper venue (1 BTC to start).
pub fn paper_run(
    runtime: &Runtime,
    component: &StrategyComponent,
    id: &str,
    config: &serde_json::Value,
    tape: Tape,
) -> PaperRun {
    let market = PaperMarket::new(tape, PaperMarketConfig::new("ETH", "BTC", 1));
    run_paper(
        runtime,
        component,
        spec(id, config),
        market,
        stratbox_runtime::AllowAll,
        |_, _| {},
    )
    .expect("deployment starts")
}

/// Block `number`, one minute apart.
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
    pub released: Vec<AcceptedAction>,
    pub dropped: Vec<AcceptedAction>,
}

/// Accepts everything and records releases and drops.
#[derive(Debug, Clone, Default)]
pub struct RecordingPolicy(pub Arc<Mutex<Heard>>);

impl Policy for RecordingPolicy {
    fn check(&mut self, _action: &Action, _ctx: &PolicyContext<'_>) -> Verdict {
        Verdict::Accept
    }
    fn on_released(&mut self, actions: &[AcceptedAction]) {
        self.0.lock().unwrap().released.extend_from_slice(actions);
    }
    fn on_dropped(&mut self, actions: &[AcceptedAction]) {
        self.0.lock().unwrap().dropped.extend_from_slice(actions);
    }
    fn on_outcome(&mut self, _id: ActionId, _outcome: &ActionOutcome) {}
}

/// The log messages of a trace.
pub fn messages(trace: &CallTrace) -> Vec<&str> {
    trace.logs.iter().map(|l| l.message.as_str()).collect()
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The repository's Python (`.venv`, made by `scripts/setup.sh`).
pub fn venv_python() -> PathBuf {
    let python = repo_root().join(".venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run scripts/setup.sh",
        python.display()
    );
    python
}
