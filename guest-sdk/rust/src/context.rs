use std::fmt;

use crate::host::Host;
use crate::types::{
    Action, ActionId, Amount, AssetAmount, BlockInfo, Candle, DeploymentInfo, LendingOp,
    LendingState, Level, LpRange, OracleError, PoolState, Position, Rejection, Swap, SwapAmount,
    VaultOp, VaultState,
};

/// A strategy's handle on the outside world for the duration of one call:
/// oracle reads, action emission and logging.
pub struct Context<'a> {
    host: &'a mut dyn Host,
}

impl fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context").finish_non_exhaustive()
    }
}

impl<'a> Context<'a> {
    /// A context backed by `host`.
    pub fn new(host: &'a mut dyn Host) -> Self {
        Context { host }
    }

    /// The deployment this strategy runs as.
    pub fn deployment(&mut self) -> DeploymentInfo {
        self.host.deployment()
    }

    /// The current block (or simulated step).
    pub fn block(&mut self) -> BlockInfo {
        self.host.block()
    }

    /// Price of one `base` in `quote`.
    pub fn price(&mut self, base: &str, quote: &str) -> Result<f64, OracleError> {
        self.host.price(base, quote)
    }

    /// The `count` most recent closed candles of `market`, oldest first.
    pub fn candles(&mut self, market: &str, count: u32) -> Result<Vec<Candle>, OracleError> {
        self.host.candles(market, count)
    }

    /// Balance of `asset` in base units.
    pub fn balance(&mut self, asset: &str) -> Result<Amount, OracleError> {
        self.host.balance(asset)
    }

    /// All non-zero balances.
    pub fn balances(&mut self) -> Vec<AssetAmount> {
        self.host.balances()
    }

    /// Open positions.
    pub fn positions(&mut self) -> Vec<Position> {
        self.host.positions()
    }

    /// State of an AMM pool.
    pub fn pool(&mut self, pool: &str) -> Result<PoolState, OracleError> {
        self.host.pool(pool)
    }

    /// State of a lending market.
    pub fn lending_market(&mut self, market: &str) -> Result<LendingState, OracleError> {
        self.host.lending_market(market)
    }

    /// State of a vault.
    pub fn vault(&mut self, vault: &str) -> Result<VaultState, OracleError> {
        self.host.vault(vault)
    }

    /// Emit any action; the verdict comes back immediately.
    pub fn emit(&mut self, action: &Action) -> Result<ActionId, Rejection> {
        self.host.emit(action)
    }

    /// Sell exactly `amount` of `sell` for `buy`, tolerating `max_slippage_bps`.
    pub fn swap_exact_in(
        &mut self,
        sell: &str,
        buy: &str,
        amount: impl Into<Amount>,
        max_slippage_bps: u32,
    ) -> Result<ActionId, Rejection> {
        self.swap(
            sell,
            buy,
            SwapAmount::ExactIn(amount.into()),
            max_slippage_bps,
        )
    }

    /// Buy exactly `amount` of `buy` with `sell`, tolerating `max_slippage_bps`.
    pub fn swap_exact_out(
        &mut self,
        sell: &str,
        buy: &str,
        amount: impl Into<Amount>,
        max_slippage_bps: u32,
    ) -> Result<ActionId, Rejection> {
        self.swap(
            sell,
            buy,
            SwapAmount::ExactOut(amount.into()),
            max_slippage_bps,
        )
    }

    fn swap(
        &mut self,
        sell: &str,
        buy: &str,
        amount: SwapAmount,
        max_slippage_bps: u32,
    ) -> Result<ActionId, Rejection> {
        self.emit(&Action::Swap(Swap {
            sell: sell.to_owned(),
            buy: buy.to_owned(),
            amount,
            max_slippage_bps,
            venue: None,
        }))
    }

    /// Open a concentrated-liquidity position.
    pub fn lp_open(
        &mut self,
        pool: &str,
        range: LpRange,
        amount0: impl Into<Amount>,
        amount1: impl Into<Amount>,
    ) -> Result<ActionId, Rejection> {
        self.emit(&Action::LpOpen(crate::types::LpOpen {
            pool: pool.to_owned(),
            range,
            amount0: amount0.into(),
            amount1: amount1.into(),
        }))
    }

