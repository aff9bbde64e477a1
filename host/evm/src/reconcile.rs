//! After a restart: every transaction intent still pending in the journal
//! is settled by its hash and nonce, never by sending a new transaction.
//! A transaction the node never saw is rebroadcast with the same signed
//! bytes (same hash), so it can be included at most once.

use alloy::primitives::B256;
use alloy::providers::Provider;
use stratbox_journal::{Journal, StoredTxIntent, TxStatus};

use crate::chain::Chain;
use crate::error::ChainError;

/// Receipt polls (100 ms apart) right after a rebroadcast.
const REBROADCAST_POLLS: u32 = 10;

/// What became of one pending intent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciled {
    /// The intent as journaled.
    pub intent: StoredTxIntent,
    /// Its status now (`Pending` if it is still in the mempool).
    pub status: TxStatus,
    /// Whether its signed bytes had to be broadcast again.
    pub rebroadcast: bool,
}

/// Settle the pending intents of `deployment` in `journal` against the
/// chain, oldest first, without waiting for any: one the node still holds
/// stays pending (the deployment settles it as it runs).
pub async fn reconcile(
    chain: &Chain,
    journal: &mut Journal,
    deployment: &str,
) -> Result<Vec<Reconciled>, ChainError> {
    let mut settled = Vec::new();
    for stored in journal.pending_tx_intents(deployment)? {
        let checked = check_intent(chain, &stored, true).await?;
        record(journal, &checked)?;
        settled.push(checked.reconciled);
    }
    Ok(settled)
}

/// An intent checked against the chain, not yet settled in the journal.
pub(crate) struct Checked {
    pub(crate) reconciled: Reconciled,
    block_number: Option<u64>,
}

/// Settle a checked intent in the journal, unless it is still pending.
pub(crate) fn record(journal: &mut Journal, checked: &Checked) -> Result<(), ChainError> {
    let status = checked.reconciled.status;
    if status != TxStatus::Pending {
        journal.settle_tx_intent(
            &checked.reconciled.intent.intent.tx_hash,
            status,
            checked.block_number,
        )?;
    }
    Ok(())
}

/// Where one journaled intent stands on the chain now (settle it in the
/// journal with [`record`]): mined or reverted (its receipt), dropped (the node
/// does not know it and its nonce was used by another transaction), or
/// pending (the node holds it, or lost it and it was broadcast again with
/// the same signed bytes, unless `may_rebroadcast` is false: an attempt a
/// replacement superseded). A rebroadcast the node refuses (a fee now too
/// low, a node that is down) leaves the intent pending: it is tried again
/// at the next check, and never blocks the deployment.
pub(crate) async fn check_intent(
    chain: &Chain,
    stored: &StoredTxIntent,
    may_rebroadcast: bool,
) -> Result<Checked, ChainError> {
    let provider = chain.provider();
    let hash: B256 = stored
        .intent
        .tx_hash
        .parse()
        .map_err(|_| ChainError::Unexpected {
            what: "journaled transaction hash".into(),
            reason: stored.intent.tx_hash.clone(),
        })?;
    let mut rebroadcast = false;
    let mut receipt = provider
        .get_transaction_receipt(hash)
        .await
        .map_err(|e| ChainError::rpc("eth_getTransactionReceipt", e))?;
    if receipt.is_none() {
        let known = provider
            .get_transaction_by_hash(hash)
            .await
            .map_err(|e| ChainError::rpc("eth_getTransactionByHash", e))?
            .is_some();
        let sender = stored
            .intent
            .sender
            .parse()
            .map_err(|_| ChainError::Unexpected {
                what: "journaled sender".into(),
                reason: stored.intent.sender.clone(),
            })?;
        let used = provider
            .get_transaction_count(sender)
            .latest()
            .await
            .map_err(|e| ChainError::rpc("eth_getTransactionCount", e))?;
        if !known && used > stored.intent.nonce {
            tracing::warn!(tx_hash = %hash, nonce = stored.intent.nonce, "nonce used by another transaction: intent dropped");
            return Ok(Checked {
                reconciled: Reconciled {
                    intent: stored.clone(),
                    status: TxStatus::Dropped,
                    rebroadcast,
                },
                block_number: None,
            });
        }
        // A replaced transaction is not sent again: its replacement holds
        // the nonce now.
        if !known && may_rebroadcast {
            match provider.send_raw_transaction(&stored.intent.raw_tx).await {
                Ok(_pending) => {
                    rebroadcast = true;
                    tracing::info!(tx_hash = %hash, "rebroadcast the journaled transaction");
                    // A short look for its receipt (a chain that mines at
                    // once); otherwise the next check finds it.
                    for _ in 0..REBROADCAST_POLLS {
                        receipt = provider
                            .get_transaction_receipt(hash)
                            .await
                            .map_err(|e| ChainError::rpc("eth_getTransactionReceipt", e))?;
                        if receipt.is_some() {
                            break;
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                }
                Err(error) => {
                    let error = ChainError::rpc("eth_sendRawTransaction (rebroadcast)", error);
                    tracing::warn!(tx_hash = %hash, %error, "rebroadcast refused; the intent stays pending and is checked again");
                }
            }
        }
    }
    let status = match &receipt {
        Some(r) if r.status() => TxStatus::Mined,
        Some(_) => TxStatus::Reverted,
        None => TxStatus::Pending,
    };
    tracing::info!(tx_hash = %hash, ?status, rebroadcast, "reconciled");
    Ok(Checked {
        reconciled: Reconciled {
            intent: stored.clone(),
            status,
            rebroadcast,
        },
        block_number: receipt.and_then(|r| r.block_number),
    })
}
