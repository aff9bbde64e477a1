//! Python strategies: per-tick cost of the Bollinger example in the sandbox
//! (printed next to the same file run by native CPython against the SDK's
//! stub host), and cold (compile) vs cached (deserialize) load of its
//! ~18 MB interpreter component.

use std::path::Path;
use std::process::Command;

use criterion::{Criterion, criterion_group, criterion_main};
use stratbox_runtime::types::{BlockInfo, MarketCandle};
use stratbox_runtime::{
    AllowAll, Deployment, DeploymentHost, DeploymentSpec, Limits, MemoryArtifactCache, Oracle,
    Runtime, RuntimeConfig, TickInput,
};
use stratbox_test_artifacts::{Guest, data_dir};

/// Ticks the native CPython run measures.
const NATIVE_TICKS: &str = "20000";

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

/// One Bollinger tick with a new candle, committing a snapshot every
/// `commit_every` ticks.
fn bollinger_tick(c: &mut Criterion, runtime: &Runtime, name: &str, commit_every: u32) {
    let cache = MemoryArtifactCache::new();
    let (component, _) = runtime
        .load_cached(&Guest::PyBollinger.bytes(), &cache)
        .expect("loads");
    let candles = candles();
    let mut spec =
        DeploymentSpec::new("bench", r#"{"cooldown_ms":0}"#).with_limits(Limits::python());
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

/// The same strategy file under the repository's CPython (`.venv`), timed
/// by the script itself; printed, not a criterion measurement.
fn native_cpython() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join(".venv/bin/python");
    let output = Command::new(&python)
        .arg(root.join("benches/python/native_bollinger.py"))
        .arg(&root)
        .arg(NATIVE_TICKS)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output();
    match output {
        Ok(output) if output.status.success() => {
            let line = String::from_utf8_lossy(&output.stdout);
            let fields: Vec<&str> = line.split_whitespace().collect();
            if let [_, micros, ticks, version] = fields.as_slice() {
                println!(
                    "tick/python-bollinger/native-cpython: {micros} µs/tick (CPython {version}, {ticks} ticks, on_tick + snapshot, stub host)"
                );
            }
        }
        Ok(output) => eprintln!(
            "native CPython run failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(error) => eprintln!("{}: {error} (run scripts/setup.sh)", python.display()),
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
    group.bench_function("instantiate-init-drop-pooled", |b| {
        b.iter(|| {
            Deployment::new(
                &runtime,
                &component,
                DeploymentSpec::new("bench", "{}").with_limits(Limits::python()),
                DeploymentHost::new(Clock, AllowAll),
            )
            .expect("starts")
        })
    });
    group.finish();
}

criterion_group!(benches, ticks, loading);
criterion_main!(benches);
