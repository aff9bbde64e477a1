//! An oracle that serves a recorded tick's reads back in order, so a
//! journaled run can be re-executed and compared. A request that differs
//! from the recorded one is not answered from the journal: it gets an
//! `unavailable` error (or an empty answer) and is remembered as the first
//! mismatch.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::host::Oracle;
use crate::report::OracleRead;
use crate::types::{
    Amount, AssetAmount, BlockInfo, Candle, LendingState, OracleError, PoolState, Position,
    VaultState,
};

/// The oracle half: give it to the deployment.
#[derive(Debug)]
pub struct ReplayOracle {
    tape: Arc<Mutex<ReplayTape>>,
}

/// The control half: load each call's recorded reads before the call, and
/// check afterwards that they were asked for exactly.
#[derive(Debug, Clone)]
pub struct ReplayFeed {
    tape: Arc<Mutex<ReplayTape>>,
}

/// A request the recorded reads did not foresee.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadMismatch {
    /// Position of the read in the call's reads, from 0.
    pub index: usize,
    /// What the journal holds at that position (`None`: nothing more).
    pub expected: Option<Box<OracleRead>>,
    /// What was asked, e.g. `price(ETH, USDC)`.
    pub requested: String,
}

#[derive(Debug, Default)]
struct ReplayTape {
    block: Option<BlockInfo>,
    reads: VecDeque<OracleRead>,
    served: usize,
    mismatch: Option<ReadMismatch>,
}

impl ReplayOracle {
    /// An empty replay oracle and its feed.
    pub fn new() -> (ReplayOracle, ReplayFeed) {
        let tape = Arc::new(Mutex::new(ReplayTape::default()));
        (
            ReplayOracle {
                tape: Arc::clone(&tape),
            },
            ReplayFeed { tape },
        )
    }

    fn tape(&self) -> MutexGuard<'_, ReplayTape> {
        self.tape.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Serve the next recorded read if it answers `request`; otherwise
    /// remember the mismatch and answer `fallback`.
    fn serve<T>(
        &self,
        request: impl FnOnce() -> String,
        answer: impl FnOnce(&OracleRead) -> Option<T>,
        fallback: impl FnOnce() -> T,
    ) -> T {
        let mut tape = self.tape();
        if tape.mismatch.is_none()
            && let Some(response) = tape.reads.front().and_then(answer)
        {
            tape.reads.pop_front();
            tape.served += 1;
            return response;
        }
        if tape.mismatch.is_none() {
            tape.mismatch = Some(ReadMismatch {
                index: tape.served,
                expected: tape.reads.front().cloned().map(Box::new),
                requested: request(),
            });
        }
        fallback()
    }
}

fn not_recorded() -> OracleError {
    OracleError::Unavailable("replay: this read is not in the journal".into())
}

impl ReplayFeed {
    /// The recorded reads of the next call (init or tick), in order, and
    /// the block a mismatched `block()` request is answered with.
    pub fn load(&self, block: BlockInfo, reads: Vec<OracleRead>) {
        let mut tape = self.tape.lock().unwrap_or_else(PoisonError::into_inner);
        *tape = ReplayTape {
            block: Some(block),
            reads: reads.into(),
            served: 0,
            mismatch: None,
        };
    }

    /// After the call: the first request that did not match, or the first
    /// recorded read that was never asked for.
    pub fn finish(&self) -> Result<(), ReadMismatch> {
        let tape = self.tape.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(mismatch) = &tape.mismatch {
            return Err(mismatch.clone());
        }
        match tape.reads.front() {
            Some(unread) => Err(ReadMismatch {
                index: tape.served,
                expected: Some(Box::new(unread.clone())),
                requested: "nothing".into(),
            }),
            None => Ok(()),
        }
    }
}

impl Oracle for ReplayOracle {
    fn block(&mut self) -> BlockInfo {
        let fallback = self.tape().block.unwrap_or(BlockInfo {
            chain_id: 0,
            number: 0,
            timestamp_ms: 0,
        });
        self.serve(
            || "block()".into(),
            |read| match read {
                OracleRead::Block { response } => Some(*response),
                _ => None,
            },
            || fallback,
        )
    }

