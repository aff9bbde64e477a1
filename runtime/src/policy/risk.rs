//! `risk.max_var`: the value-at-risk (VaR) of the portfolio a swap leaves,
//! against a limit.
//!
//! **Which actions.** Swaps only, in this version: every other kind (LP,
//! lending, vaults) is taken to keep the exposure of the tokens it moves (a
//! supplied or deposited token is still held at its price), so it does not
//! change the portfolio the rule models, cannot raise its VaR and is not
//! judged (nothing is read for it). `hold` is never judged.
//!
//! **The portfolio.** Before the swap: the deployment's token balances
//! (oracle `balances()`), each valued in `quote` at the oracle's price (the
//! quote itself at 1), then every swap accepted earlier in the same tick
//! applied in order. A swap moves value from its sold token to its bought
//! token: the sold token loses the value of the most the swap can spend (the
//! sold amount of an exact-in swap, the maximum input of an exact-out one,
//! as every other rule counts it); the bought token gains that same value
//! for an exact-in swap, and the value of the bought amount for an
//! exact-out one. Every token involved needs an oracle price in `quote`. A
//! token's value is never below zero (a swap cannot sell more than is held;
//! the venue would fail it). After the swap: the same, with this swap
//! applied.
//!
//! **Returns.** For every token other than `quote` worth more than zero
//! before or after the swap (in symbol order), the `lookback` most recent
//! candles of the market `TOKEN/QUOTE`, their closes' log returns, and the
//! candles' interval: the smallest positive gap between consecutive
//! candles. Every market must have the same interval. The series are
//! aligned on their most recent returns, cut to the shortest. The quote
//! asset is the unit: it has no returns and adds nothing to VaR, but counts
//! in the portfolio's value.
//!
//! **The verdict.** VaR after the swap, by
//! [`stratbox_risk::portfolio_var`] (a positive loss in `quote`), is
//! compared with `max_value`, and VaR divided by the post-trade portfolio's
//! value with `max_fraction`. Over a limit, the swap is still accepted if it
//! does not raise VaR (VaR after <= VaR before, on the same aligned
//! returns): a swap that reduces risk is never blocked, even while the
//! portfolio is above the limit. Otherwise: `VAR_ABOVE_MAX`.
//!
//! **Failing closed.** A candle read that fails: `ORACLE_UNAVAILABLE`
//! (`read=candles`); a missing price: `PRICE_UNAVAILABLE`; a balance of a
//! token outside the deployment's assets: `UNKNOWN_ASSET`; VaR that cannot
//! be computed (fewer than 2 candles, too few returns for the method and
//! confidence, markets spaced differently, a historical horizon that is not
//! a whole number of intervals, a close that is not a positive number):
//! `VAR_UNAVAILABLE` with a `reason`.
//!
//! Deterministic: balances, prices and candles are read through the
//! recorded [`PolicyOracle`](crate::PolicyOracle), in a fixed order
//! (balances, prices, candles by symbol); the rest is pure arithmetic.

use std::collections::{BTreeMap, BTreeSet};

use stratbox_risk::{RiskError, log_returns, portfolio_var};

use super::code::DenialCode;
use super::compile::VarLimit;
use super::facts::{Facts, Missing, show};
use crate::types::{Action, Candle, Denial, Swap, SwapAmount};

/// Value in whole quote units, by token.
type Holdings = BTreeMap<String, f64>;

