//! The journal database: opening (WAL, foreign keys, migrations), writing a
//! call in one transaction, and reading runs and calls back.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use sha2::{Digest, Sha256};
use stratbox_runtime::types::ActionId;
use stratbox_runtime::types::ActionOutcome;
use stratbox_runtime::{CallTrace, LogRecord, SeriesPoint, TickFailure, TickInput, TickReport};

use crate::chain::{CHAIN_VERSION, ChainKey, link_call};
use crate::error::{JournalError, from_sql_int, json, sql_int};
use crate::head::Heads;
use crate::model::{
    Call, CallOutcome, CallRecord, EmissionRow, NewRun, ReadRow, ResultRow, RunId, RunPolicy,
    RunRecord, RunSummary, SnapshotRef, VerdictKind, level_name, parse_level,
};
use crate::private::private_file;
use crate::schema::migrate;
use crate::snapshot::{CommittedSnapshot, INLINE_LOCATION, SnapshotSink};

/// How hard a commit tries to reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Every commit is synced: a committed tick survives power loss
    /// (`synchronous = FULL`). For live deployments.
    #[default]
    Full,
    /// Commits survive a crash of the process, not of the machine
    /// (`synchronous = NORMAL` in WAL mode). For backtests.
    Normal,
}

/// A run journal in one SQLite file (WAL mode).
#[derive(Debug)]
pub struct Journal {
    pub(crate) conn: Connection,
    path: Option<PathBuf>,
    /// Keys the hash chain of the runs this journal begins.
    pub(crate) chain_key: Option<ChainKey>,
    /// Each run's newest call, anchored beside the file.
    pub(crate) heads: Heads,
}

/// The committed side of a call, as the deployment reports it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Committed<'a> {
    /// The snapshot committed by the call, if any.
    pub snapshot: Option<&'a [u8]>,
    /// Sequence of the next tick after the commit.
    pub next_sequence: u64,
    /// Next action id after the commit.
    pub next_action_id: ActionId,
    /// The policy's state after the call.
    pub policy_state: Option<&'a [u8]>,
}

/// Where a run stands, to resume it after a restart.
#[derive(Debug, Clone, PartialEq)]
pub struct ResumePoint {
    /// The last committed snapshot (sealed elsewhere).
    pub snapshot: SnapshotRef,
    /// The policy's state after the last recorded call.
    pub policy_state: Option<Vec<u8>>,
    /// The last recorded call.
    pub last_call: Call,
}

