//! What more than one criterion bench of this crate does.

use criterion::{BatchSize, Criterion};
use stratbox_benches::market::tick_input;
use stratbox_runtime::Deployment;
use stratbox_runtime::types::Candle;

/// Bench `name`: one tick of `deployment` per iteration, each with the
/// next of `candles` (inputs are built outside the timed part).
pub fn bench_ticks(c: &mut Criterion, name: &str, deployment: &mut Deployment, candles: &[Candle]) {
    let mut n = 0u64;
    c.bench_function(name, |b| {
        b.iter_batched(
            || {
                n += 1;
                tick_input(n, candles[n as usize % candles.len()])
            },
            |input| deployment.tick(input).expect("tick"),
            BatchSize::SmallInput,
        )
    });
}
