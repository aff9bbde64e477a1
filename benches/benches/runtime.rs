//! Per-tick cost of Rust strategies in the sandbox (an empty one, one
//! reading prices, the RSI example) and their load times: compile,
//! deserialize, instantiate (plain and pooled), deploy; and the engine's
//! floor under a tick.

mod common;

use common::bench_ticks;
use criterion::{Criterion, criterion_group, criterion_main};
use stratbox_benches::floor::{DirectStrategy, FloorInstance};
use stratbox_benches::market::{csv_candles, synthetic_candles};
use stratbox_benches::oracles::FixedPrices;
use stratbox_runtime::types::Candle;
use stratbox_runtime::{
    AllowAll, Deployment, DeploymentHost, DeploymentSpec, Limits, MemoryArtifactCache, Runtime,
    RuntimeConfig, StrategyComponent,
};
use stratbox_test_artifacts::{Guest, data_dir};

/// One tick of a deployment of `guest` with `config`, a new candle each
/// tick, committing a snapshot every `commit_every` ticks.
fn tick(
    c: &mut Criterion,
    runtime: &Runtime,
    name: &str,
    (guest, config): (Guest, &str),
    commit_every: u32,
    candles: &[Candle],
) {
    let component = runtime.load(&guest.bytes()).expect("loads");
    let mut spec = DeploymentSpec::new("bench", config);
    spec.commit_every = commit_every;
    let (mut deployment, _) = Deployment::new(
        runtime,
        &component,
        spec,
        DeploymentHost::new(FixedPrices, AllowAll),
    )
    .expect("starts");
    bench_ticks(c, name, &mut deployment, candles);
}

fn ticks(c: &mut Criterion) {
    let runtime = Runtime::new(RuntimeConfig::pooled()).expect("runtime");
    let real = csv_candles(&data_dir().join("ETH_BTC-5m.csv")).expect("bundled tape");
    let synthetic = synthetic_candles(1_000).expect("synthetic tape");
    let rsi = (Guest::RsiMomentum, "{}");
    tick(c, &runtime, "tick/rsi/commit-every-tick", rsi, 1, &real);
    tick(c, &runtime, "tick/rsi/commit-every-1000", rsi, 1_000, &real);
    let empty = (Guest::Empty, "{}");
    tick(
        c,
        &runtime,
        "tick/empty/commit-every-tick",
        empty,
        1,
        &synthetic,
    );
    tick(
        c,
        &runtime,
        "tick/empty/commit-every-1000",
        empty,
        1_000,
        &synthetic,
    );
    for (name, config) in [
        ("tick/oracle-read/0-reads", r#"{"reads":0}"#),
        ("tick/oracle-read/1-read", r#"{"reads":1}"#),
        ("tick/oracle-read/64-reads", r#"{"reads":64}"#),
    ] {
        tick(
            c,
            &runtime,
            name,
            (Guest::OracleRead, config),
            1_000,
            &synthetic,
        );
    }
}

fn instantiate(c: &mut Criterion, name: &str, runtime: &Runtime, component: &StrategyComponent) {
    c.bench_function(name, |b| {
        b.iter(|| Deployment::probe(runtime, component, &Limits::rust()).expect("instantiates"))
    });
}

fn loading(c: &mut Criterion) {
    let bytes = Guest::RsiMomentum.bytes();
    let pooled = Runtime::new(RuntimeConfig::pooled()).expect("runtime");
    c.bench_function("load/rsi/compile", |b| {
        b.iter(|| pooled.load(&bytes).expect("loads"))
    });
    let cache = MemoryArtifactCache::new();
    let (component, _) = pooled.load_cached(&bytes, &cache).expect("loads");
    c.bench_function("load/rsi/deserialize", |b| {
        b.iter(|| pooled.load_cached(&bytes, &cache).expect("loads"))
    });
    let plain = Runtime::new(RuntimeConfig::default()).expect("runtime");
    let (plain_component, _) = plain.load_cached(&bytes, &cache).expect("loads");
    instantiate(c, "load/rsi/instantiate-plain", &plain, &plain_component);
    instantiate(c, "load/rsi/instantiate-pooled", &pooled, &component);
    // Instantiate, init, first snapshot and teardown: a pool slot is
    // returned at the end of every iteration.
    c.bench_function("load/rsi/instantiate-init-drop-pooled", |b| {
        b.iter(|| {
            let host = DeploymentHost::new(FixedPrices, AllowAll);
            Deployment::new(
                &pooled,
                &component,
                DeploymentSpec::new("bench", "{}"),
                host,
            )
            .expect("starts")
        })
    });
}

/// The engine's floor under a tick: calls into a guest that does nothing,
/// and the empty strategy called without the runtime (`stratbox_benches::floor`).
fn floors(c: &mut Criterion) {
    let runtime = Runtime::new(RuntimeConfig::pooled()).expect("runtime");
    let mut floor = FloorInstance::new(&runtime).expect("floor component");
    c.bench_function("floor/nop", |b| b.iter(|| floor.nop().expect("nop")));
    c.bench_function("floor/flat-tick", |b| {
        b.iter(|| floor.flat_tick().expect("flat-tick"))
    });
    c.bench_function("floor/list-tick", |b| {
        b.iter(|| floor.list_tick().expect("list-tick"))
    });
    c.bench_function("floor/import-read-64", |b| {
        b.iter(|| floor.read_prices(64).expect("read-prices"))
    });
    c.bench_function("floor/import-read-by-id-64", |b| {
        b.iter(|| floor.read_prices_by_id(64).expect("read-prices-by-id"))
    });
    let mut empty =
        DirectStrategy::new(&runtime, &Guest::Empty.bytes(), "{}").expect("empty strategy");
    c.bench_function("floor/sdk-empty-tick", |b| {
        b.iter(|| empty.tick().expect("on-tick"))
    });
}

criterion_group!(benches, ticks, floors, loading);
criterion_main!(benches);
