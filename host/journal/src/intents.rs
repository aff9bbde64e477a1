//! Transaction intents of live runs: a signed transaction is journaled
//! (durably) before it is broadcast and settled from its receipt, so a
//! runner that dies between signing and the receipt can find out what
//! happened instead of sending again.

use rusqlite::params;

use crate::error::{JournalError, from_sql_int, sql_int};
use crate::journal::{Journal, now_ms};
use crate::model::RunId;

/// A signed transaction about to be broadcast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxIntent {
    /// The action it executes.
    pub action_id: u64,
    /// Its place among the action's transactions (approvals first).
    pub step: u32,
    /// 0 for the first transaction of the step; each replacement of a
    /// stuck one (same nonce, higher fee) is the next attempt.
    pub attempt: u32,
    /// What it does, e.g. `approve USDC` or `swap`.
    pub purpose: String,
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// The signing account (checksummed address).
    pub sender: String,
    /// Its nonce.
    pub nonce: u64,
    /// Transaction hash (0x-prefixed hex).
    pub tx_hash: String,
    /// The signed EIP-2718 envelope, exactly as broadcast.
    pub raw_tx: Vec<u8>,
}

/// Where an intent stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxStatus {
    /// Signed and journaled; no receipt seen yet.
    Pending,
    /// Included and succeeded.
    Mined,
    /// Included and reverted.
    Reverted,
    /// Its nonce was used by another transaction: it will never be mined.
    Dropped,
}

impl TxStatus {
    fn as_str(self) -> &'static str {
        match self {
            TxStatus::Pending => "pending",
            TxStatus::Mined => "mined",
            TxStatus::Reverted => "reverted",
            TxStatus::Dropped => "dropped",
        }
    }

    fn parse(text: &str) -> Result<TxStatus, JournalError> {
        Ok(match text {
            "pending" => TxStatus::Pending,
            "mined" => TxStatus::Mined,
            "reverted" => TxStatus::Reverted,
            "dropped" => TxStatus::Dropped,
            other => {
                return Err(JournalError::Corrupt(format!(
                    "unknown transaction status `{other}`"
                )));
            }
        })
    }
}

/// An intent as stored, with the run it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTxIntent {
    /// The run that signed it.
    pub run: RunId,
    /// The intent.
    pub intent: TxIntent,
    /// Where it stands.
    pub status: TxStatus,
    /// Block it was included in, once known.
    pub block_number: Option<u64>,
    /// When it was journaled, ms since the Unix epoch.
    pub created_ms: u64,
}

