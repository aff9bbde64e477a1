//! Guests, tapes and markets the tests share.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use stratbox_backtest::sim::{AssetConfig, PoolConfig, PoolKind, SimConfig, SimMarket};
use stratbox_backtest::{Backtest, BacktestError, NoJournal, report::BacktestReport};
use stratbox_runtime::{
    AllowAll, DeploymentSpec, Limits, Runtime, RuntimeConfig, StrategyComponent,
};
use stratbox_tape::Tape;
use stratbox_test_artifacts::{Guest, data_dir};

/// One runtime for the whole binary.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: LazyLock<Runtime> =
        LazyLock::new(|| Runtime::new(RuntimeConfig::default()).unwrap());
    &RUNTIME
}

/// A guest, loaded into [`runtime`].
pub fn load(guest: Guest) -> StrategyComponent {
    runtime().load(&guest.bytes()).unwrap()
}

/// The first `n` candles of the bundled ETH/BTC 5-minute tape.
pub fn eth_tape(n: usize) -> Tape {
    stratbox_tape::load_csv(&data_dir().join("ETH_BTC-5m.csv"), "ETH/BTC")
        .unwrap()
        .take(n)
}

/// `n` candles of a synthetic ETH/BTC tape (`stratbox backtest
/// --synthetic n --market ETH/BTC`).
pub fn synthetic_tape(n: usize) -> Tape {
    stratbox_tape::generate(&stratbox_tape::SyntheticConfig::new("ETH/BTC", n, 1)).unwrap()
}

/// What `stratbox backtest` trades against by default: one constant-product
/// ETH/BTC pool and 1 BTC.
pub fn market(tape: Tape) -> SimMarket {
    let asset = |decimals| AssetConfig { decimals };
    let config = SimConfig {
        chain_id: 0,
        quote: "BTC".into(),
        native: None,
        assets: BTreeMap::from([("ETH".into(), asset(18)), ("BTC".into(), asset(8))]),
        balances: BTreeMap::from([("BTC".into(), "1".into())]),
        pools: BTreeMap::from([(
            "ETH/BTC-v2-0.3".into(),
            PoolConfig {
                kind: PoolKind::ConstantProduct,
                token0: "ETH".into(),
                token1: "BTC".into(),
                fee_pips: 3_000,
                market: "ETH/BTC".into(),
                depth: 1_000.0,
                range: 0.5,
            },
        )]),
        lending: BTreeMap::new(),
        vaults: BTreeMap::new(),
        gas: stratbox_venues::gas::GasModel::free(),
    };
    SimMarket::new(config, vec![tape]).unwrap()
}

/// The hostile fixture running `attack` at tick `at` (and, with `repeat`,
/// every tick after it).
pub fn hostile_spec(attack: &str, at: u64, repeat: bool) -> DeploymentSpec {
    DeploymentSpec::new(
        format!("hostile-{attack}"),
        serde_json::json!({ "attack": attack, "at_sequence": at, "repeat": repeat }).to_string(),
    )
}

/// Backtest `component` under `spec` over `candles` ETH/BTC candles.
pub fn backtest(
    component: &StrategyComponent,
    spec: DeploymentSpec,
    candles: usize,
    continue_on_failure: bool,
) -> Result<BacktestReport, BacktestError> {
    let spec = spec.with_limits(Limits::rust());
    let mut backtest = Backtest::new(runtime(), component, "test", spec);
    backtest.continue_on_failure = continue_on_failure;
    backtest.run(market(eth_tape(candles)), AllowAll, &mut NoJournal, |_| {})
}