    /// Close a liquidity position.
    pub fn lp_close(&mut self, position: &str) -> Result<ActionId, Rejection> {
        self.emit(&Action::LpClose(crate::types::LpClose {
            position: position.to_owned(),
        }))
    }

    /// Collect fees of a liquidity position.
    pub fn lp_collect(&mut self, position: &str) -> Result<ActionId, Rejection> {
        self.emit(&Action::LpCollect(crate::types::LpCollect {
            position: position.to_owned(),
        }))
    }

    /// Supply `amount` of `asset` to a lending market.
    pub fn supply(
        &mut self,
        market: &str,
        asset: &str,
        amount: impl Into<Amount>,
    ) -> Result<ActionId, Rejection> {
        self.emit(&Action::Supply(lending_op(market, asset, amount.into())))
    }

    /// Withdraw supplied `asset` from a lending market.
    pub fn withdraw(
        &mut self,
        market: &str,
        asset: &str,
        amount: impl Into<Amount>,
    ) -> Result<ActionId, Rejection> {
        self.emit(&Action::Withdraw(lending_op(market, asset, amount.into())))
    }

    /// Borrow `asset` from a lending market.
    pub fn borrow(
        &mut self,
        market: &str,
        asset: &str,
        amount: impl Into<Amount>,
    ) -> Result<ActionId, Rejection> {
        self.emit(&Action::Borrow(lending_op(market, asset, amount.into())))
    }

    /// Repay borrowed `asset`.
    pub fn repay(
        &mut self,
        market: &str,
        asset: &str,
        amount: impl Into<Amount>,
    ) -> Result<ActionId, Rejection> {
        self.emit(&Action::Repay(lending_op(market, asset, amount.into())))
    }

    /// Deposit assets into a vault.
    pub fn vault_deposit(
        &mut self,
        vault: &str,
        assets: impl Into<Amount>,
    ) -> Result<ActionId, Rejection> {
        self.emit(&Action::VaultDeposit(VaultOp {
            vault: vault.to_owned(),
            amount: assets.into(),
        }))
    }

    /// Ask a vault to redeem shares (asynchronous vaults pay out later).
    pub fn vault_request_redeem(
        &mut self,
        vault: &str,
        shares: impl Into<Amount>,
    ) -> Result<ActionId, Rejection> {
        self.emit(&Action::VaultRequestRedeem(VaultOp {
            vault: vault.to_owned(),
            amount: shares.into(),
        }))
    }

    /// Record a deliberate decision to do nothing.
    pub fn hold(&mut self, reason: &str) -> Result<ActionId, Rejection> {
        self.emit(&Action::Hold(reason.to_owned()))
    }

    /// Log a line at `level`. Log bytes per tick are bounded by the host.
    pub fn log(&mut self, level: Level, message: &str) {
        self.host.log(level, message)
    }

    /// Record this tick's point of the named series (an indicator, a
    /// signal): journaled with the tick and plotted by reports. At most
    /// 64 points per tick and 32 distinct series per deployment by
    /// default; more end the tick with a resource error. Points recorded
    /// outside a tick (in `init`, `snapshot`, `restore`) are dropped.
    pub fn series(&mut self, name: &str, value: f64) {
        self.host.series(name, value)
    }

    /// Log at debug level.
    pub fn debug(&mut self, message: &str) {
        self.log(Level::Debug, message)
    }

    /// Log at info level.
    pub fn info(&mut self, message: &str) {
        self.log(Level::Info, message)
    }

    /// Log at warn level.
    pub fn warn(&mut self, message: &str) {
        self.log(Level::Warn, message)
    }

    /// Log at error level.
    pub fn error(&mut self, message: &str) {
        self.log(Level::Error, message)
    }
}

fn lending_op(market: &str, asset: &str, amount: Amount) -> LendingOp {
    LendingOp {
        market: market.to_owned(),
        asset: asset.to_owned(),
        amount,
    }
}
