//! Executing accepted actions against the simulated venues. Slippage and
//! fees come from the venue math; an exact-in swap whose output falls short
//! of the mid price by more than its slippage bound fails and changes
//! nothing, and so does an exact-out swap that would pay more than its
//! maximum input ([`ExactOutBound`] at the oracle's price, the bound the
//! policy charged and the chain's `amountInMaximum`).
#![expect(
    clippy::result_large_err,
    reason = "a refused operation ends as the ActionOutcome handed back to the guest; boxing it would only add an allocation"
)]

use stratbox_runtime::policy::ExactOutBound;
use stratbox_runtime::types::{
    Action, ActionOutcome, AssetAmount, Failure, Fill, LendingOp, LpOpen, LpRange, Swap,
    SwapAmount, VaultOp,
};
use stratbox_venues::VenueError;
use stratbox_venues::v3;

use super::market::{ACCOUNT, AmmPool, SimMarket, VaultKind};
use crate::metrics::ClosedTrade;
use crate::report::RoundTrip;

fn failed(code: &str, reason: impl Into<String>) -> ActionOutcome {
    ActionOutcome::Failed(Failure {
        code: code.to_owned(),
        reason: reason.into(),
        tx_hash: None,
    })
}

fn venue_failure(error: &VenueError) -> ActionOutcome {
    let code = match error {
        VenueError::InsufficientLiquidity { .. } => "INSUFFICIENT_LIQUIDITY",
        VenueError::InsufficientBalance { .. } => "INSUFFICIENT_BALANCE",
        VenueError::Undercollateralized { .. } => "UNDERCOLLATERALIZED",
        VenueError::InvalidRange { .. } => "INVALID_RANGE",
        VenueError::Unknown { .. } => "UNKNOWN",
        VenueError::NotYetClaimable { .. } => "NOT_YET_CLAIMABLE",
        VenueError::CapExceeded { .. } => "CAP_EXCEEDED",
        _ => "VENUE_ERROR",
    };
    failed(code, error.to_string())
}

fn amount(asset: &str, units: u128) -> AssetAmount {
    AssetAmount {
        asset: asset.to_owned(),
        amount: units.into(),
    }
}

/// A fill before gas is added.
struct Moved {
    spent: Vec<AssetAmount>,
    received: Vec<AssetAmount>,
    fees: Vec<AssetAmount>,
    position: Option<String>,
}

impl Moved {
    /// `units` of the operation's asset left the account for the lending
    /// market (supply, repay).
    fn into_market(op: &LendingOp, units: u128) -> Self {
        Moved {
            spent: vec![amount(&op.asset, units)],
            received: Vec::new(),
            fees: Vec::new(),
            position: Some(lending_position(op)),
        }
    }

    /// `units` of the operation's asset came from the lending market
    /// (withdraw, borrow).
    fn out_of_market(op: &LendingOp, units: u128) -> Self {
        Moved {
            spent: Vec::new(),
            received: vec![amount(&op.asset, units)],
            fees: Vec::new(),
            position: Some(lending_position(op)),
        }
    }
}

/// The position id of the account's side of a lending market asset.
fn lending_position(op: &LendingOp) -> String {
    format!("{}:{}", op.market, op.asset)
}

impl SimMarket {
    /// Execute an accepted action for the account. Holds produce no outcome.
    pub fn execute(&mut self, action: &Action) -> Option<ActionOutcome> {
        let result = match action {
            Action::Hold(_) => return None,
            Action::Swap(swap) => self.swap(swap),
            Action::LpOpen(open) => self.lp_open(open),
            Action::LpClose(close) => self.lp_exit(&close.position, true),
            Action::LpCollect(collect) => self.lp_exit(&collect.position, false),
            Action::Supply(op) => self.supply(op),
            Action::Withdraw(op) => self.withdraw(op),
            Action::Borrow(op) => self.borrow(op),
            Action::Repay(op) => self.repay(op),
            Action::VaultDeposit(op) => self.vault_deposit(op),
            Action::VaultRequestRedeem(op) => self.vault_redeem(op),
        };
        Some(match result {
            Ok(moved) => self.settle(action.kind(), moved),
            Err(outcome) => outcome,
        })
    }

