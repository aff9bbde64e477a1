//! Replay re-executes a recorded run from the journal: it passes when
//! nothing changed, and names the first divergence when something did.

use stratbox_journal::{
    Call, Divergence, Journal, ReplayError, ReplaySummary, RunId, replay, replay_cached,
};
use stratbox_python_tests::DirArtifactCache;
use stratbox_test_artifacts::Guest;

use crate::support::{Judge, POLICY, eager, journal_file, record, runtime};

/// Replay `run`, Python components through the test suite's artifact cache.
fn replay_run(journal: &Journal, run: RunId, guest: Guest) -> Result<ReplaySummary, ReplayError> {
    if guest.is_python() {
        replay_cached(
            journal,
            run,
            runtime(),
            None,
            &DirArtifactCache::for_tests(),
        )
    } else {
        replay(journal, run, runtime(), None)
    }
}

/// Record and replay a guest (Rust or Python: a Python component replays
/// exactly like a Rust one, with the Python limits of its recorded spec).
fn assert_replays(guest: Guest, config: &str, candles: usize, judge: Judge) -> Journal {
    let dir = tempfile::tempdir().unwrap();
    let (journal, run, _) = record(journal_file(&dir), guest, config, candles, judge);
    let summary = replay_run(&journal, run, guest).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.ticks, candles as u64);
    assert_eq!(summary.fuel, journal.runs().unwrap()[0].fuel);
    journal
}

#[test]
fn a_recorded_run_replays_identically() {
    assert_replays(Guest::RsiMomentum, &eager(), 400, Judge::File(POLICY));
}

#[test]
fn a_recorded_python_run_replays_identically() {
    let journal = assert_replays(
        Guest::PyBollinger,
        r#"{"cooldown_ms": 0}"#,
        1_000,
        Judge::File(POLICY),
    );
    // The run is a real one: the Python strategy traded, logged and was
    // judged by the policy.
    let run = journal.runs().unwrap()[0].id;
    let (mut emissions, mut logs, mut series) = (0, 0, 0);
    for sequence in journal.tick_sequences(run).unwrap() {
        let call = journal.call(run, Call::Tick(sequence)).unwrap();
        emissions += call.emissions.len();
        logs += call.logs.len();
        series += call.series.len();
        assert!(call.snapshot.is_some(), "tick {sequence} committed nothing");
    }
    assert!(emissions > 0, "the Bollinger strategy emitted nothing");
    assert!(logs > 0, "the Bollinger strategy logged nothing");
    // Its three bands, once warm, at every tick: journaled, and replayed
    // identically above.
    assert!(series > 2_500, "{series} series points");
}

#[test]
fn a_run_with_failed_ticks_and_rebuilds_replays_identically() {
    let config = r#"{"attack": "panic", "at_sequence": 3}"#;
    assert_replays(Guest::Hostile, config, 10, Judge::AllowAll);
    assert_replays(Guest::EmaCrossover, "{}", 300, Judge::AllowAll);
}

/// The first tick whose journaled reads include a price, and the read's
/// position.
fn first_price_read(journal: &Journal, run: RunId) -> (u64, usize) {
    for sequence in journal.tick_sequences(run).unwrap() {
        let call = journal.call(run, Call::Tick(sequence)).unwrap();
        if let Some(position) = call.oracle_reads.iter().position(|r| r.read == "price") {
            return (sequence, position);
        }
    }
    panic!("no price read recorded");
}

