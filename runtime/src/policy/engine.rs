//! [`PolicyEngine`]: a [`CompiledPolicy`] and its [`PolicyState`], judging
//! each action at emission and keeping allowances, cooldowns and counters
//! in step with what happens to accepted actions afterwards.
//!
//! Rules are checked in a fixed order and the first that fails names
//! itself: kind, chain, known assets, venue, tokens, slippage, amounts,
//! counts per tick and per day, cooldown, conditions, value, health,
//! value-at-risk (`risk.max_var`), and allowances last (so a denial never
//! reserves anything).
//!
//! Time is policy time: the tick's block time, except that it never goes
//! back below the latest block time the engine has seen (kept in its
//! state), so a block clock that moves backwards or jumps back and forth
//! cannot restart cooldowns, per-day counters or allowance periods.

use std::sync::Arc;

use super::code::DenialCode;
use super::compile::{Allowance, AllowanceUnit, CompiledPolicy, KindRules};
use super::decimal::POW10;
use super::facts::{Facts, Missing, show};
use super::kind::ActionKind;
use super::risk::check_var;
use super::state::{DAY_MS, InFlight, PolicyState, PolicyStateError, Reservation};
use crate::host::{Policy, PolicyContext, Verdict};
use crate::report::AcceptedAction;
use crate::types::{Action, ActionId, ActionOutcome, Amount, Denial, Fill, PositionKind};

/// A policy file's rules applied to one deployment.
#[derive(Debug, Clone)]
pub struct PolicyEngine {
    policy: Arc<CompiledPolicy>,
    state: PolicyState,
}

/// Why a rule refused: the verdict to return.
type Refusal = Verdict;

impl PolicyEngine {
    /// Judge with `policy`, starting from a fresh state.
    pub fn new(policy: Arc<CompiledPolicy>) -> Self {
        PolicyEngine {
            policy,
            state: PolicyState::new(),
        }
    }

    /// Judge with `policy`, resuming from a state journaled earlier (see
    /// [`Policy::persistent_state`]). Allowances the policy no longer has
    /// are forgotten.
    pub fn with_state(policy: Arc<CompiledPolicy>, state: &[u8]) -> Result<Self, PolicyStateError> {
        let mut state = PolicyState::from_bytes(state)?;
        state
            .allowances
            .retain(|name, _| policy.allowances.iter().any(|a| &a.name == name));
        for taken in state.in_flight.values_mut() {
            taken
                .reservations
                .retain(|r| policy.allowances.iter().any(|a| a.name == r.allowance));
        }
        Ok(PolicyEngine { policy, state })
    }

    /// The rules.
    pub fn policy(&self) -> &CompiledPolicy {
        &self.policy
    }

    /// What the engine remembers (allowance balances, clocks, counters).
    pub fn state(&self) -> &PolicyState {
        &self.state
    }

    fn judge(&mut self, action: &Action, ctx: &PolicyContext<'_>) -> Result<Accepted, Refusal> {
        let now = self.state.observe(ctx.block.timestamp_ms);
        let policy = Arc::clone(&self.policy);
        let kind = ActionKind::of(action);
        let Some(rules) = policy.rules(kind) else {
            return Err(deny(
                DenialCode::KindNotAllowed.deny(kind.as_str(), &[("kind", &kind)]),
            ));
        };
        let chain = ctx.block.chain_id;
        if !policy.chains.contains(&chain) {
            return Err(deny(
                DenialCode::ChainNotAllowed.deny("chains", &[("chain", &chain), ("kind", &kind)]),
            ));
        }
        if kind == ActionKind::Hold {
            return Ok(Accepted::default());
        }
        let mut facts = Facts::new(action, kind, ctx, &policy, now);
        for asset in facts.named_assets().into_iter().flatten() {
            if !policy.assets.contains(asset) {
                return Err(Verdict::Invalid(
                    DenialCode::UnknownAsset.deny("assets", &[("asset", &asset), ("kind", &kind)]),
                ));
            }
        }
        check_target(rules, &facts)?;
        check_tokens(rules, &mut facts)?;
        check_slippage(rules, action)?;
        check_amounts(rules, &mut facts)?;
        let day = now / DAY_MS;
        self.check_counts(&policy, rules, ctx, day)?;
        let previous_action_ms = self.check_cooldown(rules, now)?;
        for condition in [&policy.require, &rules.require].into_iter().flatten() {
            match condition.judge(&mut facts) {
                Ok(None) => {}
                Ok(Some(denial)) | Err(denial) => return Err(deny(denial)),
            }
        }
        check_value(rules, &mut facts)?;
        check_health(rules, &mut facts)?;
        if let Some(limit) = &policy.max_var {
            check_var(limit, &mut facts).map_err(deny)?;
        }
        let reservations = self.check_allowances(&policy, rules, &mut facts, now)?;
        Ok(Accepted {
            taken: Some(InFlight {
                kind: kind.as_str().to_owned(),
                day,
                previous_action_ms,
                released: false,
                reservations,
            }),
        })
    }

