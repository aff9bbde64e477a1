//! Cold start from sealed storage: read the sealed bundle, unwrap its data
//! key, decrypt and authenticate the component, check its hash and imports,
//! read and authenticate the sealed compiled artifact, deserialize it,
//! instantiate, `init`, and run the first tick.

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use stratbox_runtime::bundle::{Kek, Language, SecretKey, StrategyMetadata};
use stratbox_runtime::types::BlockInfo;
use stratbox_runtime::{
    AllowAll, CacheOutcome, Deployment, DeploymentHost, DeploymentSpec, Limits, Oracle, Runtime,
    RuntimeConfig, TickInput,
};
use stratbox_store::Store;
use stratbox_test_artifacts::Guest;

/// The strategies measured: (benchmark name, guest, language, config,
/// deployment limits).
type Case = (&'static str, Guest, Language, &'static str, fn() -> Limits);

const STRATEGIES: &[Case] = &[
    (
        "rust-rsi",
        Guest::RsiMomentum,
        Language::Rust,
        "{}",
        Limits::rust,
    ),
    (
        "python-bollinger",
        Guest::PyBollinger,
        Language::Python,
        r#"{"cooldown_ms":0}"#,
        // The interpreter links more core instances than Rust's defaults allow.
        Limits::python,
    ),
];

struct Clock;

impl Oracle for Clock {
    fn block(&mut self) -> BlockInfo {
        BlockInfo {
            chain_id: 1,
            number: 1,
            timestamp_ms: 1_700_000_000_000,
        }
    }
}

fn cold_start(c: &mut Criterion) {
    let runtime = Runtime::new(RuntimeConfig::pooled()).expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let key = Arc::new(SecretKey::Kek(Kek::generate().expect("key")));
    let store = Store::open(dir.path(), Arc::clone(&key) as _).expect("store");
    let mut group = c.benchmark_group("cold_start");
    group.sample_size(20);
    for &(name, guest, language, config, limits) in STRATEGIES {
        let bundle = runtime
            .seal_bundle(
                &guest.bytes(),
                StrategyMetadata::new(name, "1.0.0", language, "bench"),
                key.as_ref(),
            )
            .expect("seal");
        store.import_bundle(&runtime, &bundle).expect("import");
        // Compile once so that every measured load hits the sealed cache.
        store.load_strategy(&runtime, name).expect("warm the cache");

        group.bench_function(format!("{name}/open-authenticate"), |b| {
            b.iter(|| {
                let bundle = store.bundle(name).expect("read");
                runtime.open_bundle(&bundle, key.as_ref()).expect("open")
            })
        });
        group.bench_function(format!("{name}/load-from-sealed-cache"), |b| {
            b.iter(|| {
                let loaded = store.load_strategy(&runtime, name).expect("load");
                assert!(matches!(loaded.cache, CacheOutcome::Hit));
                loaded
            })
        });
        group.bench_function(format!("{name}/to-first-tick"), |b| {
            b.iter(|| {
                let loaded = store.load_strategy(&runtime, name).expect("load");
                let (mut deployment, _) = Deployment::new(
                    &runtime,
                    &loaded.component,
                    DeploymentSpec::new("cold", config).with_limits(limits()),
                    DeploymentHost::new(Clock, AllowAll),
                )
                .expect("deploy");
                deployment.tick(TickInput::at(Clock.block())).expect("tick")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, cold_start);
criterion_main!(benches);
