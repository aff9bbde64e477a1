//! The service itself: the control plane, the tenants' stores, the runtime
//! and the scheduler, and every operation the API offers, each scoped to
//! one tenant. Operations are blocking (they compile components and write
//! databases); the API runs them off its async threads.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use stratbox_backtest::PaperMarketConfig;
use stratbox_evm::durable::{Durable, snapshot_name};
use stratbox_journal::{Call, CallRecord, ChainKey, Journal, JournalError};
use stratbox_runtime::{
    DeploymentSpec, LimitClass, Limits, Runtime, StrategyComponent, bundle::Language,
};
use stratbox_store::{Store, StoreKey};

use crate::auth;
use crate::config::{Quotas, ServiceConfig};
use crate::control::{BundleRow, ControlPlane, DeploymentRow};
use crate::error::{ApiError, ErrorCode, ServiceError};
use crate::metrics::Metrics;
use crate::paper::{Feeds, PaperPlan, paper_assets};
use crate::request::{
    DeploymentRequest, DeploymentState, DeploymentStatus, MIN_EVERY_MS, VenueRequest, is_valid_id,
};
use crate::scheduler::{Key, ScheduleError, Scheduler};

/// Largest page of ticks or logs.
pub const MAX_PAGE: usize = 500;

/// The running service.
pub struct Service {
    config: ServiceConfig,
    control: Arc<ControlPlane>,
    key: Arc<dyn StoreKey>,
    public_key: Option<String>,
    chain_key: ChainKey,
    runtime: Arc<Runtime>,
    stores: Mutex<HashMap<String, Store>>,
    /// Compiled strategies by tenant and bundle SHA-256: thousands of
    /// deployments of one bundle share one compiled component.
    components: Mutex<HashMap<(String, String), StrategyComponent>>,
    feeds: Feeds,
    metrics: Arc<Metrics>,
    scheduler: Scheduler,
    /// Serializes changes to deployments (create, state changes, delete),
    /// so two requests on one deployment never interleave.
    changes: Mutex<()>,
    /// The data directory's lock, held for the service's life: one
    /// process ticks a directory's deployments.
    _lock: std::fs::File,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("data_dir", &self.config.data_dir)
            .finish_non_exhaustive()
    }
}

impl Service {
    /// Open the service's data directory with the host's secret `key`
    /// (its public half, `public_key`, is what authors seal bundles to),
    /// start the workers, and put back every deployment that was running
    /// or paused, each resuming its journal's last run.
    pub fn open(
        config: ServiceConfig,
        key: Arc<dyn StoreKey>,
        public_key: Option<String>,
    ) -> Result<Service, ServiceError> {
        let host_keys = key.host_keys().ok_or(ServiceError::NotHostKey)?;
        std::fs::create_dir_all(&config.data_dir).map_err(|source| ServiceError::Io {
            action: "creating",
            path: config.data_dir.clone(),
            source,
        })?;
        let lock = lock_data_dir(&config.data_dir)?;
        let control = Arc::new(ControlPlane::open(&config.data_dir.join("control.sqlite"))?);
        let metrics = Arc::new(Metrics::default());
        let scheduler = Scheduler::new(config.workers, Arc::clone(&metrics), Arc::clone(&control))
            .map_err(|source| ServiceError::Io {
                action: "starting worker threads in",
                path: config.data_dir.clone(),
                source,
            })?;
        let runtime = Arc::new(
            Runtime::new(config.runtime.clone())?
                .with_compile_isolation(config.compile_isolation.clone()),
        );
        let feeds = Feeds::new(config.max_feed_candles);
        let service = Service {
            chain_key: ChainKey::from_bytes(host_keys.journal_chain()),
            config,
            control,
            key,
            public_key,
            runtime,
            stores: Mutex::new(HashMap::new()),
            components: Mutex::new(HashMap::new()),
            feeds,
            metrics,
            scheduler,
            changes: Mutex::new(()),
            _lock: lock,
        };
        for tenant in service.control.tenants()? {
            if let Some(quotas) = service.control.quotas(&tenant)? {
                service
                    .scheduler
                    .shared()
                    .set_fuel_quota(&tenant, quotas.fuel_per_hour);
            }
            for row in service.control.deployments(&tenant)? {
                service.metrics.state_change(&tenant, None, Some(row.state));
            }
        }
        for row in service.control.loaded_deployments()? {
            let running = row.state == DeploymentState::Running;
            if let Err(error) = service.load(&row, running) {
                // One broken deployment does not keep the others down.
                tracing::error!(tenant = %row.tenant, deployment = %row.id, %error, "not restarted");
                service.fail(&row.tenant, &row.id, row.state, &error.message)?;
            }
        }
        Ok(service)
    }