impl Journal {
    /// Open (or create) the journal at `path` with full durability.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        Journal::open_with(path, Durability::Full)
    }

    /// Open (or create) the journal at `path`.
    pub fn open_with(path: &Path, durability: Durability) -> Result<Journal, JournalError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| JournalError::Directory {
                dir: dir.to_owned(),
                source,
            })?;
        }
        // The file is created owner-only before SQLite opens it; SQLite
        // gives its `-wal` and `-shm` files the database file's mode.
        private_file(path, true).map_err(|source| JournalError::Permissions {
            path: path.to_owned(),
            source,
        })?;
        let conn = Connection::open(path)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(JournalError::Corrupt(format!(
                "{} cannot use WAL mode (got `{mode}`)",
                path.display()
            )));
        }
        let journal = Journal::setup(conn, Some(path.to_owned()), durability)?;
        // Side files left by an earlier process (or a SQLite that did not
        // copy the mode) are made private too.
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            private_file(Path::new(&side), false).map_err(|source| JournalError::Permissions {
                path: side.clone().into(),
                source,
            })?;
        }
        Ok(journal)
    }

    /// A journal in memory (tests, dry runs).
    pub fn in_memory() -> Result<Journal, JournalError> {
        Journal::setup(Connection::open_in_memory()?, None, Durability::Normal)
    }

    fn setup(
        mut conn: Connection,
        path: Option<PathBuf>,
        durability: Durability,
    ) -> Result<Journal, JournalError> {
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "foreign_keys", true)?;
        let synchronous = match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        conn.pragma_update(None, "synchronous", synchronous)?;
        migrate(&mut conn)?;
        Ok(Journal {
            conn,
            heads: Heads::new(path.as_deref()),
            path,
            chain_key: None,
        })
    }

    /// The file, unless in memory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The schema version of the database.
    pub fn schema_version(&self) -> Result<u32, JournalError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))?)
    }

    /// Record the start of a run; returns its id.
    pub fn begin_run(&mut self, run: &NewRun) -> Result<RunId, JournalError> {
        let tx = self.conn.transaction()?;
        let now = now_ms();
        let (policy, version) = match &run.policy {
            RunPolicy::AllowAll => ("allow_all", None),
            RunPolicy::DenyAll => ("deny_all", None),
            RunPolicy::File {
                source,
                sha256,
                origin,
            } => {
                tx.execute(
                    "INSERT INTO policy_versions (sha256, source, origin, first_seen_ms)
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (sha256) DO NOTHING",
                    params![
                        sha256,
                        source,
                        origin.as_ref().map(|p| p.display().to_string()),
                        sql_int("time", now)?
                    ],
                )?;
                let id: i64 = tx.query_row(
                    "SELECT id FROM policy_versions WHERE sha256 = ?1",
                    [sha256],
                    |row| row.get(0),
                )?;
                ("file", Some(id))
            }
        };
        tx.execute(
            "INSERT INTO deployments (deployment, label, spec, component_sha256, component_path,
                 policy, policy_version, initial_policy_state, assets, started_ms, chain_keyed,
                 chain_version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                run.spec.id,
                run.label,
                serde_json::to_string(&run.spec).map_err(json("spec"))?,
                run.component_sha256,
                run.component_path.as_ref().map(|p| p.display().to_string()),
                policy,
                version,
                run.initial_policy_state,
                serde_json::to_string(&run.assets).map_err(json("assets"))?,
                sql_int("time", now)?,
                self.chain_key.is_some(),
                CHAIN_VERSION,
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(RunId(id))
    }

    /// Record `init`: its trace and the first committed state, in one
    /// transaction.
    pub fn record_init(
        &mut self,
        run: RunId,
        trace: &CallTrace,
        committed: Committed<'_>,
        snapshots: &mut dyn SnapshotSink,
    ) -> Result<(), JournalError> {
        let outcome = CallOutcome::Ok {
            committed: committed.snapshot.is_some(),
        };
        self.write_call(run, Call::Init, None, &outcome, trace, committed, snapshots)
    }

    /// Record a tick: its input, outcome, reads, verdicts, logs, fuel,
    /// snapshot reference and policy state, in one transaction. If anything
    /// fails (the snapshot sink included), nothing of the tick is kept and
    /// the previous committed state stays as it was.
    pub fn record_tick(
        &mut self,
        run: RunId,
        input: &TickInput,
        result: &Result<TickReport, TickFailure>,
        committed: Committed<'_>,
        snapshots: &mut dyn SnapshotSink,
    ) -> Result<(), JournalError> {
        let (sequence, outcome, trace) = match result {
            Ok(report) => (
                report.sequence,
                CallOutcome::Ok {
                    committed: report.committed,
                },
                &report.trace,
            ),
            Err(failure) => (
                failure.sequence,
                CallOutcome::Failed {
                    error: failure.error.clone(),
                    paused: failure.paused,
                },
                &*failure.trace,
            ),
        };
        let committed = Committed {
            snapshot: match outcome {
                CallOutcome::Ok { committed: true } => committed.snapshot,
                _ => None,
            },
            ..committed
        };
        self.write_call(
            run,
            Call::Tick(sequence),
            Some(input),
            &outcome,
            trace,
            committed,
            snapshots,
        )
    }

    #[allow(clippy::too_many_arguments)] // one call's parts, written together
    fn write_call(
        &mut self,
        run: RunId,
        call: Call,
        input: Option<&TickInput>,
        outcome: &CallOutcome,
        trace: &CallTrace,
        committed: Committed<'_>,
        snapshots: &mut dyn SnapshotSink,
    ) -> Result<(), JournalError> {
        let key = self.key_for(run)?.cloned();
        let version = self.chain_version(run)?;
        let tx = self.conn.transaction()?;
        let tick = insert_call(
            &tx,
            run,
            call,
            input,
            outcome,
            trace,
            committed.policy_state,
        )?;
        insert_rows(&tx, tick, trace)?;
        if let Some(snapshot) = committed.snapshot {
            let committed_snapshot = CommittedSnapshot {
                bytes: snapshot,
                next_sequence: committed.next_sequence,
                next_action_id: committed.next_action_id,
            };
            let sink_error = |source| JournalError::Snapshot { call, source };
            let sealed = snapshots
                .seal_inline(run, call, &committed_snapshot)
                .map_err(sink_error)?;
            let location = match &sealed {
                Some(_) => Some(INLINE_LOCATION.to_owned()),
                None => snapshots
                    .store(run, call, &committed_snapshot)
                    .map_err(sink_error)?,
            };
            tx.prepare_cached(
                "INSERT INTO snapshots
                 (tick, sha256, bytes, next_sequence, next_action_id, location, sealed)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                tick,
                hex::encode(Sha256::digest(snapshot)),
                sql_int("snapshot bytes", snapshot.len() as u64)?,
                sql_int("sequence", committed.next_sequence)?,
                sql_int("action id", committed.next_action_id)?,
                location,
                sealed,
            ])?;
        }
        let link = link_call(&tx, run, tick, (key.as_ref(), version))?;
        tx.commit()?;
        // After the commit: the anchor may lag the journal after a crash,
        // never run ahead of it.
        self.anchor_head(run, call, &link, key.as_ref())
    }

    /// Record what the venue reported for actions released by tick
    /// `sequence`, in one transaction.
    pub fn record_outcomes(
        &mut self,
        run: RunId,
        sequence: u64,
        outcomes: &[(ActionId, ActionOutcome)],
    ) -> Result<(), JournalError> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO action_results (deployment, action_id, sequence, outcome, detail, tx_hash, failure_code)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for (id, outcome) in outcomes {
                let (kind, tx_hash, code) = match outcome {
                    ActionOutcome::Filled(fill) => ("filled", fill.tx_hash.clone(), None),
                    ActionOutcome::Failed(failure) => (
                        "failed",
                        failure.tx_hash.clone(),
                        Some(failure.code.clone()),
                    ),
                };
                insert.execute(params![
                    run.0,
                    sql_int("action id", *id)?,
                    sql_int("sequence", sequence)?,
                    kind,
                    serde_json::to_string(outcome).map_err(json("action outcome"))?,
                    tx_hash,
                    code,
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every run, oldest first, with counts.
    pub fn runs(&self) -> Result<Vec<RunSummary>, JournalError> {
        let mut statement = self.conn.prepare(
            "SELECT d.id, d.deployment, d.label, d.component_sha256, d.policy, d.policy_version,
                    d.started_ms,
                    (SELECT COUNT(*) FROM ticks t WHERE t.deployment = d.id AND t.call = 'tick'),
                    (SELECT COUNT(*) FROM ticks t WHERE t.deployment = d.id AND t.call = 'tick'
                        AND t.outcome = 'failed'),
                    (SELECT COUNT(*) FROM emissions e JOIN ticks t ON e.tick = t.id
                        WHERE t.deployment = d.id AND e.verdict != 'accepted'),
                    (SELECT COALESCE(SUM(fuel_used), 0) FROM ticks t
                        WHERE t.deployment = d.id AND t.call = 'tick')
             FROM deployments d ORDER BY d.id",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, Option<i64>>(5)?,
                row.get::<_, i64>(6)?,
                row.get::<_, i64>(7)?,
                row.get::<_, i64>(8)?,
                row.get::<_, i64>(9)?,
                row.get::<_, i64>(10)?,
            ))
        })?;
        let mut runs = Vec::new();
        for row in rows {
            let (
                id,
                deployment,
                label,
                sha,
                policy,
                version,
                started,
                ticks,
                failed,
                rejected,
                fuel,
            ) = row?;
            runs.push(RunSummary {
                id: RunId(id),
                deployment,
                label,
                component_sha256: sha,
                policy,
                policy_version: version,
                started_ms: from_sql_int("time", started)?,
                ticks: from_sql_int("ticks", ticks)?,
                failed: from_sql_int("failed", failed)?,
                rejected: from_sql_int("rejected", rejected)?,
                fuel: from_sql_int("fuel", fuel)?,
            });
        }
        Ok(runs)
    }

    /// Find a run by id, or by deployment id (the latest run of it).
    pub fn find_run(&self, name: &str) -> Result<RunId, JournalError> {
        if let Ok(id) = name.parse::<i64>() {
            let found: Option<i64> = self
                .conn
                .query_row("SELECT id FROM deployments WHERE id = ?1", [id], |row| {
                    row.get(0)
                })
                .optional()?;
            if let Some(id) = found {
                return Ok(RunId(id));
            }
        }
        self.conn
            .query_row(
                "SELECT id FROM deployments WHERE deployment = ?1 ORDER BY id DESC LIMIT 1",
                [name],
                |row| row.get(0),
            )
            .optional()?
            .map(RunId)
            .ok_or_else(|| JournalError::NoSuchRun(name.to_owned()))
    }

    /// A run's header.
    pub fn run(&self, run: RunId) -> Result<RunRecord, JournalError> {
        let row = self
            .conn
            .query_row(
                "SELECT d.spec, d.component_sha256, d.component_path, d.policy, d.policy_version,
                        p.source, p.sha256, p.origin, d.initial_policy_state, d.assets, d.label,
                        d.started_ms
                 FROM deployments d LEFT JOIN policy_versions p ON p.id = d.policy_version
                 WHERE d.id = ?1",
                [run.0],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, Option<String>>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, Option<i64>>(4)?,
                        row.get::<_, Option<String>>(5)?,
                        row.get::<_, Option<String>>(6)?,
                        row.get::<_, Option<String>>(7)?,
                        row.get::<_, Option<Vec<u8>>>(8)?,
                        row.get::<_, String>(9)?,
                        row.get::<_, Option<String>>(10)?,
                        row.get::<_, i64>(11)?,
                    ))
                },
            )
            .optional()?
            .ok_or_else(|| JournalError::NoSuchRun(run.to_string()))?;
        let (
            spec,
            sha,
            path,
            policy,
            version,
            source,
            policy_sha,
            origin,
            state,
            assets,
            label,
            started,
        ) = row;
        let policy = match (policy.as_str(), source, policy_sha) {
            ("allow_all", _, _) => RunPolicy::AllowAll,
            ("deny_all", _, _) => RunPolicy::DenyAll,
            ("file", Some(source), Some(sha256)) => RunPolicy::File {
                source,
                sha256,
                origin: origin.map(PathBuf::from),
            },
            (other, _, _) => {
                return Err(JournalError::Corrupt(format!(
                    "run {run} has policy `{other}`"
                )));
            }
        };
        Ok(RunRecord {
            id: run,
            run: NewRun {
                spec: serde_json::from_str(&spec).map_err(json("spec"))?,
                component_sha256: sha,
                component_path: path.map(PathBuf::from),
                policy,
                initial_policy_state: state,
                assets: serde_json::from_str(&assets).map_err(json("assets"))?,
                label,
            },
            policy_version: version,
            started_ms: from_sql_int("time", started)?,
        })
    }

    /// Ticks recorded for `run`, in order (init not included).
    pub fn tick_sequences(&self, run: RunId) -> Result<Vec<u64>, JournalError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT sequence FROM ticks WHERE deployment = ?1 AND call = 'tick' ORDER BY sequence",
        )?;
        let rows = statement.query_map([run.0], |row| row.get::<_, i64>(0))?;
        rows.map(|r| from_sql_int("sequence", r?)).collect()
    }

    /// One call with all its rows.
    pub fn call(&self, run: RunId, call: Call) -> Result<CallRecord, JournalError> {
        let (name, sequence) = call_key(call)?;
        let row = self
            .conn
            .prepare_cached(
                "SELECT id, context, outcome, error, paused, committed, fuel_used, rebuild_fuel,
                        duration_ns, policy_state
                 FROM ticks WHERE deployment = ?1 AND call = ?2 AND sequence = ?3",
            )?
            .query_row(params![run.0, name, sequence], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, Option<String>>(3)?,
                    row.get::<_, bool>(4)?,
                    row.get::<_, bool>(5)?,
                    row.get::<_, i64>(6)?,
                    row.get::<_, Option<i64>>(7)?,
                    row.get::<_, i64>(8)?,
                    row.get::<_, Option<Vec<u8>>>(9)?,
                ))
            })
            .optional()?
            .ok_or(JournalError::NoSuchCall { run: run.0, call })?;
        let (tick, context, outcome, error, paused, committed, fuel, rebuild, duration, state) =
            row;
        let input = context
            .map(|text| serde_json::from_str::<TickInput>(&text))
            .transpose()
            .map_err(json("tick context"))?;
        let outcome = match (outcome.as_str(), error) {
            ("ok", _) => CallOutcome::Ok { committed },
            ("failed", Some(error)) => CallOutcome::Failed {
                error: serde_json::from_str(&error).map_err(json("tick error"))?,
                paused,
            },
            (other, _) => return Err(JournalError::Corrupt(format!("{call} outcome `{other}`"))),
        };
        Ok(CallRecord {
            call,
            input,
            outcome,
            fuel_used: from_sql_int("fuel", fuel)?,
            rebuild_fuel: rebuild.map(|f| from_sql_int("fuel", f)).transpose()?,
            duration_ns: from_sql_int("duration", duration)?,
            oracle_reads: self.reads(tick)?,
            emissions: self.emissions(tick)?,
            logs: self.logs(tick)?,
            series: self.series(tick)?,
            snapshot: self.snapshot(tick)?,
            policy_state: state,
            results: match call {
                Call::Init => Vec::new(),
                Call::Tick(sequence) => self.results(run, sequence)?,
            },
        })
    }

    fn reads(&self, tick: i64) -> Result<Vec<ReadRow>, JournalError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT read, request, response FROM oracle_reads WHERE tick = ?1 ORDER BY position",
        )?;
        let rows = statement.query_map([tick], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?;
        rows.map(|row| {
            let (read, request, response) = row?;
            Ok(ReadRow {
                read,
                request: serde_json::from_str(&request).map_err(json("oracle request"))?,
                response: serde_json::from_str(&response).map_err(json("oracle response"))?,
            })
        })
        .collect()
    }

    fn emissions(&self, tick: i64) -> Result<Vec<EmissionRow>, JournalError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT kind, action, verdict, action_id, code, rule, detail
             FROM emissions WHERE tick = ?1 ORDER BY position",
        )?;
        let rows = statement.query_map([tick], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<i64>>(3)?,
                row.get::<_, Option<String>>(4)?,
                row.get::<_, Option<String>>(5)?,
                row.get::<_, Option<String>>(6)?,
            ))
        })?;
        rows.map(|row| {
            let (kind, action, verdict, id, code, rule, detail) = row?;
            Ok(EmissionRow {
                kind,
                action: serde_json::from_str(&action).map_err(json("action"))?,
                verdict: VerdictKind::parse(&verdict)?,
                action_id: id.map(|id| from_sql_int("action id", id)).transpose()?,
                code,
                rule,
                detail,
            })
        })
        .collect()
    }

    fn logs(&self, tick: i64) -> Result<Vec<LogRecord>, JournalError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT level, message FROM logs WHERE tick = ?1 ORDER BY position")?;
        let rows = statement.query_map([tick], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?;
        rows.map(|row| {
            let (level, message) = row?;
            Ok(LogRecord {
                level: parse_level(&level)?,
                message,
            })
        })
        .collect()
    }

    fn series(&self, tick: i64) -> Result<Vec<SeriesPoint>, JournalError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT name, value FROM series WHERE tick = ?1 ORDER BY position")?;
        let rows = statement.query_map([tick], |row| {
            Ok(SeriesPoint {
                name: row.get::<_, String>(0)?.into(),
                value: row.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn snapshot(&self, tick: i64) -> Result<Option<SnapshotRef>, JournalError> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT sha256, bytes, next_sequence, next_action_id, location
                 FROM snapshots WHERE tick = ?1",
            )?
            .query_row([tick], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, i64>(3)?,
                    row.get::<_, Option<String>>(4)?,
                ))
            })
            .optional()?;
        row.map(|(sha256, bytes, next_sequence, next_action_id, location)| {
            Ok(SnapshotRef {
                sha256,
                bytes: from_sql_int("bytes", bytes)?,
                next_sequence: from_sql_int("sequence", next_sequence)?,
                next_action_id: from_sql_int("action id", next_action_id)?,
                location,
            })
        })
        .transpose()
    }

    fn results(&self, run: RunId, sequence: u64) -> Result<Vec<ResultRow>, JournalError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT action_id, detail FROM action_results
             WHERE deployment = ?1 AND sequence = ?2 ORDER BY action_id",
        )?;
        let rows = statement.query_map(params![run.0, sql_int("sequence", sequence)?], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })?;
        rows.map(|row| {
            let (id, detail) = row?;
            Ok(ResultRow {
                action_id: from_sql_int("action id", id)?,
                sequence,
                outcome: serde_json::from_str(&detail).map_err(json("action outcome"))?,
            })
        })
        .collect()
    }

    /// The sealed snapshot the journal keeps in its own row for `run`'s
    /// latest commit that resumes at `next_sequence` (see
    /// [`SnapshotSink::seal_inline`]); `None` if that commit's snapshot was
    /// stored elsewhere, or there is none.
    pub fn sealed_snapshot(
        &self,
        run: RunId,
        next_sequence: u64,
    ) -> Result<Option<Vec<u8>>, JournalError> {
        Ok(self
            .conn
            .query_row(
                "SELECT s.sealed FROM snapshots s JOIN ticks t ON t.id = s.tick
                 WHERE t.deployment = ?1 AND s.next_sequence = ?2
                 ORDER BY s.tick DESC LIMIT 1",
                params![run.0, sql_int("sequence", next_sequence)?],
                |row| row.get::<_, Option<Vec<u8>>>(0),
            )
            .optional()?
            .flatten())
    }

    /// Every venue result recorded for `run`, in action id order: what a
    /// simulated account resumed after a restart replays to hold what its
    /// fills left.
    pub fn run_results(&self, run: RunId) -> Result<Vec<ResultRow>, JournalError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT action_id, sequence, detail FROM action_results
             WHERE deployment = ?1 ORDER BY action_id",
        )?;
        let rows = statement.query_map(params![run.0], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?;
        rows.map(|row| {
            let (id, sequence, detail) = row?;
            Ok(ResultRow {
                action_id: from_sql_int("action id", id)?,
                sequence: from_sql_int("sequence", sequence)?,
                outcome: serde_json::from_str(&detail).map_err(json("action outcome"))?,
            })
        })
        .collect()
    }

    /// Where `run` stands: its last committed snapshot and the policy
    /// state after its last recorded call. `None` before init is recorded.
    pub fn resume_point(&self, run: RunId) -> Result<Option<ResumePoint>, JournalError> {
        let last = self
            .conn
            .query_row(
                "SELECT call, sequence, policy_state FROM ticks WHERE deployment = ?1
                 ORDER BY (call = 'tick') DESC, sequence DESC LIMIT 1",
                [run.0],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, i64>(1)?,
                        row.get::<_, Option<Vec<u8>>>(2)?,
                    ))
                },
            )
            .optional()?;
        let Some((call, sequence, policy_state)) = last else {
            return Ok(None);
        };
        let last_call = parse_call(&call, sequence)?;
        let snapshot_tick: Option<i64> = self
            .conn
            .query_row(
                "SELECT s.tick FROM snapshots s JOIN ticks t ON t.id = s.tick
                 WHERE t.deployment = ?1 ORDER BY s.next_sequence DESC, s.tick DESC LIMIT 1",
                [run.0],
                |row| row.get(0),
            )
            .optional()?;
        let Some(snapshot) = snapshot_tick
            .map(|t| self.snapshot(t))
            .transpose()?
            .flatten()
        else {
            return Ok(None);
        };
        Ok(Some(ResumePoint {
            snapshot,
            policy_state,
            last_call,
        }))
    }
}

