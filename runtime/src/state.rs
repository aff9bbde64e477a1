//! The data of a deployment's store: the embedder's oracle and policy, the
//! per-tick buffers, and the host side of every import of the world.

use std::sync::Arc;

use wasmtime::ResourceLimiter;

use crate::bindings::exports::stratbox::strategy::strategy::TickContext;
use crate::bindings::stratbox::strategy::{actions, logging, oracle, types as wit_types};
use crate::error::{ResourceExceeded, TickError};
use crate::host::{LogSink, Oracle, Policy, PolicyContext, PolicyOracle, Verdict};
use crate::limits::Limits;
use crate::names::{NameId, NameTable};
use crate::report::{AcceptedAction, CallTrace, Emission, LogRecord, OracleRead};
use crate::types::{
    Action, ActionId, Amount, AssetAmount, BlockInfo, Candle, Denial, DeploymentInfo, LendingState,
    Level, MarketCandle, OracleError, PoolState, Position, Rejection, VaultState,
};
use crate::validation::validate;

/// Which guest call is running: actions may only be emitted during a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// init, restore or snapshot.
    Setup,
    /// on-action-result or on-tick.
    Tick,
}

/// Counters that bound one tick.
#[derive(Debug, Default)]
struct Budget {
    emissions: u32,
    reads: u32,
    log_bytes: u32,
}

pub(crate) struct HostState {
    pub(crate) oracle: Box<dyn Oracle>,
    pub(crate) policy: Box<dyn Policy>,
    log_sink: Option<Arc<dyn LogSink>>,
    deployment: DeploymentInfo,
    pub(crate) limits: Limits,
    phase: Phase,
    sequence: u64,
    block: BlockInfo,
    pub(crate) next_action_id: ActionId,
    budget: Budget,
    pub(crate) trace: CallTrace,
    pub(crate) accepted: Vec<AcceptedAction>,
    /// What the guest's name ids stand for; kept across instance rebuilds.
    pub(crate) names: NameTable,
    /// The current tick's candles as the guest sees them (`tick-candles`).
    pub(crate) tick_candles: Vec<wit_types::MarketCandle>,
}

impl HostState {
    pub(crate) fn new(
        oracle: Box<dyn Oracle>,
        policy: Box<dyn Policy>,
        log_sink: Option<Arc<dyn LogSink>>,
        deployment: DeploymentInfo,
        limits: Limits,
        next_action_id: ActionId,
    ) -> Self {
        HostState {
            oracle,
            policy,
            log_sink,
            deployment,
            limits,
            phase: Phase::Setup,
            sequence: 0,
            block: BlockInfo {
                chain_id: 0,
                number: 0,
                timestamp_ms: 0,
            },
            next_action_id,
            budget: Budget::default(),
            trace: CallTrace::default(),
            accepted: Vec::new(),
            names: NameTable::default(),
            tick_candles: Vec::new(),
        }
    }

    /// Start a bounded phase: budgets are fresh, the trace keeps growing
    /// until [`HostState::take_trace`].
    pub(crate) fn begin(&mut self, phase: Phase, sequence: u64, block: BlockInfo) {
        self.phase = phase;
        self.sequence = sequence;
        self.block = block;
        self.budget = Budget::default();
    }

    pub(crate) fn take_trace(&mut self) -> CallTrace {
        std::mem::take(&mut self.trace)
    }

    fn check_argument(&self, function: &str, bytes: usize) -> wasmtime::Result<()> {
        let limit = self.limits.argument_bytes;
        if bytes > limit as usize {
            return Err(wasmtime::Error::new(TickError::Resource(
                ResourceExceeded::ArgumentBytes {
                    function: function.to_owned(),
                    bytes: bytes as u64,
                    limit,
                },
            )));
        }
        Ok(())
    }

    fn count_read(&mut self) -> wasmtime::Result<()> {
        self.budget.reads += 1;
        let limit = self.limits.oracle_reads_per_tick;
        if self.budget.reads > limit {
            return Err(wasmtime::Error::new(TickError::Resource(
                ResourceExceeded::OracleReadsPerTick { limit },
            )));
        }
        Ok(())
    }

    /// The id of `name`, interned now if new; more distinct names than the
    /// limit end the call with a resource error.
    pub(crate) fn intern(&mut self, name: &str) -> Result<NameId, TickError> {
        Ok(self.names.intern(name, self.limits.interned_names)?)
    }

