//! Where a recorded run stands, to go on with it in another process: its
//! last committed snapshot, the policy state after its last call, the
//! sequence and action id to continue from, and what happened to its
//! actions that the strategy has not absorbed yet.

use rusqlite::{OptionalExtension, params};
use stratbox_runtime::TickInput;
use stratbox_runtime::types::{Action, ActionId, ActionOutcome};

use crate::error::{JournalError, from_sql_int, json};
use crate::journal::{Journal, ResumePoint};
use crate::model::{Call, RunId};

/// Everything a run needs to continue where its last process stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResume {
    /// The run.
    pub run: RunId,
    /// Its last committed snapshot (sealed elsewhere) and policy state.
    pub point: ResumePoint,
    /// Sequence of the next tick: one after the last recorded tick.
    pub next_sequence: u64,
    /// Next action id: past every id handed out, failed ticks' included.
    pub next_action_id: ActionId,
    /// Outcomes delivered only to ticks that failed after the snapshot:
    /// their delivery was rolled back with the strategy's state, so they
    /// are shown to the strategy again; the policy heard them already.
    pub redeliver: Vec<(ActionId, ActionOutcome)>,
    /// Outcomes recorded and never delivered: the next tick's results.
    pub undelivered: Vec<(ActionId, ActionOutcome)>,
    /// The failed ticks' sequences, oldest first; how many of the last
    /// ticks failed in a row; and whether the last one paused the
    /// deployment (a paused deployment stays paused across a restart).
    pub failures: stratbox_runtime::FailureHistory,
    /// Actions released by successful ticks with no recorded outcome,
    /// oldest first: the venue settles them (their transactions may be
    /// pending, mined while no process watched, or never sent).
    pub unsettled: Vec<(ActionId, Action)>,
}

