//! Fenced leases against a real PostgreSQL server: one holder at a time,
//! a larger fence at every grant, and a holder that lost its lease can
//! neither renew nor commit, even inside a transaction it opened before.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use stratbox_service::lease::{LeaseError, Leases};

use crate::postgres::PgServer;

#[test]
fn one_holder_at_a_time_and_a_stale_fence_never_commits() {
    let server = PgServer::start();
    let mut a = Leases::new(server.connect()).expect("leases");
    let mut b = Leases::new(server.connect()).expect("leases");
    let ttl = Duration::from_millis(400);

    let first = a
        .acquire("alice/d", "worker-a", ttl)
        .unwrap()
        .expect("granted");
    assert!(
        b.acquire("alice/d", "worker-b", ttl).unwrap().is_none(),
        "held by a"
    );
    a.renew(&first, ttl).expect("a renews");
    {
        let mut tx = a.client().transaction().unwrap();
        Leases::check_in(&mut tx, &first).expect("a may commit");
        tx.commit().unwrap();
    }
    // Another deployment is independent.
    assert!(b.acquire("alice/other", "worker-b", ttl).unwrap().is_some());

    // a stops renewing (a pause, a partition): b takes over once it runs out.
    std::thread::sleep(Duration::from_millis(600));
    let second = b
        .acquire("alice/d", "worker-b", ttl)
        .unwrap()
        .expect("taken over");
    assert!(second.fence > first.fence, "{second:?} after {first:?}");
    assert!(matches!(a.renew(&first, ttl), Err(LeaseError::Lost { .. })));
    let mut tx = a.client().transaction().unwrap();
    assert!(matches!(
        Leases::check_in(&mut tx, &first),
        Err(LeaseError::Lost { .. })
    ));
    drop(tx);
    let mut tx = b.client().transaction().unwrap();
    Leases::check_in(&mut tx, &second).expect("b may commit");
    tx.commit().unwrap();

    // Released: taken at once, with a larger fence still.
    assert!(b.release(&second).unwrap());
    let third = a
        .acquire("alice/d", "worker-a", ttl)
        .unwrap()
        .expect("granted");
    assert!(third.fence > second.fence);
}

#[test]
fn a_takeover_waits_for_the_commit_that_checked_the_lease() {
    let server = PgServer::start();
    let mut a = Leases::new(server.connect()).expect("leases");
    let mut b = Leases::new(server.connect()).expect("leases");
    let ttl = Duration::from_millis(200);
    let lease = a
        .acquire("alice/d", "worker-a", ttl)
        .unwrap()
        .expect("granted");
    let committed = Arc::new(AtomicBool::new(false));

    let mut tx = a.client().transaction().unwrap();
    Leases::check_in(&mut tx, &lease).expect("held");
    // The lease runs out while a's commit is in flight: b must not get it
    // before that commit ends.
    std::thread::sleep(Duration::from_millis(300));
    let seen = Arc::clone(&committed);
    let taker = std::thread::spawn(move || {
        let granted = b
            .acquire("alice/d", "worker-b", Duration::from_secs(5))
            .unwrap()
            .expect("granted after a's commit");
        (granted, seen.load(Ordering::SeqCst))
    });
    std::thread::sleep(Duration::from_millis(300));
    committed.store(true, Ordering::SeqCst);
    tx.commit().unwrap();
    let (granted, after_commit) = taker.join().unwrap();
    assert!(
        after_commit,
        "the takeover happened before a's commit ended"
    );
    assert!(granted.fence > lease.fence);
}