/// The journal's clock: milliseconds since the Unix epoch, as every
/// `*_ms` column records it (e.g. an intent's `created_ms`).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub(crate) fn call_key(call: Call) -> Result<(&'static str, i64), JournalError> {
    Ok(match call {
        Call::Init => ("init", 0),
        Call::Tick(sequence) => ("tick", sql_int("sequence", sequence)?),
    })
}

pub(crate) fn parse_call(name: &str, sequence: i64) -> Result<Call, JournalError> {
    match name {
        "init" => Ok(Call::Init),
        "tick" => Ok(Call::Tick(from_sql_int("sequence", sequence)?)),
        other => Err(JournalError::Corrupt(format!("call `{other}`"))),
    }
}

fn insert_call(
    tx: &Transaction<'_>,
    run: RunId,
    call: Call,
    input: Option<&TickInput>,
    outcome: &CallOutcome,
    trace: &CallTrace,
    policy_state: Option<&[u8]>,
) -> Result<i64, JournalError> {
    let (name, sequence) = call_key(call)?;
    let exists: Option<i64> = tx
        .prepare_cached(
            "SELECT id FROM ticks WHERE deployment = ?1 AND call = ?2 AND sequence = ?3",
        )?
        .query_row(params![run.0, name, sequence], |row| row.get(0))
        .optional()?;
    if exists.is_some() {
        return Err(JournalError::AlreadyRecorded { run: run.0, call });
    }
    let context = input
        .map(serde_json::to_string)
        .transpose()
        .map_err(json("tick context"))?;
    let (outcome_name, error, paused, committed) = match outcome {
        CallOutcome::Ok { committed } => ("ok", None, false, *committed),
        CallOutcome::Failed { error, paused } => (
            "failed",
            Some(serde_json::to_string(error).map_err(json("tick error"))?),
            *paused,
            false,
        ),
    };
    let duration = u64::try_from(trace.duration.as_nanos()).unwrap_or(u64::MAX);
    tx.prepare_cached(
        "INSERT INTO ticks (deployment, call, sequence, context, outcome, error, paused, committed,
             fuel_used, rebuild_fuel, duration_ns, policy_state)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        run.0,
        name,
        sequence,
        context,
        outcome_name,
        error,
        paused,
        committed,
        sql_int("fuel", trace.fuel_used)?,
        trace.rebuild_fuel.map(|f| sql_int("fuel", f)).transpose()?,
        sql_int("duration", duration.min(i64::MAX as u64))?,
        policy_state,
    ])?;
    Ok(tx.last_insert_rowid())
}

