//! The operator's view of every deployment a journal holds: its latest
//! run, its last tick, whether it is paused and why, its pending
//! transactions and its recent failures.

use rusqlite::{OptionalExtension, params};
use stratbox_runtime::TickError;

use crate::error::{JournalError, from_sql_int, json};
use crate::journal::Journal;
use crate::model::RunId;

/// Failed ticks [`Journal::statuses`] lists per deployment, newest first.
pub const RECENT_FAILURES: usize = 3;

/// One deployment as its latest run left it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentState {
    /// The deployment's id.
    pub deployment: String,
    /// Its latest run.
    pub run: RunId,
    /// Ticks recorded in that run.
    pub ticks: u64,
    /// The last tick: its sequence, and why it failed (`None`: it
    /// succeeded).
    pub last_tick: Option<(u64, Option<TickError>)>,
    /// Whether the last tick left the deployment paused.
    pub paused: bool,
    /// Transactions broadcast (or about to be) whose outcome is not known.
    pub pending_intents: u64,
    /// The most recent failed ticks, newest first (at most
    /// [`RECENT_FAILURES`]), leaving out the ticks a paused deployment
    /// refused: these are the failures that paused it.
    pub recent_failures: Vec<(u64, TickError)>,
}

impl Journal {
    /// Every deployment's state as of its latest run, by deployment id.
    pub fn statuses(&self) -> Result<Vec<DeploymentState>, JournalError> {
        let mut latest = self.conn.prepare(
            "SELECT deployment, MAX(id) FROM deployments GROUP BY deployment ORDER BY deployment",
        )?;
        let runs = latest
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let error = |text: String| -> Result<TickError, JournalError> {
            serde_json::from_str(&text).map_err(json("tick error"))
        };
        let mut states = Vec::new();
        for (deployment, run) in runs {
            let ticks: i64 = self.conn.query_row(
                "SELECT COUNT(*) FROM ticks WHERE deployment = ?1 AND call = 'tick'",
                params![run],
                |row| row.get(0),
            )?;
            let last: Option<(i64, Option<String>, bool)> = self
                .conn
                .query_row(
                    "SELECT sequence, error, paused FROM ticks
                     WHERE deployment = ?1 AND call = 'tick' ORDER BY sequence DESC LIMIT 1",
                    params![run],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                )
                .optional()?;
            let pending: i64 = self.conn.query_row(
                "SELECT COUNT(DISTINCT nonce) FROM tx_intents
                 WHERE deployment = ?1 AND status = 'pending'",
                params![run],
                |row| row.get(0),
            )?;
            let mut failures = self.conn.prepare_cached(
                "SELECT sequence, error FROM ticks
                 WHERE deployment = ?1 AND call = 'tick' AND outcome = 'failed'
                 ORDER BY sequence DESC",
            )?;
            let mut rows = failures.query(params![run])?;
            let mut recent = Vec::new();
            while recent.len() < RECENT_FAILURES
                && let Some(row) = rows.next()?
            {
                let sequence = from_sql_int("sequence", row.get(0)?)?;
                let failure = error(row.get(1)?)?;
                if !matches!(failure, TickError::Paused { .. }) {
                    recent.push((sequence, failure));
                }
            }
            let (last_tick, paused) = match last {
                Some((sequence, failed, paused)) => (
                    Some((
                        from_sql_int("sequence", sequence)?,
                        failed.map(error).transpose()?,
                    )),
                    paused,
                ),
                None => (None, false),
            };
            states.push(DeploymentState {
                deployment,
                run: RunId(run),
                ticks: from_sql_int("ticks", ticks)?,
                last_tick,
                paused,
                pending_intents: from_sql_int("pending intents", pending)?,
                recent_failures: recent,
            });
        }
        Ok(states)
    }
}