impl Journal {
    /// Journal `intent` of `run` as pending, durably, before it is sent.
    pub fn record_tx_intent(&mut self, run: RunId, intent: &TxIntent) -> Result<(), JournalError> {
        self.conn.execute(
            "INSERT INTO tx_intents (deployment, action_id, step, attempt, purpose, chain_id,
                 sender, nonce, tx_hash, raw_tx, status, created_ms)
             VALUES (?1, ?2, ?3, ?11, ?4, ?5, ?6, ?7, ?8, ?9, 'pending', ?10)",
            params![
                run.0,
                sql_int("action id", intent.action_id)?,
                intent.step,
                intent.purpose,
                sql_int("chain id", intent.chain_id)?,
                intent.sender,
                sql_int("nonce", intent.nonce)?,
                intent.tx_hash,
                intent.raw_tx,
                sql_int("time", now_ms())?,
                intent.attempt,
            ],
        )?;
        Ok(())
    }

    /// Settle the intent with hash `tx_hash`.
    pub fn settle_tx_intent(
        &mut self,
        tx_hash: &str,
        status: TxStatus,
        block_number: Option<u64>,
    ) -> Result<(), JournalError> {
        let changed = self.conn.execute(
            "UPDATE tx_intents SET status = ?2, block_number = ?3, settled_ms = ?4
             WHERE tx_hash = ?1",
            params![
                tx_hash,
                status.as_str(),
                block_number
                    .map(|n| sql_int("block number", n))
                    .transpose()?,
                sql_int("time", now_ms())?,
            ],
        )?;
        if changed == 0 {
            return Err(JournalError::Corrupt(format!(
                "no transaction intent {tx_hash}"
            )));
        }
        Ok(())
    }

    /// Intents still pending for any run of the deployment named
    /// `deployment`, oldest first.
    pub fn pending_tx_intents(
        &self,
        deployment: &str,
    ) -> Result<Vec<StoredTxIntent>, JournalError> {
        self.select_intents(
            "WHERE d.deployment = ?1 AND i.status = 'pending'",
            deployment,
        )
    }

    /// Every intent of the deployment named `deployment`, oldest first.
    pub fn tx_intents(&self, deployment: &str) -> Result<Vec<StoredTxIntent>, JournalError> {
        self.select_intents("WHERE d.deployment = ?1", deployment)
    }

    /// The intents of action `action_id` of `run`, by step and attempt.
    pub fn action_intents(
        &self,
        run: RunId,
        action_id: u64,
    ) -> Result<Vec<StoredTxIntent>, JournalError> {
        let mut intents = self.select_intents(
            &format!("WHERE i.deployment = {} AND i.action_id = ?1", run.0),
            &action_id.to_string(),
        )?;
        intents.sort_by_key(|stored| (stored.intent.step, stored.intent.attempt));
        Ok(intents)
    }

    /// The nonce after the highest one `sender` used in a journaled
    /// intent that may still be mined or was (a dropped intent's nonce
    /// went to another transaction); `None` if it used none.
    pub fn next_journaled_nonce(&self, sender: &str) -> Result<Option<u64>, JournalError> {
        let max: Option<i64> = self.conn.query_row(
            "SELECT MAX(nonce) FROM tx_intents WHERE sender = ?1 AND status != 'dropped'",
            [sender],
            |row| row.get(0),
        )?;
        max.map(|nonce| from_sql_int("nonce", nonce).map(|n| n + 1))
            .transpose()
    }

    /// The intent with hash `tx_hash`, if journaled.
    pub fn tx_intent(&self, tx_hash: &str) -> Result<Option<StoredTxIntent>, JournalError> {
        Ok(self
            .select_intents("WHERE i.tx_hash = ?1", tx_hash)?
            .into_iter()
            .next())
    }

    fn select_intents(&self, filter: &str, key: &str) -> Result<Vec<StoredTxIntent>, JournalError> {
        let sql = format!(
            "SELECT i.deployment, i.action_id, i.step, i.purpose, i.chain_id, i.sender, i.nonce,
                    i.tx_hash, i.raw_tx, i.status, i.block_number, i.attempt, i.created_ms
             FROM tx_intents i JOIN deployments d ON d.id = i.deployment
             {filter} ORDER BY i.id"
        );
        let mut statement = self.conn.prepare_cached(&sql)?;
        let rows = statement.query_map([key], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, u32>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, i64>(4)?,
                row.get::<_, String>(5)?,
                row.get::<_, i64>(6)?,
                row.get::<_, String>(7)?,
                row.get::<_, Vec<u8>>(8)?,
                row.get::<_, String>(9)?,
                row.get::<_, Option<i64>>(10)?,
                row.get::<_, u32>(11)?,
                row.get::<_, i64>(12)?,
            ))
        })?;
        rows.map(|row| {
            let (
                run,
                action,
                step,
                purpose,
                chain,
                sender,
                nonce,
                hash,
                raw,
                status,
                block,
                attempt,
                created,
            ) = row?;
            Ok(StoredTxIntent {
                run: RunId(run),
                intent: TxIntent {
                    action_id: from_sql_int("action id", action)?,
                    step,
                    attempt,
                    purpose,
                    chain_id: from_sql_int("chain id", chain)?,
                    sender,
                    nonce: from_sql_int("nonce", nonce)?,
                    tx_hash: hash,
                    raw_tx: raw,
                },
                status: TxStatus::parse(&status)?,
                block_number: block.map(|b| from_sql_int("block number", b)).transpose()?,
                created_ms: from_sql_int("time", created)?,
            })
        })
        .collect()
    }
}
