//! The schema is versioned and migrated on open; a newer one is refused.

use std::path::Path;

use stratbox_journal::{Journal, JournalError, SCHEMA_VERSION};

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[test]
fn a_new_journal_gets_the_latest_schema_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/journal.db");
    let journal = Journal::open(&path).unwrap();
    assert_eq!(journal.schema_version().unwrap(), SCHEMA_VERSION);
    drop(journal);
    let mode: String = raw(&path)
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    // Reopening migrates nothing and loses nothing.
    let journal = Journal::open(&path).unwrap();
    assert_eq!(journal.schema_version().unwrap(), SCHEMA_VERSION);
    assert!(journal.runs().unwrap().is_empty());
}

#[test]
fn every_table_of_the_issue_exists() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    drop(Journal::open(&path).unwrap());
    let conn = raw(&path);
    let mut statement = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap();
    let tables: Vec<String> = statement
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        tables,
        [
            "action_results",
            "deployments",
            "emissions",
            "leases",
            "logs",
            "oracle_reads",
            "policy_versions",
            "resumes",
            "series",
            "snapshots",
            "ticks",
            "tx_intents"
        ]
    );
}

#[test]
fn a_journal_from_a_newer_stratbox_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    drop(Journal::open(&path).unwrap());
    raw(&path)
        .pragma_update(None, "user_version", SCHEMA_VERSION + 7)
        .unwrap();
    match Journal::open(&path) {
        Err(JournalError::SchemaTooNew { found, supported }) => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 7, SCHEMA_VERSION));
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

#[test]
fn an_unversioned_database_is_migrated_from_scratch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    raw(&path)
        .execute_batch("CREATE TABLE unrelated (x INTEGER);")
        .unwrap();
    let journal = Journal::open(&path).unwrap();
    assert_eq!(journal.schema_version().unwrap(), SCHEMA_VERSION);
}