    fn check_counts(
        &self,
        policy: &CompiledPolicy,
        rules: &KindRules,
        ctx: &PolicyContext<'_>,
        day: u64,
    ) -> Result<(), Refusal> {
        let counted = |a: &&AcceptedAction| !matches!(a.action, Action::Hold(_));
        let kind = rules.kind;
        if let Some(limit) = &rules.max_per_tick {
            let in_tick = ctx
                .accepted_in_tick
                .iter()
                .filter(|a| ActionKind::of(&a.action) == kind)
                .count();
            if in_tick >= limit.max as usize {
                return Err(deny(DenialCode::TooManyPerTick.deny(
                    &limit.rule,
                    &[("kind", &kind), ("count", &in_tick), ("max", &limit.max)],
                )));
            }
        }
        if let Some(limit) = &policy.max_actions_per_tick {
            let in_tick = ctx.accepted_in_tick.iter().filter(counted).count();
            if in_tick >= limit.max as usize {
                return Err(deny(DenialCode::TooManyPerTick.deny(
                    &limit.rule,
                    &[("kind", &"any"), ("count", &in_tick), ("max", &limit.max)],
                )));
            }
        }
        let (of_kind, total) = self.state.count_on(day, kind.as_str());
        if let Some(limit) = &rules.max_per_day
            && of_kind >= limit.max
        {
            return Err(deny(DenialCode::TooManyPerDay.deny(
                &limit.rule,
                &[("kind", &kind), ("count", &of_kind), ("max", &limit.max)],
            )));
        }
        if let Some(limit) = &policy.max_actions_per_day
            && total >= limit.max
        {
            return Err(deny(DenialCode::TooManyPerDay.deny(
                &limit.rule,
                &[("kind", &"any"), ("count", &total), ("max", &limit.max)],
            )));
        }
        Ok(())
    }

    /// The kind's clock before this action, if the cooldown has passed.
    fn check_cooldown(&self, rules: &KindRules, now: u64) -> Result<Option<u64>, Refusal> {
        let last = self.state.last_action_ms.get(rules.kind.as_str()).copied();
        if let (Some(cooldown), Some(last)) = (&rules.cooldown, last) {
            let elapsed = now.saturating_sub(last);
            if elapsed < cooldown.ms {
                return Err(deny(DenialCode::CooldownActive.deny(
                    &cooldown.rule,
                    &[
                        ("kind", &rules.kind),
                        ("remaining_ms", &(cooldown.ms - elapsed)),
                        ("cooldown_ms", &cooldown.ms),
                    ],
                )));
            }
        }
        Ok(last)
    }

