//! One writer per deployment: a lease row in the journal names the process
//! that drives a deployment and until when. It is taken in an immediate
//! (write-locked) transaction, so two processes racing for it cannot both
//! win; renewed while its holder runs; released on a graceful exit; and
//! taken over by anyone once it has expired (its holder hung), or at once
//! when its holder was a process of this machine that no longer exists
//! (it crashed or was killed).

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use crate::error::{JournalError, from_sql_int, sql_int};
use crate::journal::{Journal, now_ms};

/// Who holds a lease: this process (pid and host name) and a random part,
/// unique per value (two daemons, or two holders in one process, never
/// share one).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LeaseHolder {
    id: String,
    pid: u32,
    host: String,
}

impl LeaseHolder {
    /// A fresh holder id for this process: `pid <pid> on <host> (<random hex>)`.
    pub fn new() -> LeaseHolder {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        // `RandomState` is seeded from the OS's randomness once per
        // process and advanced per value; the counter and the clock make
        // every id of one process distinct even so.
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        let pid = std::process::id();
        let host = host_name();
        LeaseHolder {
            id: format!("pid {pid} on {host} ({:016x})", hasher.finish()),
            pid,
            host,
        }
    }

    /// The id as stored in the journal.
    pub fn as_str(&self) -> &str {
        &self.id
    }
}

impl Default for LeaseHolder {
    fn default() -> LeaseHolder {
        LeaseHolder::new()
    }
}

impl std::fmt::Display for LeaseHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.id)
    }
}

/// This machine's name, to tell whether a holder's pid can be checked
/// here; empty if unknown (then no pid is checked).
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .unwrap_or_default()
}

/// Whether process `pid` of this machine is gone (it crashed or was
/// killed without releasing its lease).
#[cfg(unix)]
fn process_gone(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    matches!(
        rustix::process::test_kill_process(pid),
        Err(rustix::io::Errno::SRCH)
    )
}

#[cfg(not(unix))]
fn process_gone(_pid: u32) -> bool {
    false
}

/// A lease as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The deployment id it is for.
    pub deployment: String,
    /// Its holder ([`LeaseHolder`] as text).
    pub holder: String,
    /// When the holder took it (ms since the Unix epoch).
    pub acquired_ms: u64,
    /// When it expires unless renewed (ms since the Unix epoch).
    pub expires_ms: u64,
}

fn ttl_ms(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX)
}

impl Journal {
    /// Take the lease on `deployment` for `holder`, valid for `ttl`. Fails
    /// with [`JournalError::LeaseHeld`] if another holder's lease has not
    /// expired; a holder may take its own lease again.
    pub fn acquire_lease(
        &mut self,
        deployment: &str,
        holder: &LeaseHolder,
        ttl: Duration,
    ) -> Result<Lease, JournalError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = now_ms();
        if let Some(current) = select(&tx, deployment)?
            && current.holder != holder.as_str()
            && current.expires_ms > now
            && !holder_gone(&tx, deployment, holder)?
        {
            return Err(JournalError::LeaseHeld {
                deployment: deployment.to_owned(),
                holder: current.holder,
                expires_ms: current.expires_ms,
            });
        }
        let lease = Lease {
            deployment: deployment.to_owned(),
            holder: holder.to_string(),
            acquired_ms: now,
            expires_ms: now.saturating_add(ttl_ms(ttl)),
        };
        tx.execute(
            "INSERT INTO leases (deployment, holder, pid, host, acquired_ms, expires_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (deployment) DO UPDATE SET
                 holder = excluded.holder,
                 pid = excluded.pid,
                 host = excluded.host,
                 acquired_ms = excluded.acquired_ms,
                 expires_ms = excluded.expires_ms",
            params![
                lease.deployment,
                lease.holder,
                holder.pid,
                holder.host,
                sql_int("time", lease.acquired_ms)?,
                sql_int("time", lease.expires_ms)?,
            ],
        )?;
        tx.commit()?;
        Ok(lease)
    }

    /// Extend `holder`'s lease on `deployment` to `ttl` from now. Fails
    /// with [`JournalError::LeaseLost`] if the lease is gone or another
    /// holder has it (it expired and was taken over): the caller must stop
    /// driving the deployment.
    pub fn renew_lease(
        &mut self,
        deployment: &str,
        holder: &LeaseHolder,
        ttl: Duration,
    ) -> Result<Lease, JournalError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let Some(mut lease) = select(&tx, deployment)?.filter(|l| l.holder == holder.as_str())
        else {
            let holder = select(&tx, deployment)?.map(|l| l.holder);
            return Err(JournalError::LeaseLost {
                deployment: deployment.to_owned(),
                holder,
            });
        };
        lease.expires_ms = now_ms().saturating_add(ttl_ms(ttl));
        tx.execute(
            "UPDATE leases SET expires_ms = ?3 WHERE deployment = ?1 AND holder = ?2",
            params![deployment, lease.holder, sql_int("time", lease.expires_ms)?],
        )?;
        tx.commit()?;
        Ok(lease)
    }

    /// Give up `holder`'s lease on `deployment`; `false` if it did not
    /// hold it (nothing changes then).
    pub fn release_lease(
        &mut self,
        deployment: &str,
        holder: &LeaseHolder,
    ) -> Result<bool, JournalError> {
        let deleted = self.conn.execute(
            "DELETE FROM leases WHERE deployment = ?1 AND holder = ?2",
            params![deployment, holder.as_str()],
        )?;
        Ok(deleted > 0)
    }

    /// The lease on `deployment`, expired or not, if any.
    pub fn lease(&self, deployment: &str) -> Result<Option<Lease>, JournalError> {
        select(&self.conn, deployment)
    }

    /// Every lease in the journal, expired or not, by deployment id.
    pub fn leases(&self) -> Result<Vec<Lease>, JournalError> {
        let mut statement = self.conn.prepare(
            "SELECT deployment, holder, acquired_ms, expires_ms FROM leases ORDER BY deployment",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, i64>(3)?,
            ))
        })?;
        rows.map(|row| {
            let (deployment, holder, acquired, expires) = row?;
            Ok(Lease {
                deployment,
                holder,
                acquired_ms: from_sql_int("time", acquired)?,
                expires_ms: from_sql_int("time", expires)?,
            })
        })
        .collect()
    }
}

