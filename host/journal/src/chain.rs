//! The journal's hash chain: each recorded call carries a link computed
//! from the previous call's link and a digest of everything recorded for
//! the call (its row, oracle reads, emissions, logs and snapshot
//! reference, exactly as stored). With a chain key (derived from a host
//! key) the link is an HMAC, so nobody without the host key can rewrite a
//! call, delete one or insert one without [`Journal::verify_chain`]
//! naming the first call that no longer links; without a key it is a
//! SHA-256 chain, which catches corruption and careless edits only.
//!
//! The links cover the calls, and through each tick's input the outcomes
//! it delivered. Removing the newest calls of a run is not detected by
//! the chain alone (nothing after them links to them): the head anchor
//! beside the journal file (`head.rs`) names each run's newest call and
//! its link, and [`Journal::verify_chain`] checks it for every run begun
//! since anchors exist (chain version 2, whose links use their own
//! domain, so a run cannot be passed off as an older unanchored one).

use hmac::{Hmac, Mac};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{JournalError, from_sql_int};
use crate::journal::Journal;
use crate::model::{Call, RunId};

/// What the first link of a run follows.
const GENESIS: [u8; 32] = [0; 32];

/// Domain of every link of a chain `version`, so a link cannot be confused
/// with another use of the key, nor a chain with one of another version.
fn domain(version: u32) -> &'static [u8] {
    match version {
        1 => b"stratbox journal chain v1",
        _ => b"stratbox journal chain v2",
    }
}

/// The chain version of runs begun by this build: 2, anchored by the
/// journal's head file. Version 1 runs (before anchors) have no anchor.
pub(crate) const CHAIN_VERSION: u32 = 2;

/// The secret a journal's chain is keyed with: 32 bytes derived from a
/// host-only key (see `stratbox_store::HostKeys::journal_chain`), zeroized
/// on drop.
#[derive(Clone)]
pub struct ChainKey(Zeroizing<[u8; 32]>);

impl ChainKey {
    /// A chain key from its bytes.
    pub fn from_bytes(bytes: Zeroizing<[u8; 32]>) -> ChainKey {
        ChainKey(bytes)
    }

    /// The key's bytes, for the journal's own MACs.
    pub(crate) fn secret(&self) -> &[u8] {
        self.0.as_slice()
    }
}

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(..)")
    }
}

/// A run whose chain verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainCheck {
    /// The run.
    pub run: RunId,
    /// Calls checked (init and ticks).
    pub calls: u64,
    /// Whether the links are keyed (HMAC) rather than plain SHA-256.
    pub keyed: bool,
}

/// The link of a call: `previous` and the call's digest, under `key`.
fn link(key: Option<&ChainKey>, version: u32, previous: &[u8], digest: &[u8; 32]) -> Vec<u8> {
    match key {
        Some(key) => {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.secret())
                .expect("HMAC takes a key of any length");
            mac.update(domain(version));
            mac.update(previous);
            mac.update(digest);
            mac.finalize().into_bytes().to_vec()
        }
        None => {
            let mut hash = Sha256::new();
            hash.update(domain(version));
            hash.update(previous);
            hash.update(digest);
            hash.finalize().to_vec()
        }
    }
}

/// Feed one stored value, tagged and length-prefixed, so that no two
/// different rows hash alike.
fn feed(hash: &mut Sha256, value: ValueRef<'_>) {
    match value {
        ValueRef::Null => hash.update([0u8]),
        ValueRef::Integer(i) => {
            hash.update([1u8]);
            hash.update(i.to_be_bytes());
        }
        ValueRef::Real(r) => {
            hash.update([2u8]);
            hash.update(r.to_bits().to_be_bytes());
        }
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
            hash.update([if matches!(value, ValueRef::Text(_)) {
                3u8
            } else {
                4u8
            }]);
            hash.update((bytes.len() as u64).to_be_bytes());
            hash.update(bytes);
        }
    }
}

/// Feed every row `sql` selects for the call `tick`, in order.
fn feed_rows(
    conn: &Connection,
    hash: &mut Sha256,
    table: &str,
    sql: &str,
    tick: i64,
) -> Result<(), JournalError> {
    hash.update(table.as_bytes());
    let mut statement = conn.prepare_cached(sql)?;
    let columns = statement.column_count();
    let mut rows = statement.query([tick])?;
    while let Some(row) = rows.next()? {
        hash.update([0xffu8]);
        for column in 0..columns {
            feed(hash, row.get_ref(column)?);
        }
    }
    Ok(())
}

