//! Tenant credentials: random API tokens, stored only as their SHA-256.
//! A token is 32 random bytes, so a plain hash is as hard to invert as the
//! token is to guess; no password-style KDF is needed.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use crate::api::AppState;
use crate::config::Quotas;
use crate::control::ControlPlane;
use crate::error::{ApiError, ErrorCode};
use crate::request::is_valid_id;

/// Prefix of every token, so leaked tokens are recognisable.
const TOKEN_PREFIX: &str = "sbx_";

/// A new random API token.
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{TOKEN_PREFIX}{}", hex::encode(bytes)))
}

/// What the control plane stores of `token`.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Create tenant `id` with `quotas` in `control` and return its new API
/// token, which exists nowhere else: the control plane keeps its hash.
/// A running service picks the tenant up at its first request.
pub fn issue_tenant(control: &ControlPlane, id: &str, quotas: Quotas) -> Result<String, ApiError> {
    if !is_valid_id(id) {
        return Err(ApiError::new(
            ErrorCode::MalformedRequest,
            format!(
                "`{id}` is not a tenant id: 1 to 64 of A-Z a-z 0-9 . _ -, not starting with `.`"
            ),
        ));
    }
    let token = new_token().map_err(ApiError::internal)?;
    if !control.create_tenant(id, &token_hash(&token), quotas)? {
        return Err(ApiError::new(
            ErrorCode::AlreadyExists,
            format!("tenant `{id}` exists"),
        ));
    }
    Ok(token)
}

/// The tenant a request is made for, from its `Authorization: Bearer`
/// token. Every tenant-scoped handler takes one: there is no way to name
/// another tenant in a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// The tenant's id.
    pub id: String,
}

impl FromRequestParts<AppState> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let unauthorized = || {
            ApiError::new(
                ErrorCode::Unauthorized,
                "send the tenant's API token as `Authorization: Bearer <token>`",
            )
        };
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|token| token.starts_with(TOKEN_PREFIX))
            .ok_or_else(unauthorized)?;
        let id = state
            .service
            .control()
            .tenant_for_token(&token_hash(token))?
            .ok_or_else(unauthorized)?;
        Ok(Tenant { id })
    }
}
