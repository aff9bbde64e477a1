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

/// Remove every row of the run's ticks with `sequence >= from`.
fn remove_ticks_from(dir: &tempfile::TempDir, from: u64) {
    let ticks = format!("SELECT id FROM ticks WHERE call = 'tick' AND sequence >= {from}");
    sql(
        dir,
        &format!(
            "DELETE FROM oracle_reads WHERE tick IN ({ticks});
             DELETE FROM emissions WHERE tick IN ({ticks});
             DELETE FROM logs WHERE tick IN ({ticks});
             DELETE FROM snapshots WHERE tick IN ({ticks});
             DELETE FROM ticks WHERE call = 'tick' AND sequence >= {from};"
        ),
    );
}

#[test]
fn removing_a_runs_newest_ticks_is_detected_and_refused_at_resume() {
    for from in [59, 50] {
        let dir = tempfile::tempdir().unwrap();
        let run = keyed_run(&dir);
        remove_ticks_from(&dir, from);
        let mut journal = journal_file(&dir).with_chain_key(key(7));
        // What is left still links: only the anchor shows the loss.
        match journal.verify_chain(run) {
            Err(JournalError::Truncated {
                anchored: Call::Tick(59),
                ..
            }) => {}
            other => panic!("removing ticks {from}..: {other:?}"),
        }
        // Resuming from the earlier tick would release its actions again.
        let deployment = journal.run(run).unwrap().run.spec.id;
        assert!(matches!(
            journal.resumable_run(&deployment),
            Err(JournalError::Truncated { .. })
        ));
    }
}

#[test]
fn a_removed_or_edited_head_anchor_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = keyed_run(&dir);
    let head = stratbox_journal::head_file(&dir.path().join("journal.db"), run);
    let anchored = std::fs::read_to_string(&head).unwrap();
    // The attacker truncates the journal and points the anchor at what is
    // left, but cannot tag it without the host key.
    remove_ticks_from(&dir, 55);
    let conn = rusqlite::Connection::open(dir.path().join("journal.db")).unwrap();
    let link: Vec<u8> = conn
        .query_row(
            "SELECT chain FROM ticks WHERE call = 'tick' AND sequence = 54",
            [],
            |row| row.get(0),
        )
        .unwrap();
    drop(conn);
    let mut file: serde_json::Value = serde_json::from_str(&anchored).unwrap();
    file["anchor"]["sequence"] = 54.into();
    file["anchor"]["link"] = hex::encode(&link).into();
    let mut edited = file.to_string().into_bytes();
    edited.resize(anchored.len(), b' ');
    std::fs::write(&head, edited).unwrap();
    assert!(matches!(
        journal_file(&dir).with_chain_key(key(7)).verify_chain(run),
        Err(JournalError::HeadForged { .. })
    ));
    // Without its head file a run that holds calls cannot be checked.
    std::fs::remove_file(&head).unwrap();
    assert!(matches!(
        journal_file(&dir).with_chain_key(key(7)).verify_chain(run),
        Err(JournalError::HeadMissing { .. })
    ));
    // Nor can it be passed off as a run recorded before anchors existed.
    sql(&dir, "UPDATE deployments SET chain_version = 1");
    assert!(matches!(
        journal_file(&dir).with_chain_key(key(7)).verify_chain(run),
        Err(JournalError::ChainBroken {
            call: Call::Init,
            ..
        })
    ));
}

#[test]
fn an_unkeyed_run_is_anchored_too() {
    // Copying a journal without its WAL file loses its newest commits:
    // the anchor names what is missing.
    let dir = tempfile::tempdir().unwrap();
    let (journal, run, _) = record(
        journal_file(&dir),
        Guest::RsiMomentum,
        &eager(),
        20,
        Judge::AllowAll,
    );
    drop(journal);
    remove_ticks_from(&dir, 19);
    assert!(matches!(
        journal_file(&dir).verify_chain(run),
        Err(JournalError::Truncated {
            anchored: Call::Tick(19),
            ..
        })
    ));
}

#[test]
fn an_edited_series_point_breaks_the_chain_at_its_tick() {
    let dir = tempfile::tempdir().unwrap();
    let journal = journal_file(&dir).with_chain_key(key(7));
    let (journal, run, _) = record(journal, Guest::EmaCrossover, "{}", 80, Judge::AllowAll);
    let call = journal.call(run, Call::Tick(60)).unwrap();
    let names: Vec<_> = call.series.iter().map(|p| &*p.name).collect();
    assert_eq!(names, ["overlay:ema fast", "overlay:ema slow"]);
    drop(journal);
    sql(
        &dir,
        "UPDATE series SET value = value * 2 WHERE position = 0
           AND tick = (SELECT id FROM ticks WHERE call = 'tick' AND sequence = 60)",
    );
    assert!(matches!(
        journal_file(&dir).with_chain_key(key(7)).verify_chain(run),
        Err(JournalError::ChainBroken {
            call: Call::Tick(60),
            ..
        })
    ));
}