/// Whether the current holder of `deployment`'s lease is a process of
/// this machine (same host name as `us`) that no longer exists: its lease
/// is taken over at once rather than at expiry.
fn holder_gone(
    conn: &rusqlite::Connection,
    deployment: &str,
    us: &LeaseHolder,
) -> Result<bool, JournalError> {
    if us.host.is_empty() {
        return Ok(false);
    }
    let row: Option<(u32, String)> = conn
        .query_row(
            "SELECT pid, host FROM leases WHERE deployment = ?1",
            [deployment],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    Ok(row.is_some_and(|(pid, host)| host == us.host && pid != us.pid && process_gone(pid)))
}

fn select(conn: &rusqlite::Connection, deployment: &str) -> Result<Option<Lease>, JournalError> {
    let row = conn
        .query_row(
            "SELECT holder, acquired_ms, expires_ms FROM leases WHERE deployment = ?1",
            [deployment],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            },
        )
        .optional()?;
    row.map(|(holder, acquired, expires)| {
        Ok(Lease {
            deployment: deployment.to_owned(),
            holder,
            acquired_ms: from_sql_int("time", acquired)?,
            expires_ms: from_sql_int("time", expires)?,
        })
    })
    .transpose()
}

/// A lease held for as long as this value lives: a thread renews it every
/// third of its time to live, on its own journal connection; dropping it
/// (or [`HeldLease::release`]) stops the renewals and releases the lease.
/// If a renewal finds the lease taken over, [`HeldLease::is_lost`] turns
/// true and the holder must stop driving the deployment.
#[derive(Debug)]
pub struct HeldLease {
    deployment: String,
    holder: LeaseHolder,
    lost: Arc<AtomicBool>,
    stop: Option<Sender<()>>,
    keeper: Option<JoinHandle<()>>,
    journal: Arc<Mutex<Journal>>,
}

impl HeldLease {
    /// Take the lease on `deployment` in `journal` (a connection the lease
    /// keeps for itself) and keep it alive in the background.
    pub fn acquire(
        mut journal: Journal,
        deployment: &str,
        holder: &LeaseHolder,
        ttl: Duration,
    ) -> Result<HeldLease, JournalError> {
        journal.acquire_lease(deployment, holder, ttl)?;
        let journal = Arc::new(Mutex::new(journal));
        let lost = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = mpsc::channel::<()>();
        let keeper = {
            let (journal, lost) = (Arc::clone(&journal), Arc::clone(&lost));
            let (deployment, holder) = (deployment.to_owned(), holder.clone());
            let every = (ttl / 3).max(Duration::from_millis(10));
            std::thread::Builder::new()
                .name(format!("lease-{deployment}"))
                .spawn(move || {
                    while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                        let renewed = journal
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .renew_lease(&deployment, &holder, ttl);
                        match renewed {
                            Ok(_) => {}
                            Err(error @ JournalError::LeaseLost { .. }) => {
                                lost.store(true, Ordering::SeqCst);
                                tracing::error!(%deployment, %error, "lease lost: another process drives this deployment");
                                return;
                            }
                            // A busy or failing disk: try again next time,
                            // the lease lasts three renewal periods.
                            Err(error) => {
                                tracing::warn!(%deployment, %error, "lease renewal failed");
                            }
                        }
                    }
                })
                .map_err(|source| JournalError::Thread { source })?
        };
        Ok(HeldLease {
            deployment: deployment.to_owned(),
            holder: holder.clone(),
            lost,
            stop: Some(stop),
            keeper: Some(keeper),
            journal,
        })
    }

    /// The deployment the lease is for.
    pub fn deployment(&self) -> &str {
        &self.deployment
    }

    /// Its holder.
    pub fn holder(&self) -> &LeaseHolder {
        &self.holder
    }

    /// Whether a renewal found the lease taken over by another holder.
    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// Stop renewing and release the lease now.
    pub fn release(mut self) -> Result<bool, JournalError> {
        self.stop_renewing();
        self.journal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .release_lease(&self.deployment, &self.holder)
    }

    fn stop_renewing(&mut self) {
        drop(self.stop.take());
        if let Some(keeper) = self.keeper.take() {
            let _ = keeper.join();
        }
    }
}

impl Drop for HeldLease {
    fn drop(&mut self) {
        if self.keeper.is_none() {
            return; // released already
        }
        self.stop_renewing();
        let released = self
            .journal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .release_lease(&self.deployment, &self.holder);
        if let Err(error) = released {
            tracing::warn!(deployment = %self.deployment, %error, "could not release the lease; it expires on its own");
        }
    }
}
