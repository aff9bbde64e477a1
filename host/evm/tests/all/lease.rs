//! The daemon drives a deployment only while its process holds the
//! deployment's lease: a lost lease stops the deployment at its next tick,
//! and a deployment that ends releases its lease. No chain needed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use stratbox_evm::RpcUrl;
use stratbox_evm::daemon::{Schedule, ScheduledDeployment, run_scheduled};
use stratbox_journal::{HeldLease, Journal, LeaseHolder};

fn scheduled(lease: HeldLease, ticks: &Arc<AtomicU64>) -> ScheduledDeployment {
    let ticks = Arc::clone(ticks);
    ScheduledDeployment {
        id: "dep-1".into(),
        schedule: Schedule::EverySecs(1),
        rpc_url: RpcUrl::new("http://127.0.0.1:9"),
        rpc_timeout: Duration::from_secs(1),
        lease: Some(lease),
        tick: Box::new(move || {
            ticks.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }),
    }
}

#[test]
fn a_deployment_whose_lease_is_lost_stops_and_one_that_ends_releases_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    // Lost: another process removed (took over) the lease.
    let holder = LeaseHolder::new();
    let ttl = Duration::from_millis(300);
    let lease = HeldLease::acquire(Journal::open(&path).unwrap(), "dep-1", &holder, ttl).unwrap();
    let ticks = Arc::new(AtomicU64::new(0));
    let deployments = vec![scheduled(lease, &ticks)];
    let thief = LeaseHolder::new();
    let exits = tokio.block_on(async {
        let (path, thief) = (path.clone(), thief.clone());
        run_scheduled(
            deployments,
            async move {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                let mut other = Journal::open(&path).unwrap();
                assert!(other.release_lease("dep-1", &holder).unwrap());
                other
                    .acquire_lease("dep-1", &thief, Duration::from_secs(60))
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(2500)).await;
            },
            Duration::from_secs(5),
        )
        .await
    });
    assert_eq!(exits.len(), 1);
    assert!(exits[0].lease_lost, "{exits:?}");
    let before = ticks.load(Ordering::SeqCst);
    assert!(before >= 1, "ticked while it held the lease");
    assert!(
        before <= 3,
        "stopped ticking once the lease was lost: {before}"
    );
    // The new holder keeps it.
    let journal = Journal::open(&path).unwrap();
    assert_eq!(
        journal.lease("dep-1").unwrap().map(|l| l.holder),
        Some(thief.to_string())
    );
    drop(journal);

    // Ended: a graceful stop releases the lease.
    let other = dir.path().join("other.db");
    let holder = LeaseHolder::new();
    let lease = HeldLease::acquire(Journal::open(&other).unwrap(), "dep-1", &holder, ttl).unwrap();
    let ticks = Arc::new(AtomicU64::new(0));
    let exits = tokio.block_on(run_scheduled(
        vec![scheduled(lease, &ticks)],
        async { tokio::time::sleep(Duration::from_millis(1200)).await },
        Duration::from_secs(5),
    ));
    assert!(!exits[0].lease_lost && !exits[0].abandoned, "{exits:?}");
    assert!(ticks.load(Ordering::SeqCst) >= 1);
    assert_eq!(Journal::open(&other).unwrap().lease("dep-1").unwrap(), None);
}
