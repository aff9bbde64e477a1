//! Python strategies: per-tick cost of the Bollinger example in the sandbox
//! (printed next to the same file run by native CPython against the SDK's
//! stub host), and cold (compile) vs cached (deserialize) load of its
//! ~18 MB interpreter component.

use std::path::Path;

mod common;

use common::bench_ticks;
use criterion::{Criterion, criterion_group, criterion_main};
use stratbox_benches::cpython::{native_bollinger, venv_python};
use stratbox_benches::market::csv_candles;
use stratbox_benches::oracles::TapeClock;
use stratbox_benches::suite::BOLLINGER_CONFIG;
use stratbox_runtime::{
    AllowAll, Deployment, DeploymentHost, DeploymentSpec, Limits, MemoryArtifactCache, Runtime,
    RuntimeConfig,
};
use stratbox_test_artifacts::{Guest, data_dir};

/// Ticks the native CPython run measures.
const NATIVE_TICKS: usize = 20_000;

/// One Bollinger tick with a new candle, committing a snapshot every
/// `commit_every` ticks.
fn bollinger_tick(c: &mut Criterion, runtime: &Runtime, name: &str, commit_every: u32) {
    let cache = MemoryArtifactCache::new();
    let (component, _) = runtime
        .load_cached(&Guest::PyBollinger.bytes(), &cache)
        .expect("loads");
    let candles = csv_candles(&data_dir().join("ETH_BTC-5m.csv")).expect("bundled tape");
    let mut spec = DeploymentSpec::new("bench", BOLLINGER_CONFIG).with_limits(Limits::python());
    spec.commit_every = commit_every;
    let (mut deployment, _) = Deployment::new(
        runtime,
        &component,
        spec,
        DeploymentHost::new(TapeClock::new(), AllowAll),
    )
    .expect("starts");
    bench_ticks(c, name, &mut deployment, &candles);
}

/// The same strategy file under the repository's CPython (`.venv`), timed
/// by the script itself; printed, not a criterion measurement.
fn native_cpython() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(python) = venv_python(&root) else {
        eprintln!("no {} (run scripts/setup.sh)", root.join(".venv").display());
        return;
    };
    for snapshot_every in [1, 1_000] {
        match native_bollinger(&python, &root, NATIVE_TICKS, snapshot_every) {
            Ok(run) => println!(
                "tick/python-bollinger/native-cpython/snapshot-every-{snapshot_every}: {:.2} µs/tick (CPython {}, {} ticks, stub host)",
                run.per_tick.as_secs_f64() * 1e6,
                run.version,
                run.ticks
            ),
            Err(error) => eprintln!("{error}"),
        }
    }
}

fn ticks(c: &mut Criterion) {
    native_cpython();
    let runtime = Runtime::new(RuntimeConfig::pooled()).expect("runtime");
    bollinger_tick(c, &runtime, "tick/python-bollinger/commit-every-tick", 1);
    bollinger_tick(
        c,
        &runtime,
        "tick/python-bollinger/commit-every-1000",
        1_000,
    );
}

fn loading(c: &mut Criterion) {
    let bytes = Guest::PyBollinger.bytes();
    let runtime = Runtime::new(RuntimeConfig::pooled()).expect("runtime");
    let mut group = c.benchmark_group("load/python-bollinger");
    // Compiling takes seconds: the fewest samples criterion allows.
    group.sample_size(10);
    group.bench_function("cold-compile", |b| {
        b.iter(|| {
            runtime
                .load_cached(&bytes, &MemoryArtifactCache::new())
                .expect("loads")
        })
    });
    let cache = MemoryArtifactCache::new();
    runtime.load_cached(&bytes, &cache).expect("loads");
    group.bench_function("cached-deserialize", |b| {
        b.iter(|| runtime.load_cached(&bytes, &cache).expect("loads"))
    });
    let (component, _) = runtime.load_cached(&bytes, &cache).expect("loads");
    group.bench_function("instantiate-pooled", |b| {
        b.iter(|| Deployment::probe(&runtime, &component, &Limits::python()).expect("instantiates"))
    });
    let plain = Runtime::new(RuntimeConfig::default()).expect("runtime");
    let (plain_component, _) = plain.load_cached(&bytes, &cache).expect("loads");
    group.bench_function("instantiate-plain", |b| {
        b.iter(|| {
            Deployment::probe(&plain, &plain_component, &Limits::python()).expect("instantiates")
        })
    });
    group.bench_function("instantiate-init-drop-pooled", |b| {
        b.iter(|| {
            Deployment::new(
                &runtime,
                &component,
                DeploymentSpec::new("bench", BOLLINGER_CONFIG).with_limits(Limits::python()),
                DeploymentHost::new(TapeClock::new(), AllowAll),
            )
            .expect("starts")
        })
    });
    group.finish();
}

criterion_group!(benches, ticks, loading);
criterion_main!(benches);
