//! Through the Safe: funds stay in the user's Safe, the deployment key
//! executes as one of its owners, and the fill is the Safe's.

use alloy::primitives::U256;
use stratbox_evm::AccountMode;
use stratbox_journal::RunPolicy;
use stratbox_runtime::DeploymentSpec;
use stratbox_runtime::types::{Action, ActionOutcome, Amount, Swap, SwapAmount};

use crate::support::{Net, deployment_address, rsi_config, sealed_rsi};

const ONE: u128 = 1_000_000_000_000_000_000;

#[test]
fn swap_executes_from_the_safe() {
    let net = Net::start();
    let safe = net.devnet.safe;
    net.fund(safe, 0, 3_000);
    let component = sealed_rsi(net.dir.path());
    let spec = DeploymentSpec::new("safe", rsi_config("1"));
    let (_recorder, mut executor) = net.recorder_and_executor(
        &spec,
        &component,
        RunPolicy::AllowAll,
        AccountMode::Safe { safe },
    );
    let signer = deployment_address();
    let signer_dai = net.balance(net.devnet.dai, signer);
    let swap = Action::Swap(Swap {
        sell: "DAI".into(),
        buy: "WETH".into(),
        amount: SwapAmount::ExactIn(Amount::from_u128(1_000 * ONE)),
        max_slippage_bps: 150,
        venue: None,
    });
    let outcome = net
        .tokio
        .block_on(executor.execute(1, &swap))
        .expect("a known outcome");
    let ActionOutcome::Filled(fill) = outcome else {
        panic!("swap through the Safe failed: {outcome:?}");
    };
    assert_eq!(fill.spent[0].asset, "DAI");
    assert_eq!(fill.spent[0].amount.to_u128(), 1_000 * ONE);
    let weth = fill
        .received
        .iter()
        .find(|a| a.asset == "WETH")
        .unwrap()
        .amount;
    assert_eq!(
        net.balance(net.devnet.weth, safe),
        U256::from(weth.to_u128())
    );
    assert_eq!(net.balance(net.devnet.dai, safe), U256::from(2_000 * ONE));
    assert_eq!(
        net.balance(net.devnet.dai, signer),
        signer_dai,
        "the key holds nothing"
    );
    assert!(
        net.nonce(signer) >= 2,
        "the key sent the approval and the swap"
    );
}

#[test]
fn a_key_that_does_not_own_the_safe_is_refused() {
    let net = Net::start();
    let signer = stratbox_evm::DeploymentSigner::from_hex(
        "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804ccd95db9",
        "test",
    )
    .unwrap();
    let config = net.devnet.chain_config(AccountMode::Safe {
        safe: net.devnet.safe,
    });
    let error = net
        .tokio
        .block_on(stratbox_evm::Chain::connect(config, signer))
        .unwrap_err();
    assert!(
        matches!(error, stratbox_evm::ChainError::NotSafeOwner { .. }),
        "{error}"
    );
}
