//! The pipeline of one accepted action: compile, simulate every call from
//! the account (nothing is sent if any reverts; the decoded reason goes back
//! to the strategy), then per call: sign with the deployment key, journal
//! the intent (nonce, hash, signed bytes) durably, broadcast, wait for the
//! receipt, settle the intent. The fill is read from the receipts' logs.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use alloy::consensus::TxEnvelope;
use alloy::eips::Decodable2718;
use alloy::eips::Encodable2718;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, B256, Bytes, TxKind, U256};
use alloy::providers::Provider;
use alloy::rpc::types::simulate::{SimBlock, SimulatePayload};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::sol_types::{SolCall, SolEvent};
use stratbox_journal::{Journal, RunId, StoredTxIntent, TxIntent, TxStatus, now_ms};
use stratbox_runtime::types::{Action, ActionId, ActionOutcome, AssetAmount, Failure, Fill};

use crate::chain::Chain;
use crate::compile::{CompiledAction, ContractCall, compile};
use crate::config::AccountMode;
use crate::contracts::{IERC20, INonfungiblePositionManager, ISafe};
use crate::error::ChainError;
use crate::oracle::amount;
use crate::reconcile::{check_intent, record};

/// Executes accepted actions on the chain, journaling every transaction
/// before it is broadcast.
#[derive(Debug)]
pub struct Executor {
    chain: Chain,
    // Behind a mutex so that the executor, and the futures borrowing it,
    // can move between tokio's threads (a SQLite connection is not `Sync`).
    intents: Mutex<Journal>,
    run: RunId,
}

/// Where a failed action stopped, as the strategy sees it.
fn failed(code: &str, reason: impl Into<String>, tx_hash: Option<B256>) -> ActionOutcome {
    ActionOutcome::Failed(Failure {
        code: code.to_owned(),
        reason: reason.into(),
        tx_hash: tx_hash.map(|h| h.to_string()),
    })
}

impl Executor {
    /// An executor for run `run`, journaling intents through `intents` (a
    /// connection to the run's journal).
    pub fn new(chain: Chain, intents: Journal, run: RunId) -> Executor {
        Executor {
            chain,
            intents: Mutex::new(intents),
            run,
        }
    }

    /// The chain.
    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// The journal connection that holds the intents.
    pub fn journal(&self) -> MutexGuard<'_, Journal> {
        self.intents.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Execute accepted action `id`: its outcome for the strategy, or
    /// `None` while it is unknown (a transaction was broadcast, or may have
    /// been, and no receipt came back in time). An unknown action is not a
    /// failed one: its intents stay pending and [`Executor::settle`] finds
    /// out what became of it.
    pub async fn execute(&mut self, id: ActionId, action: &Action) -> Option<ActionOutcome> {
        self.execute_from(id, action, 0, Vec::new()).await
    }

    /// Execute `action`, numbering its transactions from `first_step`
    /// (after those an earlier attempt sent), `mined` the receipts of those.
    async fn execute_from(
        &mut self,
        id: ActionId,
        action: &Action,
        first_step: u32,
        mined: Vec<TransactionReceipt>,
    ) -> Option<ActionOutcome> {
        let compiled = match compile(&self.chain, action).await {
            Ok(compiled) => compiled,
            Err(error) => return Some(failed(error.code, error.reason, None)),
        };
        if compiled.calls.is_empty() && mined.is_empty() {
            return Some(ActionOutcome::Filled(empty_fill()));
        }
        if let Err(outcome) = self.simulate(&compiled.calls).await {
            return Some(outcome);
        }
        let mut receipts = mined;
        for (step, call) in compiled.calls.iter().enumerate() {
            let step = first_step.saturating_add(u32::try_from(step).unwrap_or(u32::MAX));
            match self.send(id, step, call).await {
                Ok(receipt) if receipt.status() => receipts.push(receipt),
                Ok(receipt) => {
                    return Some(failed(
                        "TX_REVERTED",
                        format!("{} reverted on chain", call.purpose),
                        Some(receipt.transaction_hash),
                    ));
                }
                Err(SendFailure::NotSent { code, reason }) => {
                    return Some(failed(code, reason, None));
                }
                Err(SendFailure::Unknown { reason, tx_hash }) => {
                    tracing::warn!(action_id = id, %tx_hash, %reason, "outcome unknown: the transaction stays pending and is reconciled");
                    return None;
                }
            }
        }
        Some(ActionOutcome::Filled(self.fill(&compiled, &receipts)))
    }

