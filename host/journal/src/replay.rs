//! Re-executing a recorded run and checking it bit for bit: the component
//! (found by its recorded SHA-256), the recorded spec and policy, each
//! tick's recorded input, and an oracle that serves the recorded reads in
//! order. Every call must produce the same oracle reads, emissions and
//! verdicts, logs, outcome, fuel, snapshot digest and policy state; the
//! first difference is reported with the call, the field, and the expected
//! and actual values.
//!
//! Replay does not care what language the strategy was written in: a
//! Python component replays exactly like a Rust one, with the limits in its
//! recorded spec.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};
use stratbox_runtime::policy::PolicyEngine;
use stratbox_runtime::{
    AllowAll, ArtifactCache, CallTrace, DenyAll, DeployError, Deployment, DeploymentHost,
    LoadError, Policy, ReplayOracle, Runtime, TickFailure, TickReport,
};

use crate::error::JournalError;
use crate::journal::Journal;
use crate::model::{Call, CallOutcome, CallRecord, EmissionRow, ReadRow, RunId, RunPolicy};

/// The first difference between a recorded call and its re-execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    /// The call where it happened.
    pub call: Call,
    /// What differs: `oracle_reads[2]`, `emissions[0]`, `logs[1]`,
    /// `outcome`, `fuel`, `rebuild_fuel`, `snapshot`, `policy_state`.
    pub field: String,
    /// The journal's value (JSON, or `nothing`).
    pub expected: String,
    /// The re-execution's value.
    pub got: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} diverged at {}\n  expected: {}\n  got:      {}",
            self.call, self.field, self.expected, self.got
        )
    }
}