    /// The configuration.
    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    /// The control plane.
    pub fn control(&self) -> &ControlPlane {
        &self.control
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The host's public key text, for authors to seal bundles to.
    pub fn public_key(&self) -> Option<&str> {
        self.public_key.as_deref()
    }

    /// Tick latencies (schedule to commit, µs) sampled since the last call.
    pub fn take_latencies(&self) -> Vec<u32> {
        self.scheduler.shared().take_latencies()
    }

    /// Deployments loaded on each worker.
    pub fn worker_loads(&self) -> Vec<usize> {
        self.scheduler.loads()
    }

    /// Create tenant `id` with `quotas` (default: the configured ones);
    /// returns its API token, which is shown only now.
    pub fn create_tenant(&self, id: &str, quotas: Option<Quotas>) -> Result<String, ApiError> {
        let quotas = quotas.unwrap_or(self.config.default_quotas);
        let token = auth::issue_tenant(&self.control, id, quotas)?;
        self.scheduler
            .shared()
            .set_fuel_quota(id, quotas.fuel_per_hour);
        Ok(token)
    }

    fn tenant_dir(&self, tenant: &str) -> PathBuf {
        self.config.data_dir.join("tenants").join(tenant)
    }

    fn journal_path(&self, tenant: &str, id: &str) -> PathBuf {
        self.tenant_dir(tenant)
            .join("journals")
            .join(format!("{id}.sqlite"))
    }

    /// The tenant's sealed store (bundles, compiled code, snapshots).
    fn store(&self, tenant: &str) -> Result<Store, ApiError> {
        let mut stores = self.stores.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(store) = stores.get(tenant) {
            return Ok(store.clone());
        }
        let store = Store::open(self.tenant_dir(tenant).join("store"), Arc::clone(&self.key))
            .map_err(ApiError::internal)?;
        stores.insert(tenant.to_owned(), store.clone());
        Ok(store)
    }

    /// Authenticate and compile a sealed bundle and file it for `tenant`
    /// (replacing its earlier version). Nothing is stored unless all of
    /// that succeeds.
    pub fn upload_bundle(&self, tenant: &str, bundle: &[u8]) -> Result<BundleRow, ApiError> {
        let rejected =
            |e: &dyn std::fmt::Display| ApiError::new(ErrorCode::BundleRejected, e.to_string());
        let opened = self
            .runtime
            .open_bundle(bundle, &*self.key)
            .map_err(|e| rejected(&e))?;
        let manifest = opened.manifest().clone();
        drop(opened);
        let quotas = self.quotas(tenant)?;
        let stored = self.control.storage_bytes(tenant, &manifest.name)?;
        if stored.saturating_add(bundle.len() as u64) > quotas.storage_bytes {
            return Err(ApiError::new(
                ErrorCode::QuotaExceeded,
                format!(
                    "storing {} bytes more would exceed the tenant's {} bytes of bundles",
                    bundle.len(),
                    quotas.storage_bytes
                ),
            ));
        }
        let _changes = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        let in_use = self
            .control
            .deployments(tenant)?
            .into_iter()
            .find(|row| row.request.bundle == manifest.name && row.state.is_loaded());
        if let Some(row) = in_use {
            return Err(ApiError::new(
                ErrorCode::InvalidState,
                format!(
                    "deployment `{}` runs bundle `{}`: stop it before uploading over it",
                    row.id, manifest.name
                ),
            ));
        }
        let store = self.store(tenant)?;
        // Compiled (and its sealed code cached) before anything is filed:
        // a component that does not load is never stored.
        self.runtime
            .load_named_bundle(&manifest.name, bundle, &*self.key, &store.artifact_cache())
            .map_err(|e| rejected(&e))?;
        let manifest = store
            .import_bundle(&self.runtime, bundle)
            .map_err(|e| rejected(&e))?;
        self.control
            .put_bundle(tenant, &manifest, bundle.len() as u64)?;
        self.control
            .bundle(tenant, &manifest.name)?
            .ok_or_else(|| ApiError::internal("the bundle row vanished"))
    }

    fn quotas(&self, tenant: &str) -> Result<Quotas, ApiError> {
        self.control
            .quotas(tenant)?
            .ok_or_else(|| ApiError::internal(format!("tenant `{tenant}` has no row")))
    }

    /// Create a deployment and start it. Refused with nothing stored if
    /// the request, its policy or its bundle is wrong, or its `init`
    /// fails.
    pub fn create_deployment(
        &self,
        tenant: &str,
        request: DeploymentRequest,
    ) -> Result<DeploymentStatus, ApiError> {
        let invalid = |message: String| ApiError::new(ErrorCode::DeploymentInvalid, message);
        if !is_valid_id(&request.id) {
            return Err(invalid(format!(
                "`{}` is not a deployment id: 1 to 64 of A-Z a-z 0-9 . _ -, not starting with `.`",
                request.id
            )));
        }
        if request.snapshot_every == 0 {
            return Err(invalid("snapshot_every is 0: at least 1".to_owned()));
        }
        if request.schedule.every_ms < MIN_EVERY_MS {
            return Err(invalid(format!(
                "schedule.every_ms is {}: at least {MIN_EVERY_MS}",
                request.schedule.every_ms
            )));
        }
        // Checked here as well as at start: a bad request is refused
        // before anything is written.
        let row = DeploymentRow {
            tenant: tenant.to_owned(),
            id: request.id.clone(),
            request: request.clone(),
            state: DeploymentState::Running,
            reason: None,
            created_ms: stratbox_journal::now_ms(),
        };
        let _changes = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        let plan = self.plan(&row)?;
        let quotas = self.quotas(tenant)?;
        if self.control.deployment_count(tenant)? >= quotas.deployments {
            return Err(ApiError::new(
                ErrorCode::QuotaExceeded,
                format!(
                    "the tenant has its {} deployments: delete one first",
                    quotas.deployments
                ),
            ));
        }
        if !self
            .control
            .insert_deployment(tenant, &request, DeploymentState::Running)?
        {
            return Err(ApiError::new(
                ErrorCode::AlreadyExists,
                format!("deployment `{}` exists", request.id),
            ));
        }
        let every = Duration::from_millis(request.schedule.every_ms);
        if let Err(error) = self.scheduler.start(plan, every, true) {
            // Nothing half-created: the row and whatever the journal
            // holds of the failed start go.
            self.control.delete_deployment(tenant, &request.id)?;
            self.remove_files(tenant, &request.id)?;
            return Err(match error {
                ScheduleError::Start(message) => {
                    ApiError::new(ErrorCode::DeploymentFailed, message)
                }
                other => ApiError::internal(other),
            });
        }
        self.metrics
            .state_change(tenant, None, Some(DeploymentState::Running));
        self.status(tenant, &request.id)
    }

    /// Everything a worker needs to start the deployment of `row`.
    fn plan(&self, row: &DeploymentRow) -> Result<PaperPlan, ApiError> {
        let request = &row.request;
        let VenueRequest::Paper(venue) = &request.venue;
        let tape = self.feeds.tape(&venue.feed, &venue.base, &venue.quote)?;
        let assets = paper_assets(&venue.base, &venue.quote);
        let policy = match &request.policy {
            Some(source) => Some(
                stratbox_policy::parse(source, Path::new("policy"), &assets)
                    .map_err(|e| ApiError::new(ErrorCode::PolicyInvalid, e.to_string()))?,
            ),
            None => None,
        };
        let bundle = self
            .control
            .bundle(&row.tenant, &request.bundle)?
            .ok_or_else(|| ApiError::not_found(format_args!("bundle `{}`", request.bundle)))?;
        let store = self.store(&row.tenant)?;
        let component = self.component(&row.tenant, &store, &bundle)?;
        // A JavaScript bundle says `other`: its deployment names its class.
        let class = request.limits.unwrap_or(match bundle.manifest.language {
            Language::Python => LimitClass::Python,
            Language::Rust | Language::Other => LimitClass::Rust,
        });
        let mut spec = DeploymentSpec::new(request.id.clone(), request.config.to_string())
            .with_limits(Limits::of_class(class));
        spec.commit_every = request.snapshot_every;
        let mut market = PaperMarketConfig::new(&venue.base, &venue.quote, 0);
        market.base_decimals = crate::paper::BASE_DECIMALS;
        market.quote_decimals = crate::paper::QUOTE_DECIMALS;
        market.balances = vec![(
            venue.quote.clone(),
            u128::from(venue.quote_balance) * 10u128.pow(u32::from(crate::paper::QUOTE_DECIMALS)),
        )];
        market.fee_bps = venue.fee_bps;
        let journal_path = self.journal_path(&row.tenant, &request.id);
        if let Some(dir) = journal_path.parent() {
            std::fs::create_dir_all(dir).map_err(ApiError::internal)?;
        }
        Ok(PaperPlan {
            tenant: row.tenant.clone(),
            id: request.id.clone(),
            runtime: Arc::clone(&self.runtime),
            component,
            spec,
            tape,
            market,
            policy,
            assets,
            journal_path,
            durable: Durable {
                store,
                chain_key: self.chain_key.clone(),
                snapshots_in_journal: true,
            },
        })
    }

    /// The compiled component of the tenant's `bundle`, from memory, or
    /// loaded from the tenant's store (its compiled code from the sealed
    /// cache).
    fn component(
        &self,
        tenant: &str,
        store: &Store,
        bundle: &BundleRow,
    ) -> Result<StrategyComponent, ApiError> {
        let key = (tenant.to_owned(), bundle.manifest.component_sha256.clone());
        let cached = self
            .components
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .cloned();
        if let Some(component) = cached {
            return Ok(component);
        }
        let loaded = store
            .load_strategy(&self.runtime, &bundle.manifest.name)
            .map_err(|e| ApiError::new(ErrorCode::BundleRejected, e.to_string()))?;
        if loaded.manifest.component_sha256 != bundle.manifest.component_sha256 {
            return Err(ApiError::new(
                ErrorCode::BundleRejected,
                format!(
                    "the stored bundle `{}` is not the one the control plane recorded",
                    bundle.manifest.name
                ),
            ));
        }
        self.components
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, loaded.component.clone());
        Ok(loaded.component)
    }

