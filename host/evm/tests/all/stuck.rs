//! A transaction priced below the market stays pending, is never reported
//! as failed, and never bids more than the chain file's fee caps; once the
//! caps allow it, it is replaced (same nonce, same call, higher fees) and
//! exactly one of its attempts is mined.

use std::time::{Duration, Instant};

use stratbox_evm::devnet::DEPLOYMENT_KEY;
use stratbox_evm::{AccountMode, Chain, DeploymentSigner, Executor};
use stratbox_journal::{Journal, RunPolicy, TxStatus};
use stratbox_runtime::DeploymentSpec;
use stratbox_runtime::types::ActionOutcome;

use crate::support::{Net, buy_weth, deployment_address, rpc, rsi_config, sealed_rsi};

const GWEI: u128 = 1_000_000_000;

/// An executor for `run` whose transactions bid at most `cap_gwei`, are
/// given up on after 1 s without a receipt and replaced after 1 s pending.
fn executor(net: &Net, run: stratbox_journal::RunId, cap_gwei: u64) -> Executor {
    let mut config = net.devnet.chain_config(AccountMode::Eoa);
    config.receipt_timeout_secs = 1;
    config.fees.bump_after_secs = 1;
    config.fees.max_fee_per_gas_gwei = cap_gwei;
    let signer = DeploymentSigner::from_hex(DEPLOYMENT_KEY, "devnet").unwrap();
    let chain = net.tokio.block_on(Chain::connect(config, signer)).unwrap();
    Executor::new(chain, Journal::open(&net.journal_path()).unwrap(), run)
}

#[test]
fn a_stuck_transaction_waits_at_the_fee_cap_then_is_replaced_once_the_cap_allows() {
    let net = Net::start();
    let account = deployment_address();
    net.fund(account, 0, 1_000);
    let component = sealed_rsi(net.dir.path());
    let spec = DeploymentSpec::new("stuck", rsi_config("1"));
    let (recorder, _) =
        net.recorder_and_executor(&spec, &component, RunPolicy::AllowAll, AccountMode::Eoa);
    let run = recorder.run();
    let nonce_before = net.nonce(account);

    // The market's base fee jumps to 3 gwei; the deployment may bid 2.
    rpc(
        &net,
        "anvil_setNextBlockBaseFeePerGas",
        serde_json::json!([format!("{:#x}", 3 * GWEI)]),
    );
    let mut capped = executor(&net, run, 2);
    let outcome = net.tokio.block_on(capped.execute(1, &buy_weth()));
    assert_eq!(outcome, None, "unknown, not failed");
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(4) {
        let settled = net.tokio.block_on(capped.settle(1, &buy_weth())).unwrap();
        assert_eq!(settled, None, "still pending at the cap");
        std::thread::sleep(Duration::from_millis(250));
    }
    let journal = Journal::open(&net.journal_path()).unwrap();
    let intents = journal.tx_intents("stuck").unwrap();
    assert!(!intents.is_empty());
    for stored in &intents {
        assert_eq!(stored.status, TxStatus::Pending);
        let envelope =
            alloy::eips::Decodable2718::decode_2718(&mut stored.intent.raw_tx.as_slice())
                .map(|e: alloy::consensus::TxEnvelope| {
                    alloy::consensus::Transaction::max_fee_per_gas(&e)
                })
                .unwrap();
        assert!(envelope <= 2 * GWEI, "bid {envelope} above the cap");
    }
    assert_eq!(net.nonce(account), nonce_before, "nothing mined");
    // A daemon starting now reconciles them: the node refuses to take the
    // underpriced bytes again, and the start goes on with them pending.
    let mut start = Journal::open(&net.journal_path()).unwrap();
    let settled = net
        .tokio
        .block_on(stratbox_evm::reconcile(
            &net.chain(AccountMode::Eoa),
            &mut start,
            "stuck",
        ))
        .expect("a refused rebroadcast does not fail the start");
    assert!(
        settled.iter().all(|s| s.status == TxStatus::Pending),
        "{settled:#?}"
    );

    // The operator raises the cap and restarts: the stuck transaction is
    // replaced, one attempt is mined, the action fills.
    let mut raised = executor(&net, run, 50);
    let started = Instant::now();
    let outcome = loop {
        if let Some(outcome) = net.tokio.block_on(raised.settle(1, &buy_weth())).unwrap() {
            break outcome;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "never mined: {:#?}",
            journal.tx_intents("stuck").unwrap()
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(matches!(outcome, ActionOutcome::Filled(_)), "{outcome:?}");
    let intents = journal.tx_intents("stuck").unwrap();
    let approvals: Vec<_> = intents
        .iter()
        .filter(|i| i.intent.purpose.starts_with("approve"))
        .collect();
    assert!(
        approvals.len() >= 2,
        "the approval was replaced: {intents:#?}"
    );
    assert!(
        approvals
            .iter()
            .all(|i| i.intent.nonce == approvals[0].intent.nonce)
    );
    assert_eq!(
        approvals
            .iter()
            .filter(|i| i.status == TxStatus::Mined)
            .count(),
        1
    );
    assert!(
        approvals
            .iter()
            .filter(|i| i.status != TxStatus::Mined)
            .all(|i| i.status == TxStatus::Dropped)
    );
    assert_eq!(
        net.nonce(account),
        nonce_before + 2,
        "one approval and one swap"
    );
}