    /// The tick context the guest receives for `candles`: their markets
    /// interned, the first candle inline, all of them kept for
    /// `tick-candles`.
    pub(crate) fn tick_context(
        &mut self,
        sequence: u64,
        block: BlockInfo,
        candles: &[MarketCandle],
    ) -> Result<TickContext, TickError> {
        self.tick_candles.clear();
        for candle in candles {
            let market = self.intern(&candle.market)?;
            self.tick_candles.push(wit_types::MarketCandle {
                market,
                candle: candle.candle,
            });
        }
        Ok(TickContext {
            sequence,
            block,
            candle: self.tick_candles.first().copied(),
            candle_count: u32::try_from(candles.len()).unwrap_or(u32::MAX),
        })
    }

    fn record(&mut self, read: OracleRead) {
        self.trace.oracle_reads.push(read);
    }

    fn verdict(&mut self, action: &Action) -> Result<ActionId, Rejection> {
        if self.phase != Phase::Tick {
            return Err(Rejection::Invalid(Denial::new(
                "NOT_IN_TICK",
                "runtime",
                &[("kind", &action.kind())],
            )));
        }
        validate(action).map_err(Rejection::Invalid)?;
        let oracle = PolicyOracle::new(&mut *self.oracle, &mut self.trace.oracle_reads);
        let ctx = PolicyContext {
            deployment_id: &self.deployment.id,
            sequence: self.sequence,
            block: &self.block,
            accepted_in_tick: &self.accepted,
            action_id: self.next_action_id,
            oracle: &oracle,
        };
        let verdict = self.policy.check(action, &ctx);
        match verdict {
            Verdict::Accept => {
                let id = self.next_action_id;
                self.next_action_id += 1;
                self.accepted.push(AcceptedAction {
                    id,
                    action: action.clone(),
                });
                Ok(id)
            }
            Verdict::Deny(denial) => Err(Rejection::Denied(denial)),
            Verdict::Invalid(denial) => Err(Rejection::Invalid(denial)),
        }
    }
}

/// Bytes of guest-provided text inside an action.
fn action_bytes(action: &Action) -> usize {
    match action {
        Action::Swap(s) => s.sell.len() + s.buy.len() + s.venue.as_ref().map_or(0, String::len),
        Action::LpOpen(o) => o.pool.len(),
        Action::LpClose(c) => c.position.len(),
        Action::LpCollect(c) => c.position.len(),
        Action::Supply(op) | Action::Withdraw(op) | Action::Borrow(op) | Action::Repay(op) => {
            op.market.len() + op.asset.len()
        }
        Action::VaultDeposit(op) | Action::VaultRequestRedeem(op) => op.vault.len(),
        Action::Hold(reason) => reason.len(),
    }
}

impl wit_types::Host for HostState {}

impl oracle::Host for HostState {
    fn deployment(&mut self) -> wasmtime::Result<DeploymentInfo> {
        self.count_read()?;
        Ok(self.deployment.clone())
    }

    fn block(&mut self) -> wasmtime::Result<BlockInfo> {
        self.count_read()?;
        let response = self.oracle.block();
        self.record(OracleRead::Block { response });
        Ok(response)
    }

    fn intern(&mut self, name: String) -> wasmtime::Result<NameId> {
        self.count_read()?;
        self.check_argument("oracle.intern", name.len())?;
        Ok(HostState::intern(self, &name)?)
    }

    fn name(&mut self, id: NameId) -> wasmtime::Result<Option<String>> {
        self.count_read()?;
        Ok(self.names.get(id).map(|name| name.to_string()))
    }

    fn tick_candles(&mut self) -> wasmtime::Result<Vec<wit_types::MarketCandle>> {
        self.count_read()?;
        Ok(self.tick_candles.clone())
    }

    fn price(&mut self, base: NameId, quote: NameId) -> wasmtime::Result<Result<f64, OracleError>> {
        self.count_read()?;
        let (base, quote) = match (self.names.get(base), self.names.get(quote)) {
            (Some(base), Some(quote)) => (Arc::clone(base), Arc::clone(quote)),
            (None, _) => return Ok(Err(unknown_id(base))),
            (_, None) => return Ok(Err(unknown_id(quote))),
        };
        let response = self.oracle.price(&base, &quote);
        self.record(OracleRead::Price {
            base,
            quote,
            response: response.clone(),
        });
        Ok(response)
    }

    fn candles(
        &mut self,
        market: NameId,
        count: u32,
    ) -> wasmtime::Result<Result<Vec<Candle>, OracleError>> {
        self.count_read()?;
        let Some(market) = self.names.get(market).cloned() else {
            return Ok(Err(unknown_id(market)));
        };
        let response = self.oracle.candles(&market, count);
        self.record(OracleRead::Candles {
            market,
            count,
            response: response.clone(),
        });
        Ok(response)
    }

