//! The control plane: tenants (their hashed tokens and quotas), the
//! bundles they uploaded and their deployments, in one SQLite database.
//! Every query is scoped by tenant: no statement here reads or changes
//! another tenant's rows.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, OptionalExtension, params};
use stratbox_runtime::bundle::Manifest;

use crate::config::Quotas;
use crate::error::ServiceError;
use crate::request::{DeploymentRequest, DeploymentState};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tenants (
    id TEXT PRIMARY KEY,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_ms INTEGER NOT NULL,
    max_deployments INTEGER NOT NULL,
    max_fuel_per_hour INTEGER NOT NULL,
    max_storage_bytes INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS bundles (
    tenant TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    uploaded_ms INTEGER NOT NULL,
    manifest TEXT NOT NULL,
    PRIMARY KEY (tenant, name)
);
CREATE TABLE IF NOT EXISTS deployments (
    tenant TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    request TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
);
";

/// A deployment's row.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentRow {
    /// Its tenant.
    pub tenant: String,
    /// Its id.
    pub id: String,
    /// What it was created with.
    pub request: DeploymentRequest,
    /// Its state.
    pub state: DeploymentState,
    /// Why it failed.
    pub reason: Option<String>,
    /// Creation time, ms since the Unix epoch.
    pub created_ms: u64,
}

/// A bundle's row.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BundleRow {
    /// Its authenticated manifest.
    pub manifest: Manifest,
    /// Size of the sealed bundle.
    pub size_bytes: u64,
    /// Upload time, ms since the Unix epoch.
    pub uploaded_ms: u64,
}

/// The control plane database.
#[derive(Debug)]
pub struct ControlPlane {
    conn: Mutex<Connection>,
}

impl ControlPlane {
    /// Open (creating if needed, owner-only) the database at `path`.
    pub fn open(path: &Path) -> Result<ControlPlane, ServiceError> {
        // Token hashes and quotas: created owner-only whatever the umask
        // (SQLite gives its WAL files the same mode).
        stratbox_journal::private_file(path, true).map_err(|source| ServiceError::Io {
            action: "creating",
            path: path.to_owned(),
            source,
        })?;
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(ControlPlane {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Create tenant `id` whose token hashes to `token_sha256`. `false`
    /// if the id is taken.
    pub fn create_tenant(
        &self,
        id: &str,
        token_sha256: &str,
        quotas: Quotas,
    ) -> Result<bool, rusqlite::Error> {
        let inserted = self.conn().execute(
            "INSERT OR IGNORE INTO tenants
             (id, token_sha256, created_ms, max_deployments, max_fuel_per_hour, max_storage_bytes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                id,
                token_sha256,
                now_ms() as i64,
                quotas.deployments as i64,
                quotas.fuel_per_hour as i64,
                quotas.storage_bytes as i64
            ],
        )?;
        Ok(inserted == 1)
    }

    /// The tenant whose token hashes to `token_sha256`.
    pub fn tenant_for_token(&self, token_sha256: &str) -> Result<Option<String>, rusqlite::Error> {
        self.conn()
            .query_row(
                "SELECT id FROM tenants WHERE token_sha256 = ?1",
                [token_sha256],
                |row| row.get(0),
            )
            .optional()
    }

    /// Every tenant id, sorted.
    pub fn tenants(&self) -> Result<Vec<String>, rusqlite::Error> {
        let conn = self.conn();
        let mut statement = conn.prepare("SELECT id FROM tenants ORDER BY id")?;
        statement.query_map([], |row| row.get(0))?.collect()
    }

    /// A tenant's quotas.
    pub fn quotas(&self, tenant: &str) -> Result<Option<Quotas>, rusqlite::Error> {
        self.conn()
            .query_row(
                "SELECT max_deployments, max_fuel_per_hour, max_storage_bytes
                 FROM tenants WHERE id = ?1",
                [tenant],
                |row| {
                    Ok(Quotas {
                        deployments: row.get::<_, i64>(0)? as u64,
                        fuel_per_hour: row.get::<_, i64>(1)? as u64,
                        storage_bytes: row.get::<_, i64>(2)? as u64,
                    })
                },
            )
            .optional()
    }

    /// Record (or replace) tenant `tenant`'s bundle.
    pub fn put_bundle(
        &self,
        tenant: &str,
        manifest: &Manifest,
        size_bytes: u64,
    ) -> Result<(), rusqlite::Error> {
        let manifest_json = serde_json::to_string(manifest)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        self.conn().execute(
            "INSERT INTO bundles (tenant, name, size_bytes, uploaded_ms, manifest)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (tenant, name) DO UPDATE SET
                size_bytes = excluded.size_bytes,
                uploaded_ms = excluded.uploaded_ms,
                manifest = excluded.manifest",
            params![
                tenant,
                manifest.name,
                size_bytes as i64,
                now_ms() as i64,
                manifest_json
            ],
        )?;
        Ok(())
    }

    /// Bytes of the tenant's bundles, `except` the one named so (which an
    /// upload replaces).
    pub fn storage_bytes(&self, tenant: &str, except: &str) -> Result<u64, rusqlite::Error> {
        self.conn().query_row(
            "SELECT COALESCE(SUM(size_bytes), 0) FROM bundles WHERE tenant = ?1 AND name != ?2",
            params![tenant, except],
            |row| row.get::<_, i64>(0).map(|n| n as u64),
        )
    }

    /// The tenant's bundle `name`.
    pub fn bundle(&self, tenant: &str, name: &str) -> Result<Option<BundleRow>, rusqlite::Error> {
        self.conn()
            .query_row(
                "SELECT manifest, size_bytes, uploaded_ms FROM bundles
                 WHERE tenant = ?1 AND name = ?2",
                params![tenant, name],
                bundle_row,
            )
            .optional()
    }

    /// The tenant's bundles, by name.
    pub fn bundles(&self, tenant: &str) -> Result<Vec<BundleRow>, rusqlite::Error> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT manifest, size_bytes, uploaded_ms FROM bundles
             WHERE tenant = ?1 ORDER BY name",
        )?;
        statement.query_map([tenant], bundle_row)?.collect()
    }

    /// Record a new deployment; `false` if the tenant already has one with
    /// its id.
    pub fn insert_deployment(
        &self,
        tenant: &str,
        request: &DeploymentRequest,
        state: DeploymentState,
    ) -> Result<bool, rusqlite::Error> {
        let json = serde_json::to_string(request)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        let inserted = self.conn().execute(
            "INSERT OR IGNORE INTO deployments (tenant, id, request, state, created_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![tenant, request.id, json, state.as_str(), now_ms() as i64],
        )?;
        Ok(inserted == 1)
    }

    /// Set a deployment's state (and why, for `failed`).
    pub fn set_state(
        &self,
        tenant: &str,
        id: &str,
        state: DeploymentState,
        reason: Option<&str>,
    ) -> Result<(), rusqlite::Error> {
        self.conn().execute(
            "UPDATE deployments SET state = ?3, reason = ?4 WHERE tenant = ?1 AND id = ?2",
            params![tenant, id, state.as_str(), reason],
        )?;
        Ok(())
    }

    /// Move a deployment to `to` only if its state is one of `from`
    /// (compare and set): whether it moved. The API and the workers change
    /// states concurrently (a pause while a worker records a failure); a
    /// transition decided on a state that has changed since is refused
    /// instead of overwriting it.
    pub fn transition(
        &self,
        tenant: &str,
        id: &str,
        from: &[DeploymentState],
        to: DeploymentState,
        reason: Option<&str>,
    ) -> Result<bool, rusqlite::Error> {
        let mut moved = false;
        let conn = self.conn();
        for state in from {
            moved |= conn.execute(
                "UPDATE deployments SET state = ?4, reason = ?5 \
                 WHERE tenant = ?1 AND id = ?2 AND state = ?3",
                params![tenant, id, state.as_str(), to.as_str(), reason],
            )? == 1;
            if moved {
                break;
            }
        }
        Ok(moved)
    }

    /// Forget a deployment.
    pub fn delete_deployment(&self, tenant: &str, id: &str) -> Result<bool, rusqlite::Error> {
        Ok(self.conn().execute(
            "DELETE FROM deployments WHERE tenant = ?1 AND id = ?2",
            params![tenant, id],
        )? == 1)
    }

    /// The tenant's deployment `id`.
    pub fn deployment(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<DeploymentRow>, rusqlite::Error> {
        self.conn()
            .query_row(
                "SELECT tenant, id, request, state, reason, created_ms FROM deployments
                 WHERE tenant = ?1 AND id = ?2",
                params![tenant, id],
                deployment_row,
            )
            .optional()
    }

    /// The tenant's deployments, by id.
    pub fn deployments(&self, tenant: &str) -> Result<Vec<DeploymentRow>, rusqlite::Error> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT tenant, id, request, state, reason, created_ms FROM deployments
             WHERE tenant = ?1 ORDER BY id",
        )?;
        statement.query_map([tenant], deployment_row)?.collect()
    }

