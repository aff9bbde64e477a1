//! A run stopped after any tick and resumed from its journal (the last
//! committed snapshot, the policy state, the sequence, the action ids and
//! the outcomes not yet delivered) goes on exactly as if it had never
//! stopped: same emissions, verdicts, ids and policy state, tick by tick.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use stratbox_backtest::{MarketOracle, PaperMarket, PaperMarketConfig, RunError, Runner};
use stratbox_journal::{
    Call, CommittedSnapshot, Durability, Journal, NewRun, Recorder, RunId, RunPolicy, SnapshotSink,
    SnapshotSinkError,
};
use stratbox_runtime::policy::PolicyEngine;
use stratbox_runtime::{AllowAll, Checkpoint, DeploymentSpec, Policy, ResumeAt};
use stratbox_test_artifacts::{Guest, data_dir};

use crate::support::{POLICY, assets, eager, load, runtime};

/// Snapshots kept in memory by the sequence they resume at, shared with
/// the test (a stand-in for the sealed store); it fails once, for the
/// snapshot that resumes at `fail_at`, if set.
#[derive(Clone, Default)]
struct Kept(
    Arc<Mutex<HashMap<u64, Checkpoint>>>,
    Arc<Mutex<Option<u64>>>,
);

impl SnapshotSink for Kept {
    fn store(
        &mut self,
        _: RunId,
        _: Call,
        snapshot: &CommittedSnapshot<'_>,
    ) -> Result<Option<String>, SnapshotSinkError> {
        let mut fail_at = self.1.lock().unwrap();
        if *fail_at == Some(snapshot.next_sequence) {
            *fail_at = None;
            return Err("the sealed store is full".into());
        }
        self.0.lock().unwrap().insert(
            snapshot.next_sequence,
            Checkpoint {
                sequence: snapshot.next_sequence,
                next_action_id: snapshot.next_action_id,
                snapshot: snapshot.bytes.to_vec(),
            },
        );
        Ok(Some(format!("memory:{}", snapshot.next_sequence)))
    }
}

struct Case {
    guest: Guest,
    config: &'static str,
    policy: Option<&'static str>,
    candles: usize,
}

fn market(candles: usize) -> Arc<Mutex<PaperMarket>> {
    let tape = stratbox_tape::load_csv(&data_dir().join("ETH_BTC-5m.csv"), "ETH/BTC")
        .unwrap()
        .take(candles);
    Arc::new(Mutex::new(PaperMarket::new(
        tape,
        PaperMarketConfig::new("ETH", "BTC", 1),
    )))
}

fn policy(case: &Case, state: Option<&[u8]>) -> (Box<dyn Policy>, RunPolicy) {
    let Some(source) = case.policy else {
        return (Box::new(AllowAll), RunPolicy::AllowAll);
    };
    let file = stratbox_policy::parse(source, Path::new("test.policy.toml"), &assets()).unwrap();
    let run_policy = RunPolicy::File {
        source: file.source.clone(),
        sha256: file.sha256.clone(),
        origin: None,
    };
    let engine = match state {
        Some(state) => PolicyEngine::with_state(Arc::clone(&file.compiled), state).unwrap(),
        None => PolicyEngine::new(Arc::clone(&file.compiled)),
    };
    (Box::new(engine), run_policy)
}

/// Run `case` into a journal in `dir`, stopping (as a crash would, after
/// the journal's last write) after each tick in `stops` and resuming
/// from the journal.
fn record_with_stops(case: &Case, dir: &Path, stops: &[usize]) -> (Journal, RunId) {
    record_with_stops_and_failure(case, dir, stops, None)
}