/// The digest of the call stored as `ticks.id = tick`: its row (but its
/// link) and every row recorded with it, exactly as stored. Chain version
/// 1 predates the `series` table, which version 2 covers.
pub(crate) fn call_digest(
    conn: &Connection,
    tick: i64,
    version: u32,
) -> Result<[u8; 32], JournalError> {
    let mut hash = Sha256::new();
    feed_rows(
        conn,
        &mut hash,
        "ticks",
        "SELECT deployment, call, sequence, context, outcome, error, paused, committed,
                fuel_used, rebuild_fuel, duration_ns, policy_state
         FROM ticks WHERE id = ?1",
        tick,
    )?;
    feed_rows(
        conn,
        &mut hash,
        "oracle_reads",
        "SELECT position, read, request, response FROM oracle_reads
         WHERE tick = ?1 ORDER BY position",
        tick,
    )?;
    feed_rows(
        conn,
        &mut hash,
        "emissions",
        "SELECT position, kind, action, verdict, action_id, code, rule, detail FROM emissions
         WHERE tick = ?1 ORDER BY position",
        tick,
    )?;
    feed_rows(
        conn,
        &mut hash,
        "logs",
        "SELECT position, level, message FROM logs WHERE tick = ?1 ORDER BY position",
        tick,
    )?;
    feed_rows(
        conn,
        &mut hash,
        "snapshots",
        "SELECT sha256, bytes, next_sequence, next_action_id, location FROM snapshots
         WHERE tick = ?1",
        tick,
    )?;
    if version >= 2 {
        feed_rows(
            conn,
            &mut hash,
            "series",
            "SELECT position, name, value FROM series WHERE tick = ?1 ORDER BY position",
            tick,
        )?;
    }
    Ok(hash.finalize().into())
}

/// The link of the call before `tick` in `run` (the genesis for its
/// first call).
fn previous_link(conn: &Connection, run: RunId, tick: i64) -> Result<Vec<u8>, JournalError> {
    let previous: Option<Option<Vec<u8>>> = conn
        .prepare_cached(
            "SELECT chain FROM ticks WHERE deployment = ?1 AND id < ?2 ORDER BY id DESC LIMIT 1",
        )?
        .query_row(params![run.0, tick], |row| row.get(0))
        .optional()?;
    match previous {
        None => Ok(GENESIS.to_vec()),
        Some(Some(link)) => Ok(link),
        Some(None) => Err(JournalError::Corrupt(format!(
            "run {}: a call before tick row {tick} has no chain link",
            run.0
        ))),
    }
}

/// Link the call just written as `ticks.id = tick` (inside its
/// transaction); returns the link.
pub(crate) fn link_call(
    conn: &Connection,
    run: RunId,
    tick: i64,
    (key, version): (Option<&ChainKey>, u32),
) -> Result<Vec<u8>, JournalError> {
    let digest = call_digest(conn, tick, version)?;
    let previous = previous_link(conn, run, tick)?;
    let chain = link(key, version, &previous, &digest);
    conn.prepare_cached("UPDATE ticks SET chain = ?2 WHERE id = ?1")?
        .execute(params![tick, &chain])?;
    Ok(chain)
}

impl Journal {
    /// Key this journal's chain: runs begun from now on are keyed, and a
    /// keyed run can only be appended to (or verified) with its key.
    pub fn with_chain_key(mut self, key: ChainKey) -> Journal {
        self.chain_key = Some(key);
        self
    }

    /// Whether `run`'s chain is keyed.
    pub fn chain_keyed(&self, run: RunId) -> Result<bool, JournalError> {
        Ok(self.conn.query_row(
            "SELECT chain_keyed FROM deployments WHERE id = ?1",
            [run.0],
            |row| row.get(0),
        )?)
    }

    /// The version of `run`'s chain (1: before head anchors).
    pub(crate) fn chain_version(&self, run: RunId) -> Result<u32, JournalError> {
        Ok(self.conn.query_row(
            "SELECT chain_version FROM deployments WHERE id = ?1",
            [run.0],
            |row| row.get(0),
        )?)
    }

    /// The key to write or check `run`'s links with: `None` for an
    /// unkeyed run; an error for a keyed run this journal has no key for.
    pub(crate) fn key_for(&self, run: RunId) -> Result<Option<&ChainKey>, JournalError> {
        if !self.chain_keyed(run)? {
            return Ok(None);
        }
        self.chain_key
            .as_ref()
            .map(Some)
            .ok_or(JournalError::ChainKeyMissing { run: run.0 })
    }

    /// Check every link of `run`, oldest first: a call whose recorded
    /// content or order changed since it was written is named
    /// ([`JournalError::ChainBroken`]); then the run's head anchor: its
    /// newest calls removed give [`JournalError::Truncated`], a missing
    /// or edited anchor [`JournalError::HeadMissing`] /
    /// [`JournalError::HeadForged`].
    pub fn verify_chain(&self, run: RunId) -> Result<ChainCheck, JournalError> {
        let key = self.key_for(run)?;
        let version = self.chain_version(run)?;
        let mut statement = self.conn.prepare(
            "SELECT id, call, sequence, chain FROM ticks WHERE deployment = ?1 ORDER BY id",
        )?;
        let rows = statement.query_map([run.0], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, Option<Vec<u8>>>(3)?,
            ))
        })?;
        let mut previous = GENESIS.to_vec();
        let mut calls = 0;
        for row in rows {
            let (tick, name, sequence, stored) = row?;
            if calls == 0 && stored.is_none() {
                return Err(JournalError::NotChained { run: run.0 });
            }
            let call = match name.as_str() {
                "init" => Call::Init,
                _ => Call::Tick(from_sql_int("sequence", sequence)?),
            };
            let expected = link(
                key,
                version,
                &previous,
                &call_digest(&self.conn, tick, version)?,
            );
            if stored.as_deref() != Some(expected.as_slice()) {
                return Err(JournalError::ChainBroken { run: run.0, call });
            }
            previous = expected;
            calls += 1;
        }
        drop(statement);
        self.check_head(run)?;
        Ok(ChainCheck {
            run,
            calls,
            keyed: key.is_some(),
        })
    }
}
