//! The service's errors: what the API answers ([`ApiError`], with a stable
//! [`ErrorCode`]) and what stops the service from starting
//! ([`ServiceError`]).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Stable codes of API errors: clients match on these, never on messages.
/// Each code has one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// No credential, or one the service does not know (401).
    Unauthorized,
    /// No such bundle or deployment for this tenant (404). Another
    /// tenant's objects are reported exactly like missing ones.
    NotFound,
    /// The request body is not valid JSON of the expected shape, names
    /// an unknown field, or misses a required one (400).
    MalformedRequest,
    /// The request body is larger than the service accepts (413).
    BodyTooLarge,
    /// The bundle does not open with the host's key, or its component
    /// does not load (422).
    BundleRejected,
    /// The deployment's policy does not parse or names what the venue
    /// does not hold (422).
    PolicyInvalid,
    /// The deployment asks for something the service cannot give: an
    /// unknown feed, a schedule out of range, a bad id (422).
    DeploymentInvalid,
    /// The strategy refused to start (`init` failed, or the component
    /// does not fit its limits) (422).
    DeploymentFailed,
    /// The id is taken (409).
    AlreadyExists,
    /// The deployment is not in a state that allows this (409): e.g.
    /// deleting one that is not stopped.
    InvalidState,
    /// The tenant's quota does not allow this (429).
    QuotaExceeded,
    /// Something failed inside the service (500). The message names it;
    /// nothing was half-created.
    Internal,
}

impl ErrorCode {
    /// Every code (the OpenAPI description lists the same).
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::Unauthorized,
        ErrorCode::NotFound,
        ErrorCode::MalformedRequest,
        ErrorCode::BodyTooLarge,
        ErrorCode::BundleRejected,
        ErrorCode::PolicyInvalid,
        ErrorCode::DeploymentInvalid,
        ErrorCode::DeploymentFailed,
        ErrorCode::AlreadyExists,
        ErrorCode::InvalidState,
        ErrorCode::QuotaExceeded,
        ErrorCode::Internal,
    ];

    /// The code as the API writes it (`not_found`, `quota_exceeded`...).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MalformedRequest => "malformed_request",
            ErrorCode::BodyTooLarge => "body_too_large",
            ErrorCode::BundleRejected => "bundle_rejected",
            ErrorCode::PolicyInvalid => "policy_invalid",
            ErrorCode::DeploymentInvalid => "deployment_invalid",
            ErrorCode::DeploymentFailed => "deployment_failed",
            ErrorCode::AlreadyExists => "already_exists",
            ErrorCode::InvalidState => "invalid_state",
            ErrorCode::QuotaExceeded => "quota_exceeded",
            ErrorCode::Internal => "internal",
        }
    }

    /// The HTTP status of this code.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MalformedRequest => StatusCode::BAD_REQUEST,
            ErrorCode::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BundleRejected
            | ErrorCode::PolicyInvalid
            | ErrorCode::DeploymentInvalid
            | ErrorCode::DeploymentFailed => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::AlreadyExists | ErrorCode::InvalidState => StatusCode::CONFLICT,
            ErrorCode::QuotaExceeded => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An API error: a stable code and a message for people. Its body is
/// `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{}: {message}", code.as_str())]
pub struct ApiError {
    /// The stable code.
    pub code: ErrorCode,
    /// What went wrong, for people.
    pub message: String,
}

impl ApiError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// `what` is not there (or belongs to another tenant).
    pub fn not_found(what: impl std::fmt::Display) -> ApiError {
        ApiError::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    /// An internal failure; logged with its cause.
    pub fn internal(error: impl std::fmt::Display) -> ApiError {
        tracing::error!(%error, "internal error");
        ApiError::new(ErrorCode::Internal, error.to_string())
    }
}

/// The body of an error response.
#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a ApiError,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        (status, axum::Json(ErrorBody { error: &self })).into_response()
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(error: rusqlite::Error) -> Self {
        ApiError::internal(format!("control plane: {error}"))
    }
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A file or directory of the data directory.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The control plane database.
    #[error("control plane database: {0}")]
    Control(#[from] rusqlite::Error),
    /// A tenant's store.
    #[error(transparent)]
    Store(#[from] stratbox_store::StoreError),
    /// The runtime could not be created.
    #[error(transparent)]
    Runtime(#[from] stratbox_runtime::EngineError),
    /// The key opens bundles but is not the host's secret key: the service
    /// seals compiled code, snapshots and journals with host-only keys.
    #[error(
        "the service needs the host's X25519 secret key (`stratbox keygen --kind x25519`), not a key-encryption key"
    )]
    NotHostKey,
    /// Another service process has this data directory open: two would
    /// tick the same deployments.
    #[error("another stratbox serve uses {path} (it holds {path}/service.lock)")]
    InUse {
        /// The data directory.
        path: std::path::PathBuf,
    },
    /// A deployment recorded as running could not be started again.
    #[error("restarting deployment {tenant}/{id}: {error}")]
    Restart {
        /// Its tenant.
        tenant: String,
        /// Its id.
        id: String,
        /// Why.
        error: ApiError,
    },
    /// Binding or serving the HTTP listener.
    #[error("HTTP listener on {addr}: {source}")]
    Listen {
        /// The address.
        addr: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}