/// [`record_with_stops`], the journal failing once while it records the
/// tick with sequence `fail_at` (its snapshot cannot be stored).
fn record_with_stops_and_failure(
    case: &Case,
    dir: &Path,
    stops: &[usize],
    fail_at: Option<u64>,
) -> (Journal, RunId) {
    let path = dir.join("journal.db");
    let component = load(case.guest);
    let spec = DeploymentSpec::new("resumed", case.config);
    let market = market(case.candles);
    let kept = Kept::default();
    *kept.1.lock().unwrap() = fail_at.map(|sequence| sequence + 1);
    let (judge, run_policy) = policy(case, None);
    let new_run = NewRun {
        spec: spec.clone(),
        component_sha256: component.info().sha256.clone(),
        component_path: None,
        policy: run_policy,
        initial_policy_state: None,
        assets: assets(),
        label: None,
    };
    let journal = Journal::open_with(&path, Durability::Normal).unwrap();
    let recorder = Recorder::start_with(journal, &new_run, Box::new(kept.clone())).unwrap();
    let run = recorder.run();
    let oracle = MarketOracle::new(Arc::clone(&market));
    let mut runner = Runner::start(
        runtime(),
        &component,
        spec.clone(),
        Arc::clone(&market),
        oracle,
        judge,
        recorder,
    )
    .unwrap();
    let mut index = 0;
    let mut stops = stops.iter().copied().peekable();
    while index < case.candles {
        let halted = match runner.step(index, |_, _| {}) {
            Ok(_) => {
                index += 1;
                false
            }
            Err(RunError::Journal { .. }) => {
                // The deployment committed a tick the journal does not
                // hold: the runner halts for good...
                assert!(matches!(
                    runner.step(index, |_, _| {}),
                    Err(RunError::Halted { sequence }) if sequence == index as u64
                ));
                true
            }
            Err(other) => panic!("{other}"),
        };
        let stop_here = stops.next_if(|&stop| stop <= index).is_some();
        if index >= case.candles || !(halted || stop_here) {
            continue;
        }
        // ...and the run goes on from the journal alone, as after a crash
        // (or a stop).
        drop(runner);
        let journal = Journal::open_with(&path, Durability::Normal).unwrap();
        let resume = journal.run_resume(run).unwrap().unwrap();
        assert_eq!(resume.next_sequence, index as u64);
        let checkpoint = kept
            .0
            .lock()
            .unwrap()
            .get(&resume.point.snapshot.next_sequence)
            .cloned()
            .unwrap();
        let (judge, _) = policy(case, resume.point.policy_state.as_deref());
        let recorder = Recorder::resume_with(journal, run, Box::new(kept.clone()));
        runner = Runner::resume(
            runtime(),
            &component,
            spec.clone(),
            Arc::clone(&market),
            MarketOracle::new(Arc::clone(&market)),
            judge,
            recorder,
            ResumeAt {
                checkpoint,
                sequence: resume.next_sequence,
                next_action_id: resume.next_action_id,
                redeliver: resume.redeliver,
                failures: resume.failures,
            },
            resume.undelivered,
        )
        .unwrap();
    }
    drop(runner);
    (Journal::open_with(&path, Durability::Normal).unwrap(), run)
}

/// Per tick: results delivered, reads, emissions (action, verdict, id,
/// code), logs, outcome, policy state and the venue's results: everything
/// but fuel, time and the snapshot reference.
fn ticks(journal: &Journal, run: RunId) -> Vec<String> {
    journal
        .tick_sequences(run)
        .unwrap()
        .into_iter()
        .map(|sequence| {
            let call = journal.call(run, Call::Tick(sequence)).unwrap();
            format!(
                "{sequence}: {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                call.input.as_ref().map(|i| &i.results),
                call.oracle_reads,
                call.emissions,
                call.logs,
                call.outcome,
                call.policy_state,
                call.results,
            )
        })
        .collect()
}

fn assert_resumes_identically(case: &Case, stops: &[usize]) {
    let straight = tempfile::tempdir().unwrap();
    let (journal, run) = record_with_stops(case, straight.path(), &[]);
    let expected = ticks(&journal, run);
    let stopped = tempfile::tempdir().unwrap();
    let (journal, run) = record_with_stops(case, stopped.path(), stops);
    let got = ticks(&journal, run);
    for (expected, got) in expected.iter().zip(&got) {
        assert_eq!(got, expected, "{:?} stopped at {stops:?}", case.guest);
    }
    assert_eq!(got.len(), expected.len());
}