/// Judge the action against `limit`.
pub(crate) fn check_var(limit: &VarLimit, facts: &mut Facts<'_, '_>) -> Result<(), Denial> {
    let action = facts.action;
    let ctx = facts.ctx;
    let Action::Swap(swap) = action else {
        return Ok(());
    };
    let missing = |m: Missing| m.denial(&limit.rule);
    let (quote, decimals) = facts.quote().ok_or_else(|| missing(Missing::Quote))?;

    let mut before = holdings(facts).map_err(missing)?;
    for accepted in ctx.accepted_in_tick {
        if let Action::Swap(earlier) = &accepted.action {
            let moved = moved_by(facts, earlier, false).map_err(missing)?;
            apply(&mut before, earlier, moved);
        }
    }
    let moved = moved_by(facts, swap, true).map_err(missing)?;
    let mut after = before.clone();
    apply(&mut after, swap, moved);
    for value in before.values_mut().chain(after.values_mut()) {
        *value = value.max(0.0);
    }

    let risky: Vec<&str> = before
        .iter()
        .chain(&after)
        .filter(|(token, value)| *token != quote && **value > 0.0)
        .map(|(token, _)| token.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if risky.is_empty() {
        return Ok(());
    }
    let aligned = aligned_returns(facts, limit, quote, &risky)?;
    let var_of = |holdings: &Holdings| {
        let values: Vec<f64> = risky
            .iter()
            .map(|token| holdings.get(*token).copied().unwrap_or(0.0))
            .collect();
        let series: Vec<&[f64]> = aligned.returns.iter().map(Vec::as_slice).collect();
        portfolio_var(
            &values,
            &series,
            limit.method,
            limit.horizon_ms,
            aligned.interval_ms,
            limit.confidence,
        )
        .map_err(|error| unavailable(limit, &error, None, aligned.interval_ms))
    };

    let var = var_of(&after)?;
    let value: f64 = after.values().sum();
    let fraction = if value > 0.0 {
        var / value
    } else if var > 0.0 {
        f64::INFINITY
    } else {
        0.0
    };
    let over_fraction = limit.max_fraction.filter(|max| fraction > *max);
    let over_value = limit.max_value.as_ref().filter(|max| var > max.max);
    if over_fraction.is_none() && over_value.is_none() {
        return Ok(());
    }
    if var <= var_of(&before)? {
        return Ok(());
    }
    let method = limit.method.as_str();
    let horizon = horizon_text(limit.horizon_ms);
    let var_text = show(var, usize::from(decimals));
    let code = DenialCode::VarAboveMax;
    Err(match (over_fraction, over_value) {
        (Some(max_fraction), _) => code.deny(
            &limit.rule,
            &[
                ("method", &method),
                ("horizon", &horizon),
                ("confidence", &limit.confidence),
                ("var", &var_text),
                ("var_fraction", &show(fraction, 4)),
                ("max_fraction", &max_fraction),
                ("quote", &quote),
            ],
        ),
        (None, Some(max)) => code.deny(
            &limit.rule,
            &[
                ("method", &method),
                ("horizon", &horizon),
                ("confidence", &limit.confidence),
                ("var", &var_text),
                ("max", &max.text),
                ("quote", &quote),
            ],
        ),
        (None, None) => return Ok(()),
    })
}

/// The deployment's balances, valued in the quote asset.
fn holdings(facts: &mut Facts<'_, '_>) -> Result<Holdings, Missing> {
    let mut holdings = Holdings::new();
    for balance in facts.ctx.oracle.balances() {
        let units = balance.amount.to_u128();
        if units == 0 {
            continue;
        }
        let value = facts.token_value(&balance.asset, units)?;
        *holdings.entry(balance.asset).or_insert(0.0) += value;
    }
    Ok(holdings)
}

/// `(value the sold token loses, value the bought token gains)`, in the
/// quote asset. `current`: `swap` is the action being judged (its spend is
/// shared with the other rules).
fn moved_by(facts: &mut Facts<'_, '_>, swap: &Swap, current: bool) -> Result<(f64, f64), Missing> {
    let sold_units = match (current, swap.amount) {
        (true, _) => facts.spend_of(&swap.sell)?,
        (false, SwapAmount::ExactIn(amount)) => amount.to_u128(),
        (false, SwapAmount::ExactOut(amount)) => facts.max_input(swap, amount.to_u128())?,
    };
    let sold = facts.token_value(&swap.sell, sold_units)?;
    let bought = match swap.amount {
        SwapAmount::ExactIn(_) => {
            // The bought token joins the portfolio: it needs a price too.
            facts.price(&swap.buy)?;
            sold
        }
        SwapAmount::ExactOut(amount) => facts.token_value(&swap.buy, amount.to_u128())?,
    };
    Ok((sold, bought))
}

fn apply(holdings: &mut Holdings, swap: &Swap, (sold, bought): (f64, f64)) {
    *holdings.entry(swap.sell.clone()).or_insert(0.0) -= sold;
    *holdings.entry(swap.buy.clone()).or_insert(0.0) += bought;
}

/// Log returns per risky token, aligned on the most recent, and their
/// common interval.
struct Aligned {
    interval_ms: u64,
    returns: Vec<Vec<f64>>,
}

fn aligned_returns(
    facts: &Facts<'_, '_>,
    limit: &VarLimit,
    quote: &str,
    tokens: &[&str],
) -> Result<Aligned, Denial> {
    let code = DenialCode::VarUnavailable;
    let mut interval_ms: Option<u64> = None;
    let mut returns = Vec::with_capacity(tokens.len());
    for token in tokens {
        let market = format!("{token}/{quote}");
        let candles = facts
            .ctx
            .oracle
            .candles(&market, limit.lookback)
            .map_err(|_| {
                Missing::Read {
                    read: "candles",
                    id: market.clone(),
                }
                .denial(&limit.rule)
            })?;
        if candles.len() < 2 {
            return Err(code.deny(
                &limit.rule,
                &[
                    ("reason", &"too_few_candles"),
                    ("market", &market),
                    ("candles", &candles.len()),
                ],
            ));
        }
        let Some(spacing) = spacing_ms(&candles) else {
            return Err(code.deny(
                &limit.rule,
                &[("reason", &"no_interval"), ("market", &market)],
            ));
        };
        match interval_ms {
            Some(expected) if expected != spacing => {
                return Err(code.deny(
                    &limit.rule,
                    &[
                        ("reason", &"mixed_intervals"),
                        ("market", &market),
                        ("interval_ms", &spacing),
                        ("expected_ms", &expected),
                    ],
                ));
            }
            _ => interval_ms = Some(spacing),
        }
        let closes: Vec<f64> = candles.iter().map(|c| c.close).collect();
        let series = log_returns(&closes)
            .map_err(|error| unavailable(limit, &error, Some(&market), spacing))?;
        returns.push(series);
    }
    let shortest = returns.iter().map(Vec::len).min().unwrap_or(0);
    for series in &mut returns {
        series.drain(..series.len() - shortest);
    }
    Ok(Aligned {
        interval_ms: interval_ms.unwrap_or(0),
        returns,
    })
}

/// The smallest positive gap between consecutive candles.
fn spacing_ms(candles: &[Candle]) -> Option<u64> {
    candles
        .windows(2)
        .map(|pair| pair[1].timestamp_ms.saturating_sub(pair[0].timestamp_ms))
        .filter(|gap| *gap > 0)
        .min()
}

/// `VAR_UNAVAILABLE` for why the risk crate could not compute VaR.
fn unavailable(
    limit: &VarLimit,
    error: &RiskError,
    market: Option<&str>,
    interval_ms: u64,
) -> Denial {
    let code = DenialCode::VarUnavailable;
    let rule = &limit.rule;
    match error {
        RiskError::NotEnoughData { needed, have } => code.deny(
            rule,
            &[
                ("reason", &"not_enough_data"),
                ("needed", needed),
                ("have", have),
            ],
        ),
        RiskError::InvalidHorizon { horizon_ms, .. } => code.deny(
            rule,
            &[
                ("reason", &"invalid_horizon"),
                ("horizon_ms", horizon_ms),
                ("interval_ms", &interval_ms),
            ],
        ),
        RiskError::InvalidValue { what, index, .. } => code.deny(
            rule,
            &[
                ("reason", &"invalid_value"),
                ("market", &market.unwrap_or("all")),
                ("what", what),
                ("index", index),
            ],
        ),
        _ => code.deny(rule, &[("reason", &"invalid_input")]),
    }
}

/// A horizon the short way: `1d`, `4h`, `15m`, `90s` or `250ms`.
fn horizon_text(ms: u64) -> String {
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
    ] {
        if ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

#[cfg(test)]
mod tests {
    use super::horizon_text;

    #[test]
    fn horizons_are_short() {
        assert_eq!(horizon_text(86_400_000), "1d");
        assert_eq!(horizon_text(5_400_000), "90m");
        assert_eq!(horizon_text(90_000), "90s");
        assert_eq!(horizon_text(250), "250ms");
    }
}
