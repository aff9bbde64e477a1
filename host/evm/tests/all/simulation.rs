//! A swap whose slippage bound cannot be met reverts in simulation: the
//! strategy gets the decoded reason and nothing is broadcast.

use stratbox_evm::AccountMode;
use stratbox_journal::{Journal, RunPolicy};
use stratbox_runtime::DeploymentSpec;
use stratbox_runtime::types::{Action, ActionOutcome, Amount, Swap, SwapAmount};

use crate::support::{Net, deployment_address, rsi_config, sealed_rsi};

const ONE: u128 = 1_000_000_000_000_000_000;

fn swap(dai: u128, max_slippage_bps: u32) -> Action {
    Action::Swap(Swap {
        sell: "DAI".into(),
        buy: "WETH".into(),
        amount: SwapAmount::ExactIn(Amount::from_u128(dai * ONE)),
        max_slippage_bps,
        venue: None,
    })
}

#[test]
fn unmeetable_slippage_fails_in_simulation_and_sends_nothing() {
    let net = Net::start();
    let account = deployment_address();
    net.fund(account, 0, 60_000);
    let component = sealed_rsi(net.dir.path());
    let spec = DeploymentSpec::new("sim", rsi_config("1"));
    let (_recorder, mut executor) =
        net.recorder_and_executor(&spec, &component, RunPolicy::AllowAll, AccountMode::Eoa);
    let nonce_before = net.nonce(account);
    let dai_before = net.balance(net.devnet.dai, account);

    // 50,000 DAI into a pool holding 200,000: far more than 1% impact.
    let outcome = net
        .tokio
        .block_on(executor.execute(7, &swap(50_000, 100)))
        .expect("a known outcome");
    let ActionOutcome::Failed(failure) = outcome else {
        panic!("expected a failure, got {outcome:?}");
    };
    assert_eq!(failure.code, "SIMULATION_REVERTED");
    assert!(
        failure.reason.contains("Too little received"),
        "{}",
        failure.reason
    );
    assert_eq!(failure.tx_hash, None);
    assert_eq!(
        net.nonce(account),
        nonce_before,
        "nothing was sent, approval included"
    );
    assert_eq!(net.balance(net.devnet.dai, account), dai_before);
    let journal = Journal::open(&net.journal_path()).unwrap();
    assert!(journal.tx_intents("sim").unwrap().is_empty());

    // The same swap with a bound it can meet fills.
    let outcome = net
        .tokio
        .block_on(executor.execute(8, &swap(50_000, 3_000)));
    assert!(
        matches!(outcome, Some(ActionOutcome::Filled(_))),
        "{outcome:?}"
    );
}

#[test]
fn unknown_asset_and_unsupported_actions_fail_without_sending() {
    let net = Net::start();
    let account = deployment_address();
    let component = sealed_rsi(net.dir.path());
    let spec = DeploymentSpec::new("unknown", rsi_config("1"));
    let (_recorder, mut executor) =
        net.recorder_and_executor(&spec, &component, RunPolicy::AllowAll, AccountMode::Eoa);
    let nonce_before = net.nonce(account);
    let doge = Action::Swap(Swap {
        sell: "DOGE".into(),
        buy: "WETH".into(),
        amount: SwapAmount::ExactIn(Amount::from_u128(ONE)),
        max_slippage_bps: 100,
        venue: None,
    });
    let ActionOutcome::Failed(failure) = net
        .tokio
        .block_on(executor.execute(1, &doge))
        .expect("a known outcome")
    else {
        panic!("unknown asset must fail");
    };
    assert_eq!(failure.code, "UNKNOWN_ASSET");
    let supply = Action::Supply(stratbox_runtime::types::LendingOp {
        market: "aave-v3".into(),
        asset: "WETH".into(),
        amount: Amount::from_u128(ONE),
    });
    let ActionOutcome::Failed(failure) = net
        .tokio
        .block_on(executor.execute(2, &supply))
        .expect("a known outcome")
    else {
        panic!("no lending market on the devnet");
    };
    assert_eq!(failure.code, "UNSUPPORTED_ACTION");
    assert_eq!(net.nonce(account), nonce_before);
}

#[test]
fn exact_out_swap_and_no_approval_when_the_allowance_suffices() {
    let net = Net::start();
    let account = deployment_address();
    net.fund(account, 0, 1_000);
    // The account already allows the router everything: no approval is added.
    let key = stratbox_evm::devnet::signer_provider(
        &net.devnet.url,
        stratbox_evm::devnet::DEPLOYMENT_KEY,
    )
    .unwrap();
    net.tokio
        .block_on(stratbox_evm::devnet::transact(
            &key,
            "approve",
            net.devnet.dai,
            approve::approveCall {
                spender: net.devnet.swap_router,
                amount: alloy::primitives::U256::MAX,
            },
            alloy::primitives::U256::ZERO,
        ))
        .unwrap();
    let component = sealed_rsi(net.dir.path());
    let spec = DeploymentSpec::new("exact-out", rsi_config("1"));
    let (_recorder, mut executor) =
        net.recorder_and_executor(&spec, &component, RunPolicy::AllowAll, AccountMode::Eoa);
    let tenth = ONE / 10;
    let buy = Action::Swap(Swap {
        sell: "DAI".into(),
        buy: "WETH".into(),
        amount: SwapAmount::ExactOut(Amount::from_u128(tenth)),
        max_slippage_bps: 100,
        venue: Some("WETH/DAI".into()),
    });
    let ActionOutcome::Filled(fill) = net
        .tokio
        .block_on(executor.execute(1, &buy))
        .expect("a known outcome")
    else {
        panic!("exact-out swap failed");
    };
    assert_eq!(fill.received[0].asset, "WETH");
    assert_eq!(
        fill.received[0].amount.to_u128(),
        tenth,
        "exactly what was asked"
    );
    let spent = fill.spent[0].amount.to_u128();
    // About 200 DAI at 2000 DAI/WETH, within the 1% bound plus the fee.
    assert!(spent > 200 * ONE && spent < 203 * ONE, "{spent}");
    let journal = Journal::open(&net.journal_path()).unwrap();
    let intents = journal.tx_intents("exact-out").unwrap();
    assert_eq!(intents.len(), 1, "no approval: {intents:?}");
    assert!(intents[0].intent.purpose.starts_with("swap"));
}

mod approve {
    alloy::sol! {
        function approve(address spender, uint256 amount) external returns (bool);
    }
}
