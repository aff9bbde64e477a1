use crate::bindings::stratbox::strategy::{actions, logging, oracle};
use crate::names;
use crate::types::{
    Action, ActionId, Amount, AssetAmount, BlockInfo, Candle, DeploymentInfo, LendingState, Level,
    OracleError, PoolState, Position, Rejection, VaultState,
};

/// The host interface as seen by strategy code.
///
/// Inside a component this is [`WasmHost`], which calls the stratbox world's
/// imports. Natively (benchmarks, unit tests of strategy logic) any
/// implementation can stand in, so the same strategy code runs in both.
///
/// Every read but [`Host::deployment`] and [`Host::block`] has a default
/// that answers "unknown" (or an empty list), as the runtime's `Oracle`
/// does, so a native stand-in implements only what its test reads.
pub trait Host {
    /// See `oracle.deployment`.
    fn deployment(&mut self) -> DeploymentInfo;
    /// See `oracle.block`.
    fn block(&mut self) -> BlockInfo;
    /// See `oracle.price`.
    fn price(&mut self, base: &str, quote: &str) -> Result<f64, OracleError> {
        Err(OracleError::Unknown(format!("{base}/{quote}")))
    }
    /// See `oracle.candles`.
    fn candles(&mut self, market: &str, count: u32) -> Result<Vec<Candle>, OracleError> {
        let _ = count;
        Err(OracleError::Unknown(market.to_owned()))
    }
    /// See `oracle.balance`.
    fn balance(&mut self, asset: &str) -> Result<Amount, OracleError> {
        Err(OracleError::Unknown(asset.to_owned()))
    }
    /// See `oracle.balances`.
    fn balances(&mut self) -> Vec<AssetAmount> {
        Vec::new()
    }
    /// See `oracle.positions`.
    fn positions(&mut self) -> Vec<Position> {
        Vec::new()
    }
    /// See `oracle.pool`.
    fn pool(&mut self, pool: &str) -> Result<PoolState, OracleError> {
        Err(OracleError::Unknown(pool.to_owned()))
    }
    /// See `oracle.lending-market`.
    fn lending_market(&mut self, market: &str) -> Result<LendingState, OracleError> {
        Err(OracleError::Unknown(market.to_owned()))
    }
    /// See `oracle.vault`.
    fn vault(&mut self, vault: &str) -> Result<VaultState, OracleError> {
        Err(OracleError::Unknown(vault.to_owned()))
    }
    /// See `actions.emit`.
    fn emit(&mut self, action: &Action) -> Result<ActionId, Rejection>;
    /// See `logging.log`.
    fn log(&mut self, level: Level, message: &str);
    /// See `logging.series`: this tick's point of the series `name`. A
    /// native stand-in may ignore it (the default).
    fn series(&mut self, name: &str, value: f64) {
        let _ = (name, value);
    }
}

/// The host of a running component: every call crosses into the runtime.
/// Names go across as the ids the host interned them under, each learned
/// once per instance.
#[derive(Debug, Default, Clone, Copy)]
pub struct WasmHost;

impl Host for WasmHost {
    fn deployment(&mut self) -> DeploymentInfo {
        oracle::deployment()
    }
    fn block(&mut self) -> BlockInfo {
        oracle::block()
    }
    fn price(&mut self, base: &str, quote: &str) -> Result<f64, OracleError> {
        oracle::price(names::id(base), names::id(quote))
    }
    fn candles(&mut self, market: &str, count: u32) -> Result<Vec<Candle>, OracleError> {
        oracle::candles(names::id(market), count)
    }
    fn balance(&mut self, asset: &str) -> Result<Amount, OracleError> {
        oracle::balance(names::id(asset))
    }
    fn balances(&mut self) -> Vec<AssetAmount> {
        oracle::balances()
    }
    fn positions(&mut self) -> Vec<Position> {
        oracle::positions()
    }
    fn pool(&mut self, pool: &str) -> Result<PoolState, OracleError> {
        oracle::pool(names::id(pool))
    }
    fn lending_market(&mut self, market: &str) -> Result<LendingState, OracleError> {
        oracle::lending_market(names::id(market))
    }
    fn vault(&mut self, vault: &str) -> Result<VaultState, OracleError> {
        oracle::vault(names::id(vault))
    }
    fn emit(&mut self, action: &Action) -> Result<ActionId, Rejection> {
        actions::emit(action)
    }
    fn log(&mut self, level: Level, message: &str) {
        logging::log(level, message)
    }
    fn series(&mut self, name: &str, value: f64) {
        logging::series(names::id(name), value)
    }
}