#[test]
fn a_trading_run_resumed_after_any_tick_goes_on_as_if_never_stopped() {
    let case = Case {
        guest: Guest::RsiMomentum,
        config: Box::leak(eager().into_boxed_str()),
        policy: Some(POLICY),
        candles: 120,
    };
    assert_resumes_identically(&case, &[1, 2, 3, 7, 8, 30, 31, 64, 100, 119]);
}

#[test]
fn a_run_with_failed_ticks_resumes_with_their_sequences_and_rollbacks() {
    let case = Case {
        guest: Guest::Hostile,
        config: r#"{"attack": "panic", "at_sequence": 3, "repeat": true, "every": 3}"#,
        policy: None,
        candles: 40,
    };
    // Stops right after failed ticks (3, 6, 9...) and between them.
    assert_resumes_identically(&case, &[4, 5, 7, 10, 13, 20]);
}

#[test]
fn a_journal_write_failing_after_the_commit_halts_and_the_run_resumes_consistently() {
    let case = Case {
        guest: Guest::RsiMomentum,
        config: Box::leak(eager().into_boxed_str()),
        policy: Some(POLICY),
        candles: 80,
    };
    let straight = tempfile::tempdir().unwrap();
    let (journal, run) = record_with_stops(&case, straight.path(), &[]);
    let expected = ticks(&journal, run);
    // A tick that released actions (the policy reserved their spend) and
    // whose journal write fails.
    let trading = (0..case.candles as u64)
        .find(|&sequence| {
            journal
                .call(run, Call::Tick(sequence))
                .unwrap()
                .emissions
                .iter()
                .any(|e| e.action_id.is_some())
        })
        .unwrap();
    let failing = tempfile::tempdir().unwrap();
    let (journal, run) = record_with_stops_and_failure(&case, failing.path(), &[], Some(trading));
    assert_eq!(ticks(&journal, run), expected, "failed at tick {trading}");
}

#[test]
fn a_run_stopped_before_its_init_was_recorded_gives_way_to_the_next_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let component = load(Guest::RsiMomentum);
    let new_run = NewRun {
        spec: DeploymentSpec::new("d", eager()),
        component_sha256: component.info().sha256.clone(),
        component_path: None,
        policy: RunPolicy::AllowAll,
        initial_policy_state: None,
        assets: assets(),
        label: None,
    };
    // A process created the run and was killed before its init.
    let mut journal = Journal::open_with(&path, Durability::Normal).unwrap();
    let empty = journal.begin_run(&new_run).unwrap();
    assert_eq!(journal.latest_run("d").unwrap(), Some(empty));
    // The next one finds nothing to resume and no run left behind, so the
    // run it begins is the deployment's only one.
    assert!(journal.resumable_run("d").unwrap().is_none());
    assert_eq!(journal.latest_run("d").unwrap(), None);
    let market = market(10);
    let recorder = Recorder::start_with(journal, &new_run, Box::new(Kept::default())).unwrap();
    let run = recorder.run();
    let oracle = MarketOracle::new(Arc::clone(&market));
    let mut runner = Runner::start(
        runtime(),
        &component,
        new_run.spec.clone(),
        market,
        oracle,
        Box::new(AllowAll),
        recorder,
    )
    .unwrap();
    runner.step(0, |_, _| {}).unwrap();
    drop(runner);
    // A run that recorded anything is resumed, never removed.
    let mut journal = Journal::open_with(&path, Durability::Normal).unwrap();
    let resume = journal.resumable_run("d").unwrap().expect("resumable");
    assert_eq!(resume.run, run);
    assert_eq!(journal.latest_run("d").unwrap(), Some(run));
}