    /// Find out what became of action `id` (`action`), released earlier,
    /// whose outcome is not known: `None` while a transaction of it is
    /// still pending. Its journaled transactions are reconciled by hash and
    /// nonce ([`crate::reconcile::check_intent`]), step by step; a step is
    /// done when one of its attempts (a stuck transaction and its
    /// replacements share a nonce) was mined. One that reverted, or whose
    /// every attempt was dropped, fails the action; one still pending after
    /// `fees.bump_after_secs` is replaced with a higher fee, up to the caps.
    /// When all were mined and the last was an approval (the process
    /// stopped before the action's own call), or none was ever signed, the
    /// action is executed now, its transactions numbered after the earlier
    /// ones. Nothing is ever sent twice.
    pub async fn settle(
        &mut self,
        id: ActionId,
        action: &Action,
    ) -> Result<Option<ActionOutcome>, ChainError> {
        let intents = self.journal().action_intents(self.run, id)?;
        let mut steps: std::collections::BTreeMap<u32, Vec<StoredTxIntent>> =
            std::collections::BTreeMap::new();
        for stored in intents {
            steps.entry(stored.intent.step).or_default().push(stored);
        }
        let mut receipts = Vec::new();
        let mut last_purpose = None;
        for attempts in steps.values() {
            let latest = attempts.len() - 1;
            let mut statuses = Vec::with_capacity(attempts.len());
            for (index, stored) in attempts.iter().enumerate() {
                let status = if stored.status == TxStatus::Pending {
                    let checked = check_intent(&self.chain, stored, index == latest).await?;
                    record(&mut self.journal(), &checked)?;
                    checked.reconciled.status
                } else {
                    stored.status
                };
                statuses.push(status);
            }
            let first = &attempts[0].intent;
            last_purpose = Some(first.purpose.clone());
            let hash_of = |stored: &StoredTxIntent| stored.intent.tx_hash.parse::<B256>().ok();
            if let Some(mined) = attempts
                .iter()
                .zip(&statuses)
                .find(|(_, status)| **status == TxStatus::Mined)
            {
                let receipt = self
                    .chain
                    .provider()
                    .get_transaction_receipt(hash_of(mined.0).unwrap_or_default())
                    .await
                    .map_err(|e| ChainError::rpc("eth_getTransactionReceipt", e))?
                    .ok_or_else(|| ChainError::Unexpected {
                        what: "receipt of a mined transaction".into(),
                        reason: mined.0.intent.tx_hash.clone(),
                    })?;
                receipts.push(receipt);
                continue;
            }
            if let Some(reverted) = attempts
                .iter()
                .zip(&statuses)
                .find(|(_, status)| **status == TxStatus::Reverted)
            {
                return Ok(Some(failed(
                    "TX_REVERTED",
                    format!("{} reverted on chain", first.purpose),
                    hash_of(reverted.0),
                )));
            }
            if statuses.contains(&TxStatus::Pending) {
                if statuses[latest] == TxStatus::Pending {
                    self.bump_if_stuck(&attempts[latest]).await;
                }
                return Ok(None);
            }
            return Ok(Some(failed(
                "TX_DROPPED",
                format!(
                    "{}: its nonce {} went to another transaction; it never executed",
                    first.purpose, first.nonce
                ),
                hash_of(&attempts[latest]),
            )));
        }
        let finished = last_purpose.is_some_and(|purpose| !purpose.starts_with(APPROVAL_PURPOSE));
        if finished {
            // Fees and the position come from the action compiled again;
            // the amounts from the receipts.
            let compiled = compile(&self.chain, action)
                .await
                .unwrap_or_else(|_| CompiledAction::empty());
            return Ok(Some(ActionOutcome::Filled(self.fill(&compiled, &receipts))));
        }
        let next_step = steps
            .keys()
            .next_back()
            .map_or(0, |last| last.saturating_add(1));
        tracing::info!(
            action_id = id,
            sent = steps.len(),
            "executing a released action whose own transaction was never signed"
        );
        Ok(self.execute_from(id, action, next_step, receipts).await)
    }

    /// Replace `stuck` (pending since longer than `fees.bump_after_secs`)
    /// with the same call at the same nonce and higher fees, journaled as
    /// the step's next attempt before it is broadcast. A failure is logged:
    /// the transaction stays pending and is tried again at the next settle.
    async fn bump_if_stuck(&mut self, stuck: &StoredTxIntent) {
        let caps = self.chain.config().fees;
        let age_ms = now_ms().saturating_sub(stuck.created_ms);
        if age_ms < caps.bump_after_secs.saturating_mul(1000) {
            return;
        }
        let hash = stuck.intent.tx_hash.clone();
        match self.replace(stuck).await {
            Ok(Some(replacement)) => tracing::warn!(
                action_id = stuck.intent.action_id,
                nonce = stuck.intent.nonce,
                stuck = %hash,
                %replacement,
                attempt = stuck.intent.attempt + 1,
                "stuck transaction replaced with a higher fee"
            ),
            Ok(None) => tracing::warn!(
                action_id = stuck.intent.action_id,
                nonce = stuck.intent.nonce,
                stuck = %hash,
                "stuck transaction already bids the fee caps; it waits"
            ),
            Err(error) => tracing::warn!(
                action_id = stuck.intent.action_id,
                stuck = %hash,
                %error,
                "could not replace the stuck transaction; tried again later"
            ),
        }
    }

