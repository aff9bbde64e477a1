//! Density: 1,000 and 10,000 RSI deployments held at once in a pool sized
//! for them. Prints the resident memory each adds; measures the time to
//! tick all of them once.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use stratbox_benches::market::{synthetic_candles, tick_input};
use stratbox_benches::memory::resident;
use stratbox_benches::oracles::TapeClock;
use stratbox_runtime::{
    AllowAll, Deployment, DeploymentHost, DeploymentSpec, Limits, PoolingConfig, Runtime,
    RuntimeConfig,
};
use stratbox_test_artifacts::Guest;

fn density(c: &mut Criterion) {
    let bytes = Guest::RsiMomentum.bytes();
    let candle = synthetic_candles(1).expect("synthetic tape")[0];
    let mut group = c.benchmark_group("density");
    group.sample_size(10);
    for instances in [1_000usize, 10_000] {
        let runtime = Runtime::new(RuntimeConfig {
            pooling: Some(PoolingConfig {
                total_instances: instances as u32,
                max_memory_bytes: Limits::rust().memory_bytes,
                ..PoolingConfig::default()
            }),
            ..RuntimeConfig::default()
        })
        .expect("runtime");
        let component = runtime.load(&bytes).expect("loads");
        let before = resident();
        let mut deployments: Vec<Deployment> = (0..instances)
            .map(|i| {
                let spec = DeploymentSpec::new(format!("rsi-{i}"), "{}");
                let host = DeploymentHost::new(TapeClock::new(), AllowAll);
                Deployment::new(&runtime, &component, spec, host)
                    .expect("deploys")
                    .0
            })
            .collect();
        let mut sequence = 0;
        group.throughput(Throughput::Elements(instances as u64));
        group.bench_function(format!("tick-all/{instances}"), |b| {
            b.iter_custom(|iterations| {
                let mut elapsed = std::time::Duration::ZERO;
                for _ in 0..iterations {
                    sequence += 1;
                    let inputs: Vec<_> = (0..instances)
                        .map(|_| tick_input(sequence, candle))
                        .collect();
                    let started = std::time::Instant::now();
                    for (deployment, input) in deployments.iter_mut().zip(inputs) {
                        deployment.tick(input).expect("tick");
                    }
                    elapsed += started.elapsed();
                }
                elapsed
            })
        });
        if let (Some(before), Some(after)) = (before, resident()) {
            let per_instance =
                |b: u64, a: u64| a.saturating_sub(b) as f64 / instances as f64 / 1024.0;
            println!(
                "density/{instances}: {:.1} KiB RSS per instance ({:.2} GiB for all), PSS {}",
                per_instance(before.rss, after.rss),
                after.rss.saturating_sub(before.rss) as f64 / f64::from(1u32 << 30),
                before
                    .pss
                    .zip(after.pss)
                    .map_or("n/a".to_owned(), |(b, a)| format!(
                        "{:.1} KiB per instance",
                        per_instance(b, a)
                    )),
            );
        }
        drop(deployments);
    }
    group.finish();
}

criterion_group!(benches, density);
criterion_main!(benches);
