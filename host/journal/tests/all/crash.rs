//! A tick and its snapshot reference commit together: a failure or a crash
//! in the middle of recording a tick leaves the previous committed state
//! intact.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use stratbox_backtest::PaperRunError;
use stratbox_journal::{
    Call, CommittedSnapshot, Durability, Journal, JournalError, RunId, SnapshotSink,
    SnapshotSinkError,
};
use stratbox_test_artifacts::Guest;

use crate::support::{assets, eager, runtime};

/// How [`Breaks`] breaks.
enum Break {
    /// The sink fails: the tick is not recorded.
    Fail,
    /// The process aborts with the tick's transaction open.
    Abort,
    /// Nothing breaks: the head file as it is while the tick is written
    /// (anchored at the tick before) is kept in `.1`.
    KeepAnchor(PathBuf, Arc<Mutex<Vec<u8>>>),
}

/// Stores snapshots until `call`, then breaks.
struct Breaks {
    at: Call,
    how: Break,
}

impl SnapshotSink for Breaks {
    fn store(
        &mut self,
        _: RunId,
        call: Call,
        _: &CommittedSnapshot<'_>,
    ) -> Result<Option<String>, SnapshotSinkError> {
        if call == self.at {
            match &self.how {
                // The tick's rows are written, its transaction is open.
                Break::Abort => std::process::abort(),
                Break::Fail => return Err("the sealed store is full".into()),
                Break::KeepAnchor(head, kept) => {
                    *kept.lock().unwrap() = std::fs::read(head).unwrap();
                }
            }
        }
        Ok(Some(format!("store://{call}")))
    }
}

/// Record RSI ticks into `journal` until the sink breaks at tick 5.
fn record_until_broken(journal: Journal, how: Break) -> (Journal, RunId, PaperRunError) {
    let (journal, run, result) = record_50(journal, how);
    (journal, run, result.unwrap_err())
}

/// Record 50 RSI ticks into `journal`, with the sink breaking at tick 5.
fn record_50(
    journal: Journal,
    how: Break,
) -> (
    Journal,
    RunId,
    Result<stratbox_backtest::PaperRun, PaperRunError>,
) {
    let tape = stratbox_tape::load_csv(
        &stratbox_test_artifacts::data_dir().join("ETH_BTC-5m.csv"),
        "ETH/BTC",
    )
    .unwrap()
    .take(50);
    let component = runtime().load(&Guest::RsiMomentum.bytes()).unwrap();
    let spec = stratbox_runtime::DeploymentSpec::new("crashy", eager());
    let run = stratbox_journal::NewRun {
        spec: spec.clone(),
        component_sha256: component.info().sha256.clone(),
        component_path: None,
        policy: stratbox_journal::RunPolicy::AllowAll,
        initial_policy_state: None,
        assets: assets(),
        label: None,
    };
    let sink = Breaks {
        at: Call::Tick(5),
        how,
    };
    let mut recorder =
        stratbox_journal::Recorder::start_with(journal, &run, Box::new(sink)).unwrap();
    let result = stratbox_backtest::run_paper_journaled(
        runtime(),
        &component,
        spec,
        stratbox_backtest::PaperMarket::new(
            tape,
            stratbox_backtest::PaperMarketConfig::new("ETH", "BTC", 1),
        ),
        stratbox_runtime::AllowAll,
        &mut recorder,
        |_, _| {},
    );
    let id = recorder.run();
    (recorder.into_journal(), id, result)
}

fn assert_committed_through_tick_4(journal: &Journal, run: RunId) {
    assert_eq!(journal.tick_sequences(run).unwrap(), vec![0, 1, 2, 3, 4]);
    let point = journal.resume_point(run).unwrap().unwrap();
    assert_eq!(point.last_call, Call::Tick(4));
    assert_eq!(point.snapshot.next_sequence, 5);
    assert_eq!(point.snapshot.location.as_deref(), Some("store://tick 4"));
    assert!(matches!(
        journal.call(run, Call::Tick(5)),
        Err(JournalError::NoSuchCall { .. })
    ));
}

#[test]
fn a_failing_snapshot_store_records_nothing_of_the_tick_and_stops_the_run() {
    let (journal, run, error) = record_until_broken(Journal::in_memory().unwrap(), Break::Fail);
    match error {
        PaperRunError::Journal { what, source } => {
            assert_eq!(what, "tick 5");
            assert!(matches!(
                source.downcast_ref::<JournalError>(),
                Some(JournalError::Snapshot {
                    call: Call::Tick(5),
                    ..
                })
            ));
        }
        other => panic!("{other:?}"),
    }
    assert_committed_through_tick_4(&journal, run);
}

const CHILD: &str = "STRATBOX_JOURNAL_CRASH_CHILD";

/// Not a test on its own: the body of the process that
/// [`a_crash_mid_tick_leaves_the_previous_commit_intact`] starts and
/// crashes. Does nothing unless that test started it.
#[test]
fn crash_child() {
    let Some(path) = std::env::var_os(CHILD) else {
        return;
    };
    let journal = Journal::open_with(Path::new(&path), Durability::Full).unwrap();
    record_until_broken(journal, Break::Abort);
    unreachable!("the sink aborts the process at tick 5");
}

#[test]
fn a_crash_mid_tick_leaves_the_previous_commit_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["crash::crash_child", "--exact", "--nocapture"])
        .env(CHILD, &path)
        .output()
        .unwrap();
    assert!(!child.status.success(), "the child must have crashed");
    let journal = Journal::open(&path).unwrap();
    let runs = journal.runs().unwrap();
    assert_eq!(runs.len(), 1);
    assert_committed_through_tick_4(&journal, runs[0].id);
    // The database itself is sound.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

#[test]
fn an_anchor_behind_the_journal_is_accepted_as_after_a_crash() {
    // A process killed between a call's commit and its anchor leaves the
    // anchor behind the journal: the journal holds more than the anchor
    // records, which loses nothing.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let head = stratbox_journal::head_file(&path, RunId(1));
    let kept = Arc::default();
    let journal = Journal::open_with(&path, Durability::Full).unwrap();
    let (journal, run, result) =
        record_50(journal, Break::KeepAnchor(head.clone(), Arc::clone(&kept)));
    result.unwrap();
    drop(journal);
    std::fs::write(&head, &*kept.lock().unwrap()).unwrap();
    let mut journal = Journal::open_with(&path, Durability::Full).unwrap();
    assert_eq!(journal.verify_chain(run).unwrap().calls, 51);
    let resume = journal.resumable_run("crashy").unwrap().unwrap();
    assert_eq!(resume.next_sequence, 50);
}