    /// Charge gas and turn the movement into a fill.
    fn settle(&mut self, kind: &str, moved: Moved) -> ActionOutcome {
        for fee in &moved.fees {
            self.fees_in_quote += self.value(&fee.asset, fee.amount.to_u128());
        }
        let gas = self.config.native.clone().and_then(|native| {
            let wei = self.config.gas.cost_wei(kind, false);
            if wei == 0 {
                return None;
            }
            let balance = self.balances.entry(native.clone()).or_default();
            let charged = wei.min(*balance);
            *balance -= charged;
            self.gas_in_quote += self.value(&native, wei);
            Some(amount(&native, wei))
        });
        ActionOutcome::Filled(Fill {
            spent: moved.spent,
            received: moved.received,
            fees: moved.fees,
            gas,
            tx_hash: None,
            position: moved.position,
        })
    }

    fn take(&mut self, asset: &str, units: u128) -> Result<(), ActionOutcome> {
        let available = self.balance(asset);
        if units > available {
            return Err(failed(
                "INSUFFICIENT_BALANCE",
                format!("need {units} {asset}, have {available}"),
            ));
        }
        *self.balances.entry(asset.to_owned()).or_default() -= units;
        Ok(())
    }

    fn give(&mut self, asset: &str, units: u128) {
        *self.balances.entry(asset.to_owned()).or_default() += units;
    }

    fn pool_for(
        &self,
        sell: &str,
        buy: &str,
        venue: Option<&str>,
    ) -> Result<(String, bool), ActionOutcome> {
        let matches = |id: &String| {
            let p = &self.config.pools[id];
            let pair =
                (p.token0 == sell && p.token1 == buy) || (p.token1 == sell && p.token0 == buy);
            pair && venue.is_none_or(|v| v == id)
        };
        let id = self
            .config
            .pools
            .keys()
            .find(|id| matches(id))
            .cloned()
            .ok_or_else(|| failed("NO_ROUTE", format!("no pool trades {sell}/{buy}")))?;
        let zero_for_one = self.config.pools[&id].token0 == sell;
        Ok((id, zero_for_one))
    }

    fn swap(&mut self, swap: &Swap) -> Result<Moved, ActionOutcome> {
        let (id, zero_for_one) = self.pool_for(&swap.sell, &swap.buy, swap.venue.as_deref())?;
        let (exact_in, requested) = match swap.amount {
            SwapAmount::ExactIn(a) => (true, a.to_u128()),
            SwapAmount::ExactOut(a) => (false, a.to_u128()),
        };
        let pool = self
            .pools
            .get(&id)
            .ok_or_else(|| failed("NO_ROUTE", id.clone()))?;
        // Mid price as base units of token1 per base unit of token0.
        let mid = match pool {
            AmmPool::ConstantProduct(p) => p.price(),
            AmmPool::Concentrated(p) => p.price(),
        };
        let rate = if zero_for_one { mid } else { 1.0 / mid };
        let mut trial = match pool {
            AmmPool::ConstantProduct(p) => AmmPool::ConstantProduct(p.clone()),
            AmmPool::Concentrated(p) => AmmPool::Concentrated(p.clone()),
        };
        let (paid, got, fee) = match &mut trial {
            AmmPool::ConstantProduct(p) => {
                let r = if exact_in {
                    p.swap_exact_in(requested, zero_for_one)
                } else {
                    p.swap_exact_out(requested, zero_for_one)
                }
                .map_err(|e| venue_failure(&e))?;
                (r.amount_in, r.amount_out, r.fee)
            }
            AmmPool::Concentrated(p) => {
                let r = p
                    .swap(zero_for_one, exact_in, requested, None)
                    .map_err(|e| venue_failure(&e))?;
                if !r.complete {
                    return Err(failed(
                        "INSUFFICIENT_LIQUIDITY",
                        format!("pool {id} ran out of liquidity"),
                    ));
                }
                (r.amount_in, r.amount_out, r.fee)
            }
        };
        if exact_in {
            let tolerance = f64::from(swap.max_slippage_bps) / 10_000.0;
            if (got as f64) < paid as f64 * rate * (1.0 - tolerance) {
                return Err(failed(
                    "SLIPPAGE_EXCEEDED",
                    format!(
                        "{paid} {} for {got} {} is more than {} bps from the mid price",
                        swap.sell, swap.buy, swap.max_slippage_bps
                    ),
                ));
            }
        } else {
            // As the router reverts past `amountInMaximum`.
            let max_input = self.max_input(swap, requested)?;
            if paid > max_input {
                return Err(failed(
                    "SLIPPAGE_EXCEEDED",
                    format!(
                        "{paid} {} for {got} {} is more than the maximum input {max_input} ({} bps)",
                        swap.sell, swap.buy, swap.max_slippage_bps
                    ),
                ));
            }
        }
        self.take(&swap.sell, paid)?;
        self.give(&swap.buy, got);
        self.pools.insert(id, trial);
        self.book_trade(&swap.sell, paid, &swap.buy, got);
        Ok(Moved {
            spent: vec![amount(&swap.sell, paid)],
            received: vec![amount(&swap.buy, got)],
            fees: vec![amount(&swap.sell, fee)],
            position: None,
        })
    }

