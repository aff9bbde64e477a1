//! The example strategies trade over real candles in the sandbox.

use stratbox_backtest::PaperRun;
use stratbox_runtime::types::{Action, ActionOutcome};
use stratbox_test_artifacts::Guest;

use crate::support::{eth_tape, paper_run, runtime};

fn swaps(run: &PaperRun) -> (usize, usize) {
    let mut buys = 0;
    let mut sells = 0;
    for report in run.reports() {
        for accepted in &report.actions {
            match &accepted.action {
                Action::Swap(swap) if swap.sell == "BTC" => buys += 1,
                Action::Swap(swap) if swap.sell == "ETH" => sells += 1,
                other => panic!("unexpected action {other:?}"),
            }
        }
    }
    (buys, sells)
}

fn assert_trades(run: &PaperRun, name: &str) {
    assert_eq!(run.failures().count(), 0, "{name}: no tick may fail");
    let (buys, sells) = swaps(run);
    assert!(
        buys >= 3 && sells >= 3,
        "{name}: {buys} buys, {sells} sells"
    );
    // Every sell follows a filled buy: the strategy tracks fills.
    assert!(buys - sells <= 1, "{name}: {buys} buys, {sells} sells");
    let fills = run
        .ticks
        .iter()
        .flat_map(|t| &t.outcomes)
        .filter(|(_, o)| matches!(o, ActionOutcome::Filled(_)))
        .count();
    assert_eq!(
        fills,
        buys + sells,
        "{name}: the paper venue fills every swap"
    );
    let equity = run.venue().equity_in_quote();
    assert!(
        equity > 0.5 && equity < 2.0,
        "{name}: equity {equity} BTC from 1 BTC"
    );
}

#[test]
fn rsi_momentum_trades_real_eth_btc_candles() {
    let run = paper_run(runtime(), Guest::RsiMomentum, "{}", eth_tape(2_000));
    assert_trades(&run, "rsi-momentum");
}

#[test]
fn ema_crossover_trades_real_eth_btc_candles() {
    let run = paper_run(runtime(), Guest::EmaCrossover, "{}", eth_tape(2_000));
    assert_trades(&run, "ema-crossover");
}

#[test]
fn bad_config_is_a_typed_init_failure() {
    let runtime = runtime();
    let component = crate::support::load(runtime, Guest::RsiMomentum);
    let spec = stratbox_runtime::DeploymentSpec::new("bad", r#"{"period": 0}"#);
    let host =
        stratbox_runtime::DeploymentHost::new(crate::support::Clock, stratbox_runtime::DenyAll);
    match stratbox_runtime::Deployment::new(runtime, &component, spec, host) {
        Err(stratbox_runtime::DeployError::Init(failure)) => match failure.error {
            stratbox_runtime::TickError::GuestError { message } => {
                assert_eq!(message, "period must be at least 1");
            }
            other => panic!("expected a guest error, got {other:?}"),
        },
        other => panic!("expected an init failure, got {other:?}"),
    }
}