impl Journal {
    /// The latest run of the deployment named `deployment`, if any.
    pub fn latest_run(&self, deployment: &str) -> Result<Option<RunId>, JournalError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM deployments WHERE deployment = ?1 ORDER BY id DESC LIMIT 1",
                [deployment],
                |row| row.get(0),
            )
            .optional()?
            .map(RunId))
    }

    /// Where the latest run of `deployment` stands, to resume it; `None`
    /// when there is none to resume, and a new run should begin. A run
    /// that holds nothing (a process stopped between creating it and
    /// recording its init: no call, result, intent or resume) is removed
    /// first, so that the new run takes its place instead of leaving an
    /// empty one behind it. A run whose newest calls are gone from the
    /// journal ([`Journal::check_head`]) is refused: going on from an
    /// earlier call would release its actions again.
    pub fn resumable_run(&mut self, deployment: &str) -> Result<Option<RunResume>, JournalError> {
        let Some(run) = self.latest_run(deployment)? else {
            return Ok(None);
        };
        self.check_head(run)?;
        if let Some(resume) = self.run_resume(run)? {
            return Ok(Some(resume));
        }
        let tx = self.conn.transaction()?;
        let mut held = 0i64;
        for table in ["ticks", "action_results", "tx_intents", "resumes"] {
            held += tx.query_row(
                &format!("SELECT COUNT(*) FROM {table} WHERE deployment = ?1"),
                [run.0],
                |row| row.get::<_, i64>(0),
            )?;
        }
        if held == 0 {
            tx.execute("DELETE FROM deployments WHERE id = ?1", [run.0])?;
            tracing::info!(
                deployment,
                run = run.0,
                "removed a run that never recorded its init"
            );
        }
        tx.commit()?;
        Ok(None)
    }

    /// Record that `run` goes on in a new process, rebuilt from its last
    /// snapshot, before the tick `next_sequence` ([`Journal::resumes`]).
    pub fn record_resume(&mut self, run: RunId, next_sequence: u64) -> Result<(), JournalError> {
        self.conn.execute(
            "INSERT INTO resumes (deployment, next_sequence, resumed_ms) VALUES (?1, ?2, ?3)",
            params![
                run.0,
                crate::error::sql_int("sequence", next_sequence)?,
                crate::error::sql_int("time", crate::journal::now_ms())?,
            ],
        )?;
        Ok(())
    }

    /// The ticks before which `run` was resumed in a new process, in order.
    pub fn resumes(&self, run: RunId) -> Result<Vec<u64>, JournalError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT next_sequence FROM resumes WHERE deployment = ?1 ORDER BY rowid",
        )?;
        let rows = statement.query_map([run.0], |row| row.get::<_, i64>(0))?;
        rows.map(|row| from_sql_int("sequence", row?)).collect()
    }

    /// Where `run` stands; `None` before its init is recorded.
    pub fn run_resume(&self, run: RunId) -> Result<Option<RunResume>, JournalError> {
        let Some(point) = self.resume_point(run)? else {
            return Ok(None);
        };
        let next_sequence = match point.last_call {
            Call::Init => point.snapshot.next_sequence,
            Call::Tick(sequence) => sequence + 1,
        }
        .max(point.snapshot.next_sequence);
        let max_id: Option<i64> = self.conn.query_row(
            "SELECT MAX(e.action_id) FROM emissions e JOIN ticks t ON t.id = e.tick
             WHERE t.deployment = ?1",
            [run.0],
            |row| row.get(0),
        )?;
        let next_action_id = match max_id {
            Some(id) => from_sql_int("action id", id)? + 1,
            None => 0,
        }
        .max(point.snapshot.next_action_id);

        // What each tick delivered, and whether the strategy kept it: a
        // tick at or before the snapshot, or a successful one (every live
        // tick commits), absorbed what it was shown.
        let mut absorbed = std::collections::BTreeSet::new();
        let mut rolled_back = Vec::new();
        let mut failures = stratbox_runtime::FailureHistory::default();
        let mut statement = self.conn.prepare(
            "SELECT sequence, context, outcome, paused FROM ticks
             WHERE deployment = ?1 AND call = 'tick' ORDER BY sequence",
        )?;
        let rows = statement.query_map([run.0], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, Option<String>>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, bool>(3)?,
            ))
        })?;
        for row in rows {
            let (sequence, context, outcome, paused) = row?;
            let sequence = from_sql_int("sequence", sequence)?;
            if outcome == "ok" {
                failures.consecutive = 0;
            } else {
                failures.consecutive += 1;
                failures.failed.push(sequence);
            }
            failures.paused = paused;
            let Some(context) = context else { continue };
            let input: TickInput = serde_json::from_str(&context).map_err(json("tick context"))?;
            let kept = sequence < point.snapshot.next_sequence || outcome == "ok";
            for (id, outcome) in input.results {
                if kept {
                    absorbed.insert(id);
                    rolled_back.retain(|(rolled, _): &(ActionId, ActionOutcome)| *rolled != id);
                } else if !absorbed.contains(&id) && !rolled_back.iter().any(|(r, _)| *r == id) {
                    rolled_back.push((id, outcome));
                }
            }
        }
        let delivered: std::collections::BTreeSet<ActionId> = absorbed
            .iter()
            .copied()
            .chain(rolled_back.iter().map(|(id, _)| *id))
            .collect();

        let mut undelivered = Vec::new();
        let mut recorded = std::collections::BTreeSet::new();
        let mut statement = self.conn.prepare(
            "SELECT action_id, detail FROM action_results WHERE deployment = ?1
             ORDER BY sequence, action_id",
        )?;
        let rows = statement.query_map([run.0], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (id, detail) = row?;
            let id = from_sql_int("action id", id)?;
            recorded.insert(id);
            if !delivered.contains(&id) {
                let outcome: ActionOutcome =
                    serde_json::from_str(&detail).map_err(json("action outcome"))?;
                undelivered.push((id, outcome));
            }
        }

        let mut unsettled = Vec::new();
        let mut statement = self.conn.prepare(
            "SELECT e.action_id, e.action FROM emissions e JOIN ticks t ON t.id = e.tick
             WHERE t.deployment = ?1 AND t.call = 'tick' AND t.outcome = 'ok'
               AND e.verdict = 'accepted' AND e.action_id IS NOT NULL
             ORDER BY e.action_id",
        )?;
        let rows = statement.query_map(params![run.0], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (id, action) = row?;
            let id = from_sql_int("action id", id)?;
            if !recorded.contains(&id) {
                let action: Action = serde_json::from_str(&action).map_err(json("action"))?;
                unsettled.push((id, action));
            }
        }
        Ok(Some(RunResume {
            run,
            point,
            next_sequence,
            next_action_id,
            redeliver: rolled_back,
            undelivered,
            failures,
            unsettled,
        }))
    }
}