    /// The most an exact-out swap buying `amount_out` may pay: the bound
    /// the policy charged, at the price the oracle gives for the bought
    /// token in the sold one.
    fn max_input(&self, swap: &Swap, amount_out: u128) -> Result<u128, ActionOutcome> {
        let price = self.price(&swap.buy, &swap.sell).ok_or_else(|| {
            failed(
                "NO_PRICE",
                format!("no price of {} in {}", swap.buy, swap.sell),
            )
        })?;
        ExactOutBound {
            amount_out,
            price,
            sell_decimals: self.decimals(&swap.sell),
            buy_decimals: self.decimals(&swap.buy),
            max_slippage_bps: swap.max_slippage_bps,
        }
        .max_input()
        .map_err(|e| failed("NO_PRICE", format!("no maximum input: {e}")))
    }

    /// Average-cost bookkeeping: buying an asset adds to its basis, selling
    /// it realizes profit or loss in the quote asset (a closed trade, and
    /// the round trip it ends).
    fn book_trade(&mut self, sold: &str, sold_units: u128, bought: &str, bought_units: u128) {
        let quote = self.config.quote.clone();
        let proceeds = self.value(bought, bought_units);
        let cost = self.value(sold, sold_units);
        // Under a delayed fill model the action executes at its fill point,
        // which `now_ms` may not be yet (the next candle's open).
        let (action, now) = match self.executing {
            Some((id, at_ms)) => (Some(id), at_ms),
            None => (None, self.now_ms()),
        };
        if bought != quote {
            let basis = self.basis.entry(bought.to_owned()).or_default();
            if basis.units == 0 {
                basis.opened_ms = now;
                basis.opened_by = action;
            }
            basis.units += bought_units;
            basis.cost_in_quote += cost;
        }
        if sold != quote
            && let Some(basis) = self.basis.get_mut(sold)
            && basis.units > 0
        {
            let matched = sold_units.min(basis.units);
            let share = matched as f64 / basis.units as f64;
            let cost_of_sold = basis.cost_in_quote * share;
            basis.cost_in_quote -= cost_of_sold;
            basis.units = basis.units.saturating_sub(sold_units);
            let (opened_ms, opened_by) = (basis.opened_ms, basis.opened_by);
            let pnl = proceeds - cost_of_sold;
            self.trades.push(ClosedTrade {
                closed_at_ms: now,
                pnl,
            });
            let scale = self.scale(sold);
            let units = sold_units as f64 / scale;
            // A zero-amount sale has no price.
            let per_unit = |value: f64, units: f64| if units > 0.0 { value / units } else { 0.0 };
            self.round_trips.push(RoundTrip {
                asset: sold.to_owned(),
                entry_ms: opened_ms,
                exit_ms: now,
                duration_ms: now.saturating_sub(opened_ms),
                entry_price: per_unit(cost_of_sold, matched as f64 / scale),
                exit_price: per_unit(proceeds, units),
                units,
                profit: pnl,
                trade_return: if cost_of_sold > 0.0 {
                    pnl / cost_of_sold
                } else {
                    0.0
                },
                entry_action: opened_by,
                exit_action: action,
            });
        }
    }

    fn lp_open(&mut self, open: &LpOpen) -> Result<Moved, ActionOutcome> {
        let config = self
            .config
            .pools
            .get(&open.pool)
            .cloned()
            .ok_or_else(|| failed("UNKNOWN_POOL", format!("no pool {}", open.pool)))?;
        let (lower_human, upper_human) = match open.range {
            LpRange::Price(range) => range,
            LpRange::Ticks((lower, upper)) => {
                return self.lp_mint(
                    &open.pool,
                    lower,
                    upper,
                    open.amount0.to_u128(),
                    open.amount1.to_u128(),
                );
            }
        };
        let Some(AmmPool::Concentrated(pool)) = self.pools.get(&open.pool) else {
            return Err(failed(
                "NOT_CONCENTRATED",
                format!("{} has no ranges", open.pool),
            ));
        };
        let spacing = pool.tick_spacing;
        let to_tick = |human: f64| {
            v3::tick_for_price(
                self.raw_price(&config.token0, &config.token1, human),
                spacing,
            )
            .map_err(|e| venue_failure(&e))
        };
        let lower = to_tick(lower_human)?;
        let upper = to_tick(upper_human)? + spacing;
        self.lp_mint(
            &open.pool,
            lower,
            upper,
            open.amount0.to_u128(),
            open.amount1.to_u128(),
        )
    }

