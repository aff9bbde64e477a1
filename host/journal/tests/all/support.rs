//! Record real runs of example strategies (Rust and Python) over the
//! bundled ETH/BTC candles.

use std::path::Path;
use std::sync::{Arc, LazyLock};

use serde_json::json;
use stratbox_backtest::{PaperMarket, PaperMarketConfig, PaperRun, run_paper_journaled};
use stratbox_journal::{Durability, Journal, NewRun, Recorder, RunId, RunPolicy};
use stratbox_python_tests::DirArtifactCache;
use stratbox_runtime::policy::{AssetCatalog, PolicyEngine};
use stratbox_runtime::{
    AllowAll, DeploymentSpec, Limits, Policy, Runtime, RuntimeConfig, StrategyComponent,
};
use stratbox_test_artifacts::{Guest, data_dir};

/// Sells of ETH are valued at the oracle's ETH/BTC price: those reads are
/// journaled with the tick.
pub const POLICY: &str = r#"
version = 1
quote = "BTC"
chains = [0]
[swap]
tokens = ["ETH", "BTC"]
max_value = "0.5"
[allowances.btc]
token = "BTC"
balance = "0.3"
refill = "0.1"
period = "1h"
"#;

pub fn runtime() -> &'static Runtime {
    static RUNTIME: LazyLock<Runtime> =
        LazyLock::new(|| Runtime::new(RuntimeConfig::default()).expect("runtime"));
    &RUNTIME
}

pub fn assets() -> AssetCatalog {
    AssetCatalog::new().with("ETH", 18).with("BTC", 8)
}

/// An RSI config that trades often.
pub fn eager() -> String {
    json!({"period": 3, "oversold": 45.0, "overbought": 55.0, "cooldown_ms": 0}).to_string()
}

/// What a recording needs to know about its policy.
pub enum Judge {
    AllowAll,
    File(&'static str),
}

/// Record `candles` ticks of `guest` with `config` into `journal`.
pub fn record(
    journal: Journal,
    guest: Guest,
    config: &str,
    candles: usize,
    judge: Judge,
) -> (Journal, RunId, PaperRun) {
    let tape = stratbox_tape::load_csv(&data_dir().join("ETH_BTC-5m.csv"), "ETH/BTC")
        .unwrap()
        .take(candles);
    let market = PaperMarket::new(tape, PaperMarketConfig::new("ETH", "BTC", 1));
    let mut spec = DeploymentSpec::new(format!("{guest:?}"), config);
    if guest.is_python() {
        spec = spec.with_limits(Limits::python());
    }
    let (policy, run_policy): (Box<dyn Policy>, RunPolicy) = match judge {
        Judge::AllowAll => (Box::new(AllowAll), RunPolicy::AllowAll),
        Judge::File(source) => {
            let file =
                stratbox_policy::parse(source, Path::new("test.policy.toml"), &assets()).unwrap();
            let run_policy = RunPolicy::File {
                source: file.source.clone(),
                sha256: file.sha256.clone(),
                origin: None,
            };
            (
                Box::new(PolicyEngine::new(Arc::clone(&file.compiled))),
                run_policy,
            )
        }
    };
    let component = load(guest);
    let new_run = NewRun {
        spec: spec.clone(),
        component_sha256: component.info().sha256.clone(),
        component_path: Some(guest.path().to_owned()),
        policy: run_policy,
        initial_policy_state: None,
        assets: assets(),
        label: Some("test".into()),
    };
    let mut recorder = Recorder::start(journal, &new_run).unwrap();
    let run = run_paper_journaled(
        runtime(),
        &component,
        spec,
        market,
        policy,
        &mut recorder,
        |_, _| {},
    )
    .unwrap();
    let id = recorder.run();
    (recorder.into_journal(), id, run)
}

/// `guest` compiled in [`runtime`]; a Python component (~18 MB, seconds to
/// compile) through the test suite's on-disk artifact cache.
pub fn load(guest: Guest) -> StrategyComponent {
    let bytes = guest.bytes();
    if guest.is_python() {
        runtime()
            .load_cached(&bytes, &DirArtifactCache::for_tests())
            .unwrap()
            .0
    } else {
        runtime().load(&bytes).unwrap()
    }
}

/// A journal file in a fresh temporary directory.
pub fn journal_file(dir: &tempfile::TempDir) -> Journal {
    Journal::open_with(&dir.path().join("journal.db"), Durability::Normal).unwrap()
}
