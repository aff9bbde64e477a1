//! The journal's tables, versioned with SQLite's `user_version`: migration
//! `n` brings a database from version `n` to `n + 1`, in one transaction.

use rusqlite::Connection;

use crate::error::JournalError;

/// Schema migrations, oldest first. Never edit one that has shipped; add a
/// new one.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7, V8];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Version 1: deployments (runs), policy versions, ticks with their oracle
/// reads, emissions (verdicts) and logs, snapshot references, action
/// results.
const V1: &str = r#"
CREATE TABLE policy_versions (
    id            INTEGER PRIMARY KEY,
    sha256        TEXT NOT NULL UNIQUE,
    source        TEXT NOT NULL,
    origin        TEXT,
    first_seen_ms INTEGER NOT NULL
);

CREATE TABLE deployments (
    id               INTEGER PRIMARY KEY,
    deployment       TEXT NOT NULL,
    label            TEXT,
    spec             TEXT NOT NULL,
    component_sha256 TEXT NOT NULL,
    component_path   TEXT,
    policy           TEXT NOT NULL CHECK (policy IN ('allow_all', 'deny_all', 'file')),
    policy_version   INTEGER REFERENCES policy_versions(id),
    initial_policy_state BLOB,
    assets           TEXT NOT NULL,
    started_ms       INTEGER NOT NULL,
    CHECK ((policy = 'file') = (policy_version IS NOT NULL))
);

CREATE TABLE ticks (
    id           INTEGER PRIMARY KEY,
    deployment   INTEGER NOT NULL REFERENCES deployments(id),
    call         TEXT NOT NULL CHECK (call IN ('init', 'tick')),
    sequence     INTEGER NOT NULL,
    context      TEXT,
    outcome      TEXT NOT NULL CHECK (outcome IN ('ok', 'failed')),
    error        TEXT,
    paused       INTEGER NOT NULL DEFAULT 0,
    committed    INTEGER NOT NULL,
    fuel_used    INTEGER NOT NULL,
    rebuild_fuel INTEGER,
    duration_ns  INTEGER NOT NULL,
    policy_state BLOB,
    UNIQUE (deployment, call, sequence)
);

CREATE TABLE oracle_reads (
    tick     INTEGER NOT NULL REFERENCES ticks(id),
    position INTEGER NOT NULL,
    read     TEXT NOT NULL,
    request  TEXT NOT NULL,
    response TEXT NOT NULL,
    PRIMARY KEY (tick, position)
) WITHOUT ROWID;

CREATE TABLE emissions (
    tick      INTEGER NOT NULL REFERENCES ticks(id),
    position  INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    action    TEXT NOT NULL,
    verdict   TEXT NOT NULL CHECK (verdict IN ('accepted', 'denied', 'invalid')),
    action_id INTEGER,
    code      TEXT,
    rule      TEXT,
    detail    TEXT,
    PRIMARY KEY (tick, position)
) WITHOUT ROWID;

CREATE INDEX emissions_by_code ON emissions (code) WHERE code IS NOT NULL;

CREATE TABLE logs (
    tick     INTEGER NOT NULL REFERENCES ticks(id),
    position INTEGER NOT NULL,
    level    TEXT NOT NULL,
    message  TEXT NOT NULL,
    PRIMARY KEY (tick, position)
) WITHOUT ROWID;

CREATE TABLE snapshots (
    tick           INTEGER PRIMARY KEY REFERENCES ticks(id),
    sha256         TEXT NOT NULL,
    bytes          INTEGER NOT NULL,
    next_sequence  INTEGER NOT NULL,
    next_action_id INTEGER NOT NULL,
    location       TEXT
);

CREATE TABLE action_results (
    deployment   INTEGER NOT NULL REFERENCES deployments(id),
    action_id    INTEGER NOT NULL,
    sequence     INTEGER NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('filled', 'failed')),
    detail       TEXT NOT NULL,
    tx_hash      TEXT,
    failure_code TEXT,
    PRIMARY KEY (deployment, action_id)
) WITHOUT ROWID;
"#;

/// Version 2: transaction intents of live runs, written before broadcast
/// (signed bytes, nonce, hash) and settled from receipts, so a restarted
/// runner reconciles instead of sending again.
const V2: &str = r#"
CREATE TABLE tx_intents (
    id            INTEGER PRIMARY KEY,
    deployment    INTEGER NOT NULL REFERENCES deployments(id),
    action_id     INTEGER NOT NULL,
    step          INTEGER NOT NULL,
    purpose       TEXT NOT NULL,
    chain_id      INTEGER NOT NULL,
    sender        TEXT NOT NULL,
    nonce         INTEGER NOT NULL,
    tx_hash       TEXT NOT NULL UNIQUE,
    raw_tx        BLOB NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'mined', 'reverted', 'dropped')),
    block_number  INTEGER,
    created_ms    INTEGER NOT NULL,
    settled_ms    INTEGER,
    UNIQUE (deployment, action_id, step)
);

