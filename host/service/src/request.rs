//! What a tenant sends to create a deployment, and what the service
//! reports about one. Every field a user writes is checked: unknown fields
//! are refused.

use serde::{Deserialize, Serialize};
use stratbox_runtime::LimitClass;

/// Longest deployment id.
pub const MAX_ID: usize = 64;

/// Shortest schedule period: a deployment ticks at most this often.
pub const MIN_EVERY_MS: u64 = 100;

/// A deployment to create (`POST /v1/deployments`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentRequest {
    /// Id, unique within the tenant: 1 to 64 of `A-Z a-z 0-9 . _ -`, not
    /// starting with `.`.
    pub id: String,
    /// Name of an uploaded bundle of the tenant.
    pub bundle: String,
    /// The strategy's config (any JSON value; the strategy parses it).
    /// Default `{}`.
    #[serde(default = "empty_object")]
    pub config: serde_json::Value,
    /// Policy (TOML, as `stratbox` policy files). Default: none, every
    /// well-formed action is accepted (paper venues only move paper).
    #[serde(default)]
    pub policy: Option<String>,
    /// Where the deployment trades.
    pub venue: VenueRequest,
    /// How often it ticks.
    pub schedule: Schedule,
    /// Resource limits class. Default: the class of the bundle's language.
    #[serde(default)]
    pub limits: Option<LimitClass>,
    /// Snapshot the strategy's state every this many ticks (at least 1).
    /// Each snapshot is sealed and synced to disk; a deployment resumed
    /// after a restart goes on from its last snapshot, so with more than
    /// 1 the strategy forgets up to `snapshot_every - 1` ticks (its
    /// account and policy state are kept whole). Default 1.
    #[serde(default = "every_tick")]
    pub snapshot_every: u32,
}

fn every_tick() -> u32 {
    1
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

/// A deployment's venue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum VenueRequest {
    /// A paper venue: swaps fill at each tick's candle close, with a fee.
    Paper(PaperVenue),
}

/// A paper venue: a tape replayed one candle per tick, and a paper
/// account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperVenue {
    /// Where the candles come from.
    pub feed: Feed,
    /// Asset the tape prices (e.g. `ETH`).
    pub base: String,
    /// Asset the prices are in (e.g. `BTC`).
    pub quote: String,
    /// Starting balance in whole units of the quote asset. Default 1.
    #[serde(default = "one")]
    pub quote_balance: u64,
    /// Fee on the sold amount, in basis points. Default 30.
    #[serde(default = "thirty")]
    pub fee_bps: u32,
}

fn one() -> u64 {
    1
}

fn thirty() -> u32 {
    30
}

/// Candles of a paper venue.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Feed {
    /// Real exchange candles shipped with stratbox: `ETH_BTC-5m`,
    /// `ADA_BTC-5m` or `DASH_BTC-5m`.
    Bundled(String),
    /// A seeded synthetic tape (geometric Brownian motion).
    Synthetic {
        /// Candles in the tape (1 to 1,000,000). The service holds at most
        /// 20,000,000 candles of distinct tapes (`quota_exceeded` past
        /// that); deployments on the same feed share one.
        candles: usize,
        /// Seed: the same seed gives the same tape.
        seed: u64,
    },
}

/// How often a deployment ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Period in milliseconds (at least 100).
    pub every_ms: u64,
}

/// Where a deployment is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentState {
    /// Ticking on its schedule.
    Running,
    /// Kept loaded, not ticking, until resumed.
    Paused,
    /// Stopped by its tenant; its journal stays until it is deleted.
    Stopped,
    /// Its tape ran out.
    Finished,
    /// It could not start, or the service stopped it (its journal failed,
    /// it paused itself after repeated failures).
    Failed,
}

impl DeploymentState {
    /// Every state, for metrics.
    pub const ALL: [DeploymentState; 5] = [
        DeploymentState::Running,
        DeploymentState::Paused,
        DeploymentState::Stopped,
        DeploymentState::Finished,
        DeploymentState::Failed,
    ];

    /// Its name in the API and the control plane.
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentState::Running => "running",
            DeploymentState::Paused => "paused",
            DeploymentState::Stopped => "stopped",
            DeploymentState::Finished => "finished",
            DeploymentState::Failed => "failed",
        }
    }

    /// The state named `name`.
    pub fn parse(name: &str) -> Option<DeploymentState> {
        DeploymentState::ALL
            .into_iter()
            .find(|state| state.as_str() == name)
    }

    /// Whether its instance is on a worker.
    pub fn is_loaded(self) -> bool {
        matches!(self, DeploymentState::Running | DeploymentState::Paused)
    }
}

/// What the API reports about a deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentStatus {
    /// Its id.
    pub id: String,
    /// Its state.
    pub state: DeploymentState,
    /// Why it failed (for `failed`).
    pub reason: Option<String>,
    /// The request it was created with.
    pub request: DeploymentRequest,
    /// Ticks run by this service process (committed or failed).
    pub ticks: u64,
    /// Of those, failed ticks.
    pub failed_ticks: u64,
    /// Ticks skipped because it (or its worker) fell behind its schedule,
    /// or its tenant was over its fuel quota.
    pub skipped_ticks: u64,
    /// Sequence of the next tick.
    pub next_sequence: u64,
    /// The paper account's balances (base units, as decimal strings) by
    /// asset, while a worker holds the deployment.
    pub balances: std::collections::BTreeMap<String, String>,
    /// When it was created, ms since the Unix epoch.
    pub created_ms: u64,
}

/// Whether `id` is a valid deployment id (also a file name).
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}
