//! Dynamic concentrated-liquidity LP.
//!
//! Provides liquidity in a range around the current price. When the price
//! leaves the range the position stops earning; re-centring costs gas, pool
//! fees and a swap to rebalance the tokens. The strategy collects the fees
//! its position earned and re-centres only once they pay for the estimated
//! cost of moving (or after `max_out_of_range_ticks`, so that a trend does
//! not leave the capital idle forever), as in Almanak's Dynamic LP.
//!
//! Config (JSON, every field optional): `pool`, `token0`, `token1`,
//! `token0_decimals`, `token1_decimals`, `width` (range half-width as a
//! fraction of the price), `deploy_fraction` (share of balances put in the
//! range), `rebalance_cost` (estimated cost of one re-centring, in token1),
//! `max_out_of_range_ticks`, `max_slippage_bps`.

use serde::{Deserialize, Serialize};
use stratbox_sdk::prelude::*;

/// Configuration of [`DynamicLp`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Pool id.
    pub pool: String,
    /// Token0 of the pool (priced asset).
    pub token0: String,
    /// Token1 of the pool (quote asset).
    pub token1: String,
    /// Decimals of token0.
    pub token0_decimals: u8,
    /// Decimals of token1.
    pub token1_decimals: u8,
    /// Range half-width: `[p/(1+w), p*(1+w)]`.
    pub width: f64,
    /// Fraction of balances deployed into the range.
    pub deploy_fraction: f64,
    /// Estimated cost of a re-centring, in whole token1.
    pub rebalance_cost: f64,
    /// Re-centre anyway after this many ticks out of range.
    pub max_out_of_range_ticks: u32,
    /// Slippage tolerance of rebalancing swaps.
    pub max_slippage_bps: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            pool: "ETH/USDC-0.3".into(),
            token0: "ETH".into(),
            token1: "USDC".into(),
            token0_decimals: 18,
            token1_decimals: 6,
            width: 0.05,
            deploy_fraction: 0.9,
            rebalance_cost: 20.0,
            max_out_of_range_ticks: 288,
            max_slippage_bps: 100,
        }
    }
}

/// Where the strategy stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Phase {
    /// No position: open one.
    Idle,
    /// Waiting for the lp-open fill.
    Opening,
    /// Providing liquidity.
    Providing,
    /// Waiting for an lp-collect fill.
    Collecting,
    /// Waiting for the lp-close fill.
    Closing,
    /// Waiting for the rebalancing swap's fill.
    Swapping,
}

/// The strategy's state.
#[derive(Debug, Serialize, Deserialize)]
pub struct DynamicLp {
    config: Config,
    phase: StateMachine<Phase>,
    pending: Option<ActionId>,
    position: Option<String>,
    range: Option<(f64, f64)>,
    /// Fees collected since the range was opened, in whole token1.
    fees_earned: f64,
    out_of_range_ticks: u32,
    rebalances: u32,
}

impl Strategy for DynamicLp {
    fn init(config: &str, _ctx: &mut Context<'_>) -> Result<Self, Error> {
        let config: Config = parse_config(config)?;
        if !(config.width > 0.0 && config.width < 10.0) {
            return Err("width must be in (0, 10)".into());
        }
        if !(config.deploy_fraction > 0.0 && config.deploy_fraction <= 1.0) {
            return Err("deploy_fraction must be in (0, 1]".into());
        }
        Ok(DynamicLp {
            config,
            phase: StateMachine::new(Phase::Idle),
            pending: None,
            position: None,
            range: None,
            fees_earned: 0.0,
            out_of_range_ticks: 0,
            rebalances: 0,
        })
    }

    fn on_tick(&mut self, ctx: &mut Context<'_>, tick: &TickContext) -> Result<(), Error> {
        if self.pending.is_some() {
            return Ok(());
        }
        let now = tick.block.timestamp_ms;
        let price = ctx
            .pool(&self.config.pool)
            .map_err(|e| format!("pool: {e:?}"))?
            .price;
        match self.phase.state() {
            Phase::Idle => self.open(ctx, price, now)?,
            Phase::Providing => {
                let (lower, upper) = self.range.unwrap_or((0.0, f64::MAX));
                if (lower..=upper).contains(&price) {
                    self.out_of_range_ticks = 0;
                    return Ok(());
                }
                self.out_of_range_ticks += 1;
                let pays = self.fees_earned >= self.config.rebalance_cost;
                let stale = self.out_of_range_ticks >= self.config.max_out_of_range_ticks;
                if pays || stale {
                    ctx.info(&format!(
                        "price {price:.4} left [{lower:.4}, {upper:.4}]: re-centring (fees {:.4}, {} ticks out)",
                        self.fees_earned, self.out_of_range_ticks
                    ));
                    if let Some(position) = self.position.clone() {
                        self.submit(ctx, ctx_emit_close(&position), Phase::Closing, now);
                    }
                } else if self.out_of_range_ticks == 1 {
                    // Out of range: harvest what it earned, to know whether
                    // moving pays.
                    if let Some(position) = self.position.clone() {
                        self.submit(
                            ctx,
                            Action::LpCollect(LpCollect { position }),
                            Phase::Collecting,
                            now,
                        );
                    }
                }
            }
            Phase::Swapping | Phase::Opening | Phase::Collecting | Phase::Closing => {}
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
        let now = ctx.block().timestamp_ms;
        let fill = match outcome {
            ActionOutcome::Filled(fill) => fill,
            ActionOutcome::Failed(failure) => {
                ctx.warn(&format!(
                    "action {id} failed: {} {}",
                    failure.code, failure.reason
                ));
                let back = match self.phase.state() {
                    Phase::Opening | Phase::Swapping => Phase::Idle,
                    _ => Phase::Providing,
                };
                self.move_to(back, now);
                return Ok(());
            }
        };
        match self.phase.state() {
            Phase::Opening => {
                self.position = fill.position.clone();
                self.fees_earned = 0.0;
                self.move_to(Phase::Providing, now);
            }
            Phase::Collecting => {
                let price = ctx.pool(&self.config.pool).map(|p| p.price).unwrap_or(0.0);
                self.fees_earned += self.value_in_token1(&fill.received, price);
                self.move_to(Phase::Providing, now);
            }
            Phase::Closing => {
                self.position = None;
                self.range = None;
                self.rebalances += 1;
                self.rebalance_tokens(ctx, now)?;
            }
            Phase::Swapping => self.move_to(Phase::Idle, now),
            Phase::Idle | Phase::Providing => {}
        }
        Ok(())
    }
}

fn ctx_emit_close(position: &str) -> Action {
    Action::LpClose(LpClose {
        position: position.to_owned(),
    })
}

impl DynamicLp {
    fn move_to(&mut self, phase: Phase, now: u64) {
        // Any transition is allowed; the machine only keeps time.
        let _ = self.phase.transition(phase, now);
    }