    /// Reserve from every allowance the action consumes, or refuse without
    /// reserving anything.
    fn check_allowances(
        &mut self,
        policy: &CompiledPolicy,
        rules: &KindRules,
        facts: &mut Facts<'_, '_>,
        now: u64,
    ) -> Result<Vec<Reservation>, Refusal> {
        let mut wanted: Vec<(&Allowance, u128)> = Vec::new();
        for &index in &rules.allowances {
            let allowance = &policy.allowances[index];
            let amount =
                allowance_amount(allowance, facts).map_err(|m| deny(m.denial(&allowance.rule)))?;
            if amount == 0 {
                continue;
            }
            let state = self
                .state
                .allowances
                .entry(allowance.name.clone())
                .or_insert_with(|| super::state::AllowanceState {
                    balance: allowance.balance,
                    reserved: 0,
                    refilled_at_ms: now,
                });
            state.accrue(
                now,
                allowance.refill,
                allowance.max_refill,
                allowance.period_ms,
            );
            let available = state.available();
            if amount > available {
                let (unit_key, symbol, decimals) = match &allowance.unit {
                    AllowanceUnit::Token { symbol, decimals } => ("token", symbol, *decimals),
                    AllowanceUnit::QuoteValue { symbol, decimals } => ("quote", symbol, *decimals),
                };
                let text = |units: u128| Amount::from_u128(units).to_decimal_string(decimals);
                return Err(deny(DenialCode::AllowanceExceeded.deny(
                    &allowance.rule,
                    &[
                        ("allowance", &allowance.name),
                        ("amount", &text(amount)),
                        ("available", &text(available)),
                        (unit_key, symbol),
                    ],
                )));
            }
            wanted.push((allowance, amount));
        }
        let mut reservations = Vec::with_capacity(wanted.len());
        for (allowance, amount) in wanted {
            if let Some(state) = self.state.allowances.get_mut(&allowance.name) {
                state.reserved = state.reserved.saturating_add(amount);
            }
            reservations.push(Reservation {
                allowance: allowance.name.clone(),
                amount,
            });
        }
        Ok(reservations)
    }

    fn record(&mut self, id: ActionId, now: u64, taken: InFlight) {
        self.state.roll_day(taken.day);
        self.state.day_total = self.state.day_total.saturating_add(1);
        let by_kind = self
            .state
            .day_by_kind
            .entry(taken.kind.clone())
            .or_insert(0);
        *by_kind = by_kind.saturating_add(1);
        self.state.last_action_ms.insert(taken.kind.clone(), now);
        self.state.in_flight.insert(id, taken);
    }
}

/// What an accepted action took; `None` for a hold, which takes nothing.
#[derive(Debug, Default)]
struct Accepted {
    taken: Option<InFlight>,
}

fn deny(denial: Denial) -> Verdict {
    Verdict::Deny(denial)
}

fn check_target(rules: &KindRules, facts: &Facts<'_, '_>) -> Result<(), Refusal> {
    let Some(list) = &rules.targets else {
        return Ok(());
    };
    let target = facts.target();
    if target.is_some_and(|t| list.allows(t)) {
        return Ok(());
    }
    let code = match rules.kind {
        ActionKind::Swap => DenialCode::VenueNotAllowed,
        ActionKind::LpOpen => DenialCode::PoolNotAllowed,
        ActionKind::VaultDeposit | ActionKind::VaultRequestRedeem => DenialCode::VaultNotAllowed,
        _ => DenialCode::MarketNotAllowed,
    };
    Err(deny(code.deny(
        &list.rule,
        &[("kind", &rules.kind), ("venue", &target.unwrap_or("none"))],
    )))
}

fn check_tokens(rules: &KindRules, facts: &mut Facts<'_, '_>) -> Result<(), Refusal> {
    let Some(list) = &rules.tokens else {
        return Ok(());
    };
    let resolved = facts.resolved().map_err(|m| deny(m.denial(&list.rule)))?;
    for token in &resolved.tokens {
        if !list.allows(token) {
            return Err(deny(
                DenialCode::TokenNotAllowed
                    .deny(&list.rule, &[("token", token), ("kind", &rules.kind)]),
            ));
        }
    }
    Ok(())
}