/// A replay that could not run, or ran and diverged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// Reading the journal failed.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The run records no component path and none was given.
    #[error("run {run} records no component path; pass the component explicitly")]
    NoComponent {
        /// The run.
        run: RunId,
    },
    /// The component file could not be read.
    #[error("reading component {}: {source}", path.display())]
    ComponentRead {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The component is not the one the run recorded.
    #[error("component {} has SHA-256 {found}, but the run recorded {expected}", path.display())]
    ComponentMismatch {
        /// The file.
        path: PathBuf,
        /// Recorded digest.
        expected: String,
        /// Digest of the file.
        found: String,
    },
    /// The runtime refused the component.
    #[error("loading the component: {0}")]
    Load(#[from] LoadError),
    /// The recorded policy can no longer be used.
    #[error("the recorded policy: {0}")]
    Policy(#[from] stratbox_policy::PolicyFileError),
    /// The recorded initial policy state is unreadable.
    #[error(transparent)]
    PolicyState(#[from] stratbox_runtime::policy::PolicyStateError),
    /// The deployment could not be created for a reason other than its
    /// init failing.
    #[error("creating the deployment: {0}")]
    Deploy(#[source] DeployError),
    /// A call did not reproduce.
    #[error("{0}")]
    Diverged(Divergence),
    /// The run has no recorded init.
    #[error("run {run} has no recorded init to start from")]
    Empty {
        /// The run.
        run: RunId,
    },
}

/// A replay that reproduced every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplaySummary {
    /// The run.
    pub run: RunId,
    /// Ticks re-executed (after init).
    pub ticks: u64,
    /// Total fuel, matching the journal.
    pub fuel: u64,
}

/// Re-execute `run` from `journal` in `runtime` and verify every call.
/// `component` overrides the recorded path (the SHA-256 must still match).
pub fn replay(
    journal: &Journal,
    run: RunId,
    runtime: &Runtime,
    component: Option<&Path>,
) -> Result<ReplaySummary, ReplayError> {
    replay_inner(journal, run, runtime, Source::File(component), None)
}

/// [`replay`] with the component's bytes held in memory, e.g. opened from
/// a sealed bundle: the plaintext component is never written to disk. Its
/// SHA-256 must be the run's.
pub fn replay_bytes(
    journal: &Journal,
    run: RunId,
    runtime: &Runtime,
    component: &[u8],
) -> Result<ReplaySummary, ReplayError> {
    replay_inner(journal, run, runtime, Source::Bytes(component), None)
}

/// Where a replay's component comes from.
enum Source<'a> {
    /// A file: the given one, or the run's recorded path.
    File(Option<&'a Path>),
    /// Bytes in memory.
    Bytes(&'a [u8]),
}

/// [`replay`], loading the component through `cache`: its compiled code is
/// deserialized when the cache has it (an interpreter component such as a
/// Python strategy compiles in seconds, but loads from a cache in
/// milliseconds), and stored otherwise. A cache that cannot serve or keep
/// the artifact only costs a compilation.
pub fn replay_cached(
    journal: &Journal,
    run: RunId,
    runtime: &Runtime,
    component: Option<&Path>,
    cache: &dyn ArtifactCache,
) -> Result<ReplaySummary, ReplayError> {
    replay_inner(journal, run, runtime, Source::File(component), Some(cache))
}

fn replay_inner(
    journal: &Journal,
    run: RunId,
    runtime: &Runtime,
    source: Source<'_>,
    cache: Option<&dyn ArtifactCache>,
) -> Result<ReplaySummary, ReplayError> {
    let record = journal.run(run)?;
    let (path, read);
    let bytes: &[u8] = match source {
        Source::Bytes(bytes) => {
            path = PathBuf::from("(in memory)");
            bytes
        }
        Source::File(component) => {
            path = component
                .map(Path::to_owned)
                .or_else(|| record.run.component_path.clone())
                .ok_or(ReplayError::NoComponent { run })?;
            read = std::fs::read(&path).map_err(|source| ReplayError::ComponentRead {
                path: path.clone(),
                source,
            })?;
            &read
        }
    };
    let found = hex::encode(Sha256::digest(bytes));
    if found != record.run.component_sha256 {
        return Err(ReplayError::ComponentMismatch {
            path,
            expected: record.run.component_sha256.clone(),
            found,
        });
    }
    let component = match cache {
        Some(cache) => runtime.load_cached(bytes, cache)?.0,
        None => runtime.load(bytes)?,
    };
    let policy: Box<dyn Policy> = match &record.run.policy {
        RunPolicy::AllowAll => Box::new(AllowAll),
        RunPolicy::DenyAll => Box::new(DenyAll),
        RunPolicy::File { source, origin, .. } => {
            let name = origin
                .clone()
                .unwrap_or_else(|| PathBuf::from("journaled policy"));
            let file = stratbox_policy::parse(source, &name, &record.run.assets)?;
            match &record.run.initial_policy_state {
                Some(state) => Box::new(PolicyEngine::with_state(file.compiled, state)?),
                None => Box::new(PolicyEngine::new(file.compiled)),
            }
        }
    };

    let init = match journal.call(run, Call::Init) {
        Ok(init) => init,
        Err(JournalError::NoSuchCall { .. }) => return Err(ReplayError::Empty { run }),
        Err(other) => return Err(other.into()),
    };
    let (oracle, feed) = ReplayOracle::new();
    feed.load(
        stratbox_runtime::types::BlockInfo {
            chain_id: 0,
            number: 0,
            timestamp_ms: 0,
        },
        init.reads()?,
    );
    let host = DeploymentHost {
        oracle: Box::new(oracle),
        policy,
        log_sink: None,
    };
    let mut deployment = match Deployment::new(runtime, &component, record.run.spec.clone(), host) {
        Ok((deployment, trace)) => {
            let got = Replayed::ok(&trace, true, &deployment);
            compare(&init, &got)?;
            deployment
        }
        Err(DeployError::Init(failure)) => {
            let got = Replayed::failed(&failure, None);
            compare(&init, &got)?;
            return Err(ReplayError::Empty { run });
        }
        Err(other) => return Err(ReplayError::Deploy(other)),
    };

    let mut summary = ReplaySummary {
        run,
        ticks: 0,
        fuel: 0,
    };
    let resumes = journal.resumes(run)?;
    for sequence in journal.tick_sequences(run)? {
        if resumes.contains(&sequence) {
            // The recorded run went on in a new process here, from its
            // last snapshot: so does the replay (a failed rebuild is
            // retried by the tick, as it was then).
            let _ = deployment.reboot();
        }
        let recorded = journal.call(run, Call::Tick(sequence))?;
        let Some(input) = recorded.input.clone() else {
            return Err(JournalError::Corrupt(format!("tick {sequence} has no input")).into());
        };
        feed.load(input.block, recorded.reads()?);
        let result = deployment.tick(input);
        let got = match &result {
            Ok(report) => Replayed::report(report, &deployment),
            Err(failure) => Replayed::failed(failure, Some(&deployment)),
        };
        compare(&recorded, &got)?;
        summary.ticks += 1;
        summary.fuel += recorded.fuel_used;
    }
    Ok(summary)
}

/// A re-executed call in the journal's terms.
struct Replayed {
    outcome: CallOutcome,
    trace: CallTrace,
    snapshot_sha256: Option<String>,
    policy_state: Option<Vec<u8>>,
}

impl Replayed {
    fn ok(trace: &CallTrace, committed: bool, deployment: &Deployment) -> Replayed {
        Replayed {
            outcome: CallOutcome::Ok { committed },
            trace: trace.clone(),
            snapshot_sha256: committed
                .then(|| hex::encode(Sha256::digest(&deployment.checkpoint().snapshot))),
            policy_state: deployment.policy_state(),
        }
    }

    fn report(report: &TickReport, deployment: &Deployment) -> Replayed {
        Replayed::ok(&report.trace, report.committed, deployment)
    }

    fn failed(failure: &TickFailure, deployment: Option<&Deployment>) -> Replayed {
        Replayed {
            outcome: CallOutcome::Failed {
                error: failure.error.clone(),
                paused: failure.paused,
            },
            trace: (*failure.trace).clone(),
            snapshot_sha256: None,
            policy_state: deployment.and_then(Deployment::policy_state),
        }
    }
}

fn compare(recorded: &CallRecord, got: &Replayed) -> Result<(), ReplayError> {
    let call = recorded.call;
    let diverged = |field: String, expected: String, got: String| {
        Err(ReplayError::Diverged(Divergence {
            call,
            field,
            expected,
            got,
        }))
    };
    let reads = got
        .trace
        .oracle_reads
        .iter()
        .map(ReadRow::from_read)
        .collect::<Result<Vec<_>, _>>()?;
    if let Some((index, expected, actual)) =
        first_difference(&recorded.oracle_reads, &reads, read_json)
    {
        return diverged(format!("oracle_reads[{index}]"), expected, actual);
    }
    let emissions = got
        .trace
        .emissions
        .iter()
        .map(EmissionRow::from_emission)
        .collect::<Result<Vec<_>, _>>()?;
    if let Some((index, expected, actual)) =
        first_difference(&recorded.emissions, &emissions, emission_json)
    {
        return diverged(format!("emissions[{index}]"), expected, actual);
    }
    if let Some((index, expected, actual)) =
        first_difference(&recorded.logs, &got.trace.logs, json_text)
    {
        return diverged(format!("logs[{index}]"), expected, actual);
    }
    if let Some((index, expected, actual)) =
        first_difference(&recorded.series, &got.trace.series, json_text)
    {
        return diverged(format!("series[{index}]"), expected, actual);
    }
    if recorded.outcome != got.outcome {
        return diverged(
            "outcome".into(),
            outcome_text(&recorded.outcome),
            outcome_text(&got.outcome),
        );
    }
    if recorded.fuel_used != got.trace.fuel_used {
        return diverged(
            "fuel".into(),
            recorded.fuel_used.to_string(),
            got.trace.fuel_used.to_string(),
        );
    }
    if recorded.rebuild_fuel != got.trace.rebuild_fuel {
        return diverged(
            "rebuild_fuel".into(),
            format!("{:?}", recorded.rebuild_fuel),
            format!("{:?}", got.trace.rebuild_fuel),
        );
    }
    let recorded_snapshot = recorded.snapshot.as_ref().map(|s| s.sha256.clone());
    if recorded_snapshot != got.snapshot_sha256 {
        return diverged(
            "snapshot".into(),
            recorded_snapshot.unwrap_or_else(|| "nothing".into()),
            got.snapshot_sha256
                .clone()
                .unwrap_or_else(|| "nothing".into()),
        );
    }
    if recorded.policy_state != got.policy_state {
        let text = |state: &Option<Vec<u8>>| {
            state.as_deref().map_or_else(
                || "nothing".into(),
                |s| String::from_utf8_lossy(s).into_owned(),
            )
        };
        return diverged(
            "policy_state".into(),
            text(&recorded.policy_state),
            text(&got.policy_state),
        );
    }
    Ok(())
}

/// The first index where `expected` and `got` differ, with both sides as
/// text (`nothing` past the end of the shorter one).
fn first_difference<T: PartialEq>(
    expected: &[T],
    got: &[T],
    show: impl Fn(&T) -> String,
) -> Option<(usize, String, String)> {
    let longest = expected.len().max(got.len());
    (0..longest).find_map(|i| match (expected.get(i), got.get(i)) {
        (Some(e), Some(g)) if e == g => None,
        (e, g) => Some((
            i,
            e.map_or_else(|| "nothing".into(), &show),
            g.map_or_else(|| "nothing".into(), &show),
        )),
    })
}

fn json_text<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("<unprintable: {e}>"))
}

fn read_json(row: &ReadRow) -> String {
    let mut object = row.request.clone();
    if let Some(map) = object.as_object_mut() {
        map.insert("response".into(), row.response.clone());
    }
    object.to_string()
}

fn emission_json(row: &EmissionRow) -> String {
    let verdict = match (&row.action_id, &row.detail) {
        (Some(id), _) => format!("accepted id={id}"),
        (None, Some(detail)) => format!(
            "{} {detail} (rule {})",
            row.verdict.as_str(),
            row.rule.as_deref().unwrap_or("")
        ),
        (None, None) => row.verdict.as_str().to_owned(),
    };
    format!("{} -> {verdict}", row.action)
}

fn outcome_text(outcome: &CallOutcome) -> String {
    match outcome {
        CallOutcome::Ok { committed } => format!("ok (committed: {committed})"),
        CallOutcome::Failed { error, paused } => format!("failed: {error} (paused: {paused})"),
    }
}