    /// Sign, journal and broadcast the replacement of `stuck`; its hash, or
    /// `None` at the fee caps.
    async fn replace(&mut self, stuck: &StoredTxIntent) -> Result<Option<B256>, ChainError> {
        let unexpected = |reason: String| ChainError::Unexpected {
            what: "journaled transaction".into(),
            reason,
        };
        let envelope = TxEnvelope::decode_2718(&mut stuck.intent.raw_tx.as_slice())
            .map_err(|e| unexpected(e.to_string()))?;
        let TxEnvelope::Eip1559(signed) = envelope else {
            return Err(unexpected("not an EIP-1559 transaction".into()));
        };
        let old = signed.tx();
        let suggested = self
            .chain
            .provider()
            .estimate_eip1559_fees()
            .await
            .map_err(|e| ChainError::rpc("eth_feeHistory", e))?;
        let Some((max_fee, priority_fee)) = self.chain.config().fees.bumped(
            (old.max_fee_per_gas, old.max_priority_fee_per_gas),
            (
                suggested.max_fee_per_gas,
                suggested.max_priority_fee_per_gas,
            ),
        ) else {
            return Ok(None);
        };
        let mut request = TransactionRequest::default()
            .with_from(self.chain.signer().address())
            .with_input(old.input.clone())
            .with_value(old.value)
            .with_nonce(old.nonce)
            .with_gas_limit(old.gas_limit)
            .with_chain_id(old.chain_id)
            .with_max_fee_per_gas(max_fee)
            .with_max_priority_fee_per_gas(priority_fee);
        if let TxKind::Call(to) = old.to {
            request = request.with_to(to);
        }
        let wallet = EthereumWallet::from(self.chain.signer().inner().clone());
        let replacement: TxEnvelope = request
            .build(&wallet)
            .await
            .map_err(|e| unexpected(format!("signing the replacement: {e}")))?;
        let tx_hash = *replacement.tx_hash();
        let raw = replacement.encoded_2718();
        let intent = TxIntent {
            attempt: stuck.intent.attempt + 1,
            tx_hash: tx_hash.to_string(),
            raw_tx: raw.clone(),
            ..stuck.intent.clone()
        };
        self.journal().record_tx_intent(self.run, &intent)?;
        if let Err(error) = self.chain.provider().send_raw_transaction(&raw).await {
            // Journaled: checked (and broadcast again) at the next settle.
            tracing::warn!(%tx_hash, error = %ChainError::rpc("eth_sendRawTransaction", error), "the replacement was refused");
        }
        Ok(Some(tx_hash))
    }

    /// Run every call from the account, in order, on top of the latest
    /// block. `Err` carries the failed outcome of the first revert.
    async fn simulate(&self, calls: &[ContractCall]) -> Result<(), ActionOutcome> {
        let requests = calls
            .iter()
            .map(|call| TransactionRequest {
                from: Some(self.chain.account()),
                to: Some(TxKind::Call(call.to)),
                input: call.data.clone().into(),
                ..TransactionRequest::default()
            })
            .collect();
        let payload = SimulatePayload {
            block_state_calls: vec![SimBlock {
                block_overrides: None,
                state_overrides: None,
                calls: requests,
            }],
            trace_transfers: false,
            validation: false,
            return_full_transactions: false,
        };
        let blocks = self
            .chain
            .provider()
            .simulate(&payload)
            .await
            .map_err(|e| failed("CHAIN_UNAVAILABLE", format!("eth_simulateV1: {e}"), None))?;
        let results = blocks.into_iter().flat_map(|b| b.calls);
        for (call, result) in calls.iter().zip(results) {
            if !result.status {
                let reason = result
                    .error
                    .as_ref()
                    .and_then(|e| e.data.as_ref())
                    .and_then(|data| alloy::sol_types::decode_revert_reason(data))
                    .or_else(|| alloy::sol_types::decode_revert_reason(&result.return_data))
                    .or_else(|| result.error.map(|e| e.message))
                    .unwrap_or_else(|| "reverted without a reason".into());
                tracing::info!(purpose = %call.purpose, %reason, "simulation reverted; nothing sent");
                return Err(failed(
                    "SIMULATION_REVERTED",
                    format!("{}: {reason}", call.purpose),
                    None,
                ));
            }
        }
        Ok(())
    }

