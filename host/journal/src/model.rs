//! What the journal stores, as Rust values: runs, calls (init and ticks)
//! and their rows, in the exact JSON form replay compares.

use std::fmt;
use std::path::PathBuf;

use serde::{Serialize, Serializer};
use serde_json::Value;
use stratbox_runtime::policy::AssetCatalog;
use stratbox_runtime::types::{ActionOutcome, Level, Rejection};
use stratbox_runtime::{
    DeploymentSpec, Emission, LogRecord, OracleRead, SeriesPoint, TickError, TickInput,
};

use crate::error::{JournalError, json};

/// Identifies a run (one deployment's recorded life) in a journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunId(pub i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A guest call sequence the journal records: `init`, or a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Call {
    /// Instantiation, `init` and the first snapshot.
    Init,
    /// The tick with this sequence number.
    Tick(u64),
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Call::Init => f.write_str("init"),
            Call::Tick(sequence) => write!(f, "tick {sequence}"),
        }
    }
}

/// Which policy judged a run.
#[derive(Debug, Clone, PartialEq)]
pub enum RunPolicy {
    /// Every well-formed action accepted.
    AllowAll,
    /// Every action denied.
    DenyAll,
    /// A policy file, journaled by content as a policy version.
    File {
        /// The text as written.
        source: String,
        /// SHA-256 of the text, hex.
        sha256: String,
        /// Where it was read from.
        origin: Option<PathBuf>,
    },
}

/// What identifies a run, written once when it starts.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// The deployment's spec (id, config, limits...).
    pub spec: DeploymentSpec,
    /// SHA-256 of the component, hex.
    pub component_sha256: String,
    /// Where the component was loaded from, for replay.
    pub component_path: Option<PathBuf>,
    /// The policy.
    pub policy: RunPolicy,
    /// The policy's state when the run started (`None`: fresh).
    pub initial_policy_state: Option<Vec<u8>>,
    /// The deployment's assets (the policy was checked against them).
    pub assets: AssetCatalog,
    /// A free-form label (e.g. the command that started the run).
    pub label: Option<String>,
}

/// A run as read back.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// Its id.
    pub id: RunId,
    /// What it was started with.
    pub run: NewRun,
    /// Policy version id, when the policy is a file.
    pub policy_version: Option<i64>,
    /// Wall-clock start, ms since the Unix epoch.
    pub started_ms: u64,
}

/// One line of `stratbox journal runs`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// Its id.
    pub id: RunId,
    /// The deployment's id.
    pub deployment: String,
    /// Free-form label.
    pub label: Option<String>,
    /// Component SHA-256.
    pub component_sha256: String,
    /// `allow_all`, `deny_all` or `file`.
    pub policy: String,
    /// Policy version id, if a file.
    pub policy_version: Option<i64>,
    /// Wall-clock start.
    pub started_ms: u64,
    /// Ticks recorded.
    pub ticks: u64,
    /// Of which failed.
    pub failed: u64,
    /// Emissions denied or invalid.
    pub rejected: u64,
    /// Total fuel of the ticks.
    pub fuel: u64,
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CallOutcome {
    /// It succeeded.
    Ok {
        /// Whether it committed a snapshot.
        committed: bool,
    },
    /// It failed; nothing it emitted was released.
    Failed {
        /// Why.
        error: TickError,
        /// Whether the failure paused the deployment.
        paused: bool,
    },
}

/// One oracle read as journaled: the request (a JSON object naming the
/// read and its arguments) and the response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadRow {
    /// `block`, `price`, `candles`, ...
    pub read: String,
    /// The arguments, with the read's name under `read`.
    pub request: Value,
    /// The answer.
    pub response: Value,
}

impl ReadRow {
    /// Split a read into request and response.
    pub fn from_read(read: &OracleRead) -> Result<ReadRow, JournalError> {
        let mut request = serde_json::to_value(read).map_err(json("oracle read"))?;
        let response = request
            .as_object_mut()
            .and_then(|object| object.remove("response"))
            .unwrap_or(Value::Null);
        let name = request
            .get("read")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_owned();
        Ok(ReadRow {
            read: name,
            request,
            response,
        })
    }

    /// Join request and response back into the read.
    pub fn to_read(&self) -> Result<OracleRead, JournalError> {
        let mut object = self.request.clone();
        if let Some(map) = object.as_object_mut() {
            map.insert("response".into(), self.response.clone());
        }
        serde_json::from_value(object).map_err(json("oracle read"))
    }
}

/// What the guest got back for one emission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    /// Accepted with an id.
    Accepted,
    /// Denied by the policy.
    Denied,
    /// Malformed or unknown to the deployment.
    Invalid,
}