    /// Every tenant's deployments in a loaded state (running or paused):
    /// what a starting service puts back on its workers.
    pub fn loaded_deployments(&self) -> Result<Vec<DeploymentRow>, rusqlite::Error> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT tenant, id, request, state, reason, created_ms FROM deployments
             WHERE state IN ('running', 'paused') ORDER BY tenant, id",
        )?;
        statement.query_map([], deployment_row)?.collect()
    }

    /// Deployments the tenant has (any state).
    pub fn deployment_count(&self, tenant: &str) -> Result<u64, rusqlite::Error> {
        self.conn().query_row(
            "SELECT COUNT(*) FROM deployments WHERE tenant = ?1",
            [tenant],
            |row| row.get::<_, i64>(0).map(|n| n as u64),
        )
    }
}

fn bundle_row(row: &rusqlite::Row<'_>) -> Result<BundleRow, rusqlite::Error> {
    let manifest: String = row.get(0)?;
    Ok(BundleRow {
        manifest: serde_json::from_str(&manifest).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })?,
        size_bytes: row.get::<_, i64>(1)? as u64,
        uploaded_ms: row.get::<_, i64>(2)? as u64,
    })
}

fn deployment_row(row: &rusqlite::Row<'_>) -> Result<DeploymentRow, rusqlite::Error> {
    let request: String = row.get(2)?;
    let state: String = row.get(3)?;
    let conversion = |index, error: Box<dyn std::error::Error + Send + Sync>| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, error)
    };
    Ok(DeploymentRow {
        tenant: row.get(0)?,
        id: row.get(1)?,
        request: serde_json::from_str(&request).map_err(|e| conversion(2, Box::new(e)))?,
        state: DeploymentState::parse(&state)
            .ok_or_else(|| conversion(3, format!("unknown state `{state}`").into()))?,
        reason: row.get(4)?,
        created_ms: row.get::<_, i64>(5)? as u64,
    })
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    stratbox_journal::now_ms()
}