#[test]
fn altering_one_recorded_oracle_value_is_reported_at_its_tick() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, run, _) = record(
        journal_file(&dir),
        Guest::RsiMomentum,
        &eager(),
        400,
        Judge::File(POLICY),
    );
    let (sequence, position) = first_price_read(&journal, run);
    drop(journal);

    // Someone edits the journal: ETH is suddenly worth 1000 BTC.
    let conn = rusqlite::Connection::open(dir.path().join("journal.db")).unwrap();
    let changed = conn
        .execute(
            "UPDATE oracle_reads SET response = '{\"Ok\":1000.0}'
             WHERE position = ?1 AND tick = (SELECT id FROM ticks WHERE deployment = ?2
                 AND call = 'tick' AND sequence = ?3)",
            rusqlite::params![position as i64, run.0, sequence as i64],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(conn);

    let journal = journal_file(&dir);
    match replay(&journal, run, runtime(), None) {
        Err(ReplayError::Diverged(divergence)) => {
            assert_eq!(divergence.call, Call::Tick(sequence), "{divergence}");
            assert!(divergence.field.starts_with("emissions["), "{divergence}");
            assert!(divergence.expected.contains("accepted"), "{divergence}");
            assert!(divergence.got.contains("VALUE_ABOVE_MAX"), "{divergence}");
        }
        other => panic!("expected a divergence, got {other:?}"),
    }
}

#[test]
fn replay_refuses_a_component_that_is_not_the_recorded_one() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, run, _) = record(
        journal_file(&dir),
        Guest::RsiMomentum,
        &eager(),
        20,
        Judge::AllowAll,
    );
    match replay(&journal, run, runtime(), Some(Guest::EmaCrossover.path())) {
        Err(ReplayError::ComponentMismatch {
            expected, found, ..
        }) => assert_ne!(expected, found),
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

/// Record the eager RSI run in `dir`, run `sql` (parameters: the run and
/// a tick's sequence) against the journal file, and replay: the
/// divergence replay reports.
fn tamper_and_replay(dir: &tempfile::TempDir, sequence: u64, sql: &str) -> Divergence {
    let (journal, run, _) = record(
        journal_file(dir),
        Guest::RsiMomentum,
        &eager(),
        200,
        Judge::File(POLICY),
    );
    drop(journal);
    let conn = rusqlite::Connection::open(dir.path().join("journal.db")).unwrap();
    let changed = conn
        .execute(sql, rusqlite::params![run.0, sequence as i64])
        .unwrap();
    assert_eq!(changed, 1, "{sql}");
    drop(conn);
    match replay(&journal_file(dir), run, runtime(), None) {
        Err(ReplayError::Diverged(divergence)) => divergence,
        other => panic!("expected a divergence, got {other:?}"),
    }
}

/// The `ticks` row of tick `?2` of run `?1`.
const TICK: &str =
    "(SELECT id FROM ticks WHERE deployment = ?1 AND call = 'tick' AND sequence = ?2)";

#[test]
fn altering_one_recorded_fuel_count_is_reported_at_its_tick() {
    let dir = tempfile::tempdir().unwrap();
    let divergence = tamper_and_replay(
        &dir,
        57,
        &format!("UPDATE ticks SET fuel_used = fuel_used + 1 WHERE id = {TICK}"),
    );
    assert_eq!(divergence.call, Call::Tick(57), "{divergence}");
    assert_eq!(divergence.field, "fuel", "{divergence}");
    let expected: u64 = divergence.expected.parse().unwrap();
    let got: u64 = divergence.got.parse().unwrap();
    assert_eq!(expected, got + 1, "{divergence}");
}

#[test]
fn altering_one_recorded_snapshot_is_reported_at_its_tick() {
    let dir = tempfile::tempdir().unwrap();
    let forged = "5".repeat(64);
    let divergence = tamper_and_replay(
        &dir,
        123,
        &format!("UPDATE snapshots SET sha256 = '{forged}' WHERE tick = {TICK}"),
    );
    assert_eq!(divergence.call, Call::Tick(123), "{divergence}");
    assert_eq!(divergence.field, "snapshot", "{divergence}");
    assert_eq!(divergence.expected, forged);
    assert_eq!(divergence.got.len(), 64, "{divergence}");
    assert_ne!(divergence.got, forged);

    // A tick whose snapshot reference was removed is reported too.
    let dir = tempfile::tempdir().unwrap();
    let divergence = tamper_and_replay(
        &dir,
        9,
        &format!("DELETE FROM snapshots WHERE tick = {TICK}"),
    );
    assert_eq!(
        (
            divergence.call,
            divergence.field.as_str(),
            divergence.expected.as_str()
        ),
        (Call::Tick(9), "snapshot", "nothing"),
        "{divergence}"
    );
}
