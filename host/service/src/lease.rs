//! Fenced deployment leases in PostgreSQL: the base of running several
//! `stratbox serve` workers on one database. A worker ticks a deployment
//! only while it holds the deployment's lease; every acquisition gets a
//! strictly larger fencing token, and a commit or a broadcast checks its
//! token against the database in the same transaction
//! ([`Leases::check_in`]), so a worker that lost its lease (paused past its
//! expiry, partitioned away) can never commit or send again, even if it
//! has not noticed yet. Expiry uses the database's clock only.

use std::time::Duration;

use postgres::{Client, GenericClient};

/// A lease held: what its holder presents with every commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The deployment (`tenant/id`).
    pub deployment: String,
    /// Who holds it.
    pub holder: String,
    /// The fencing token: larger than every earlier holder's.
    pub fence: i64,
}

/// Why a lease operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// The database failed.
    #[error("lease database: {0}")]
    Database(#[from] postgres::Error),
    /// The lease is held by another worker, or was taken over: this holder
    /// must stop ticking the deployment.
    #[error("the lease of {deployment} is not held with fence {fence}")]
    Lost {
        /// The deployment.
        deployment: String,
        /// The fence presented.
        fence: i64,
    },
}

/// The lease table.
pub struct Leases {
    client: Client,
}

impl std::fmt::Debug for Leases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leases").finish_non_exhaustive()
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS stratbox_leases (
    deployment TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    fence      BIGINT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
";

fn ttl_ms(ttl: Duration) -> f64 {
    ttl.as_secs_f64() * 1000.0
}

impl Leases {
    /// Use `client`'s database, creating the lease table if needed.
    pub fn new(mut client: Client) -> Result<Leases, LeaseError> {
        client.batch_execute(SCHEMA)?;
        Ok(Leases { client })
    }

    /// Take the lease of `deployment` for `holder` for `ttl`: granted if
    /// nobody holds it, its holder's time ran out, or `holder` holds it
    /// already. Each grant carries a new, larger fence. `None` while
    /// another holder's lease runs.
    pub fn acquire(
        &mut self,
        deployment: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, LeaseError> {
        let row = self.client.query_opt(
            "INSERT INTO stratbox_leases (deployment, holder, fence, expires_at)
             VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond')
             ON CONFLICT (deployment) DO UPDATE
                SET holder = excluded.holder,
                    fence = stratbox_leases.fence + 1,
                    expires_at = excluded.expires_at
                WHERE stratbox_leases.expires_at < now()
                   OR stratbox_leases.holder = excluded.holder
             RETURNING fence",
            &[&deployment, &holder, &ttl_ms(ttl)],
        )?;
        Ok(row.map(|row| Lease {
            deployment: deployment.to_owned(),
            holder: holder.to_owned(),
            fence: row.get(0),
        }))
    }

    /// Extend `lease` by `ttl`; [`LeaseError::Lost`] if it ran out or was
    /// taken over (its holder must stop at once).
    pub fn renew(&mut self, lease: &Lease, ttl: Duration) -> Result<(), LeaseError> {
        let renewed = self.client.execute(
            "UPDATE stratbox_leases SET expires_at = now() + $4 * interval '1 millisecond'
             WHERE deployment = $1 AND holder = $2 AND fence = $3 AND expires_at >= now()",
            &[&lease.deployment, &lease.holder, &lease.fence, &ttl_ms(ttl)],
        )?;
        if renewed == 1 {
            Ok(())
        } else {
            Err(lost(lease))
        }
    }

    /// Give `lease` up (another worker may take it at once). `false` if it
    /// was no longer held. The row stays, expired: its fence is where the
    /// next grant counts on from (a deleted row would start again at 1,
    /// and an old holder's token would be valid again).
    pub fn release(&mut self, lease: &Lease) -> Result<bool, LeaseError> {
        Ok(self.client.execute(
            "UPDATE stratbox_leases SET expires_at = '-infinity'
             WHERE deployment = $1 AND fence = $2 AND expires_at >= now()",
            &[&lease.deployment, &lease.fence],
        )? == 1)
    }

    /// Check, inside the transaction `tx` that commits a tick or records a
    /// broadcast, that `lease` is still held: the row is locked until `tx`
    /// ends, so no other worker can take the lease between this check and
    /// the commit. [`LeaseError::Lost`] otherwise: roll `tx` back.
    pub fn check_in(tx: &mut impl GenericClient, lease: &Lease) -> Result<(), LeaseError> {
        let held = tx.query_opt(
            "SELECT 1 FROM stratbox_leases
             WHERE deployment = $1 AND fence = $2 AND expires_at >= now()
             FOR SHARE",
            &[&lease.deployment, &lease.fence],
        )?;
        match held {
            Some(_) => Ok(()),
            None => Err(lost(lease)),
        }
    }

    /// The database connection (to open the transactions that
    /// [`Leases::check_in`] runs in).
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }
}

fn lost(lease: &Lease) -> LeaseError {
    LeaseError::Lost {
        deployment: lease.deployment.clone(),
        fence: lease.fence,
    }
}