impl VerdictKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Accepted => "accepted",
            VerdictKind::Denied => "denied",
            VerdictKind::Invalid => "invalid",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Self, JournalError> {
        match text {
            "accepted" => Ok(VerdictKind::Accepted),
            "denied" => Ok(VerdictKind::Denied),
            "invalid" => Ok(VerdictKind::Invalid),
            other => Err(JournalError::Corrupt(format!("verdict `{other}`"))),
        }
    }
}

/// One emission as journaled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmissionRow {
    /// The action's kind.
    pub kind: String,
    /// The action, as JSON.
    pub action: Value,
    /// The verdict.
    pub verdict: VerdictKind,
    /// The id, if accepted.
    pub action_id: Option<u64>,
    /// Denial code, if rejected.
    pub code: Option<String>,
    /// Rule path, if rejected.
    pub rule: Option<String>,
    /// `CODE: key=value` detail, if rejected.
    pub detail: Option<String>,
}

impl EmissionRow {
    /// The row of an emission.
    pub fn from_emission(emission: &Emission) -> Result<EmissionRow, JournalError> {
        let action = serde_json::to_value(&emission.action).map_err(json("action"))?;
        let (verdict, action_id, denial) = match &emission.verdict {
            Ok(id) => (VerdictKind::Accepted, Some(*id), None),
            Err(Rejection::Denied(denial)) => (VerdictKind::Denied, None, Some(denial)),
            Err(Rejection::Invalid(denial)) => (VerdictKind::Invalid, None, Some(denial)),
        };
        Ok(EmissionRow {
            kind: emission.action.kind().to_owned(),
            action,
            verdict,
            action_id,
            code: denial.map(|d| d.code.clone()),
            rule: denial.map(|d| d.rule.clone()),
            detail: denial.map(|d| d.detail.clone()),
        })
    }
}

/// A log line's level as the journal (and the service's API) names it.
pub fn level_name(level: Level) -> &'static str {
    match level {
        Level::Trace => "trace",
        Level::Debug => "debug",
        Level::Info => "info",
        Level::Warn => "warn",
        Level::Error => "error",
    }
}

pub(crate) fn parse_level(text: &str) -> Result<Level, JournalError> {
    Ok(match text {
        "trace" => Level::Trace,
        "debug" => Level::Debug,
        "info" => Level::Info,
        "warn" => Level::Warn,
        "error" => Level::Error,
        other => return Err(JournalError::Corrupt(format!("log level `{other}`"))),
    })
}

/// Where a committed snapshot went. The journal never holds snapshot
/// bytes: strategy state is its author's secret and is stored sealed
/// elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotRef {
    /// SHA-256 of the plaintext snapshot, hex.
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
    /// Sequence of the next tick after this commit.
    pub next_sequence: u64,
    /// Next action id after this commit.
    pub next_action_id: u64,
    /// Where the sealed snapshot is, as the snapshot sink reported.
    pub location: Option<String>,
}

/// The venue's report on one action.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResultRow {
    /// The action.
    pub action_id: u64,
    /// The tick that released it.
    pub sequence: u64,
    /// The outcome.
    pub outcome: ActionOutcome,
}

/// One recorded call with everything it did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallRecord {
    /// Which call.
    pub call: Call,
    /// The tick's input (`None` for init).
    pub input: Option<TickInput>,
    /// How it ended.
    pub outcome: CallOutcome,
    /// Fuel of the call.
    pub fuel_used: u64,
    /// Fuel of a rebuild before it.
    pub rebuild_fuel: Option<u64>,
    /// Wall-clock duration (not deterministic).
    pub duration_ns: u64,
    /// Oracle reads, guest's and policy's, in order.
    pub oracle_reads: Vec<ReadRow>,
    /// Emissions and verdicts, in order.
    pub emissions: Vec<EmissionRow>,
    /// Logs, in order.
    pub logs: Vec<LogRecord>,
    /// Series points, in order.
    pub series: Vec<SeriesPoint>,
    /// The committed snapshot, if any.
    pub snapshot: Option<SnapshotRef>,
    /// The policy's state after the call.
    #[serde(serialize_with = "state_as_json")]
    pub policy_state: Option<Vec<u8>>,
    /// Venue results of the actions this tick released.
    pub results: Vec<ResultRow>,
}

impl CallRecord {
    /// The oracle reads as the runtime's values (to serve them again).
    pub fn reads(&self) -> Result<Vec<OracleRead>, JournalError> {
        self.oracle_reads.iter().map(ReadRow::to_read).collect()
    }
}

/// Policy state is JSON for the runtime's engine; show it as such, or as
/// text for another policy.
fn state_as_json<S: Serializer>(state: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    match state {
        None => s.serialize_none(),
        Some(bytes) => match serde_json::from_slice::<Value>(bytes) {
            Ok(value) => value.serialize(s),
            Err(_) => s.serialize_str(&String::from_utf8_lossy(bytes)),
        },
    }
}