    fn candles(&mut self, market: &str, count: u32) -> Result<Vec<Candle>, OracleError> {
        self.serve(
            || format!("candles({market}, {count})"),
            |read| match read {
                OracleRead::Candles {
                    market: m,
                    count: c,
                    response,
                } if **m == *market && *c == count => Some(response.clone()),
                _ => None,
            },
            || Err(not_recorded()),
        )
    }

    fn price(&mut self, base: &str, quote: &str) -> Result<f64, OracleError> {
        self.serve(
            || format!("price({base}, {quote})"),
            |read| match read {
                OracleRead::Price {
                    base: b,
                    quote: q,
                    response,
                } if **b == *base && **q == *quote => Some(response.clone()),
                _ => None,
            },
            || Err(not_recorded()),
        )
    }

    fn balance(&mut self, asset: &str) -> Result<Amount, OracleError> {
        self.serve(
            || format!("balance({asset})"),
            |read| match read {
                OracleRead::Balance { asset: a, response } if **a == *asset => {
                    Some(response.clone())
                }
                _ => None,
            },
            || Err(not_recorded()),
        )
    }

    fn balances(&mut self) -> Vec<AssetAmount> {
        self.serve(
            || "balances()".into(),
            |read| match read {
                OracleRead::Balances { response } => Some(response.clone()),
                _ => None,
            },
            Vec::new,
        )
    }

    fn positions(&mut self) -> Vec<Position> {
        self.serve(
            || "positions()".into(),
            |read| match read {
                OracleRead::Positions { response } => Some(response.clone()),
                _ => None,
            },
            Vec::new,
        )
    }

    fn pool(&mut self, pool: &str) -> Result<PoolState, OracleError> {
        self.serve(
            || format!("pool({pool})"),
            |read| match read {
                OracleRead::Pool { pool: p, response } if **p == *pool => {
                    Some((**response).clone())
                }
                _ => None,
            },
            || Err(not_recorded()),
        )
    }

    fn lending_market(&mut self, market: &str) -> Result<LendingState, OracleError> {
        self.serve(
            || format!("lending_market({market})"),
            |read| match read {
                OracleRead::LendingMarket {
                    market: m,
                    response,
                } if **m == *market => Some((**response).clone()),
                _ => None,
            },
            || Err(not_recorded()),
        )
    }

    fn vault(&mut self, vault: &str) -> Result<VaultState, OracleError> {
        self.serve(
            || format!("vault({vault})"),
            |read| match read {
                OracleRead::Vault { vault: v, response } if **v == *vault => {
                    Some((**response).clone())
                }
                _ => None,
            },
            || Err(not_recorded()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(n: u64) -> BlockInfo {
        BlockInfo {
            chain_id: 1,
            number: n,
            timestamp_ms: n,
        }
    }

    #[test]
    fn serves_recorded_reads_in_order() {
        let (mut oracle, feed) = ReplayOracle::new();
        feed.load(
            block(1),
            vec![
                OracleRead::Block { response: block(7) },
                OracleRead::Price {
                    base: "ETH".into(),
                    quote: "USDC".into(),
                    response: Ok(3000.0),
                },
            ],
        );
        assert_eq!(oracle.block(), block(7));
        assert_eq!(oracle.price("ETH", "USDC"), Ok(3000.0));
        assert_eq!(feed.finish(), Ok(()));
    }

    #[test]
    fn a_different_request_is_a_mismatch_at_its_position() {
        let (mut oracle, feed) = ReplayOracle::new();
        let recorded = OracleRead::Price {
            base: "ETH".into(),
            quote: "USDC".into(),
            response: Ok(3000.0),
        };
        feed.load(block(1), vec![recorded.clone()]);
        assert!(oracle.price("BTC", "USDC").is_err());
        let mismatch = feed.finish().unwrap_err();
        assert_eq!(mismatch.index, 0);
        assert_eq!(mismatch.expected, Some(Box::new(recorded)));
        assert_eq!(mismatch.requested, "price(BTC, USDC)");
    }

    #[test]
    fn unread_and_extra_reads_are_mismatches() {
        let (mut oracle, feed) = ReplayOracle::new();
        feed.load(block(1), vec![OracleRead::Balances { response: vec![] }]);
        assert!(
            feed.finish().is_err(),
            "a recorded read was never asked for"
        );
        feed.load(block(2), vec![]);
        assert_eq!(oracle.block(), block(2), "answered with the tick's block");
        assert_eq!(feed.finish().unwrap_err().requested, "block()");
    }
}
