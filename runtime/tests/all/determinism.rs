//! Same component, config and tape: same actions, logs and fuel, bit for
//! bit, in fresh engines with and without the pooling allocator.

use stratbox_backtest::PaperRun;
use stratbox_runtime::{Runtime, RuntimeConfig};
use stratbox_test_artifacts::Guest;

use crate::support::{eth_tape, fingerprint, paper_run};

#[test]
fn rsi_over_5000_candles_is_identical_in_fresh_engines_with_and_without_pooling() {
    let tape = eth_tape(5_000);
    assert_eq!(tape.len(), 5_000);
    let plain = Runtime::new(RuntimeConfig::default()).expect("runtime");
    let pooled = Runtime::new(RuntimeConfig::pooled()).expect("pooled runtime");
    let a = paper_run(&plain, Guest::RsiMomentum, "{}", tape.clone());
    let b = paper_run(&pooled, Guest::RsiMomentum, "{}", tape);
    let (a, b) = (fingerprint(&a), fingerprint(&b));
    assert_eq!(a.len(), 5_000);
    let actions = a.iter().filter(|t| t.contains("Swap")).count();
    assert!(
        actions > 10,
        "the run must actually trade ({actions} ticks with swaps)"
    );
    for (n, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x, y, "tick {n} differs");
    }
    assert!(
        a.iter()
            .all(|t| t.contains("fuel=") && !t.contains("fuel=0 "))
    );
}

#[test]
fn the_javascript_rsi_is_deterministic_and_trades_like_the_rust_one() {
    let tape = eth_tape(3_000);
    let plain = Runtime::new(RuntimeConfig::default()).expect("runtime");
    let pooled = Runtime::new(RuntimeConfig::pooled()).expect("pooled runtime");
    let a = paper_run(&plain, Guest::JsRsiMomentum, "{}", tape.clone());
    let b = paper_run(&pooled, Guest::JsRsiMomentum, "{}", tape.clone());
    let (fa, fb) = (fingerprint(&a), fingerprint(&b));
    for (n, (x, y)) in fa.iter().zip(&fb).enumerate() {
        assert_eq!(x, y, "tick {n} differs between fresh engines");
    }
    assert!(
        fa.iter().all(|t| t.starts_with("ok ")),
        "no JavaScript tick fails"
    );

    // The same strategy written in Rust emits the same actions at the same
    // ticks: JavaScript numbers are the same IEEE doubles.
    let rust = paper_run(&plain, Guest::RsiMomentum, "{}", tape);
    let actions = |run: &PaperRun| -> Vec<String> {
        run.ticks
            .iter()
            .map(|tick| match &tick.result {
                Ok(report) => format!("{:?}", report.actions),
                Err(failure) => format!("err {:?}", failure.error),
            })
            .collect()
    };
    let (js, rs) = (actions(&a), actions(&rust));
    assert!(
        rs.iter().filter(|t| t.contains("Swap")).count() >= 4,
        "the run must trade"
    );
    assert_eq!(js, rs);
}