fn check_slippage(rules: &KindRules, action: &Action) -> Result<(), Refusal> {
    if let (Some(limit), Action::Swap(swap)) = (&rules.max_slippage_bps, action)
        && swap.max_slippage_bps > limit.max
    {
        return Err(deny(DenialCode::SlippageAboveMax.deny(
            &limit.rule,
            &[("bps", &swap.max_slippage_bps), ("max", &limit.max)],
        )));
    }
    Ok(())
}

/// Every `max_amount` limit, in the file's order, against the most of its
/// token the action names or can spend (for an exact-out swap: the bought
/// amount, and the most of the sold token it can pay).
fn check_amounts(rules: &KindRules, facts: &mut Facts<'_, '_>) -> Result<(), Refusal> {
    for limit in &rules.max_amount {
        let amount = facts
            .largest_amount(&limit.token)
            .map_err(|m| deny(m.denial(&limit.rule)))?;
        if amount > limit.units {
            let text = |units: u128| Amount::from_u128(units).to_decimal_string(limit.decimals);
            return Err(deny(DenialCode::AmountAboveMax.deny(
                &limit.rule,
                &[
                    ("amount", &text(amount)),
                    ("max", &text(limit.units)),
                    ("token", &limit.token),
                ],
            )));
        }
    }
    Ok(())
}

fn check_value(rules: &KindRules, facts: &mut Facts<'_, '_>) -> Result<(), Refusal> {
    let Some(limit) = &rules.max_value else {
        return Ok(());
    };
    let value = facts.value().map_err(|m| deny(m.denial(&limit.rule)))?;
    if value <= limit.max {
        return Ok(());
    }
    let (quote, decimals) = facts.quote().unwrap_or(("none", 0));
    Err(deny(DenialCode::ValueAboveMax.deny(
        &limit.rule,
        &[
            ("value", &show(value, usize::from(decimals))),
            ("max", &limit.text),
            ("quote", &quote),
        ],
    )))
}

/// Health factor and loan-to-value of the action's lending market once the
/// action is applied.
fn check_health(rules: &KindRules, facts: &mut Facts<'_, '_>) -> Result<(), Refusal> {
    if rules.min_health_factor.is_none() && rules.max_ltv.is_none() {
        return Ok(());
    }
    let first_rule = rules
        .min_health_factor
        .as_ref()
        .or(rules.max_ltv.as_ref())
        .map_or("", |r| r.rule.as_str());
    let (Action::Supply(op) | Action::Withdraw(op) | Action::Borrow(op) | Action::Repay(op)) =
        facts.action
    else {
        return Ok(());
    };
    let (health, ltv) = health_after(facts, &op.market).map_err(|m| deny(m.denial(first_rule)))?;
    if let Some(limit) = &rules.min_health_factor
        && health < limit.bound
    {
        return Err(deny(DenialCode::HealthFactorBelowMin.deny(
            &limit.rule,
            &[
                ("health_factor", &show(health, 4)),
                ("min", &show(limit.bound, 4)),
                ("market", &op.market),
            ],
        )));
    }
    if let Some(limit) = &rules.max_ltv
        && ltv > limit.bound
    {
        return Err(deny(DenialCode::LtvAboveMax.deny(
            &limit.rule,
            &[
                ("ltv", &show(ltv, 4)),
                ("max", &show(limit.bound, 4)),
                ("market", &op.market),
            ],
        )));
    }
    Ok(())
}

