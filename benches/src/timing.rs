//! Simple repeated measurements with medians, for `stratbox bench` (the
//! criterion benches measure the same work with criterion).

use std::time::{Duration, Instant};

/// The median of `samples` (the upper one of an even count); zero if empty.
pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// Median time of one call of `run`, over `samples` calls after one
/// unmeasured warm-up call. What `run` returns is dropped outside the timed
/// region.
pub fn median_call<T, E>(
    samples: usize,
    mut run: impl FnMut() -> Result<T, E>,
) -> Result<Duration, E> {
    drop(run()?);
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples.max(1) {
        let started = Instant::now();
        let value = run()?;
        times.push(started.elapsed());
        drop(value);
    }
    Ok(median(times))
}

/// Median time per item, over `samples` batches of `batch` items after one
/// unmeasured warm-up batch. Items are made by `prepare` before each batch
/// (not timed) and consumed by `run` (timed).
pub fn median_per_item<I, E>(
    samples: usize,
    batch: usize,
    mut prepare: impl FnMut() -> I,
    mut run: impl FnMut(I) -> Result<(), E>,
) -> Result<Duration, E> {
    let batch = batch.max(1);
    let mut times = Vec::with_capacity(samples);
    for sample in 0..=samples.max(1) {
        let items: Vec<I> = (0..batch).map(|_| prepare()).collect();
        let started = Instant::now();
        for item in items {
            run(item)?;
        }
        let elapsed = started.elapsed();
        if sample > 0 {
            times.push(elapsed.div_f64(batch as f64));
        }
    }
    Ok(median(times))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_middle_sample() {
        let ms = Duration::from_millis;
        assert_eq!(median(vec![ms(3), ms(1), ms(2)]), ms(2));
        assert_eq!(median(vec![ms(4), ms(1), ms(3), ms(2)]), ms(3));
        assert_eq!(median(Vec::new()), Duration::ZERO);
    }

    #[test]
    fn every_item_is_run_once_per_batch_plus_a_warm_up_batch() {
        let mut made = 0;
        let mut ran = 0;
        median_per_item(
            3,
            5,
            || made += 1,
            |()| {
                ran += 1;
                Ok::<(), ()>(())
            },
        )
        .ok();
        assert_eq!((made, ran), (20, 20));
    }
}