    fn lp_mint(
        &mut self,
        pool_id: &str,
        lower: i32,
        upper: i32,
        max0: u128,
        max1: u128,
    ) -> Result<Moved, ActionOutcome> {
        let config = self.config.pools[pool_id].clone();
        let Some(AmmPool::Concentrated(pool)) = self.pools.get_mut(pool_id) else {
            return Err(failed(
                "NOT_CONCENTRATED",
                format!("{pool_id} has no ranges"),
            ));
        };
        let sqrt = |tick| v3::sqrt_ratio_at_tick(tick).map_err(|e| venue_failure(&e));
        let liquidity = v3::liquidity_for_amounts(
            pool.sqrt_price_x96(),
            sqrt(lower)?,
            sqrt(upper)?,
            max0,
            max1,
        )
        .map_err(|e| venue_failure(&e))?;
        if liquidity == 0 {
            return Err(failed(
                "ZERO_LIQUIDITY",
                "the amounts buy no liquidity in that range",
            ));
        }
        let mut trial = pool.clone();
        let (position, amount0, amount1) = trial
            .mint(lower, upper, liquidity)
            .map_err(|e| venue_failure(&e))?;
        if amount0 > self.balance(&config.token0) || amount1 > self.balance(&config.token1) {
            return Err(failed(
                "INSUFFICIENT_BALANCE",
                "not enough tokens for the position",
            ));
        }
        self.take(&config.token0, amount0)?;
        self.take(&config.token1, amount1)?;
        self.pools
            .insert(pool_id.to_owned(), AmmPool::Concentrated(trial));
        let id = format!("{pool_id}#{position}");
        self.lp_positions
            .insert(id.clone(), (pool_id.to_owned(), position));
        Ok(Moved {
            spent: vec![
                amount(&config.token0, amount0),
                amount(&config.token1, amount1),
            ],
            received: Vec::new(),
            fees: Vec::new(),
            position: Some(id),
        })
    }

    fn lp_exit(&mut self, position: &str, close: bool) -> Result<Moved, ActionOutcome> {
        let (pool_id, inner) = self
            .lp_positions
            .get(position)
            .cloned()
            .ok_or_else(|| failed("UNKNOWN_POSITION", format!("no position {position}")))?;
        let config = self.config.pools[&pool_id].clone();
        let Some(AmmPool::Concentrated(pool)) = self.pools.get_mut(&pool_id) else {
            return Err(failed("UNKNOWN_POSITION", position.to_owned()));
        };
        if close {
            pool.burn(inner).map_err(|e| venue_failure(&e))?;
        }
        let (amount0, amount1) = pool.collect(inner).map_err(|e| venue_failure(&e))?;
        if close {
            self.lp_positions.remove(position);
        }
        self.give(&config.token0, amount0);
        self.give(&config.token1, amount1);
        Ok(Moved {
            spent: Vec::new(),
            received: vec![
                amount(&config.token0, amount0),
                amount(&config.token1, amount1),
            ],
            fees: Vec::new(),
            position: Some(position.to_owned()),
        })
    }