    /// Put a deployment of the control plane back on a worker.
    fn load(&self, row: &DeploymentRow, running: bool) -> Result<(), ApiError> {
        let plan = self.plan(row)?;
        let every = Duration::from_millis(row.request.schedule.every_ms);
        self.scheduler
            .start(plan, every, running)
            .map_err(|error| match error {
                ScheduleError::Start(message) => {
                    ApiError::new(ErrorCode::DeploymentFailed, message)
                }
                other => ApiError::internal(other),
            })
    }

    fn fail(
        &self,
        tenant: &str,
        id: &str,
        from: DeploymentState,
        reason: &str,
    ) -> Result<(), ServiceError> {
        self.control
            .set_state(tenant, id, DeploymentState::Failed, Some(reason))?;
        self.metrics
            .state_change(tenant, Some(from), Some(DeploymentState::Failed));
        Ok(())
    }

    fn row(&self, tenant: &str, id: &str) -> Result<DeploymentRow, ApiError> {
        self.control
            .deployment(tenant, id)?
            .ok_or_else(|| ApiError::not_found(format_args!("deployment `{id}`")))
    }

    /// A deployment's status.
    pub fn status(&self, tenant: &str, id: &str) -> Result<DeploymentStatus, ApiError> {
        let row = self.row(tenant, id)?;
        Ok(self.status_of(row))
    }

