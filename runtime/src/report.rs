//! What a tick produced: the released actions, every verdict, logs, oracle
//! reads (request and response, in order) and fuel. A journal records these
//! and a replay compares them.

use std::sync::Arc;
use std::time::Duration;

use crate::error::TickError;
use crate::types::{
    Action, ActionId, Amount, AssetAmount, BlockInfo, Candle, LendingState, Level, OracleError,
    PoolState, Position, Rejection, VaultState,
};

/// An action the policy accepted, with the id the guest received.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AcceptedAction {
    /// Id returned to the guest.
    pub id: ActionId,
    /// The action.
    pub action: Action,
}

/// One `emit` call and its verdict.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Emission {
    /// What the guest emitted.
    pub action: Action,
    /// What it got back.
    pub verdict: Result<ActionId, Rejection>,
}

/// One log line.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LogRecord {
    /// Severity.
    pub level: Level,
    /// Text.
    pub message: String,
}

/// One oracle read: the request and the response, as served.
///
/// Names are shared (`Arc<str>`) with the deployment's name table: a read
/// records its names without allocating, which was a quarter of a read's
/// cost when every read copied two strings (BENCHMARKS.md).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "read", rename_all = "snake_case")]
#[allow(missing_docs)] // the fields mirror the WIT function parameters
pub enum OracleRead {
    Block {
        response: BlockInfo,
    },
    Price {
        base: Arc<str>,
        quote: Arc<str>,
        response: Result<f64, OracleError>,
    },
    Candles {
        market: Arc<str>,
        count: u32,
        response: Result<Vec<Candle>, OracleError>,
    },
    Balance {
        asset: Arc<str>,
        response: Result<Amount, OracleError>,
    },
    Balances {
        response: Vec<AssetAmount>,
    },
    Positions {
        response: Vec<Position>,
    },
    // The three large answers are boxed: every read of a tick is pushed
    // into its trace, and unboxed they made each read 216 bytes instead of
    // 80 (BENCHMARKS.md).
    Pool {
        pool: Arc<str>,
        response: Box<Result<PoolState, OracleError>>,
    },
    LendingMarket {
        market: Arc<str>,
        response: Box<Result<LendingState, OracleError>>,
    },
    Vault {
        vault: Arc<str>,
        response: Box<Result<VaultState, OracleError>>,
    },
}

impl OracleRead {
    /// Bytes of the answer as it crosses into the guest (its strings and
    /// fixed-size fields), what [`crate::Limits::oracle_bytes_per_tick`]
    /// counts.
    pub fn answer_bytes(&self) -> u64 {
        fn assets(list: &[AssetAmount]) -> usize {
            list.iter().map(|a| a.asset.len() + 16).sum()
        }
        fn answer<T>(response: &Result<T, OracleError>, ok: impl Fn(&T) -> usize) -> usize {
            match response {
                Ok(value) => ok(value),
                Err(OracleError::Unknown(text) | OracleError::Unavailable(text)) => text.len(),
            }
        }
        let bytes = match self {
            OracleRead::Block { .. } => 24,
            OracleRead::Price { response, .. } => answer(response, |_| 8),
            OracleRead::Candles { response, .. } => answer(response, |c| c.len() * 48),
            OracleRead::Balance { response, .. } => answer(response, |_| 16),
            OracleRead::Balances { response } => assets(response),
            OracleRead::Positions { response } => response
                .iter()
                .map(|p| p.id.len() + p.venue.len() + assets(&p.amounts) + 32)
                .sum(),
            OracleRead::Pool { response, .. } => answer(response, |p| {
                p.pool.len() + p.token0.len() + p.token1.len() + 96
            }),
            OracleRead::LendingMarket { response, .. } => {
                answer(response, |l| l.market.len() + l.asset.len() + 56)
            }
            OracleRead::Vault { response, .. } => {
                answer(response, |v| v.vault.len() + v.asset.len() + 64)
            }
        };
        bytes as u64
    }
}

/// The observable side of one guest call sequence (a tick, or init).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CallTrace {
    /// Every emission, in order, with its verdict.
    pub emissions: Vec<Emission>,
    /// Log lines, in order.
    pub logs: Vec<LogRecord>,
    /// Oracle reads, in order.
    pub oracle_reads: Vec<OracleRead>,
    /// Series points (`logging.series`), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<SeriesPoint>,
    /// Fuel consumed by the tick's calls (excluding a rebuild).
    pub fuel_used: u64,
    /// Fuel consumed rebuilding the instance before the tick, if it was
    /// rebuilt (init + restore of the last committed snapshot).
    pub rebuild_fuel: Option<u64>,
    /// Wall-clock time of the whole call sequence. Not deterministic.
    #[serde(with = "duration_nanos")]
    pub duration: Duration,
}

/// One point of a named series a strategy recorded (`logging.series`):
/// always finite (non-finite values are gaps, not recorded).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SeriesPoint {
    /// The series' name.
    pub name: Arc<str>,
    /// Its value at this tick.
    pub value: f64,
}

/// A successful tick.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TickReport {
    /// Sequence number of the tick.
    pub sequence: u64,
    /// Accepted actions, released to the venue in this order.
    pub actions: Vec<AcceptedAction>,
    /// Whether a new snapshot was committed at the end of the tick.
    pub committed: bool,
    /// What happened inside the tick.
    pub trace: CallTrace,
}

/// A failed tick: nothing it emitted is released.
#[derive(Debug, Clone, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[error("tick {sequence} failed: {error}")]
pub struct TickFailure {
    /// Sequence number of the tick.
    pub sequence: u64,
    /// Why it failed.
    #[source]
    pub error: TickError,
    /// What happened before it failed (verdicts given, logs, reads, fuel).
    pub trace: Box<CallTrace>,
    /// Whether this failure paused the deployment.
    pub paused: bool,
}

mod duration_nanos {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_nanos(u64::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_read_stays_small() {
        // A price read is the common one: two strings and a result. A large
        // answer added unboxed would make every read pay for its size.
        assert!(size_of::<OracleRead>() <= 80);
    }
}
