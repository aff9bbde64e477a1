//! One writer per deployment: a lease in the journal, taken in a
//! transaction, renewed while held, released on exit and taken over once it
//! expires.

use std::time::Duration;

use stratbox_journal::{HeldLease, Journal, JournalError, LeaseHolder};

const LONG: Duration = Duration::from_secs(60);

fn journal(dir: &tempfile::TempDir) -> Journal {
    Journal::open(&dir.path().join("journal.db")).unwrap()
}

#[test]
fn a_second_holder_is_refused_while_the_lease_is_held() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (LeaseHolder::new(), LeaseHolder::new());
    assert_ne!(first, second, "holder ids are unique within a process");
    let mut a = journal(&dir);
    let mut b = journal(&dir);
    let taken = a.acquire_lease("dep-1", &first, LONG).unwrap();
    assert_eq!(taken.holder, first.to_string());
    match b.acquire_lease("dep-1", &second, LONG) {
        Err(JournalError::LeaseHeld {
            deployment, holder, ..
        }) => {
            assert_eq!(deployment, "dep-1");
            assert_eq!(holder, first.to_string());
        }
        other => panic!("expected LeaseHeld, got {other:?}"),
    }
    // The error names the deployment and the holder.
    let error = b.acquire_lease("dep-1", &second, LONG).unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("dep-1") && text.contains(&first.to_string()),
        "{text}"
    );
    // Another deployment in the same journal is independent.
    b.acquire_lease("dep-2", &second, LONG).unwrap();
    assert_eq!(
        b.leases()
            .unwrap()
            .into_iter()
            .map(|l| (l.deployment, l.holder))
            .collect::<Vec<_>>(),
        [
            ("dep-1".to_owned(), first.to_string()),
            ("dep-2".to_owned(), second.to_string())
        ]
    );
    // The holder itself may take it again (a restart within one process).
    a.acquire_lease("dep-1", &first, LONG).unwrap();
    assert_eq!(
        b.lease("dep-1").unwrap().map(|l| l.holder),
        Some(first.to_string())
    );
}

#[test]
fn a_released_lease_can_be_taken() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (LeaseHolder::new(), LeaseHolder::new());
    let mut a = journal(&dir);
    let mut b = journal(&dir);
    a.acquire_lease("dep-1", &first, LONG).unwrap();
    // Only its holder releases it.
    assert!(!b.release_lease("dep-1", &second).unwrap());
    assert!(b.acquire_lease("dep-1", &second, LONG).is_err());
    assert!(a.release_lease("dep-1", &first).unwrap());
    assert_eq!(a.lease("dep-1").unwrap(), None);
    b.acquire_lease("dep-1", &second, LONG).unwrap();
}

#[test]
fn an_expired_lease_is_taken_over_and_its_old_holder_cannot_renew_it() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (LeaseHolder::new(), LeaseHolder::new());
    let mut a = journal(&dir);
    let mut b = journal(&dir);
    a.acquire_lease("dep-1", &first, Duration::from_millis(100))
        .unwrap();
    assert!(b.acquire_lease("dep-1", &second, LONG).is_err());
    std::thread::sleep(Duration::from_millis(250));
    b.acquire_lease("dep-1", &second, LONG).unwrap();
    match a.renew_lease("dep-1", &first, LONG) {
        Err(JournalError::LeaseLost { deployment, holder }) => {
            assert_eq!(deployment, "dep-1");
            assert_eq!(holder, Some(second.to_string()));
        }
        other => panic!("expected LeaseLost, got {other:?}"),
    }
}

#[test]
fn renewing_keeps_a_short_lease_alive() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (LeaseHolder::new(), LeaseHolder::new());
    let mut a = journal(&dir);
    let mut b = journal(&dir);
    let ttl = Duration::from_millis(300);
    let taken = a.acquire_lease("dep-1", &first, ttl).unwrap();
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(120));
        let renewed = a.renew_lease("dep-1", &first, ttl).unwrap();
        assert!(renewed.expires_ms > taken.expires_ms);
        assert!(b.acquire_lease("dep-1", &second, LONG).is_err());
    }
}

#[test]
fn a_held_lease_renews_itself_and_releases_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (LeaseHolder::new(), LeaseHolder::new());
    let ttl = Duration::from_millis(300);
    let held = HeldLease::acquire(journal(&dir), "dep-1", &first, ttl).unwrap();
    assert_eq!(held.deployment(), "dep-1");
    let mut b = journal(&dir);
    // Well past the first expiry, the keep-alive thread has renewed it.
    std::thread::sleep(Duration::from_millis(800));
    assert!(!held.is_lost());
    assert!(matches!(
        b.acquire_lease("dep-1", &second, LONG),
        Err(JournalError::LeaseHeld { .. })
    ));
    drop(held);
    assert_eq!(b.lease("dep-1").unwrap(), None);
    b.acquire_lease("dep-1", &second, LONG).unwrap();
}

#[test]
fn a_held_lease_refuses_like_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (LeaseHolder::new(), LeaseHolder::new());
    let _held = HeldLease::acquire(journal(&dir), "dep-1", &first, LONG).unwrap();
    match HeldLease::acquire(journal(&dir), "dep-1", &second, LONG) {
        Err(JournalError::LeaseHeld { holder, .. }) => assert_eq!(holder, first.to_string()),
        other => panic!(
            "expected LeaseHeld, got {:?}",
            other.map(|h| h.deployment().to_owned())
        ),
    }
}

/// Point the lease's pid at `pid`, as if another process of this machine
/// held it.
fn held_by_pid(dir: &tempfile::TempDir, pid: u32) {
    let conn = rusqlite::Connection::open(dir.path().join("journal.db")).unwrap();
    let changed = conn.execute("UPDATE leases SET pid = ?1", [pid]).unwrap();
    assert_eq!(changed, 1);
}

#[cfg(unix)]
#[test]
fn the_lease_of_a_dead_process_on_this_machine_is_taken_over_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (LeaseHolder::new(), LeaseHolder::new());
    let mut a = journal(&dir);
    let mut b = journal(&dir);
    a.acquire_lease("dep-1", &first, LONG).unwrap();
    // A live process holds it: refused.
    let mut alive = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    held_by_pid(&dir, alive.id());
    assert!(matches!(
        b.acquire_lease("dep-1", &second, LONG),
        Err(JournalError::LeaseHeld { .. })
    ));
    // It dies (SIGKILL, no release): taken over without waiting.
    alive.kill().unwrap();
    alive.wait().unwrap();
    b.acquire_lease("dep-1", &second, LONG).unwrap();
    assert_eq!(
        b.lease("dep-1").unwrap().map(|l| l.holder),
        Some(second.to_string())
    );
}
