//! What a rule needs to know about one action, worked out at most once per
//! check and only when a rule asks: the tokens it involves, the amounts it
//! names, and its value in the quote asset. Pool and vault tokens and all
//! prices come from the deployment's oracle, so they are recorded in the
//! tick like the guest's reads.

use std::borrow::Cow;

use super::compile::CompiledPolicy;
use super::decimal::POW10;
use super::kind::ActionKind;
use crate::host::PolicyContext;
use crate::types::{Action, Denial, OracleError, SwapAmount};

/// An amount the action names, in base units of `token`.
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
    /// Amounts the action names.
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
}

impl Missing {
    /// The denial a rule at `rule` gives when it cannot be evaluated: the
    /// policy fails closed.
    pub(crate) fn denial(&self, rule: &str) -> Denial {
        match self {
            Missing::Read { read, id } => {
                Denial::new("ORACLE_UNAVAILABLE", rule, &[("read", read), ("id", id)])
            }
            Missing::Price { token, quote } => Denial::new(
                "PRICE_UNAVAILABLE",
                rule,
                &[("token", token), ("quote", quote)],
            ),
            Missing::Asset { token } => Denial::new("UNKNOWN_ASSET", rule, &[("asset", token)]),
            Missing::Quote => Denial::new("PRICE_UNAVAILABLE", rule, &[("quote", &"none")]),
        }
    }
}

/// Lazily computed facts about one action during one check. `'a` borrows
/// the action, the policy and the context; `'c` is the context's own.
pub(crate) struct Facts<'a, 'c> {
    pub(crate) action: &'a Action,
    pub(crate) kind: ActionKind,
    pub(crate) ctx: &'a PolicyContext<'c>,
    policy: &'a CompiledPolicy,
    resolved: Option<Result<Resolved<'a>, Missing>>,
    value: Option<Result<f64, Missing>>,
    prices: Vec<(String, Result<f64, Missing>)>,
}

impl<'a, 'c> Facts<'a, 'c> {
    pub(crate) fn new(
        action: &'a Action,
        kind: ActionKind,
        ctx: &'a PolicyContext<'c>,
        policy: &'a CompiledPolicy,
    ) -> Self {
        Facts {
            action,
            kind,
            ctx,
            policy,
            resolved: None,
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

    /// The action's value in whole quote units: the sum of the amounts it
    /// names, each at the oracle's price.
    pub(crate) fn value(&mut self) -> Result<f64, Missing> {
        if let Some(value) = &self.value {
            return value.clone();
        }
        let value = self.compute_value();
        self.value = Some(value.clone());
        value
    }

    fn compute_value(&mut self) -> Result<f64, Missing> {
        let count = self.resolved()?.legs.len();
        let mut total = 0.0;
        for i in 0..count {
            // Borrowed tokens clone for free; only pool and vault tokens copy.
            let Some(Ok(resolved)) = &self.resolved else {
                return Err(Missing::Quote);
            };
            let leg = resolved.legs[i].clone();
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
    fn price(&mut self, token: &str) -> Result<f64, Missing> {
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

    /// The UTC hour of the tick's block time.
    pub(crate) fn hour_utc(&self) -> u8 {
        ((self.ctx.block.timestamp_ms / 3_600_000) % 24) as u8
    }
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
