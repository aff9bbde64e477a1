//! The HTTP API (`/v1/...`), health and metrics. Every tenant route takes
//! the tenant from its token ([`Tenant`]); errors are JSON with a stable
//! code ([`ApiError`]). The routes are described in `openapi.json` next to
//! this crate, which the tests check against this router.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use stratbox_journal::CallRecord;

use crate::auth::Tenant;
use crate::control::BundleRow;
use crate::error::{ApiError, ErrorCode};
use crate::request::{DeploymentRequest, DeploymentStatus};
use crate::service::Service;

/// What every handler sees.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The service.
    pub service: Arc<Service>,
}

/// The router of the whole API.
pub fn router(service: Arc<Service>) -> Router {
    let max_body = service.config().max_body_bytes;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/v1/host-key", get(host_key))
        .route("/v1/bundles", get(list_bundles).post(upload_bundle))
        .route("/v1/bundles/{name}", get(bundle))
        .route(
            "/v1/deployments",
            get(list_deployments).post(create_deployment),
        )
        .route(
            "/v1/deployments/{id}",
            get(deployment).delete(delete_deployment),
        )
        .route("/v1/deployments/{id}/pause", post(pause))
        .route("/v1/deployments/{id}/resume", post(resume))
        .route("/v1/deployments/{id}/stop", post(stop))
        .route("/v1/deployments/{id}/ticks", get(ticks))
        .route("/v1/deployments/{id}/logs", get(logs))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(AppState { service })
}

/// Run a blocking service operation off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(ApiError::internal)?
}

/// A request body, or the typed error for one too large or unreadable.
fn body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorCode::BodyTooLarge, rejection.body_text())
        } else {
            ApiError::new(ErrorCode::MalformedRequest, rejection.body_text())
        }
    })
}

/// A JSON body of type `T`, unknown fields refused.
fn json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::new(ErrorCode::MalformedRequest, format!("request body: {e}")))
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such route")
}

async fn healthz() -> &'static str {
    "ok"
}

/// Ready once the service is open (its deployments put back on their
/// workers): the service is only routed after that.
async fn readyz(State(state): State<AppState>) -> Response {
    match state.service.control().tenants() {
        Ok(_) => "ready".into_response(),
        Err(error) => ApiError::internal(error).into_response(),
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.service.metrics().encode(),
    )
        .into_response()
}

/// The host's public key, for sealing bundles to it.
#[derive(Debug, Serialize, Deserialize)]
pub struct HostKey {
    /// The key file's text (`stratbox seal --to` reads it).
    pub public_key: String,
}

async fn host_key(State(state): State<AppState>, _: Tenant) -> Result<Json<HostKey>, ApiError> {
    let public_key = state
        .service
        .public_key()
        .ok_or_else(|| ApiError::not_found("host public key"))?
        .to_owned();
    Ok(Json(HostKey { public_key }))
}

async fn upload_bundle(
    State(state): State<AppState>,
    tenant: Tenant,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<BundleRow>), ApiError> {
    let bytes = body(bytes)?;
    let row = blocking(move || state.service.upload_bundle(&tenant.id, &bytes)).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

async fn list_bundles(
    State(state): State<AppState>,
    tenant: Tenant,
) -> Result<Json<Vec<BundleRow>>, ApiError> {
    Ok(Json(state.service.control().bundles(&tenant.id)?))
}

async fn bundle(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(name): Path<String>,
) -> Result<Json<BundleRow>, ApiError> {
    state
        .service
        .control()
        .bundle(&tenant.id, &name)?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format_args!("bundle `{name}`")))
}

async fn create_deployment(
    State(state): State<AppState>,
    tenant: Tenant,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<DeploymentStatus>), ApiError> {
    let request: DeploymentRequest = json(&body(bytes)?)?;
    let status = blocking(move || state.service.create_deployment(&tenant.id, request)).await?;
    Ok((StatusCode::CREATED, Json(status)))
}

async fn list_deployments(
    State(state): State<AppState>,
    tenant: Tenant,
) -> Result<Json<Vec<DeploymentStatus>>, ApiError> {
    Ok(Json(state.service.deployments(&tenant.id)?))
}

async fn deployment(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<DeploymentStatus>, ApiError> {
    Ok(Json(state.service.status(&tenant.id, &id)?))
}

async fn pause(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<DeploymentStatus>, ApiError> {
    blocking(move || state.service.set_running(&tenant.id, &id, false))
        .await
        .map(Json)
}

async fn resume(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<DeploymentStatus>, ApiError> {
    blocking(move || state.service.set_running(&tenant.id, &id, true))
        .await
        .map(Json)
}

async fn stop(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<DeploymentStatus>, ApiError> {
    blocking(move || state.service.stop(&tenant.id, &id))
        .await
        .map(Json)
}

async fn delete_deployment(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    blocking(move || state.service.delete(&tenant.id, &id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A page of a deployment's journal.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// Only ticks with a sequence above this.
    pub after: Option<u64>,
    /// At most this many ticks (default and maximum 500).
    pub limit: Option<usize>,
}

async fn ticks(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    Query(page): Query<Page>,
) -> Result<Json<Vec<CallRecord>>, ApiError> {
    let limit = page.limit.unwrap_or(crate::service::MAX_PAGE);
    blocking(move || state.service.ticks(&tenant.id, &id, page.after, limit))
        .await
        .map(Json)
}

/// One log line of a strategy.
#[derive(Debug, Serialize, Deserialize)]
pub struct LogLine {
    /// The tick that logged it.
    pub sequence: u64,
    /// Its level.
    pub level: String,
    /// Its text (the strategy's own, as it wrote it).
    pub message: String,
}

async fn logs(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    Query(page): Query<Page>,
) -> Result<Json<Vec<LogLine>>, ApiError> {
    let limit = page.limit.unwrap_or(crate::service::MAX_PAGE);
    let ticks = blocking(move || state.service.ticks(&tenant.id, &id, page.after, limit)).await?;
    let mut lines = Vec::new();
    for tick in ticks {
        let sequence = match tick.call {
            stratbox_journal::Call::Tick(sequence) => sequence,
            stratbox_journal::Call::Init => 0,
        };
        for log in tick.logs {
            lines.push(LogLine {
                sequence,
                level: stratbox_journal::level_name(log.level).to_owned(),
                message: log.message,
            });
        }
    }
    Ok(Json(lines))
}

/// Serve the API on `listener` until `shutdown` resolves; requests in
/// flight finish first.
pub async fn serve(
    service: Arc<Service>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), crate::ServiceError> {
    let addr = listener
        .local_addr()
        .map_or_else(|_| "?".to_owned(), |a| a.to_string());
    axum::serve(listener, router(service))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| crate::ServiceError::Listen { addr, source })
}
