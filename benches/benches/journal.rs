//! Journal writes: one tick (input candle, two oracle reads, one emission,
//! two logs, snapshot reference, policy state) per transaction.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use stratbox_benches::journal::{JournalBench, tick};
use stratbox_journal::Durability;

fn record(c: &mut Criterion, name: &str, durability: Durability) {
    let mut bench = JournalBench::new(durability).expect("journal");
    let mut sequence = 0;
    let mut group = c.benchmark_group("journal");
    group.throughput(Throughput::Elements(1));
    if durability == Durability::Full {
        group.sample_size(20);
    }
    group.bench_function(name, |b| {
        b.iter_batched(
            || {
                sequence += 1;
                tick(sequence)
            },
            |tick| bench.record(tick).expect("recorded"),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn writes(c: &mut Criterion) {
    record(c, "record-tick/synchronous-normal", Durability::Normal);
    record(c, "record-tick/synchronous-full", Durability::Full);
}

criterion_group!(benches, writes);
criterion_main!(benches);
