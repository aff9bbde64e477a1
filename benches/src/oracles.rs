//! Oracles of the benchmarks: a clock that follows the tape, and fixed
//! prices.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use stratbox_runtime::Oracle;
use stratbox_runtime::types::{BlockInfo, OracleError};

/// Serves the block of the tick being run: the loop that owns the
/// deployment moves the shared timestamp before each tick, so
/// `oracle.block` answers what a native host would.
#[derive(Debug, Clone, Default)]
pub struct TapeClock {
    now_ms: Arc<AtomicU64>,
}

impl TapeClock {
    /// A clock at time zero.
    pub fn new() -> Self {
        TapeClock::default()
    }

    /// Move the clock to `block`'s time.
    pub fn set(&self, block: &BlockInfo) {
        self.now_ms.store(block.timestamp_ms, Ordering::Relaxed);
    }
}

impl Oracle for TapeClock {
    fn block(&mut self) -> BlockInfo {
        BlockInfo {
            chain_id: 0,
            number: 0,
            timestamp_ms: self.now_ms.load(Ordering::Relaxed),
        }
    }
}

/// The price every benchmark reads: one ETH in USDC.
pub const ETH_USDC: f64 = 3000.0;

/// Answers `price("ETH", "USDC")` with [`ETH_USDC`] (and recorded policy
/// reads alike); every other pair is unknown.
#[derive(Debug, Clone, Copy, Default)]
pub struct FixedPrices;

impl Oracle for FixedPrices {
    fn block(&mut self) -> BlockInfo {
        BlockInfo {
            chain_id: 1,
            number: 0,
            timestamp_ms: 0,
        }
    }

    fn price(&mut self, base: &str, quote: &str) -> Result<f64, OracleError> {
        match (base, quote) {
            ("ETH", "USDC") => Ok(ETH_USDC),
            _ => Err(OracleError::Unknown(format!("{base}/{quote}"))),
        }
    }
}
