//! The runner dies between signing and the receipt. After restart the
//! pending intents are reconciled by hash and nonce: a transaction the node
//! has is waited for, one it lost is rebroadcast with the same signed
//! bytes, and no transaction is ever sent twice.

use std::time::{Duration, Instant};

use alloy::providers::Provider;
use stratbox_evm::{AccountMode, reconcile};
use stratbox_journal::{Journal, RunPolicy, StoredTxIntent, TxStatus};
use stratbox_runtime::DeploymentSpec;

use crate::support::{Net, buy_weth, deployment_address, rpc, rsi_config, sealed_rsi};

fn wait_for_pending(net: &Net, deployment: &str, count: usize) -> Vec<StoredTxIntent> {
    let started = Instant::now();
    loop {
        let journal = Journal::open(&net.journal_path()).unwrap();
        let pending = journal.pending_tx_intents(deployment).unwrap();
        if pending.len() >= count {
            return pending;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no pending intent"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_until_the_node_has(net: &Net, tx_hash: &str) {
    let chain = net.chain(AccountMode::Eoa);
    let hash = tx_hash.parse().unwrap();
    let started = Instant::now();
    while net
        .tokio
        .block_on(chain.provider().get_transaction_by_hash(hash))
        .unwrap()
        .is_none()
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never broadcast"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn killed_between_sign_and_receipt_never_sends_twice() {
    let net = Net::start();
    let account = deployment_address();
    net.fund(account, 0, 1_000);
    let component = sealed_rsi(net.dir.path());
    let spec = DeploymentSpec::new("crash", rsi_config("1"));
    let (_recorder, executor) =
        net.recorder_and_executor(&spec, &component, RunPolicy::AllowAll, AccountMode::Eoa);
    let nonce_before = net.nonce(account);

    // Blocks are mined by hand: the approval waits in the mempool while the
    // runner waits for its receipt, and the runner dies there.
    rpc(&net, "evm_setAutomine", serde_json::json!([false]));
    let mut executor = executor;
    let task = net
        .tokio
        .spawn(async move { executor.execute(1, &buy_weth()).await });
    let pending = wait_for_pending(&net, "crash", 1);
    // Journaled before broadcast: the runner dies once the node has it.
    wait_until_the_node_has(&net, &pending[0].intent.tx_hash);
    task.abort();
    assert_eq!(pending[0].intent.purpose, "approve DAI");

    // Case 1: the node has the transaction. Restart: reconcile waits for it
    // and does not send anything new.
    rpc(&net, "evm_mine", serde_json::json!([]));
    let chain = net.chain(AccountMode::Eoa);
    let mut journal = Journal::open(&net.journal_path()).unwrap();
    let settled = net
        .tokio
        .block_on(reconcile(&chain, &mut journal, "crash"))
        .unwrap();
    assert_eq!(settled.len(), 1);
    assert_eq!(settled[0].status, TxStatus::Mined);
    assert!(!settled[0].rebroadcast);
    assert_eq!(
        net.nonce(account),
        nonce_before + 1,
        "exactly the one approval"
    );

    // Case 2: the runner dies again after journaling the swap, and the node
    // loses the transaction. Reconcile rebroadcasts the same signed bytes.
    let (_recorder, mut executor) = net.recorder_and_executor(
        &DeploymentSpec::new("crash", rsi_config("1")),
        &component,
        RunPolicy::AllowAll,
        AccountMode::Eoa,
    );
    let task = net
        .tokio
        .spawn(async move { executor.execute(2, &buy_weth()).await });
    let pending = wait_for_pending(&net, "crash", 1);
    task.abort();
    let lost = pending[0].intent.clone();
    assert!(lost.purpose.starts_with("swap"), "{}", lost.purpose);
    rpc(
        &net,
        "anvil_dropTransaction",
        serde_json::json!([lost.tx_hash]),
    );
    rpc(&net, "evm_setAutomine", serde_json::json!([true]));
    let settled = net
        .tokio
        .block_on(reconcile(&chain, &mut journal, "crash"))
        .unwrap();
    assert_eq!(settled.len(), 1);
    assert_eq!(settled[0].status, TxStatus::Mined);
    assert!(settled[0].rebroadcast);
    assert_eq!(
        net.nonce(account),
        nonce_before + 2,
        "approval and one swap, no duplicate"
    );
    let receipt = net
        .tokio
        .block_on(
            chain
                .provider()
                .get_transaction_receipt(lost.tx_hash.parse().unwrap()),
        )
        .unwrap();
    assert!(
        receipt.is_some(),
        "the journaled transaction itself was mined"
    );

    // Nothing is left to reconcile, and a second pass sends nothing.
    let again = net
        .tokio
        .block_on(reconcile(&chain, &mut journal, "crash"))
        .unwrap();
    assert!(again.is_empty());
    assert_eq!(net.nonce(account), nonce_before + 2);
}