    fn submit(&mut self, ctx: &mut Context<'_>, action: Action, next: Phase, now: u64) {
        match ctx.emit(&action) {
            Ok(id) => {
                self.pending = Some(id);
                self.move_to(next, now);
            }
            Err(Rejection::Denied(d) | Rejection::Invalid(d)) => {
                ctx.warn(&format!("{} rejected: {}", action.kind(), d.detail));
            }
        }
    }

    fn value_in_token1(&self, amounts: &[AssetAmount], price: f64) -> f64 {
        amounts
            .iter()
            .map(|a| {
                let units = a.amount.to_u128() as f64;
                if a.asset == self.config.token0 {
                    units / 10f64.powi(i32::from(self.config.token0_decimals)) * price
                } else if a.asset == self.config.token1 {
                    units / 10f64.powi(i32::from(self.config.token1_decimals))
                } else {
                    0.0
                }
            })
            .sum()
    }

    fn open(&mut self, ctx: &mut Context<'_>, price: f64, now: u64) -> Result<(), Error> {
        let c = &self.config;
        let fraction = |amount: Amount| {
            TokenAmount::new(amount.to_u128(), 0)
                .mul_ratio((c.deploy_fraction * 1e6) as u128, 1_000_000)
        };
        let balance0 = ctx
            .balance(&c.token0)
            .map_err(|e| format!("balance: {e:?}"))?;
        let balance1 = ctx
            .balance(&c.token1)
            .map_err(|e| format!("balance: {e:?}"))?;
        let (Some(amount0), Some(amount1)) = (fraction(balance0), fraction(balance1)) else {
            return Err("balance overflow".into());
        };
        let range = (price / (1.0 + c.width), price * (1.0 + c.width));
        let action = Action::LpOpen(LpOpen {
            pool: c.pool.clone(),
            range: LpRange::Price(range),
            amount0: amount0.to_amount(),
            amount1: amount1.to_amount(),
        });
        self.range = Some(range);
        self.submit(ctx, action, Phase::Opening, now);
        Ok(())
    }

    /// After closing, swap so both tokens have about equal value for the
    /// next range.
    fn rebalance_tokens(&mut self, ctx: &mut Context<'_>, now: u64) -> Result<(), Error> {
        let c = self.config.clone();
        let price = ctx.pool(&c.pool).map_err(|e| format!("pool: {e:?}"))?.price;
        let scale0 = 10f64.powi(i32::from(c.token0_decimals));
        let scale1 = 10f64.powi(i32::from(c.token1_decimals));
        let value0 = ctx
            .balance(&c.token0)
            .map(|a| a.to_u128() as f64 / scale0 * price)
            .unwrap_or(0.0);
        let value1 = ctx
            .balance(&c.token1)
            .map(|a| a.to_u128() as f64 / scale1)
            .unwrap_or(0.0);
        let excess = (value0 - value1) / 2.0;
        let (sell, buy, amount) = if excess > c.rebalance_cost {
            (
                &c.token0,
                &c.token1,
                TokenAmount::from_f64_floor(excess / price, c.token0_decimals)?,
            )
        } else if -excess > c.rebalance_cost {
            (
                &c.token1,
                &c.token0,
                TokenAmount::from_f64_floor(-excess, c.token1_decimals)?,
            )
        } else {
            self.move_to(Phase::Idle, now);
            return Ok(());
        };
        let swap = Action::Swap(Swap {
            sell: sell.clone(),
            buy: buy.clone(),
            amount: SwapAmount::ExactIn(amount.to_amount()),
            max_slippage_bps: c.max_slippage_bps,
            venue: Some(c.pool.clone()),
        });
        self.submit(ctx, swap, Phase::Swapping, now);
        if self.pending.is_none() {
            self.move_to(Phase::Idle, now);
        }
        Ok(())
    }
}

stratbox_sdk::export_strategy!(DynamicLp);
