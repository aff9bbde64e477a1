//! Traits the embedder implements: where oracle data comes from, who decides
//! on actions, where logs go.

use crate::report::AcceptedAction;
use crate::types::{
    Action, ActionId, ActionOutcome, Amount, AssetAmount, BlockInfo, Candle, Denial, LendingState,
    Level, OracleError, PoolState, Position, VaultState,
};

/// Source of everything a strategy can read. Answers are values: an unknown
/// market is an [`OracleError::Unknown`], not a failure of the tick.
///
/// Every method but [`Oracle::block`] has a default that answers
/// "unknown" (or an empty list), so a candle-only embedder implements two
/// methods.
pub trait Oracle: Send {
    /// The current block or simulated step.
    fn block(&mut self) -> BlockInfo;

    /// The `count` most recent closed candles of `market`, oldest first.
    fn candles(&mut self, market: &str, count: u32) -> Result<Vec<Candle>, OracleError> {
        let _ = count;
        Err(OracleError::Unknown(market.to_owned()))
    }

    /// Price of one `base` in `quote`.
    fn price(&mut self, base: &str, quote: &str) -> Result<f64, OracleError> {
        Err(OracleError::Unknown(format!("{base}/{quote}")))
    }

    /// Balance of one asset.
    fn balance(&mut self, asset: &str) -> Result<Amount, OracleError> {
        Err(OracleError::Unknown(asset.to_owned()))
    }

    /// All non-zero balances.
    fn balances(&mut self) -> Vec<AssetAmount> {
        Vec::new()
    }

    /// Open positions.
    fn positions(&mut self) -> Vec<Position> {
        Vec::new()
    }

    /// State of an AMM pool.
    fn pool(&mut self, pool: &str) -> Result<PoolState, OracleError> {
        Err(OracleError::Unknown(pool.to_owned()))
    }

    /// State of a lending market.
    fn lending_market(&mut self, market: &str) -> Result<LendingState, OracleError> {
        Err(OracleError::Unknown(market.to_owned()))
    }

    /// State of a vault.
    fn vault(&mut self, vault: &str) -> Result<VaultState, OracleError> {
        Err(OracleError::Unknown(vault.to_owned()))
    }
}

/// What the policy sees besides the action itself.
#[derive(Debug, Clone, Copy)]
pub struct PolicyContext<'a> {
    /// The deployment emitting the action.
    pub deployment_id: &'a str,
    /// Sequence number of the current tick.
    pub sequence: u64,
    /// Block of the current tick.
    pub block: &'a BlockInfo,
    /// Actions already accepted in this tick, in order.
    pub accepted_in_tick: &'a [AcceptedAction],
}

/// Verdict of a [`Policy`] on one action.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The action may be released if the tick succeeds.
    Accept,
    /// The policy refuses the action.
    Deny(Denial),
    /// The action refers to something that does not exist (unknown asset or
    /// market) or is otherwise malformed for this deployment.
    Invalid(Denial),
}

/// Decides, at the moment of emission, whether an action is allowed.
///
/// The runtime has already checked the action's shape (non-zero amounts,
/// sane ranges). Besides [`Policy::check`], the policy hears what became of
/// accepted actions, so allowances can be consumed only on success.
pub trait Policy: Send {
    /// Judge one action.
    fn check(&mut self, action: &Action, ctx: &PolicyContext<'_>) -> Verdict;

    /// The tick that accepted these actions succeeded: they will be released.
    fn on_released(&mut self, actions: &[AcceptedAction]) {
        let _ = actions;
    }

    /// The tick that accepted these actions failed: they were dropped.
    fn on_dropped(&mut self, actions: &[AcceptedAction]) {
        let _ = actions;
    }

    /// A released action was executed (or failed at the venue).
    fn on_outcome(&mut self, id: ActionId, outcome: &ActionOutcome) {
        let _ = (id, outcome);
    }
}

/// The default policy: every action is denied.
#[derive(Debug, Default, Clone, Copy)]
pub struct DenyAll;

impl Policy for DenyAll {
    fn check(&mut self, action: &Action, _ctx: &PolicyContext<'_>) -> Verdict {
        Verdict::Deny(Denial {
            code: "DENY_ALL".into(),
            rule: "default".into(),
            detail: format!("DENY_ALL: kind={}", action.kind()),
        })
    }
}

/// A policy that accepts every well-formed action. For tests and local
/// experiments only.
#[derive(Debug, Default, Clone, Copy)]
pub struct AllowAll;

impl Policy for AllowAll {
    fn check(&mut self, _action: &Action, _ctx: &PolicyContext<'_>) -> Verdict {
        Verdict::Accept
    }
}

/// Receives log lines as they are emitted (they are also in the tick
/// report).
pub trait LogSink: Send + Sync {
    /// One log line of `deployment` during tick `sequence`.
    fn log(&self, deployment: &str, sequence: u64, level: Level, message: &str);
}

/// Forwards guest logs to `tracing` under the `stratbox::guest` target.
#[derive(Debug, Default, Clone, Copy)]
pub struct TracingLogSink;

impl LogSink for TracingLogSink {
    fn log(&self, deployment: &str, sequence: u64, level: Level, message: &str) {
        match level {
            Level::Trace => {
                tracing::trace!(target: "stratbox::guest", deployment, sequence, "{message}")
            }
            Level::Debug => {
                tracing::debug!(target: "stratbox::guest", deployment, sequence, "{message}")
            }
            Level::Info => {
                tracing::info!(target: "stratbox::guest", deployment, sequence, "{message}")
            }
            Level::Warn => {
                tracing::warn!(target: "stratbox::guest", deployment, sequence, "{message}")
            }
            Level::Error => {
                tracing::error!(target: "stratbox::guest", deployment, sequence, "{message}")
            }
        }
    }
}