    fn status_of(&self, row: DeploymentRow) -> DeploymentStatus {
        let counters = self
            .scheduler
            .shared()
            .counters(&(row.tenant.clone(), row.id.clone()))
            .unwrap_or_default();
        DeploymentStatus {
            id: row.id,
            state: row.state,
            reason: row.reason,
            request: row.request,
            ticks: counters.ticks,
            failed_ticks: counters.failed,
            skipped_ticks: counters.skipped,
            next_sequence: counters.next_sequence,
            balances: counters
                .balances
                .iter()
                .map(|(asset, units)| (asset.clone(), units.to_string()))
                .collect(),
            created_ms: row.created_ms,
        }
    }

    /// The tenant's deployments.
    pub fn deployments(&self, tenant: &str) -> Result<Vec<DeploymentStatus>, ApiError> {
        Ok(self
            .control
            .deployments(tenant)?
            .into_iter()
            .map(|row| self.status_of(row))
            .collect())
    }

    /// Pause a running deployment, or resume a paused one.
    pub fn set_running(
        &self,
        tenant: &str,
        id: &str,
        running: bool,
    ) -> Result<DeploymentStatus, ApiError> {
        let _changes = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        let row = self.row(tenant, id)?;
        let (from, to) = if running {
            (DeploymentState::Paused, DeploymentState::Running)
        } else {
            (DeploymentState::Running, DeploymentState::Paused)
        };
        if row.state == to {
            return Ok(self.status_of(row));
        }
        if row.state != from {
            return Err(ApiError::new(
                ErrorCode::InvalidState,
                format!("deployment `{id}` is {}", row.state.as_str()),
            ));
        }
        // The control plane first: a crash in between restarts it in the
        // state asked for. Compare and set: a worker may have just ended
        // the deployment (finished, failed), and that end stands.
        if !self.control.transition(tenant, id, &[from], to, None)? {
            let now = self.row(tenant, id)?.state;
            return Err(ApiError::new(
                ErrorCode::InvalidState,
                format!("deployment `{id}` is {}", now.as_str()),
            ));
        }
        self.metrics.state_change(tenant, Some(from), Some(to));
        let key: Key = (tenant.to_owned(), id.to_owned());
        match self.scheduler.set_running(&key, running) {
            // Its worker ended it after the transition: the state it
            // recorded (over ours) is the answer.
            Ok(()) | Err(ScheduleError::NotLoaded) => {}
            Err(error) => return Err(ApiError::internal(error)),
        }
        self.status(tenant, id)
    }

