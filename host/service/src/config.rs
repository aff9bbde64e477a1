//! The service's configuration: where it keeps its state, how many worker
//! threads run deployments, what a request may carry, and the default
//! quotas of new tenants.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use stratbox_runtime::{CompileIsolation, RuntimeConfig};

/// How the service runs. Every field has a default; a file sets only what
/// it changes (unknown fields are refused).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceConfig {
    /// Address the HTTP API listens on. Default `127.0.0.1:8420`.
    pub listen: SocketAddr,
    /// Directory holding the control plane (`control.sqlite`) and, per
    /// tenant, the sealed store and the journals. Created if missing.
    /// Default `stratbox-data`.
    pub data_dir: PathBuf,
    /// Worker threads that run deployments; each deployment's instance
    /// lives on one of them. Default: the number of CPUs.
    pub workers: usize,
    /// Largest request body in bytes (a sealed bundle is uploaded as
    /// one). Default 64 MiB.
    pub max_body_bytes: usize,
    /// Candles the service holds across all distinct paper feeds
    /// (deployments on one feed share it; 48 bytes a candle). A deployment
    /// whose new feed would pass it is refused (`quota_exceeded`). Default
    /// 20,000,000 (about 1 GiB).
    pub max_feed_candles: usize,
    /// Quotas of tenants created without their own.
    pub default_quotas: Quotas,
    /// The runtime's configuration (compiled code, pooling). Default:
    /// [`RuntimeConfig::default`], instances allocated on demand.
    pub runtime: RuntimeConfig,
    /// Where uploaded components are compiled. Not read from files (it
    /// names a program): the embedder sets it. Default
    /// [`CompileIsolation::InProcess`]; `stratbox serve` compiles in a
    /// worker process of its own.
    #[serde(skip)]
    pub compile_isolation: CompileIsolation,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8420)),
            data_dir: PathBuf::from("stratbox-data"),
            workers: std::thread::available_parallelism().map_or(2, usize::from),
            max_body_bytes: 64 << 20,
            max_feed_candles: 20_000_000,
            default_quotas: Quotas::default(),
            runtime: RuntimeConfig::default(),
            compile_isolation: CompileIsolation::default(),
        }
    }
}

/// What one tenant may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Quotas {
    /// Deployments that exist at once (any state but deleted). Default
    /// 1,000.
    pub deployments: u64,
    /// Fuel all of the tenant's deployments may burn per hour; a
    /// deployment whose tenant is over it skips its ticks until the hour
    /// rolls over. Default 10^13 (about 10,000 deployments of 100k-fuel
    /// ticks every second).
    pub fuel_per_hour: u64,
    /// Bytes of sealed bundles stored. Default 1 GiB.
    pub storage_bytes: u64,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            deployments: 1_000,
            fuel_per_hour: 10_000_000_000_000,
            storage_bytes: 1 << 30,
        }
    }
}