    fn lending_prices(&self) -> impl Fn(&str) -> Option<u128> + '_ {
        |asset: &str| {
            self.price_in_quote(asset)
                .and_then(stratbox_venues::lending::price_from_f64)
        }
    }

    fn with_lending<T>(
        &mut self,
        market: &str,
        f: impl FnOnce(
            &mut stratbox_venues::lending::LendingPool,
            u64,
            &dyn Fn(&str) -> Option<u128>,
        ) -> Result<T, VenueError>,
    ) -> Result<T, ActionOutcome> {
        let now = self.now_ms();
        let prices: std::collections::BTreeMap<String, u128> = self
            .config
            .assets
            .keys()
            .filter_map(|a| Some((a.clone(), (self.lending_prices())(a)?)))
            .collect();
        let pool = self
            .lending
            .get_mut(market)
            .ok_or_else(|| failed("UNKNOWN_MARKET", format!("no lending market {market}")))?;
        f(pool, now, &|asset| prices.get(asset).copied()).map_err(|e| venue_failure(&e))
    }

    fn supply(&mut self, op: &LendingOp) -> Result<Moved, ActionOutcome> {
        let units = op.amount.to_u128();
        self.take(&op.asset, units)?;
        let result = self.with_lending(&op.market, |pool, now, _| {
            pool.supply(ACCOUNT, &op.asset, units, now)
        });
        if let Err(outcome) = result {
            self.give(&op.asset, units);
            return Err(outcome);
        }
        Ok(Moved::into_market(op, units))
    }

    fn withdraw(&mut self, op: &LendingOp) -> Result<Moved, ActionOutcome> {
        let units = op.amount.to_u128();
        self.with_lending(&op.market, |pool, now, price| {
            pool.withdraw(ACCOUNT, &op.asset, units, now, price)
        })?;
        self.give(&op.asset, units);
        Ok(Moved::out_of_market(op, units))
    }

    fn borrow(&mut self, op: &LendingOp) -> Result<Moved, ActionOutcome> {
        let units = op.amount.to_u128();
        self.with_lending(&op.market, |pool, now, price| {
            pool.borrow(ACCOUNT, &op.asset, units, now, price)
        })?;
        self.give(&op.asset, units);
        Ok(Moved::out_of_market(op, units))
    }

    fn repay(&mut self, op: &LendingOp) -> Result<Moved, ActionOutcome> {
        let units = op.amount.to_u128().min(self.balance(&op.asset));
        if units == 0 {
            return Err(failed(
                "INSUFFICIENT_BALANCE",
                format!("no {} to repay with", op.asset),
            ));
        }
        let repaid = self.with_lending(&op.market, |pool, now, _| {
            pool.repay(ACCOUNT, &op.asset, units, now)
        })?;
        self.take(&op.asset, repaid)?;
        Ok(Moved::into_market(op, repaid))
    }

    fn vault_deposit(&mut self, op: &VaultOp) -> Result<Moved, ActionOutcome> {
        let asset = self
            .config
            .vaults
            .get(&op.vault)
            .map(|v| v.asset.clone())
            .ok_or_else(|| failed("UNKNOWN_VAULT", format!("no vault {}", op.vault)))?;
        let units = op.amount.to_u128();
        let now = self.now_ms();
        if units > self.balance(&asset) {
            return Err(failed(
                "INSUFFICIENT_BALANCE",
                format!("need {units} {asset}"),
            ));
        }
        let holding = self
            .vaults
            .get_mut(&op.vault)
            .ok_or_else(|| failed("UNKNOWN_VAULT", op.vault.clone()))?;
        let shares = match &mut holding.vault {
            VaultKind::Instant(v) => v.deposit(units, now),
            VaultKind::Queued(q) => q.vault.deposit(units, now),
        }
        .map_err(|e| venue_failure(&e))?;
        holding.shares += shares;
        self.take(&asset, units)?;
        Ok(Moved {
            spent: vec![amount(&asset, units)],
            received: vec![amount(&format!("{}-shares", op.vault), shares)],
            fees: Vec::new(),
            position: Some(op.vault.clone()),
        })
    }

    fn vault_redeem(&mut self, op: &VaultOp) -> Result<Moved, ActionOutcome> {
        let asset = self
            .config
            .vaults
            .get(&op.vault)
            .map(|v| v.asset.clone())
            .ok_or_else(|| failed("UNKNOWN_VAULT", format!("no vault {}", op.vault)))?;
        let shares = op.amount.to_u128();
        let now = self.now_ms();
        let holding = self
            .vaults
            .get_mut(&op.vault)
            .ok_or_else(|| failed("UNKNOWN_VAULT", op.vault.clone()))?;
        if shares > holding.shares {
            return Err(failed(
                "INSUFFICIENT_BALANCE",
                format!("need {shares} shares, have {}", holding.shares),
            ));
        }
        let received = match &mut holding.vault {
            VaultKind::Instant(v) => {
                let assets = v.redeem(shares, now).map_err(|e| venue_failure(&e))?;
                Some(assets)
            }
            VaultKind::Queued(q) => {
                let (request, _) = q
                    .request_redeem(shares, now)
                    .map_err(|e| venue_failure(&e))?;
                holding.requests.push(request);
                None
            }
        };
        holding.shares -= shares;
        let shares_asset = format!("{}-shares", op.vault);
        if let Some(assets) = received {
            self.give(&asset, assets);
        }
        Ok(Moved {
            spent: vec![amount(&shares_asset, shares)],
            received: received
                .map(|a| vec![amount(&asset, a)])
                .unwrap_or_default(),
            fees: Vec::new(),
            position: Some(op.vault.clone()),
        })
    }
}