    /// Stop a deployment for good (its journal stays until deleted).
    pub fn stop(&self, tenant: &str, id: &str) -> Result<DeploymentStatus, ApiError> {
        let _changes = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        let row = self.row(tenant, id)?;
        if row.state == DeploymentState::Stopped {
            return Ok(self.status_of(row));
        }
        self.control
            .set_state(tenant, id, DeploymentState::Stopped, None)?;
        let key: Key = (tenant.to_owned(), id.to_owned());
        self.scheduler.unload(&key).map_err(ApiError::internal)?;
        self.metrics
            .state_change(tenant, Some(row.state), Some(DeploymentState::Stopped));
        self.status(tenant, id)
    }

    /// Delete a deployment that is not loaded (stopped, finished or
    /// failed), its journal and its snapshots.
    pub fn delete(&self, tenant: &str, id: &str) -> Result<(), ApiError> {
        let _changes = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        let row = self.row(tenant, id)?;
        if row.state.is_loaded() {
            return Err(ApiError::new(
                ErrorCode::InvalidState,
                format!("deployment `{id}` is {}: stop it first", row.state.as_str()),
            ));
        }
        self.remove_files(tenant, id)?;
        self.control.delete_deployment(tenant, id)?;
        self.metrics.state_change(tenant, Some(row.state), None);
        Ok(())
    }

    /// Remove a deployment's journal and sealed snapshots.
    fn remove_files(&self, tenant: &str, id: &str) -> Result<(), ApiError> {
        let path = self.journal_path(tenant, id);
        if path.exists() {
            let journal = Journal::open(&path).map_err(ApiError::internal)?;
            let store = self.store(tenant)?;
            for run in journal.runs().map_err(ApiError::internal)? {
                store
                    .remove_checkpoint(&snapshot_name(id, run.id))
                    .map_err(ApiError::internal)?;
            }
            drop(journal);
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.clone().into_os_string();
            file.push(suffix);
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(ApiError::internal(e)),
            }
        }
        Ok(())
    }

    /// The deployment's recorded ticks with sequence above `after` (all
    /// from the first with `None`), at most `limit` (capped at
    /// [`MAX_PAGE`]), from its journal's latest run.
    pub fn ticks(
        &self,
        tenant: &str,
        id: &str,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<CallRecord>, ApiError> {
        self.row(tenant, id)?;
        let path = self.journal_path(tenant, id);
        if !path.exists() {
            return Ok(Vec::new());
        }
        let journal = Journal::open(&path).map_err(journal_error)?;
        let Some(run) = journal.latest_run(id).map_err(journal_error)? else {
            return Ok(Vec::new());
        };
        let sequences = journal.tick_sequences(run).map_err(journal_error)?;
        sequences
            .into_iter()
            .filter(|s| after.is_none_or(|after| *s > after))
            .take(limit.min(MAX_PAGE))
            .map(|s| journal.call(run, Call::Tick(s)).map_err(journal_error))
            .collect()
    }
}

/// Take the data directory's lock file, or fail if another process holds
/// it (released by the OS when the process ends, however it ends).
fn lock_data_dir(dir: &Path) -> Result<std::fs::File, ServiceError> {
    let path = dir.join("service.lock");
    let io = |source| ServiceError::Io {
        action: "locking",
        path: path.clone(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(ServiceError::InUse {
            path: dir.to_owned(),
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(io(source)),
    }
}

fn journal_error(error: JournalError) -> ApiError {
    ApiError::internal(format!("journal: {error}"))
}
