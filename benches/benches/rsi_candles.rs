//! The RSI strategy over synthetic candles (1,000,000 by default, or
//! `STRATBOX_BENCH_CANDLES`), one per tick, through the same loop three
//! ways: compiled natively and driven through the SDK's host trait, and
//! sandboxed with fuel metering off and on. Each iteration is one whole
//! replay from a fresh deployment; building the inputs is not timed.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rsi_momentum::RsiMomentum;
use stratbox_benches::drive::{Driver, Replay, SandboxDriver, replay};
use stratbox_benches::market::synthetic_candles;
use stratbox_benches::native::NativeDriver;
use stratbox_benches::suite::{COMMIT_EVERY, RSI_CONFIG};
use stratbox_runtime::{Runtime, RuntimeConfig};
use stratbox_test_artifacts::Guest;

fn replays(c: &mut Criterion) {
    let count = std::env::var("STRATBOX_BENCH_CANDLES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let candles = synthetic_candles(count).expect("synthetic tape");
    let bytes = Guest::RsiMomentum.bytes();
    let metered = Runtime::new(RuntimeConfig::pooled()).expect("runtime");
    let unmetered = Runtime::new(RuntimeConfig {
        fuel: false,
        ..RuntimeConfig::pooled()
    })
    .expect("runtime");
    let on = metered.load(&bytes).expect("loads");
    let off = unmetered.load(&bytes).expect("loads");

    let mut group = c.benchmark_group("rsi-candles");
    group.sample_size(10);
    group.throughput(Throughput::Elements(count as u64));
    let mut orders = Vec::new();
    let mut bench = |name: &str, new: &dyn Fn() -> Box<dyn Driver>| {
        group.bench_function(name, |b| {
            b.iter_custom(|iterations| {
                (0..iterations)
                    .map(|_| {
                        let run: Replay = replay(new().as_mut(), &candles).expect("replay");
                        orders.push((name.to_owned(), run.orders, run.checksum));
                        run.elapsed
                    })
                    .sum()
            })
        });
    };
    bench("native", &|| {
        Box::new(NativeDriver::<RsiMomentum>::new(RSI_CONFIG, COMMIT_EVERY).expect("init"))
    });
    bench("sandboxed-fuel-off", &|| {
        Box::new(SandboxDriver::new(&unmetered, &off, RSI_CONFIG, COMMIT_EVERY).expect("deploys"))
    });
    bench("sandboxed-fuel-on", &|| {
        Box::new(SandboxDriver::new(&metered, &on, RSI_CONFIG, COMMIT_EVERY).expect("deploys"))
    });
    group.finish();
    // The same strategy over the same candles places the same orders,
    // natively or not.
    let first = orders.first().map(|(_, n, sum)| (*n, *sum));
    for (name, n, sum) in &orders {
        assert_eq!(Some((*n, *sum)), first, "{name} placed different orders");
    }
}

criterion_group!(benches, replays);
criterion_main!(benches);
