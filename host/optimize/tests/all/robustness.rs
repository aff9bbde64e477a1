//! Monte Carlo robustness on small cases computed by hand.

use serde_json::json;
use stratbox_backtest::report::TradeRecord;
use stratbox_optimize::robustness::{bootstrap, candle_returns, permute, trade_returns};
use stratbox_optimize::{MonteCarloConfig, robustness};

use crate::{report, timestamps};

fn settings(seed: u64) -> MonteCarloConfig {
    MonteCarloConfig {
        runs: 2_000,
        seed,
        block: 1,
        jobs: 2,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn permuted_trades_keep_the_return_and_move_the_drawdown_as_computed_by_hand() {
    // +100%, -10%, -10% in some order. Up first: 1, 2, 1.8, 1.62 (drawdown
    // 19%); up between: 1, 0.9, 1.8, 1.62 (10%); up last: 1, 0.9, 0.81,
    // 1.62 (19%). Each of the three orders is a third of the 6
    // permutations, so the drawdown is 10% a third of the time (the 5th
    // and 25th percentiles) and 19% otherwise (median and up); the return
    // is +62% every time, never a loss.
    let result = permute(&[1.0, -0.1, -0.1], &settings(3));
    assert_eq!((result.runs, result.samples), (2_000, 3));
    let dd = &result.max_drawdown;
    assert!(
        close(dd.percentiles.p5, 0.1) && close(dd.percentiles.p25, 0.1),
        "{dd:?}"
    );
    for p in [dd.percentiles.p50, dd.percentiles.p75, dd.percentiles.p95] {
        assert!(close(p, 0.19), "{dd:?}");
    }
    let share_low = dd.histogram.counts[0] as f64 / 2_000.0;
    assert!((share_low - 1.0 / 3.0).abs() < 0.05, "{share_low}");
    let r = &result.total_return;
    assert!(close(r.min, 0.62) && close(r.max, 0.62), "{r:?}");
    assert_eq!(result.probability_of_loss, 0.0);
}

#[test]
fn bootstrapped_returns_follow_the_four_equally_likely_paths() {
    // Two returns, +10% and -10%, drawn twice with replacement: ++ (+21%,
    // drawdown 0), +- and -+ (-1%, 10%), -- (-19%, 19%), each a quarter.
    let result = bootstrap(&[0.1, -0.1], &settings(5));
    let r = &result.total_return.percentiles;
    assert!(
        close(r.p5, -0.19) && close(r.p50, -0.01) && close(r.p95, 0.21),
        "{r:?}"
    );
    assert!([-0.19, -0.01].iter().any(|v| close(r.p25, *v)));
    assert!([-0.01, 0.21].iter().any(|v| close(r.p75, *v)));
    let dd = &result.max_drawdown.percentiles;
    assert!(
        close(dd.p5, 0.0) && close(dd.p50, 0.1) && close(dd.p95, 0.19),
        "{dd:?}"
    );
    assert!(
        (result.probability_of_loss - 0.75).abs() < 0.04,
        "{}",
        result.probability_of_loss
    );

    // Blocks of two from a circular series: +- or -+, never ++ or --.
    let blocks = bootstrap(
        &[0.1, -0.1],
        &MonteCarloConfig {
            block: 2,
            ..settings(5)
        },
    );
    assert!(close(blocks.total_return.min, -0.01) && close(blocks.total_return.max, -0.01));
    assert_eq!(blocks.probability_of_loss, 1.0);
}

#[test]
fn the_same_seed_gives_the_same_paths_on_any_number_of_threads() {
    let returns: Vec<f64> = (0..300)
        .map(|i| ((i * 37 % 101) as f64 - 50.0) / 5_000.0)
        .collect();
    let one = bootstrap(
        &returns,
        &MonteCarloConfig {
            jobs: 1,
            ..settings(11)
        },
    );
    let many = bootstrap(
        &returns,
        &MonteCarloConfig {
            jobs: 4,
            ..settings(11)
        },
    );
    assert_eq!(one, many);
    assert_ne!(one, bootstrap(&returns, &settings(12)));
    let one = permute(
        &returns,
        &MonteCarloConfig {
            jobs: 1,
            ..settings(11)
        },
    );
    assert_eq!(
        one,
        permute(
            &returns,
            &MonteCarloConfig {
                jobs: 3,
                ..settings(11)
            }
        )
    );
}

#[test]
fn a_report_is_cut_into_returns_between_its_trades() {
    let config = json!({});
    let returns = [0.0, 0.0, 0.1, 0.0, -0.1, 0.0];
    let mut run = report(&config, 0..6, &returns, &[1.0; 6]);
    let ts = timestamps(6);
    let trade = |candle: usize, outcome: &str| -> TradeRecord {
        serde_json::from_value(json!({
            "sequence": candle, "timestamp_ms": ts[candle], "id": candle, "kind": "swap",
            "side": "buy", "summary": "swap", "outcome": outcome
        }))
        .unwrap()
    };
    // Filled at candles 1 and 3; the one at 2 never filled.
    run.trades = vec![trade(1, "filled"), trade(2, "SLIPPAGE"), trade(3, "filled")];
    // Equity 1, 1, 1.1, 1.1, 0.99, 0.99: cut at 1 and 3.
    let cut = trade_returns(&run);
    assert_eq!(cut.len(), 3);
    assert!(
        close(cut[0], 0.0) && close(cut[1], 0.1) && close(cut[2], -0.1),
        "{cut:?}"
    );
    assert_eq!(candle_returns(&run).len(), 5);

    let result = robustness(&run, &settings(1)).unwrap();
    assert!(result.per_candle);
    assert!(close(result.observed_return, -0.01));
    // Between trades, in their own order: 1, 1, 1.1, 0.99.
    assert!(close(result.observed_trade_max_drawdown.unwrap(), 0.1));
    let order = result.trade_order.unwrap();
    assert!(close(order.total_return.percentiles.p50, -0.01));
    assert_eq!(order.probability_of_loss, 1.0);
    assert!(result.bootstrap.is_some());
    assert!(
        robustness(
            &run,
            &MonteCarloConfig {
                runs: 0,
                ..settings(1)
            }
        )
        .is_err()
    );
}