    fn balance(&mut self, asset: NameId) -> wasmtime::Result<Result<Amount, OracleError>> {
        self.count_read()?;
        let Some(asset) = self.names.get(asset).cloned() else {
            return Ok(Err(unknown_id(asset)));
        };
        let response = self.oracle.balance(&asset);
        self.record(OracleRead::Balance {
            asset,
            response: response.clone(),
        });
        Ok(response)
    }

    fn balances(&mut self) -> wasmtime::Result<Vec<AssetAmount>> {
        self.count_read()?;
        let response = self.oracle.balances();
        self.record(OracleRead::Balances {
            response: response.clone(),
        });
        Ok(response)
    }

    fn positions(&mut self) -> wasmtime::Result<Vec<Position>> {
        self.count_read()?;
        let response = self.oracle.positions();
        self.record(OracleRead::Positions {
            response: response.clone(),
        });
        Ok(response)
    }

    fn pool(&mut self, pool: NameId) -> wasmtime::Result<Result<PoolState, OracleError>> {
        self.count_read()?;
        let Some(pool) = self.names.get(pool).cloned() else {
            return Ok(Err(unknown_id(pool)));
        };
        let response = self.oracle.pool(&pool);
        self.record(OracleRead::Pool {
            pool,
            response: Box::new(response.clone()),
        });
        Ok(response)
    }

    fn lending_market(
        &mut self,
        market: NameId,
    ) -> wasmtime::Result<Result<LendingState, OracleError>> {
        self.count_read()?;
        let Some(market) = self.names.get(market).cloned() else {
            return Ok(Err(unknown_id(market)));
        };
        let response = self.oracle.lending_market(&market);
        self.record(OracleRead::LendingMarket {
            market,
            response: Box::new(response.clone()),
        });
        Ok(response)
    }

    fn vault(&mut self, vault: NameId) -> wasmtime::Result<Result<VaultState, OracleError>> {
        self.count_read()?;
        let Some(vault) = self.names.get(vault).cloned() else {
            return Ok(Err(unknown_id(vault)));
        };
        let response = self.oracle.vault(&vault);
        self.record(OracleRead::Vault {
            vault,
            response: Box::new(response.clone()),
        });
        Ok(response)
    }
}

/// The answer to a read naming an id the host never gave out: a value, like
/// any unknown market, not a trap. No oracle was asked, so nothing is
/// recorded: a replay reaches the same answer the same way.
fn unknown_id(id: NameId) -> OracleError {
    OracleError::Unknown(format!("name id {id} was never interned"))
}

impl actions::Host for HostState {
    fn emit(&mut self, action: Action) -> wasmtime::Result<Result<ActionId, Rejection>> {
        self.budget.emissions += 1;
        let limit = self.limits.actions_per_tick;
        if self.budget.emissions > limit {
            return Err(wasmtime::Error::new(TickError::Resource(
                ResourceExceeded::ActionsPerTick { limit },
            )));
        }
        self.check_argument("actions.emit", action_bytes(&action))?;
        let verdict = self.verdict(&action);
        self.trace.emissions.push(Emission {
            action,
            verdict: verdict.clone(),
        });
        Ok(verdict)
    }
}

impl logging::Host for HostState {
    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        self.check_argument("logging.log", message.len())?;
        let limit = self.limits.log_bytes_per_tick;
        // `check_argument` bounds the message to a u32-sized length.
        let bytes = u32::try_from(message.len()).unwrap_or(u32::MAX);
        self.budget.log_bytes = self.budget.log_bytes.saturating_add(bytes);
        if self.budget.log_bytes > limit {
            return Err(wasmtime::Error::new(TickError::Resource(
                ResourceExceeded::LogBytesPerTick { limit },
            )));
        }
        if let Some(sink) = &self.log_sink {
            sink.log(&self.deployment.id, self.sequence, level, &message);
        }
        self.trace.logs.push(LogRecord { level, message });
        Ok(())
    }
}

impl ResourceLimiter for HostState {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let limit = self.limits.memory_bytes;
        if desired as u64 > limit {
            return Err(wasmtime::Error::new(TickError::MemoryLimit {
                requested: desired as u64,
                limit,
            }));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let limit = self.limits.table_elements;
        if desired as u64 > limit {
            return Err(wasmtime::Error::new(TickError::TableLimit {
                requested: desired as u64,
                limit,
            }));
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        self.limits.instances as usize
    }

    fn tables(&self) -> usize {
        self.limits.tables as usize
    }

    fn memories(&self) -> usize {
        self.limits.memories as usize
    }
}
