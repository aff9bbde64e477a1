//! Leverage loop: supply collateral, borrow against it, swap the borrowed
//! asset into more collateral, supply that, and repeat until the health
//! factor reaches `target_health_factor`. When the health factor falls below
//! `unwind_below` (the collateral lost value), withdraw collateral, swap it
//! back and repay until the target is restored.
//!
//! Config (JSON, every field optional): `market`, `collateral`, `debt`,
//! `collateral_decimals`, `debt_decimals`, `pool`, `target_health_factor`,
//! `unwind_below`, `min_step` (smallest borrow or repay worth doing, whole
//! debt units), `max_slippage_bps`.

use serde::{Deserialize, Serialize};
use stratbox_sdk::prelude::*;

/// Configuration of [`LeverageLoop`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Lending market id.
    pub market: String,
    /// Asset supplied as collateral.
    pub collateral: String,
    /// Asset borrowed.
    pub debt: String,
    /// Decimals of the collateral.
    pub collateral_decimals: u8,
    /// Decimals of the debt asset.
    pub debt_decimals: u8,
    /// Pool to swap through.
    pub pool: String,
    /// Health factor to lever up to.
    pub target_health_factor: f64,
    /// Unwind when the health factor falls below this.
    pub unwind_below: f64,
    /// Smallest step worth an action, whole debt units.
    pub min_step: f64,
    /// Slippage tolerance of the swaps.
    pub max_slippage_bps: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            market: "aave".into(),
            collateral: "ETH".into(),
            debt: "USDC".into(),
            collateral_decimals: 18,
            debt_decimals: 6,
            pool: "ETH/USDC-0.3".into(),
            target_health_factor: 1.8,
            unwind_below: 1.4,
            min_step: 50.0,
            max_slippage_bps: 100,
        }
    }
}

/// Health factor an unwinding withdrawal must leave, before its proceeds
/// repay debt.
const WITHDRAW_HEALTH_FLOOR: f64 = 1.05;

/// The step the strategy waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Step {
    /// Deciding.
    Ready,
    /// Supplying collateral.
    Supplying,
    /// Borrowing.
    Borrowing,
    /// Swapping borrowed funds into collateral.
    BuyingCollateral,
    /// Withdrawing collateral to unwind.
    Withdrawing,
    /// Swapping collateral back to the debt asset.
    SellingCollateral,
    /// Repaying.
    Repaying,
}

/// The strategy's state.
#[derive(Debug, Serialize, Deserialize)]
pub struct LeverageLoop {
    config: Config,
    step: Step,
    pending: Option<ActionId>,
    loops: u32,
    unwinds: u32,
}

/// What the account looks like in the lending market.
struct Book {
    collateral_units: u128,
    debt_units: u128,
    collateral_value: f64,
    debt_value: f64,
    liquidation_threshold: f64,
    price: f64,
}

impl Strategy for LeverageLoop {
    fn init(config: &str, _ctx: &mut Context<'_>) -> Result<Self, Error> {
        let config: Config = parse_config(config)?;
        if !(config.target_health_factor > config.unwind_below && config.unwind_below > 1.0) {
            return Err("need target_health_factor > unwind_below > 1".into());
        }
        Ok(LeverageLoop {
            config,
            step: Step::Ready,
            pending: None,
            loops: 0,
            unwinds: 0,
        })
    }

    fn on_tick(&mut self, ctx: &mut Context<'_>, _tick: &TickContext) -> Result<(), Error> {
        if self.pending.is_some() {
            return Ok(());
        }
        let c = self.config.clone();
        let idle_collateral = ctx
            .balance(&c.collateral)
            .map_err(|e| format!("balance: {e:?}"))?;
        if !idle_collateral.is_zero() {
            let supply = lending(&c, &c.collateral, idle_collateral);
            self.submit(ctx, Action::Supply(supply), Step::Supplying);
            return Ok(());
        }
        let book = self.book(ctx)?;
        let hf = (book.debt_value > 0.0)
            .then(|| book.collateral_value * book.liquidation_threshold / book.debt_value);
        let debt_scale = 10f64.powi(i32::from(c.debt_decimals));
        match hf {
            Some(hf) if hf < c.unwind_below => {
                // Withdraw w (in debt units of value) so that
                // (C - w) * LT / (D - w) = target.
                let target = c.target_health_factor;
                let lt = book.liquidation_threshold;
                let w = (target * book.debt_value - book.collateral_value * lt) / (target - lt);
                // The withdrawal comes before the repayment, so it may only
                // take what keeps the health factor above 1 on its own.
                let withdrawable =
                    book.collateral_value - WITHDRAW_HEALTH_FLOOR * book.debt_value / lt;
                let w = w.min(withdrawable).clamp(0.0, book.debt_value);
                if w < c.min_step {
                    return Ok(());
                }
                ctx.warn(&format!(
                    "health factor {hf:.3} below {}: unwinding {w:.2} {}",
                    c.unwind_below, c.debt
                ));
                let units = TokenAmount::from_f64_floor(w / book.price, c.collateral_decimals)?;
                let units = units.units().min(book.collateral_units);
                let withdraw = lending(&c, &c.collateral, units.into());
                self.submit(ctx, Action::Withdraw(withdraw), Step::Withdrawing);
            }
            _ => {
                // Borrow up to the target: D* = C * LT / target.
                let room = book.collateral_value * book.liquidation_threshold
                    / c.target_health_factor
                    - book.debt_value;
                if room < c.min_step || book.collateral_units == 0 {
                    return Ok(());
                }
                let units = TokenAmount::from_f64_floor(room, c.debt_decimals)?;
                let borrow = lending(&c, &c.debt, units.to_amount());
                ctx.info(&format!(
                    "levering: borrow {:.2} {}",
                    units.units() as f64 / debt_scale,
                    c.debt
                ));
                self.submit(ctx, Action::Borrow(borrow), Step::Borrowing);
            }
        }
        Ok(())
    }