fn insert_rows(tx: &Transaction<'_>, tick: i64, trace: &CallTrace) -> Result<(), JournalError> {
    let mut reads = tx.prepare_cached(
        "INSERT INTO oracle_reads (tick, position, read, request, response) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (position, read) in trace.oracle_reads.iter().enumerate() {
        let row = ReadRow::from_read(read)?;
        reads.execute(params![
            tick,
            position as i64,
            row.read,
            row.request.to_string(),
            row.response.to_string(),
        ])?;
    }
    let mut emissions = tx.prepare_cached(
        "INSERT INTO emissions (tick, position, kind, action, verdict, action_id, code, rule, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for (position, emission) in trace.emissions.iter().enumerate() {
        let row = EmissionRow::from_emission(emission)?;
        emissions.execute(params![
            tick,
            position as i64,
            row.kind,
            row.action.to_string(),
            row.verdict.as_str(),
            row.action_id
                .map(|id| sql_int("action id", id))
                .transpose()?,
            row.code,
            row.rule,
            row.detail,
        ])?;
    }
    let mut logs = tx.prepare_cached(
        "INSERT INTO logs (tick, position, level, message) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (position, log) in trace.logs.iter().enumerate() {
        logs.execute(params![
            tick,
            position as i64,
            level_name(log.level),
            log.message
        ])?;
    }
    let mut series = tx.prepare_cached(
        "INSERT INTO series (tick, position, name, value) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (position, point) in trace.series.iter().enumerate() {
        series.execute(params![tick, position as i64, &*point.name, point.value])?;
    }
    Ok(())
}