/// `(health factor, loan-to-value)` of `market` after the action: collateral
/// and debt are the deployment's supplied and borrowed positions in the
/// market (from the oracle), valued in the quote asset; the market's
/// liquidation threshold weighs the collateral.
fn health_after(facts: &mut Facts<'_, '_>, market: &str) -> Result<(f64, f64), Missing> {
    let positions = facts.ctx.oracle.positions();
    let lending = facts
        .ctx
        .oracle
        .lending_market(market)
        .map_err(|_| Missing::Read {
            read: "lending_market",
            id: market.to_owned(),
        })?;
    let (mut collateral, mut debt) = (0.0, 0.0);
    for position in positions.iter().filter(|p| p.venue == market) {
        let side = match position.kind {
            PositionKind::Supplied => &mut collateral,
            PositionKind::Borrowed => &mut debt,
            _ => continue,
        };
        for amount in &position.amounts {
            *side += facts.token_value(&amount.asset, amount.amount.to_u128())?;
        }
    }
    let delta = facts.value()?;
    match facts.kind {
        ActionKind::Supply => collateral += delta,
        ActionKind::Withdraw => collateral = (collateral - delta).max(0.0),
        ActionKind::Borrow => debt += delta,
        ActionKind::Repay => debt = (debt - delta).max(0.0),
        _ => {}
    }
    if debt <= 0.0 {
        return Ok((f64::INFINITY, 0.0));
    }
    let health = collateral * lending.liquidation_threshold / debt;
    let ltv = if collateral <= 0.0 {
        f64::INFINITY
    } else {
        debt / collateral
    };
    Ok((health, ltv))
}

/// How much of `allowance` the action would take, in its base units: the
/// most of the token it can spend, or the value of the most it can spend.
fn allowance_amount(allowance: &Allowance, facts: &mut Facts<'_, '_>) -> Result<u128, Missing> {
    match &allowance.unit {
        AllowanceUnit::Token { symbol, .. } => facts.spend_of(symbol),
        AllowanceUnit::QuoteValue { decimals, .. } => {
            let value = facts.value()?;
            // Saturating float-to-int cast; rounding is exact and the same everywhere.
            Ok((value * POW10[usize::from(*decimals).min(38)]).round() as u128)
        }
    }
}

/// What a fill spent of a token allowance's token (0 for a value
/// allowance). A venue that spent more than was reserved is charged what it
/// spent, so the balance never claims more than is left.
fn spent_against(policy: &CompiledPolicy, reservation: &Reservation, fill: &Fill) -> u128 {
    let Some(allowance) = policy
        .allowances
        .iter()
        .find(|a| a.name == reservation.allowance)
    else {
        return 0;
    };
    match &allowance.unit {
        AllowanceUnit::Token { symbol, .. } => fill
            .spent
            .iter()
            .filter(|spent| spent.asset == *symbol)
            .fold(0u128, |sum, spent| {
                sum.saturating_add(spent.amount.to_u128())
            }),
        AllowanceUnit::QuoteValue { .. } => 0,
    }
}

impl Policy for PolicyEngine {
    fn check(&mut self, action: &Action, ctx: &PolicyContext<'_>) -> Verdict {
        match self.judge(action, ctx) {
            Ok(Accepted { taken: Some(taken) }) => {
                self.record(ctx.action_id, self.state.clock_ms, taken);
                Verdict::Accept
            }
            Ok(Accepted { taken: None }) => Verdict::Accept,
            Err(verdict) => verdict,
        }
    }

    fn on_released(&mut self, actions: &[AcceptedAction]) {
        for accepted in actions {
            let keep = match self.state.in_flight.get_mut(&accepted.id) {
                Some(taken) => {
                    taken.released = true;
                    !taken.reservations.is_empty()
                }
                None => continue,
            };
            if !keep {
                self.state.in_flight.remove(&accepted.id);
            }
        }
    }

    fn on_dropped(&mut self, actions: &[AcceptedAction]) {
        // Latest first, so cooldown clocks unwind to the earliest value.
        for accepted in actions.iter().rev() {
            self.state.give_back(accepted.id);
        }
    }

    fn on_outcome(&mut self, id: ActionId, outcome: &ActionOutcome) {
        match outcome {
            ActionOutcome::Filled(fill) => {
                let policy = &self.policy;
                self.state
                    .consume(id, |reservation| spent_against(policy, reservation, fill));
            }
            ActionOutcome::Failed(_) => self.state.give_back(id),
        }
    }

    fn persistent_state(&self) -> Option<Vec<u8>> {
        Some(self.state.to_bytes())
    }
}
