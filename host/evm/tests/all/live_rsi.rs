//! The sealed RSI example runs against anvil through the deployment loop:
//! it swaps on the real Uniswap v3 pool, balances change on chain, the
//! journal holds the transaction hashes, the strategy gets its fills, and
//! the run replays from the journal. An oversized swap is denied before a
//! transaction exists.

use std::sync::{Arc, Mutex};

use alloy::primitives::U256;
use stratbox_backtest::{Run, run};
use stratbox_evm::{AccountMode, CandleFeed, EvmVenue};
use stratbox_journal::{Call, Journal, RunId, RunPolicy, TxStatus, VerdictKind};
use stratbox_runtime::DeploymentSpec;
use stratbox_runtime::policy::PolicyEngine;
use stratbox_runtime::types::{Action, ActionOutcome, SwapAmount};
use stratbox_test_artifacts::Guest;

use crate::support::{
    Net, deployment_address, down_then_up, policy, rsi_config, runtime, sealed_rsi,
};

const ONE: u128 = 1_000_000_000_000_000_000;

const POLICY: &str = r#"
version = 1
quote = "DAI"
chains = [31337]

[swap]
tokens = ["WETH", "DAI"]
max_amount = { DAI = "2000" }
max_slippage_bps = 200
"#;

/// Run the sealed RSI example as deployment `id` (swapping `amount` DAI per
/// buy) from the funded deployment account over eight falling then eight
/// rising candles, under [`POLICY`], journaled.
fn run_sealed_rsi(net: &Net, id: &str, amount: &str) -> (Run<EvmVenue>, RunId) {
    let component = sealed_rsi(net.dir.path());
    let policy_file = policy(net.dir.path(), POLICY);
    let spec = DeploymentSpec::new(id, rsi_config(amount));
    let record = RunPolicy::File {
        source: policy_file.source.clone(),
        sha256: policy_file.sha256.clone(),
        origin: None,
    };
    let (mut recorder, executor) =
        net.recorder_and_executor(&spec, &component, record, AccountMode::Eoa);
    let run_id = recorder.run();
    let (venue, oracle) = EvmVenue::new(
        net.tokio.handle().clone(),
        executor,
        CandleFeed::Tape {
            market: "WETH/DAI".into(),
            candles: down_then_up(8),
        },
    );
    let finished = run(
        runtime(),
        &component,
        spec,
        Arc::new(Mutex::new(venue)),
        oracle,
        PolicyEngine::new(policy_file.compiled),
        &mut recorder,
        |_, _, _| {},
    )
    .unwrap();
    (finished, run_id)
}

#[test]
fn sealed_rsi_swaps_on_uniswap_and_replays() {
    let net = Net::start();
    let account = deployment_address();
    net.fund(account, 0, 5_000);
    let dai_before = net.balance(net.devnet.dai, account);
    let weth_before = net.balance(net.devnet.weth, account);
    let (finished, run_id) = run_sealed_rsi(&net, "rsi-live", "1000");

    let swaps: Vec<_> = finished
        .ticks
        .iter()
        .flat_map(|t| t.result.as_ref().unwrap().actions.iter())
        .map(|a| match &a.action {
            Action::Swap(swap) => swap.clone(),
            other => panic!("unexpected action {other:?}"),
        })
        .collect();
    assert_eq!(
        swaps.len(),
        2,
        "one buy when oversold, one sell when overbought"
    );
    assert_eq!(
        (swaps[0].sell.as_str(), swaps[0].buy.as_str()),
        ("DAI", "WETH")
    );
    assert_eq!(
        (swaps[1].sell.as_str(), swaps[1].buy.as_str()),
        ("WETH", "DAI")
    );

    let fills: Vec<_> = finished
        .ticks
        .iter()
        .flat_map(|t| t.outcomes.iter())
        .map(|(_, outcome)| match outcome {
            ActionOutcome::Filled(fill) => fill.clone(),
            ActionOutcome::Failed(failure) => panic!("swap failed: {failure:?}"),
        })
        .collect();
    assert_eq!(fills.len(), 2);
    let bought = fills[0]
        .received
        .iter()
        .find(|a| a.asset == "WETH")
        .unwrap()
        .amount;
    assert!(bought.to_u128() > 0);
    // The strategy sold exactly what its buy fill reported: it got the fill.
    assert_eq!(swaps[1].amount, SwapAmount::ExactIn(bought));

    // Balances moved on chain: 1000 DAI went in, the WETH bought came back
    // out as DAI (less fees and price impact).
    let dai_after = net.balance(net.devnet.dai, account);
    let weth_after = net.balance(net.devnet.weth, account);
    assert_eq!(weth_after, weth_before);
    assert!(dai_after < dai_before && dai_after > dai_before - U256::from(20 * ONE));

    // The journal holds every transaction: approvals and swaps, mined.
    let journal = Journal::open(&net.journal_path()).unwrap();
    let intents = journal.tx_intents("rsi-live").unwrap();
    assert!(intents.iter().all(|i| i.status == TxStatus::Mined));
    let hashes: Vec<_> = fills.iter().map(|f| f.tx_hash.clone().unwrap()).collect();
    for hash in &hashes {
        assert!(
            intents.iter().any(|i| &i.intent.tx_hash == hash),
            "{hash} journaled"
        );
    }
    assert_eq!(
        net.nonce(account),
        intents.len() as u64,
        "one nonce per journaled intent"
    );
    let results: Vec<_> = journal
        .tick_sequences(run_id)
        .unwrap()
        .into_iter()
        .flat_map(|s| {
            journal
                .call(run_id, Call::Tick(s))
                .unwrap()
                .input
                .unwrap()
                .results
        })
        .collect();
    assert_eq!(
        results.len(),
        2,
        "both fills were delivered to the strategy"
    );

    // Replay from the journal reproduces the same actions and fuel.
    let summary =
        stratbox_journal::replay(&journal, run_id, runtime(), Some(Guest::RsiMomentum.path()))
            .unwrap();
    assert_eq!(summary.ticks, 16);
}

#[test]
fn oversized_swap_is_denied_before_any_transaction() {
    let net = Net::start();
    let account = deployment_address();
    net.fund(account, 0, 50_000);
    let nonce_before = net.nonce(account);
    let (finished, run_id) = run_sealed_rsi(&net, "rsi-denied", "10000");
    assert!(finished.ticks.iter().all(|t| t.outcomes.is_empty()));
    assert_eq!(net.nonce(account), nonce_before, "no nonce consumed");
    let journal = Journal::open(&net.journal_path()).unwrap();
    assert!(journal.tx_intents("rsi-denied").unwrap().is_empty());
    let denied: Vec<_> = journal
        .tick_sequences(run_id)
        .unwrap()
        .into_iter()
        .flat_map(|s| journal.call(run_id, Call::Tick(s)).unwrap().emissions)
        .filter(|e| e.verdict == VerdictKind::Denied)
        .collect();
    assert!(!denied.is_empty());
    assert!(
        denied
            .iter()
            .all(|e| e.code.as_deref() == Some("AMOUNT_ABOVE_MAX"))
    );
}
