//! What a rule needs to know about one action, worked out at most once per
//! check and only when a rule asks: the tokens it involves, the amounts it
//! names, the most it can spend, and its value in the quote asset. Pool and
//! vault tokens and all prices come from the deployment's oracle, so they
//! are recorded in the tick like the guest's reads.

use std::borrow::Cow;

use super::code::DenialCode;
use super::compile::CompiledPolicy;
use super::decimal::POW10;
use super::kind::ActionKind;
use super::spend::{ExactOutBound, MaxInputError};
use crate::host::PolicyContext;
use crate::types::{Action, Denial, OracleError, Swap, SwapAmount};

/// An amount of `token`, in its base units.
#[derive(Debug, Clone)]
pub(crate) struct Leg<'a> {
    pub(crate) token: Cow<'a, str>,
    pub(crate) units: u128,
}

/// Tokens and amounts of an action.
#[derive(Debug, Clone, Default)]
pub(crate) struct Resolved<'a> {
    /// Every token involved, in a fixed order.
    pub(crate) tokens: Vec<Cow<'a, str>>,
    /// Amounts the action names (the bought amount of an exact-out swap).
    pub(crate) legs: Vec<Leg<'a>>,
}

/// A read the policy needed and could not get.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Missing {
    /// `oracle.<read>(<id>)` failed.
    Read { read: &'static str, id: String },
    /// No usable price of `token` in `quote`.
    Price { token: String, quote: String },
    /// A token outside the deployment's assets has no decimals to value it.
    Asset { token: String },
    /// A value rule, but the policy has no quote asset (refused at compile
    /// time; kept for completeness).
    Quote,
    /// The most an exact-out swap can spend of `token` (its sold token)
    /// cannot be worked out from `pair` (`buy/sell`).
    MaxSpend {
        token: String,
        pair: String,
        reason: &'static str,
    },
}

impl Missing {
    /// The denial a rule at `rule` gives when it cannot be evaluated: the
    /// policy fails closed.
    pub(crate) fn denial(&self, rule: &str) -> Denial {
        match self {
            Missing::Read { read, id } => {
                DenialCode::OracleUnavailable.deny(rule, &[("read", read), ("id", id)])
            }
            Missing::Price { token, quote } => {
                DenialCode::PriceUnavailable.deny(rule, &[("token", token), ("quote", quote)])
            }
            Missing::Asset { token } => DenialCode::UnknownAsset.deny(rule, &[("asset", token)]),
            Missing::Quote => DenialCode::PriceUnavailable.deny(rule, &[("quote", &"none")]),
            Missing::MaxSpend {
                token,
                pair,
                reason,
            } => DenialCode::MaxSpendUnknown.deny(
                rule,
                &[("token", token), ("price", pair), ("reason", reason)],
            ),
        }
    }
}

/// Lazily computed facts about one action during one check. `'a` borrows
/// the action, the policy and the context; `'c` is the context's own.
pub(crate) struct Facts<'a, 'c> {
    pub(crate) action: &'a Action,
    pub(crate) kind: ActionKind,
    pub(crate) ctx: &'a PolicyContext<'c>,
    /// Policy time: the block time, never earlier than any seen before.
    now_ms: u64,
    policy: &'a CompiledPolicy,
    resolved: Option<Result<Resolved<'a>, Missing>>,
    spend: Option<Result<Vec<Leg<'a>>, Missing>>,
    value: Option<Result<f64, Missing>>,
    prices: Vec<(String, Result<f64, Missing>)>,
}

impl<'a, 'c> Facts<'a, 'c> {
    pub(crate) fn new(
        action: &'a Action,
        kind: ActionKind,
        ctx: &'a PolicyContext<'c>,
        policy: &'a CompiledPolicy,
        now_ms: u64,
    ) -> Self {
        Facts {
            action,
            kind,
            ctx,
            now_ms,
            policy,
            resolved: None,
            spend: None,
            value: None,
            prices: Vec::new(),
        }
    }

