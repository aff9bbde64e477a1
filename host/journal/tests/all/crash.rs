//! A tick and its snapshot reference commit together: a failure or a crash
//! in the middle of recording a tick leaves the previous committed state
//! intact.

use std::path::Path;
use std::process::Command;

use stratbox_backtest::PaperRunError;
use stratbox_journal::{
    Call, CommittedSnapshot, Durability, Journal, JournalError, RunId, SnapshotSink,
    SnapshotSinkError,
};
use stratbox_test_artifacts::Guest;

use crate::support::{assets, eager, runtime};

/// Stores snapshots until `call`, then fails (or aborts the process).
struct Breaks {
    at: Call,
    abort: bool,
}

impl SnapshotSink for Breaks {
    fn store(
        &mut self,
        _: RunId,
        call: Call,
        _: &CommittedSnapshot<'_>,
    ) -> Result<Option<String>, SnapshotSinkError> {
        if call == self.at {
            if self.abort {
                // The tick's rows are written, its transaction is open.
                std::process::abort();
            }
            return Err("the sealed store is full".into());
        }
        Ok(Some(format!("store://{call}")))
    }
}

/// Record RSI ticks into `journal` until the sink breaks at tick 5.
fn record_until_broken(journal: Journal, abort: bool) -> (Journal, RunId, PaperRunError) {
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
        abort,
    };
    let mut recorder =
        stratbox_journal::Recorder::start_with(journal, &run, Box::new(sink)).unwrap();
    let error = stratbox_backtest::run_paper_journaled(
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
    )
    .unwrap_err();
    let id = recorder.run();
    (recorder.into_journal(), id, error)
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
    let (journal, run, error) = record_until_broken(Journal::in_memory().unwrap(), false);
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
    record_until_broken(journal, true);
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
