//! Replay re-executes a recorded run from the journal: it passes when
//! nothing changed, and names the first divergence when something did.

use stratbox_journal::{Call, Journal, ReplayError, RunId, replay};
use stratbox_test_artifacts::Guest;

use crate::support::{Judge, POLICY, eager, journal_file, record, runtime};

/// Record and replay; the guests a replay must reproduce. Python strategies
/// join this list once `stratbox-test-artifacts` builds them: a Python
/// component replays exactly like a Rust one.
fn assert_replays(guest: Guest, config: &str, candles: usize, judge: Judge) {
    let dir = tempfile::tempdir().unwrap();
    let (journal, run, _) = record(journal_file(&dir), guest, config, candles, judge);
    let summary = replay(&journal, run, runtime(), None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.ticks, candles as u64);
    assert_eq!(summary.fuel, journal.runs().unwrap()[0].fuel);
}

#[test]
fn a_recorded_run_replays_identically() {
    assert_replays(Guest::RsiMomentum, &eager(), 400, Judge::File(POLICY));
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
