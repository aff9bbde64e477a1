//! After a restart: every transaction intent still pending in the journal
//! is settled by its hash and nonce, never by sending a new transaction.
//! A transaction the node never saw is rebroadcast with the same signed
//! bytes (same hash), so it can be included at most once.

use alloy::primitives::B256;
use alloy::providers::Provider;
use stratbox_journal::{Journal, StoredTxIntent, TxStatus};

use crate::chain::Chain;
use crate::error::ChainError;
use crate::execute::wait_for_receipt;

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
/// chain, oldest first.
pub async fn reconcile(
    chain: &Chain,
    journal: &mut Journal,
    deployment: &str,
) -> Result<Vec<Reconciled>, ChainError> {
    let provider = chain.provider();
    let mut settled = Vec::new();
    for stored in journal.pending_tx_intents(deployment)? {
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
                journal.settle_tx_intent(&stored.intent.tx_hash, TxStatus::Dropped, None)?;
                tracing::warn!(tx_hash = %hash, nonce = stored.intent.nonce, "nonce used by another transaction: intent dropped");
                settled.push(Reconciled {
                    intent: stored,
                    status: TxStatus::Dropped,
                    rebroadcast,
                });
                continue;
            }
            if !known {
                // The receipt is polled below, like any other.
                let _pending = provider
                    .send_raw_transaction(&stored.intent.raw_tx)
                    .await
                    .map_err(|e| ChainError::rpc("eth_sendRawTransaction (rebroadcast)", e))?;
                rebroadcast = true;
                tracing::info!(tx_hash = %hash, "rebroadcast the journaled transaction");
            }
            receipt = wait_for_receipt(chain, hash).await.ok();
        }
        let status = match &receipt {
            Some(r) if r.status() => TxStatus::Mined,
            Some(_) => TxStatus::Reverted,
            None => TxStatus::Pending,
        };
        if status != TxStatus::Pending {
            journal.settle_tx_intent(
                &stored.intent.tx_hash,
                status,
                receipt.and_then(|r| r.block_number),
            )?;
        }
        tracing::info!(tx_hash = %hash, ?status, rebroadcast, "reconciled");
        settled.push(Reconciled {
            intent: stored,
            status,
            rebroadcast,
        });
    }
    Ok(settled)
}
