//! The data of a deployment's store: the embedder's oracle and policy, the
//! per-tick buffers, and the host side of every import of the world.

use std::collections::HashSet;
use std::sync::Arc;

use wasmtime::ResourceLimiter;

use crate::bindings::exports::stratbox::strategy::strategy::TickContext;
use crate::bindings::stratbox::strategy::{actions, logging, oracle, types as wit_types};
use crate::error::{ResourceExceeded, TickError};
use crate::host::{LogSink, Oracle, Policy, PolicyContext, PolicyOracle, Verdict};
use crate::limits::Limits;
use crate::names::{NameId, NameTable};
use crate::report::{AcceptedAction, CallTrace, Emission, LogRecord, OracleRead, SeriesPoint};
use crate::types::{
    Action, ActionId, Amount, AssetAmount, BlockInfo, Candle, Denial, DeploymentInfo, LendingState,
    Level, MarketCandle, OracleError, PoolState, Position, Rejection, VaultState,
};
use crate::validation::validate;

/// Which guest call is running: actions are accepted only within a tick
/// (`on-action-result` and `on-tick`), never from init, restore or snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// `init` or `restore` (a start, a resume or a rebuild).
    Setup,
    /// `on-action-result`.
    Outcome,
    /// `on-tick`.
    Tick,
    /// `snapshot`.
    Snapshot,
}

impl Phase {
    /// The guest callback(s) the phase runs, as named in the world.
    fn callback(self) -> &'static str {
        match self {
            Phase::Setup => "init/restore",
            Phase::Outcome => "on-action-result",
            Phase::Tick => "on-tick",
            Phase::Snapshot => "snapshot",
        }
    }
}

/// Counters that bound one tick.
#[derive(Debug, Default)]
struct Budget {
    emissions: u32,
    reads: u32,
    log_bytes: u32,
    oracle_bytes: u64,
    series_points: u32,
}

/// Bytes one candle takes in an answer (a timestamp and five `f64`s).
const CANDLE_BYTES: u64 = 48;

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
    /// The ids of the series recorded so far (`logging.series`); kept
    /// across instance rebuilds, like the names.
    series_names: HashSet<NameId>,
    /// The current tick's candles as the guest sees them (`tick-candles`).
    pub(crate) tick_candles: Vec<wit_types::MarketCandle>,
    /// Bytes of linear memory the current instance holds, over all of its
    /// memories (reset with each new store).
    memory_bytes: u64,
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
            series_names: HashSet::new(),
            tick_candles: Vec::new(),
            memory_bytes: 0,
        }
    }

    /// Bytes of linear memory the current instance holds.
    pub(crate) fn memory_bytes(&self) -> u64 {
        self.memory_bytes
    }

    /// A new store (instance) starts with no memory.
    pub(crate) fn new_instance(&mut self) {
        self.memory_bytes = 0;
    }

    /// Switch to the phase of the next guest call within a tick; budgets
    /// are not reset.
    pub(crate) fn enter(&mut self, phase: Phase) {
        self.phase = phase;
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

    /// Charge `bytes` of oracle answers to the tick's budget.
    fn charge_answer(&mut self, bytes: u64) -> wasmtime::Result<()> {
        self.budget.oracle_bytes = self.budget.oracle_bytes.saturating_add(bytes);
        let limit = self.limits.oracle_bytes_per_tick;
        if self.budget.oracle_bytes > u64::from(limit) {
            return Err(wasmtime::Error::new(TickError::Resource(
                ResourceExceeded::OracleBytesPerTick { limit },
            )));
        }
        Ok(())
    }

    /// Bytes of answers the tick may still receive.
    fn answer_room(&self) -> u64 {
        u64::from(self.limits.oracle_bytes_per_tick).saturating_sub(self.budget.oracle_bytes)
    }

    /// The id of `name`, interned now if new; more distinct names, or more
    /// bytes of names, than the limits end the call with a resource error.
    pub(crate) fn intern(&mut self, name: &str) -> Result<NameId, TickError> {
        Ok(self.names.intern(
            name,
            self.limits.interned_names,
            self.limits.interned_name_bytes,
        )?)
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

    /// Keep a guest's read in the trace, once its answer fits the tick's
    /// budget of answer bytes.
    fn record(&mut self, read: OracleRead) -> wasmtime::Result<()> {
        self.charge_answer(read.answer_bytes())?;
        self.trace.oracle_reads.push(read);
        Ok(())
    }

    fn verdict(&mut self, action: &Action) -> Result<ActionId, Rejection> {
        // A tick is outcome delivery then on-tick: a strategy may react to a
        // fill at once (released with the tick); init, restore and snapshot
        // are outside any tick.
        if !matches!(self.phase, Phase::Tick | Phase::Outcome) {
            return Err(Rejection::Invalid(Denial::new(
                "NOT_IN_TICK",
                "runtime",
                &[
                    ("kind", &action.kind()),
                    ("callback", &self.phase.callback()),
                ],
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
        let bytes = self.deployment.id.len() + self.deployment.account.len();
        self.charge_answer(bytes as u64)?;
        Ok(self.deployment.clone())
    }

    fn block(&mut self) -> wasmtime::Result<BlockInfo> {
        self.count_read()?;
        let response = self.oracle.block();
        self.record(OracleRead::Block { response })?;
        Ok(response)
    }

    fn intern(&mut self, name: String) -> wasmtime::Result<NameId> {
        self.count_read()?;
        self.check_argument("oracle.intern", name.len())?;
        Ok(HostState::intern(self, &name)?)
    }

    fn name(&mut self, id: NameId) -> wasmtime::Result<Option<String>> {
        self.count_read()?;
        let name = self.names.get(id).map(|name| name.to_string());
        self.charge_answer(name.as_ref().map_or(0, |name| name.len() as u64))?;
        Ok(name)
    }

    fn tick_candles(&mut self) -> wasmtime::Result<Vec<wit_types::MarketCandle>> {
        self.count_read()?;
        self.charge_answer((self.tick_candles.len() as u64).saturating_mul(CANDLE_BYTES + 4))?;
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
        })?;
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
        // Never ask the oracle for more candles than the tick could still
        // receive: an answer of that many already ends the tick, and a
        // larger one would be copied first (`count` may be u32::MAX).
        let room = self.answer_room() / CANDLE_BYTES + 1;
        let count = count.min(u32::try_from(room).unwrap_or(u32::MAX));
        let response = self.oracle.candles(&market, count);
        self.record(OracleRead::Candles {
            market,
            count,
            response: response.clone(),
        })?;
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
        })?;
        Ok(response)
    }

    fn balances(&mut self) -> wasmtime::Result<Vec<AssetAmount>> {
        self.count_read()?;
        let response = self.oracle.balances();
        self.record(OracleRead::Balances {
            response: response.clone(),
        })?;
        Ok(response)
    }

    fn positions(&mut self) -> wasmtime::Result<Vec<Position>> {
        self.count_read()?;
        let response = self.oracle.positions();
        self.record(OracleRead::Positions {
            response: response.clone(),
        })?;
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
        })?;
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
        })?;
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
        })?;
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
        let text = action_bytes(&action);
        self.check_argument("actions.emit", text)?;
        let limit = self.limits.action_text_bytes;
        if text > limit as usize {
            return Err(wasmtime::Error::new(TickError::Resource(
                ResourceExceeded::ActionTextBytes {
                    bytes: text as u64,
                    limit,
                },
            )));
        }
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

    fn series(&mut self, name: NameId, value: f64) -> wasmtime::Result<()> {
        // Series describe ticks: a point recorded by `init`, `snapshot` or
        // `restore` (or a rebuild) is dropped, as the world documents.
        if !matches!(self.phase, Phase::Tick | Phase::Outcome) {
            return Ok(());
        }
        let resource = |error| Err(wasmtime::Error::new(TickError::Resource(error)));
        let Some(series) = self.names.get(name).map(Arc::clone) else {
            return resource(ResourceExceeded::SeriesNameUnknown { id: name });
        };
        self.budget.series_points += 1;
        let limit = self.limits.series_points_per_tick;
        if self.budget.series_points > limit {
            return resource(ResourceExceeded::SeriesPointsPerTick { limit });
        }
        if !self.series_names.contains(&name) {
            let limit = self.limits.series_names;
            if self.series_names.len() >= limit as usize {
                return resource(ResourceExceeded::SeriesNames { limit });
            }
            self.series_names.insert(name);
        }
        // A non-finite value (an indicator still warming up) is a gap, not a
        // point; -0.0 is 0.0. Every recorded value then survives JSON and
        // SQLite exactly.
        if value.is_finite() {
            self.trace.series.push(SeriesPoint {
                name: series,
                value: value + 0.0,
            });
        }
        Ok(())
    }
}