CREATE INDEX tx_intents_pending ON tx_intents (status) WHERE status = 'pending';
"#;

/// Version 3: one lease per deployment, so that at most one process drives
/// it (holder, its pid and host, when taken, when it expires unless
/// renewed).
const V3: &str = r#"
CREATE TABLE leases (
    deployment  TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    host        TEXT NOT NULL,
    acquired_ms INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL
) WITHOUT ROWID;
"#;

/// Version 4: a stuck transaction is replaced by another with the same
/// nonce and a higher fee, journaled as the next `attempt` of its action's
/// step (at most one of them is ever mined: they share the nonce).
const V4: &str = r#"
CREATE TABLE tx_intents_v4 (
    id            INTEGER PRIMARY KEY,
    deployment    INTEGER NOT NULL REFERENCES deployments(id),
    action_id     INTEGER NOT NULL,
    step          INTEGER NOT NULL,
    attempt       INTEGER NOT NULL DEFAULT 0,
    purpose       TEXT NOT NULL,
    chain_id      INTEGER NOT NULL,
    sender        TEXT NOT NULL,
    nonce         INTEGER NOT NULL,
    tx_hash       TEXT NOT NULL UNIQUE,
    raw_tx        BLOB NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'mined', 'reverted', 'dropped')),
    block_number  INTEGER,
    created_ms    INTEGER NOT NULL,
    settled_ms    INTEGER,
    UNIQUE (deployment, action_id, step, attempt)
);

INSERT INTO tx_intents_v4 (id, deployment, action_id, step, attempt, purpose, chain_id, sender,
        nonce, tx_hash, raw_tx, status, block_number, created_ms, settled_ms)
    SELECT id, deployment, action_id, step, 0, purpose, chain_id, sender,
        nonce, tx_hash, raw_tx, status, block_number, created_ms, settled_ms
    FROM tx_intents;

DROP TABLE tx_intents;
ALTER TABLE tx_intents_v4 RENAME TO tx_intents;
CREATE INDEX tx_intents_pending ON tx_intents (status) WHERE status = 'pending';
"#;

/// Version 5: the hash chain. Each call's `chain` links it to the call
/// before it in its run; `chain_keyed` says whether a run's links are an
/// HMAC under a host-derived key. Calls recorded before have no link. And
/// `resumes`: where a run went on in a new process (rebuilt from its last
/// snapshot before the tick `next_sequence`), so a replay rebuilds there
/// too.
const V5: &str = r#"
ALTER TABLE ticks ADD COLUMN chain BLOB;
ALTER TABLE deployments ADD COLUMN chain_keyed INTEGER NOT NULL DEFAULT 0;

CREATE TABLE resumes (
    deployment    INTEGER NOT NULL REFERENCES deployments(id),
    next_sequence INTEGER NOT NULL,
    resumed_ms    INTEGER NOT NULL
);
"#;

/// Version 6: snapshots a sink seals into the journal's own row
/// (`location` = `journal`), committed with their call.
const V6: &str = r#"
ALTER TABLE snapshots ADD COLUMN sealed BLOB;
"#;

/// Version 7: `chain_version` of each run: 1 for runs recorded before,
/// 2 for runs whose newest call is anchored in the journal's head file
/// (their links use the version's own domain).
const V7: &str = r#"
ALTER TABLE deployments ADD COLUMN chain_version INTEGER NOT NULL DEFAULT 1;
"#;

/// Version 8: `series`, the points a call recorded with `logging.series`
/// (world 0.2.1), in order; values are finite (the runtime records no
/// other).
const V8: &str = r#"
CREATE TABLE series (
    tick     INTEGER NOT NULL REFERENCES ticks(id),
    position INTEGER NOT NULL,
    name     TEXT NOT NULL,
    value    REAL NOT NULL,
    PRIMARY KEY (tick, position)
);
"#;

/// Bring `conn` to [`SCHEMA_VERSION`]; refuse a newer database.
pub(crate) fn migrate(conn: &mut Connection) -> Result<u32, JournalError> {
    let found: u32 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(JournalError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as u32 + 1)?;
        tx.commit()?;
        tracing::info!(version = index + 1, "journal schema migrated");
    }
    Ok(SCHEMA_VERSION)
}
