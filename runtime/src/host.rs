//! Traits the embedder implements: where oracle data comes from, who decides
//! on actions, where logs go.

use std::cell::RefCell;

use crate::deployment::{Deployment, TickInput};
use crate::report::{AcceptedAction, CallTrace, OracleRead, TickFailure, TickReport};
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
    /// The id the action gets if it is accepted (what later hooks name it
    /// by).
    pub action_id: ActionId,
    /// The deployment's oracle, for policies that judge by prices or
    /// lending state.
    pub oracle: &'a PolicyOracle<'a>,
}

/// The deployment's oracle as a policy sees it. Every read is recorded in
/// the tick's oracle reads, in order, exactly like the guest's, so a replay
/// serves the policy the same answers and reaches the same verdicts.
/// Policy reads do not count against the guest's per-tick read limit.
pub struct PolicyOracle<'a> {
    inner: RefCell<RecordedOracle<'a>>,
}

struct RecordedOracle<'a> {
    oracle: &'a mut dyn Oracle,
    reads: &'a mut Vec<OracleRead>,
}

impl std::fmt::Debug for PolicyOracle<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyOracle").finish_non_exhaustive()
    }
}

impl<'a> PolicyOracle<'a> {
    /// Serve reads from `oracle`, appending each to `reads`.
    pub fn new(oracle: &'a mut dyn Oracle, reads: &'a mut Vec<OracleRead>) -> Self {
        PolicyOracle {
            inner: RefCell::new(RecordedOracle { oracle, reads }),
        }
    }

    fn with<T>(&self, read: impl FnOnce(&mut dyn Oracle) -> (T, OracleRead)) -> T {
        let mut inner = self.inner.borrow_mut();
        let (response, record) = read(&mut *inner.oracle);
        inner.reads.push(record);
        response
    }

    /// Price of one `base` in `quote`.
    pub fn price(&self, base: &str, quote: &str) -> Result<f64, OracleError> {
        self.with(|oracle| {
            let response = oracle.price(base, quote);
            let record = OracleRead::Price {
                base: base.into(),
                quote: quote.into(),
                response: response.clone(),
            };
            (response, record)
        })
    }

    /// The `count` most recent closed candles of `market`, oldest first.
    pub fn candles(&self, market: &str, count: u32) -> Result<Vec<Candle>, OracleError> {
        self.with(|oracle| {
            let response = oracle.candles(market, count);
            let record = OracleRead::Candles {
                market: market.into(),
                count,
                response: response.clone(),
            };
            (response, record)
        })
    }

    /// All non-zero balances.
    pub fn balances(&self) -> Vec<AssetAmount> {
        self.with(|oracle| {
            let response = oracle.balances();
            let record = OracleRead::Balances {
                response: response.clone(),
            };
            (response, record)
        })
    }

    /// Balance of one asset.
    pub fn balance(&self, asset: &str) -> Result<Amount, OracleError> {
        self.with(|oracle| {
            let response = oracle.balance(asset);
            let record = OracleRead::Balance {
                asset: asset.into(),
                response: response.clone(),
            };
            (response, record)
        })
    }

    /// Open positions.
    pub fn positions(&self) -> Vec<Position> {
        self.with(|oracle| {
            let response = oracle.positions();
            let record = OracleRead::Positions {
                response: response.clone(),
            };
            (response, record)
        })
    }

    /// State of an AMM pool.
    pub fn pool(&self, pool: &str) -> Result<PoolState, OracleError> {
        self.with(|oracle| {
            let response = oracle.pool(pool);
            let record = OracleRead::Pool {
                pool: pool.into(),
                response: Box::new(response.clone()),
            };
            (response, record)
        })
    }

    /// State of a lending market.
    pub fn lending_market(&self, market: &str) -> Result<LendingState, OracleError> {
        self.with(|oracle| {
            let response = oracle.lending_market(market);
            let record = OracleRead::LendingMarket {
                market: market.into(),
                response: Box::new(response.clone()),
            };
            (response, record)
        })
    }

    /// State of a vault.
    pub fn vault(&self, vault: &str) -> Result<VaultState, OracleError> {
        self.with(|oracle| {
            let response = oracle.vault(vault);
            let record = OracleRead::Vault {
                vault: vault.into(),
                response: Box::new(response.clone()),
            };
            (response, record)
        })
    }
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

    /// What the policy must remember across a restart (allowance balances,
    /// cooldown clocks, day counters), serialized; `None` for a stateless
    /// policy. A host journals it with every tick and rebuilds the policy
    /// from it.
    fn persistent_state(&self) -> Option<Vec<u8>> {
        None
    }
}

/// A boxed policy is a policy, so one can be chosen at run time.
impl<P: Policy + ?Sized> Policy for Box<P> {
    fn check(&mut self, action: &Action, ctx: &PolicyContext<'_>) -> Verdict {
        (**self).check(action, ctx)
    }

    fn on_released(&mut self, actions: &[AcceptedAction]) {
        (**self).on_released(actions);
    }

    fn on_dropped(&mut self, actions: &[AcceptedAction]) {
        (**self).on_dropped(actions);
    }

    fn on_outcome(&mut self, id: ActionId, outcome: &ActionOutcome) {
        (**self).on_outcome(id, outcome);
    }

    fn persistent_state(&self) -> Option<Vec<u8>> {
        (**self).persistent_state()
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

/// Why a [`JournalSink`] could not persist something; the loop stops.
pub type JournalSinkError = Box<dyn std::error::Error + Send + Sync>;

/// Where a deployment loop persists what happens, in order, so a run can be
/// audited, resumed and replayed. A loop calls [`JournalSink::tick`] before
/// it releases the tick's actions to the venue (write-ahead) and stops if
/// the sink fails.
pub trait JournalSink {
    /// The deployment was created and `init` ran.
    fn init(&mut self, deployment: &Deployment, trace: &CallTrace) -> Result<(), JournalSinkError>;

    /// A tick ran with `input`; `deployment` is already past it (its
    /// checkpoint and policy state are the tick's).
    fn tick(
        &mut self,
        deployment: &Deployment,
        input: &TickInput,
        result: &Result<TickReport, TickFailure>,
    ) -> Result<(), JournalSinkError>;

    /// The venue reported what became of the actions released by tick
    /// `sequence`.
    fn outcomes(
        &mut self,
        sequence: u64,
        outcomes: &[(ActionId, ActionOutcome)],
    ) -> Result<(), JournalSinkError>;
}

impl<T: JournalSink + ?Sized> JournalSink for &mut T {
    fn init(&mut self, deployment: &Deployment, trace: &CallTrace) -> Result<(), JournalSinkError> {
        (**self).init(deployment, trace)
    }

    fn tick(
        &mut self,
        deployment: &Deployment,
        input: &TickInput,
        result: &Result<TickReport, TickFailure>,
    ) -> Result<(), JournalSinkError> {
        (**self).tick(deployment, input, result)
    }

    fn outcomes(
        &mut self,
        sequence: u64,
        outcomes: &[(ActionId, ActionOutcome)],
    ) -> Result<(), JournalSinkError> {
        (**self).outcomes(sequence, outcomes)
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