    fn on_action_result(
        &mut self,
        ctx: &mut Context<'_>,
        id: ActionId,
        outcome: &ActionOutcome,
    ) -> Result<(), Error> {
        if self.pending != Some(id) {
            return Ok(());
        }
        self.pending = None;
        let c = self.config.clone();
        let fill = match outcome {
            ActionOutcome::Filled(fill) => fill,
            ActionOutcome::Failed(failure) => {
                ctx.warn(&format!(
                    "{:?} failed: {} {}",
                    self.step, failure.code, failure.reason
                ));
                self.step = Step::Ready;
                return Ok(());
            }
        };
        let received = |asset: &str| {
            fill.received
                .iter()
                .filter(|a| a.asset == asset)
                .map(|a| a.amount.to_u128())
                .sum::<u128>()
        };
        match self.step {
            Step::Borrowing => {
                let swap = swap(&c, &c.debt, &c.collateral, received(&c.debt));
                self.submit(ctx, swap, Step::BuyingCollateral);
            }
            Step::BuyingCollateral => {
                self.loops += 1;
                // The bought collateral is supplied at the next tick.
                self.step = Step::Ready;
            }
            Step::Withdrawing => {
                // Gas may have been paid from the withdrawn asset.
                let held = ctx
                    .balance(&c.collateral)
                    .map_err(|e| format!("balance: {e:?}"))?
                    .to_u128();
                let swap = swap(
                    &c,
                    &c.collateral,
                    &c.debt,
                    received(&c.collateral).min(held),
                );
                self.submit(ctx, swap, Step::SellingCollateral);
            }
            Step::SellingCollateral => {
                let repay = lending(&c, &c.debt, received(&c.debt).into());
                self.submit(ctx, Action::Repay(repay), Step::Repaying);
            }
            Step::Repaying => {
                self.unwinds += 1;
                self.step = Step::Ready;
            }
            Step::Supplying | Step::Ready => self.step = Step::Ready,
        }
        Ok(())
    }
}

fn lending(c: &Config, asset: &str, amount: Amount) -> LendingOp {
    LendingOp {
        market: c.market.clone(),
        asset: asset.to_owned(),
        amount,
    }
}

fn swap(c: &Config, sell: &str, buy: &str, units: u128) -> Action {
    Action::Swap(Swap {
        sell: sell.to_owned(),
        buy: buy.to_owned(),
        amount: SwapAmount::ExactIn(units.into()),
        max_slippage_bps: c.max_slippage_bps,
        venue: Some(c.pool.clone()),
    })
}

impl LeverageLoop {
    fn submit(&mut self, ctx: &mut Context<'_>, action: Action, step: Step) {
        match ctx.emit(&action) {
            Ok(id) => {
                self.pending = Some(id);
                self.step = step;
            }
            Err(Rejection::Denied(d) | Rejection::Invalid(d)) => {
                ctx.warn(&format!("{} rejected: {}", action.kind(), d.detail));
                self.step = Step::Ready;
            }
        }
    }

    fn book(&self, ctx: &mut Context<'_>) -> Result<Book, Error> {
        let c = &self.config;
        let price = ctx
            .price(&c.collateral, &c.debt)
            .map_err(|e| format!("price: {e:?}"))?;
        let state = ctx
            .lending_market(&format!("{}:{}", c.market, c.collateral))
            .map_err(|e| format!("lending market: {e:?}"))?;
        let mut book = Book {
            collateral_units: 0,
            debt_units: 0,
            collateral_value: 0.0,
            debt_value: 0.0,
            liquidation_threshold: state.liquidation_threshold,
            price,
        };
        for position in ctx.positions() {
            if position.venue != c.market {
                continue;
            }
            for amount in &position.amounts {
                let units = amount.amount.to_u128();
                match position.kind {
                    PositionKind::Supplied if amount.asset == c.collateral => {
                        book.collateral_units += units;
                        book.collateral_value +=
                            units as f64 / 10f64.powi(i32::from(c.collateral_decimals)) * price;
                    }
                    PositionKind::Borrowed if amount.asset == c.debt => {
                        book.debt_units += units;
                        book.debt_value += units as f64 / 10f64.powi(i32::from(c.debt_decimals));
                    }
                    _ => {}
                }
            }
        }
        Ok(book)
    }
}

stratbox_sdk::export_strategy!(LeverageLoop);