    /// The venue, pool, market or vault the action names, if any.
    pub(crate) fn target(&self) -> Option<&'a str> {
        match self.action {
            Action::Swap(swap) => swap.venue.as_deref(),
            Action::LpOpen(open) => Some(&open.pool),
            Action::Supply(op) | Action::Withdraw(op) | Action::Borrow(op) | Action::Repay(op) => {
                Some(&op.market)
            }
            Action::VaultDeposit(op) | Action::VaultRequestRedeem(op) => Some(&op.vault),
            Action::LpClose(_) | Action::LpCollect(_) | Action::Hold(_) => None,
        }
    }

    /// Assets the action names itself (not through a pool or vault).
    pub(crate) fn named_assets(&self) -> [Option<&'a str>; 2] {
        match self.action {
            Action::Swap(swap) => [Some(&swap.sell), Some(&swap.buy)],
            Action::Supply(op) | Action::Withdraw(op) | Action::Borrow(op) | Action::Repay(op) => {
                [Some(&op.asset), None]
            }
            _ => [None, None],
        }
    }

    /// Tokens and amounts, reading the pool or vault if the action names
    /// one.
    pub(crate) fn resolved(&mut self) -> Result<&Resolved<'a>, Missing> {
        if self.resolved.is_none() {
            self.resolved = Some(self.resolve());
        }
        match self.resolved.as_ref() {
            Some(Ok(resolved)) => Ok(resolved),
            Some(Err(missing)) => Err(missing.clone()),
            None => Err(Missing::Quote),
        }
    }

    fn resolve(&self) -> Result<Resolved<'a>, Missing> {
        let leg = |token: Cow<'a, str>, units: u128| Leg { token, units };
        Ok(match self.action {
            Action::Swap(swap) => {
                let (token, units) = match swap.amount {
                    SwapAmount::ExactIn(a) => (&swap.sell, a.to_u128()),
                    SwapAmount::ExactOut(a) => (&swap.buy, a.to_u128()),
                };
                Resolved {
                    tokens: vec![Cow::Borrowed(&swap.sell), Cow::Borrowed(&swap.buy)],
                    legs: vec![leg(Cow::Borrowed(token), units)],
                }
            }
            Action::LpOpen(open) => {
                let pool = self
                    .ctx
                    .oracle
                    .pool(&open.pool)
                    .map_err(|_| Missing::Read {
                        read: "pool",
                        id: open.pool.clone(),
                    })?;
                let mut legs = Vec::with_capacity(2);
                for (token, amount) in [(&pool.token0, open.amount0), (&pool.token1, open.amount1)]
                {
                    if !amount.is_zero() {
                        legs.push(leg(Cow::Owned(token.clone()), amount.to_u128()));
                    }
                }
                Resolved {
                    tokens: vec![Cow::Owned(pool.token0), Cow::Owned(pool.token1)],
                    legs,
                }
            }
            Action::Supply(op) | Action::Withdraw(op) | Action::Borrow(op) | Action::Repay(op) => {
                Resolved {
                    tokens: vec![Cow::Borrowed(&op.asset)],
                    legs: vec![leg(Cow::Borrowed(&op.asset), op.amount.to_u128())],
                }
            }
            Action::VaultDeposit(op) => {
                let vault = self
                    .ctx
                    .oracle
                    .vault(&op.vault)
                    .map_err(|_| Missing::Read {
                        read: "vault",
                        id: op.vault.clone(),
                    })?;
                Resolved {
                    tokens: vec![Cow::Owned(vault.asset.clone())],
                    legs: vec![leg(Cow::Owned(vault.asset), op.amount.to_u128())],
                }
            }
            Action::VaultRequestRedeem(_)
            | Action::LpClose(_)
            | Action::LpCollect(_)
            | Action::Hold(_) => Resolved::default(),
        })
    }

    /// The most the action can take out of the account (for withdrawals
    /// and borrows, the amount it brings in), by token: the amounts it
    /// names, except that an exact-out swap can spend up to its
    /// [`ExactOutBound::max_input`] of the sold token, at the oracle's
    /// price of the bought token in the sold one. This is what allowances,
    /// values and amount limits count.
    pub(crate) fn spend(&mut self) -> Result<&[Leg<'a>], Missing> {
        if self.spend.is_none() {
            let spend = match exact_out(self.action) {
                Some((swap, amount_out)) => self.exact_out_spend(swap, amount_out),
                None => self.resolved().map(|r| r.legs.clone()),
            };
            self.spend = Some(spend);
        }
        match self.spend.as_ref() {
            Some(Ok(legs)) => Ok(legs),
            Some(Err(missing)) => Err(missing.clone()),
            None => Err(Missing::Quote),
        }
    }

    /// Whether [`Facts::spend`] can include `token`, known without any
    /// price.
    pub(crate) fn may_spend(&mut self, token: &str) -> Result<bool, Missing> {
        match exact_out(self.action) {
            Some((swap, _)) => Ok(swap.sell == token),
            None => Ok(self.resolved()?.legs.iter().any(|leg| leg.token == token)),
        }
    }

    /// The total of `token` the action can spend (0 if none), reading a
    /// price only if it can spend `token`.
    pub(crate) fn spend_of(&mut self, token: &str) -> Result<u128, Missing> {
        if !self.may_spend(token)? {
            return Ok(0);
        }
        Ok(sum_of(self.spend()?, token))
    }

    /// The largest amount of `token` the action names or can spend: what
    /// `max_amount` limits.
    pub(crate) fn largest_amount(&mut self, token: &str) -> Result<u128, Missing> {
        let named = sum_of(&self.resolved()?.legs, token);
        Ok(named.max(self.spend_of(token)?))
    }

    fn exact_out_spend(&self, swap: &'a Swap, amount_out: u128) -> Result<Vec<Leg<'a>>, Missing> {
        let units = self.max_input(swap, amount_out)?;
        Ok(vec![Leg {
            token: Cow::Borrowed(&swap.sell),
            units,
        }])
    }

    /// The most of its sold token an exact-out `swap` buying `amount_out`
    /// can spend ([`ExactOutBound::max_input`]), at the oracle's price of
    /// the bought token in the sold one. `swap` need not be this action
    /// (the VaR rule applies swaps accepted earlier in the tick too).
    pub(crate) fn max_input(&self, swap: &Swap, amount_out: u128) -> Result<u128, Missing> {
        let decimals = |token: &str| {
            self.policy
                .assets
                .decimals(token)
                .ok_or_else(|| Missing::Asset {
                    token: token.to_owned(),
                })
        };
        let (sell_decimals, buy_decimals) = (decimals(&swap.sell)?, decimals(&swap.buy)?);
        let unbounded = |reason: &'static str| Missing::MaxSpend {
            token: swap.sell.clone(),
            pair: format!("{}/{}", swap.buy, swap.sell),
            reason,
        };
        let price = match self.ctx.oracle.price(&swap.buy, &swap.sell) {
            Ok(price) => price,
            Err(OracleError::Unknown(_) | OracleError::Unavailable(_)) => {
                return Err(unbounded("no_price"));
            }
        };
        ExactOutBound {
            amount_out,
            price,
            sell_decimals,
            buy_decimals,
            max_slippage_bps: swap.max_slippage_bps,
        }
        .max_input()
        .map_err(|e: MaxInputError| unbounded(e.reason()))
    }

    /// The action's value in whole quote units: the most it can spend,
    /// each token at the oracle's price.
    pub(crate) fn value(&mut self) -> Result<f64, Missing> {
        if let Some(value) = &self.value {
            return value.clone();
        }
        let value = self.compute_value();
        self.value = Some(value.clone());
        value
    }

    fn compute_value(&mut self) -> Result<f64, Missing> {
        let legs = self.spend()?.to_vec();
        let mut total = 0.0;
        for leg in &legs {
            total += self.token_value(&leg.token, leg.units)?;
        }
        Ok(total)
    }

    /// Value of `units` of `token` in whole quote units.
    pub(crate) fn token_value(&mut self, token: &str, units: u128) -> Result<f64, Missing> {
        let decimals = self
            .policy
            .assets
            .decimals(token)
            .ok_or_else(|| Missing::Asset {
                token: token.to_owned(),
            })?;
        let price = self.price(token)?;
        Ok(units as f64 / POW10[usize::from(decimals).min(38)] * price)
    }

    /// Price of one `token` in the quote asset (1 for the quote itself),
    /// read once per check.
    pub(crate) fn price(&mut self, token: &str) -> Result<f64, Missing> {
        let Some(quote) = &self.policy.quote else {
            return Err(Missing::Quote);
        };
        if token == quote.symbol {
            return Ok(1.0);
        }
        if let Some((_, price)) = self.prices.iter().find(|(t, _)| t == token) {
            return price.clone();
        }
        let missing = || Missing::Price {
            token: token.to_owned(),
            quote: quote.symbol.clone(),
        };
        let price = match self.ctx.oracle.price(token, &quote.symbol) {
            Ok(p) if p.is_finite() && p > 0.0 => Ok(p),
            Ok(_) | Err(OracleError::Unknown(_) | OracleError::Unavailable(_)) => Err(missing()),
        };
        self.prices.push((token.to_owned(), price.clone()));
        price
    }

    /// The quote asset's symbol and decimals.
    pub(crate) fn quote(&self) -> Option<(&'a str, u8)> {
        self.policy
            .quote
            .as_ref()
            .map(|q| (q.symbol.as_str(), q.decimals))
    }

    /// The UTC hour of policy time.
    pub(crate) fn hour_utc(&self) -> u8 {
        ((self.now_ms / 3_600_000) % 24) as u8
    }
}

/// The swap and its bought amount, if `action` is an exact-out swap.
fn exact_out(action: &Action) -> Option<(&Swap, u128)> {
    match action {
        Action::Swap(swap) => match swap.amount {
            SwapAmount::ExactOut(amount) => Some((swap, amount.to_u128())),
            SwapAmount::ExactIn(_) => None,
        },
        _ => None,
    }
}

/// The total of `token` over `legs`.
fn sum_of(legs: &[Leg<'_>], token: &str) -> u128 {
    legs.iter()
        .filter(|leg| leg.token == token)
        .fold(0u128, |sum, leg| sum.saturating_add(leg.units))
}

/// A value or ratio as shown in denials: at most `places` decimals, no
/// trailing zeros; `inf` for an unbounded ratio.
pub(crate) fn show(value: f64, places: usize) -> String {
    if value.is_infinite() {
        return "inf".to_owned();
    }
    let text = format!("{value:.places$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::show;

    #[test]
    fn numbers_in_denials_are_short() {
        assert_eq!(show(1500.0, 6), "1500");
        assert_eq!(show(1.25, 4), "1.25");
        assert_eq!(show(1.0 / 3.0, 4), "0.3333");
        assert_eq!(show(f64::INFINITY, 4), "inf");
    }
}