    /// The transaction that makes the account perform `call`.
    fn outer_request(&self, call: &ContractCall) -> TransactionRequest {
        let signer = self.chain.signer().address();
        let (to, data) = match self.chain.config().account {
            AccountMode::Eoa => (call.to, call.data.clone()),
            AccountMode::Safe { safe } => (safe, safe_exec(signer, call)),
        };
        TransactionRequest::default()
            .with_from(signer)
            .with_to(to)
            .with_input(data)
            .with_chain_id(self.chain.config().chain_id)
    }

    async fn send(
        &mut self,
        action_id: ActionId,
        step: u32,
        call: &ContractCall,
    ) -> Result<TransactionReceipt, SendFailure> {
        let provider = self.chain.provider();
        let signer = self.chain.signer().address();
        let request = self.outer_request(call);
        let gas = provider.estimate_gas(request.clone()).await.map_err(|e| {
            SendFailure::before_send("SIMULATION_REVERTED", format!("{}: {e}", call.purpose))
        })?;
        let fees = provider
            .estimate_eip1559_fees()
            .await
            .map_err(|e| SendFailure::before_send("CHAIN_UNAVAILABLE", e.to_string()))?;
        let (max_fee, priority_fee) = self
            .chain
            .config()
            .fees
            .cap(fees.max_fee_per_gas, fees.max_priority_fee_per_gas);
        let nonce = self.next_nonce(signer).await?;
        let request = request
            .with_nonce(nonce)
            .with_gas_limit(gas.saturating_mul(12) / 10)
            .with_max_fee_per_gas(max_fee)
            .with_max_priority_fee_per_gas(priority_fee);
        let wallet = EthereumWallet::from(self.chain.signer().inner().clone());
        let envelope: TxEnvelope = request
            .build(&wallet)
            .await
            .map_err(|e| SendFailure::before_send("SIGNING_FAILED", e.to_string()))?;
        let tx_hash = *envelope.tx_hash();
        let raw = envelope.encoded_2718();
        let intent = TxIntent {
            action_id,
            step,
            attempt: 0,
            purpose: call.purpose.clone(),
            chain_id: self.chain.config().chain_id,
            sender: signer.to_string(),
            nonce,
            tx_hash: tx_hash.to_string(),
            raw_tx: raw.clone(),
        };
        self.journal()
            .record_tx_intent(self.run, &intent)
            .map_err(|e| SendFailure::before_send("JOURNAL_FAILED", e.to_string()))?;
        tracing::info!(action_id, step, purpose = %call.purpose, nonce, %tx_hash, "broadcasting");
        if let Err(error) = provider.send_raw_transaction(&raw).await {
            // The node may have it anyway; the intent stays pending and is
            // reconciled by nonce and hash rather than sent again blindly.
            return Err(SendFailure::Unknown {
                reason: format!("eth_sendRawTransaction: {error}"),
                tx_hash,
            });
        }
        let receipt = wait_for_receipt(&self.chain, tx_hash)
            .await
            .map_err(|reason| SendFailure::Unknown { reason, tx_hash })?;
        let status = if receipt.status() {
            TxStatus::Mined
        } else {
            TxStatus::Reverted
        };
        if let Err(error) =
            self.journal()
                .settle_tx_intent(&tx_hash.to_string(), status, receipt.block_number)
        {
            tracing::warn!(%tx_hash, %error, "could not settle the intent; reconciled at restart");
        }
        Ok(receipt)
    }

