//! The journal is tamper-evident: every call links to the one before it
//! (HMAC under a host-derived key for live runs), and an edit, a deletion
//! or an insertion after the fact is named at the first call that no
//! longer links, even by someone who recomputes the unkeyed links.

use stratbox_journal::{Call, ChainKey, JournalError, RunId};
use stratbox_test_artifacts::Guest;
use zeroize::Zeroizing;

use crate::support::{Judge, POLICY, eager, journal_file, record};

fn key(byte: u8) -> ChainKey {
    ChainKey::from_bytes(Zeroizing::new([byte; 32]))
}

/// A keyed RSI run of 60 ticks in a journal file in `dir`.
fn keyed_run(dir: &tempfile::TempDir) -> RunId {
    let journal = journal_file(dir).with_chain_key(key(7));
    let (journal, run, _) = record(
        journal,
        Guest::RsiMomentum,
        &eager(),
        60,
        Judge::File(POLICY),
    );
    let check = journal.verify_chain(run).unwrap();
    assert_eq!(check.calls, 61, "init and 60 ticks");
    assert!(check.keyed);
    run
}

fn sql(dir: &tempfile::TempDir, statement: &str) {
    let conn = rusqlite::Connection::open(dir.path().join("journal.db")).unwrap();
    let changed = conn.execute_batch(statement);
    changed.unwrap();
}

#[test]
fn an_edited_oracle_answer_breaks_the_chain_at_its_tick() {
    let dir = tempfile::tempdir().unwrap();
    let run = keyed_run(&dir);
    let conn = rusqlite::Connection::open(dir.path().join("journal.db")).unwrap();
    // The first recorded read of a tick past the twentieth.
    let (tick, sequence, position): (i64, i64, i64) = conn
        .query_row(
            "SELECT r.tick, t.sequence, r.position FROM oracle_reads r JOIN ticks t ON t.id = r.tick
             WHERE t.call = 'tick' AND t.sequence >= 20 ORDER BY t.sequence, r.position LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .unwrap();
    let changed = conn
        .execute(
            "UPDATE oracle_reads SET response = '{\"Ok\":1000.0}' WHERE tick = ?1 AND position = ?2",
            [tick, position],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(conn);
    let journal = journal_file(&dir).with_chain_key(key(7));
    match journal.verify_chain(run) {
        Err(JournalError::ChainBroken {
            call: Call::Tick(at),
            ..
        }) => assert_eq!(at, sequence as u64),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_deleted_tick_breaks_the_chain_at_the_next_one() {
    let dir = tempfile::tempdir().unwrap();
    let run = keyed_run(&dir);
    sql(
        &dir,
        "DELETE FROM oracle_reads WHERE tick = (SELECT id FROM ticks WHERE sequence = 20 AND call = 'tick');
         DELETE FROM emissions WHERE tick = (SELECT id FROM ticks WHERE sequence = 20 AND call = 'tick');
         DELETE FROM logs WHERE tick = (SELECT id FROM ticks WHERE sequence = 20 AND call = 'tick');
         DELETE FROM snapshots WHERE tick = (SELECT id FROM ticks WHERE sequence = 20 AND call = 'tick');
         DELETE FROM ticks WHERE sequence = 20 AND call = 'tick';",
    );
    let journal = journal_file(&dir).with_chain_key(key(7));
    assert!(matches!(
        journal.verify_chain(run),
        Err(JournalError::ChainBroken {
            call: Call::Tick(21),
            ..
        })
    ));
}

#[test]
fn a_keyed_run_cannot_be_passed_off_as_unkeyed_or_checked_without_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let run = keyed_run(&dir);
    // Without any key a keyed run is not verified as if it were unkeyed,
    // nor appended to.
    assert!(matches!(
        journal_file(&dir).verify_chain(run),
        Err(JournalError::ChainKeyMissing { .. })
    ));
    // A wrong key fails at the first call.
    assert!(matches!(
        journal_file(&dir).with_chain_key(key(9)).verify_chain(run),
        Err(JournalError::ChainBroken {
            call: Call::Init,
            ..
        })
    ));
    // Flipping the run to unkeyed does not make its HMAC links verify as
    // SHA-256 ones.
    sql(&dir, "UPDATE deployments SET chain_keyed = 0");
    assert!(matches!(
        journal_file(&dir).verify_chain(run),
        Err(JournalError::ChainBroken {
            call: Call::Init,
            ..
        })
    ));
}

#[test]
fn an_unkeyed_run_still_catches_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, run, _) = record(
        journal_file(&dir),
        Guest::RsiMomentum,
        &eager(),
        40,
        Judge::File(POLICY),
    );
    let check = journal.verify_chain(run).unwrap();
    assert!(!check.keyed);
    drop(journal);
    sql(
        &dir,
        "UPDATE ticks SET fuel_used = fuel_used + 1 WHERE call = 'tick' AND sequence = 5",
    );
    assert!(matches!(
        journal_file(&dir).verify_chain(run),
        Err(JournalError::ChainBroken {
            call: Call::Tick(5),
            ..
        })
    ));
}
