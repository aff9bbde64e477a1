//! Per-tick cost and load times of a Rust strategy in the sandbox.

use criterion::{Criterion, criterion_group, criterion_main};
use stratbox_runtime::types::{BlockInfo, MarketCandle};
use stratbox_runtime::{
    AllowAll, Deployment, DeploymentHost, DeploymentSpec, Oracle, Runtime, RuntimeConfig, TickInput,
};
use stratbox_test_artifacts::{Guest, data_dir};

struct Clock;

impl Oracle for Clock {
    fn block(&mut self) -> BlockInfo {
        BlockInfo {
            chain_id: 0,
            number: 0,
            timestamp_ms: 0,
        }
    }
}

fn candles() -> Vec<MarketCandle> {
    let tape = stratbox_tape::load_csv(&data_dir().join("ETH_BTC-5m.csv"), "ETH/BTC")
        .expect("bundled tape");
    stratbox_backtest::market_candles(&tape)
}

/// One RSI tick with a new candle, committing a snapshot every
/// `commit_every` ticks.
fn rsi_tick(c: &mut Criterion, runtime: &Runtime, name: &str, commit_every: u32) {
    let component = runtime.load(&Guest::RsiMomentum.bytes()).expect("loads");
    let candles = candles();
    let mut spec = DeploymentSpec::new("bench", "{}");
    spec.commit_every = commit_every;
    let (mut deployment, _) = Deployment::new(
        runtime,
        &component,
        spec,
        DeploymentHost::new(Clock, AllowAll),
    )
    .expect("starts");
    let mut n = 0usize;
    c.bench_function(name, |b| {
        b.iter(|| {
            let candle = candles[n % candles.len()].clone();
            n += 1;
            let input = TickInput {
                block: BlockInfo {
                    chain_id: 0,
                    number: n as u64,
                    timestamp_ms: candle.candle.timestamp_ms,
                },
                candles: vec![candle],
                results: Vec::new(),
            };
            deployment.tick(input).expect("tick")
        })
    });
}

fn ticks(c: &mut Criterion) {
    let runtime = Runtime::new(RuntimeConfig::pooled()).expect("runtime");
    rsi_tick(c, &runtime, "tick/rsi/commit-every-tick", 1);
    rsi_tick(c, &runtime, "tick/rsi/commit-every-1000", 1_000);
}

fn loading(c: &mut Criterion) {
    let bytes = Guest::RsiMomentum.bytes();
    let runtime = Runtime::new(RuntimeConfig::pooled()).expect("runtime");
    c.bench_function("load/rsi/compile", |b| {
        b.iter(|| runtime.load(&bytes).expect("loads"))
    });
    let component = runtime.load(&bytes).expect("loads");
    let artifact = runtime.serialize(&component).expect("serializes");
    c.bench_function("load/rsi/deserialize", |b| {
        // SAFETY: the artifact was produced by this runtime in this process.
        #[allow(unsafe_code)]
        b.iter(|| unsafe { runtime.load_precompiled(&bytes, &artifact) }.expect("loads"))
    });
    // Instantiate, init, first snapshot and teardown: a pool slot is
    // returned at the end of every iteration.
    c.bench_function("load/rsi/instantiate-init-drop-pooled", |b| {
        b.iter(|| {
            let host = DeploymentHost::new(Clock, AllowAll);
            Deployment::new(
                &runtime,
                &component,
                DeploymentSpec::new("bench", "{}"),
                host,
            )
            .expect("starts")
        })
    });
}

criterion_group!(benches, ticks, loading);
criterion_main!(benches);