impl ResourceLimiter for HostState {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // The limit bounds all of the instance's memories together: a
        // component declaring four memories gets the limit once, not four
        // times. A memory's creation is a growth from zero.
        let limit = self.limits.memory_bytes;
        let total = self
            .memory_bytes
            .saturating_sub(current as u64)
            .saturating_add(desired as u64);
        if total > limit {
            return Err(wasmtime::Error::new(TickError::MemoryLimit {
                requested: total,
                limit,
            }));
        }
        self.memory_bytes = total;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::DenyAll;

    struct NoReads;

    impl Oracle for NoReads {
        fn block(&mut self) -> BlockInfo {
            BlockInfo {
                chain_id: 0,
                number: 0,
                timestamp_ms: 0,
            }
        }
    }

    fn state(memory_bytes: u64) -> HostState {
        HostState::new(
            Box::new(NoReads),
            Box::new(DenyAll),
            None,
            DeploymentInfo {
                id: "memories".into(),
                account: "memories".into(),
            },
            Limits {
                memory_bytes,
                ..Limits::default()
            },
            1,
        )
    }

    #[test]
    fn the_memory_limit_bounds_all_memories_together() {
        let mut state = state(100);
        // Three memories of 40 bytes each: the third does not fit.
        assert!(state.memory_growing(0, 40, None).unwrap());
        assert!(state.memory_growing(0, 40, None).unwrap());
        let error = state.memory_growing(0, 40, None).unwrap_err();
        assert!(matches!(
            error.downcast_ref::<TickError>(),
            Some(TickError::MemoryLimit {
                requested: 120,
                limit: 100
            })
        ));
        // Growing one of the two from 40 to 60 fills the limit exactly.
        assert!(state.memory_growing(40, 60, None).unwrap());
        assert!(state.memory_growing(60, 61, None).is_err());
        // A new instance starts from nothing.
        state.new_instance();
        assert!(state.memory_growing(0, 100, None).unwrap());
    }
}