    /// What the receipts moved in and out of the account.
    fn fill(&self, compiled: &CompiledAction, receipts: &[TransactionReceipt]) -> Fill {
        let config = self.chain.config();
        let account = self.chain.account();
        let symbol = |token: Address| {
            config
                .assets
                .iter()
                .find(|(_, a)| a.address == token)
                .map(|(s, _)| s.clone())
        };
        let mut spent: Vec<(String, U256)> = Vec::new();
        let mut received: Vec<(String, U256)> = Vec::new();
        let mut gas = U256::ZERO;
        let mut position = compiled.position.clone();
        for receipt in receipts {
            gas += U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
            for log in receipt.inner.logs() {
                if let Ok(transfer) = IERC20::Transfer::decode_log(&log.inner) {
                    // ERC-721 transfers share the signature but index the id.
                    let Some(asset) = symbol(log.address()) else {
                        continue;
                    };
                    if transfer.from == account {
                        add(&mut spent, &asset, transfer.value);
                    }
                    if transfer.to == account {
                        add(&mut received, &asset, transfer.value);
                    }
                } else if let Ok(increase) =
                    INonfungiblePositionManager::IncreaseLiquidity::decode_log(&log.inner)
                {
                    position = Some(increase.tokenId.to_string());
                }
            }
        }
        let list = |entries: Vec<(String, U256)>| {
            entries
                .into_iter()
                .map(|(asset, value)| AssetAmount {
                    asset,
                    amount: amount(value),
                })
                .collect()
        };
        Fill {
            spent: list(spent),
            received: list(received),
            fees: compiled
                .fee
                .iter()
                .map(|(asset, value)| AssetAmount {
                    asset: asset.clone(),
                    amount: amount(*value),
                })
                .collect(),
            gas: Some(AssetAmount {
                asset: config.native_asset.clone(),
                amount: amount(gas),
            }),
            tx_hash: receipts.last().map(|r| r.transaction_hash.to_string()),
            position,
        }
    }
}

/// Why a call's transaction has no receipt.
enum SendFailure {
    /// Nothing was broadcast: the action provably did not execute.
    NotSent { code: &'static str, reason: String },
    /// It was broadcast (or may have been) and no answer came back.
    Unknown { reason: String, tx_hash: B256 },
}

impl SendFailure {
    fn before_send(code: &'static str, reason: String) -> SendFailure {
        SendFailure::NotSent { code, reason }
    }
}

/// The purpose of an approval added before an action's own call.
pub(crate) const APPROVAL_PURPOSE: &str = "approve ";

impl Executor {
    /// The nonce of the account's next transaction: managed by the
    /// deployment from its journal (after every intent that may still be
    /// mined), never below what the chain has already included, and never
    /// taken from the node's pending pool (which a node can lose or fake).
    async fn next_nonce(&self, signer: Address) -> Result<u64, SendFailure> {
        let included = self
            .chain
            .provider()
            .get_transaction_count(signer)
            .latest()
            .await
            .map_err(|e| SendFailure::before_send("CHAIN_UNAVAILABLE", e.to_string()))?;
        let journaled = self
            .journal()
            .next_journaled_nonce(&signer.to_string())
            .map_err(|e| SendFailure::before_send("JOURNAL_FAILED", e.to_string()))?;
        Ok(journaled.map_or(included, |next| next.max(included)))
    }
}

fn add(entries: &mut Vec<(String, U256)>, asset: &str, value: U256) {
    match entries.iter_mut().find(|(a, _)| a == asset) {
        Some((_, total)) => *total += value,
        None => entries.push((asset.to_owned(), value)),
    }
}

fn empty_fill() -> Fill {
    Fill {
        spent: Vec::new(),
        received: Vec::new(),
        fees: Vec::new(),
        gas: None,
        tx_hash: None,
        position: None,
    }
}

/// `execTransaction` of `call` from the Safe, signed by `owner` as the
/// transaction's sender: the Safe's pre-validated signature form (`r` =
/// owner, `s` = 0, `v` = 1), valid because the owner itself submits it.
fn safe_exec(owner: Address, call: &ContractCall) -> Bytes {
    let mut signature = [0u8; 65];
    signature[12..32].copy_from_slice(owner.as_slice());
    signature[64] = 1;
    Bytes::from(
        ISafe::execTransactionCall {
            to: call.to,
            value: U256::ZERO,
            data: call.data.clone(),
            operation: 0,
            safeTxGas: U256::ZERO,
            baseGas: U256::ZERO,
            gasPrice: U256::ZERO,
            gasToken: Address::ZERO,
            refundReceiver: Address::ZERO,
            signatures: Bytes::from(signature.to_vec()),
        }
        .abi_encode(),
    )
}

/// Poll for the receipt of `tx_hash` until the configured timeout.
pub(crate) async fn wait_for_receipt(
    chain: &Chain,
    tx_hash: B256,
) -> Result<TransactionReceipt, String> {
    let timeout = Duration::from_secs(chain.config().receipt_timeout_secs);
    let started = Instant::now();
    loop {
        match chain.provider().get_transaction_receipt(tx_hash).await {
            Ok(Some(receipt)) => return Ok(receipt),
            Ok(None) => {}
            Err(error) => tracing::warn!(%tx_hash, %error, "receipt poll failed"),
        }
        if started.elapsed() >= timeout {
            return Err(format!(
                "no receipt for {tx_hash} after {}s; the transaction stays pending and is reconciled",
                timeout.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
