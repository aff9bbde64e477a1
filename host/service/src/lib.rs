//! `stratbox serve`: the platform service. It hosts the strategies of many
//! tenants behind an HTTP API ([`api`]): tenants upload sealed bundles,
//! create deployments on paper venues, pause, resume and stop them, and
//! page through their journals; operators read `/healthz`, `/readyz` and
//! Prometheus `/metrics`.
//!
//! Deployments run on a bounded pool of worker threads ([`scheduler`]):
//! each instance stays on the worker that created it, a worker ticks its
//! deployments in order of when they are due, and a deployment that falls
//! behind skips its own missed ticks instead of delaying the others.
//!
//! Everything lives in one directory ([`ServiceConfig::data_dir`]): the
//! control plane (SQLite, [`control`]), and per tenant a sealed store
//! (bundles, compiled code, snapshots) and one journal per deployment.

pub mod api;
pub mod auth;
pub mod config;
pub mod control;
pub mod error;
pub mod lease;
pub mod metrics;
pub mod paper;
pub mod request;
pub mod scheduler;
mod service;

pub use config::{Quotas, ServiceConfig};
pub use error::{ErrorCode, ServiceError};
pub use service::Service;
