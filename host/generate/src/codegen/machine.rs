//! The state-machine form: named states, and rules that emit actions and
//! move between states once those actions have filled.

use std::fmt::Write;

use super::{Form, condition};
use crate::parse::camel_case;
use crate::spec::{
    ActionSpec, AmountSpec, Balance, Exact, LendingKind, MachineSpec, RangeSpec, RuleSpec, Spec,
    VaultKind,
};

pub(super) struct MachineForm<'a> {
    pub spec: &'a Spec,
    pub machine: &'a MachineSpec,
}

/// `State::InPosition` for `in_position`.
fn state(name: &str) -> String {
    format!("State::{}", camel_case(name))
}

/// `500000` as `500_000`.
fn grouped(number: u32) -> String {
    let digits = number.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push('_');
        }
        out.push(digit);
    }
    out
}

/// The Rust expression of a balance.
fn balance(of: &Balance) -> String {
    match of {
        Balance::Wallet(asset) => format!("wallet(ctx, {asset:?})?"),
        Balance::Supplied { market, asset } => {
            format!("lent(ctx, PositionKind::Supplied, {market:?}, {asset:?})")
        }
        Balance::Borrowed { market, asset } => {
            format!("lent(ctx, PositionKind::Borrowed, {market:?}, {asset:?})")
        }
        Balance::VaultShares(vault) => format!("vault_shares(ctx, {vault:?})?"),
    }
}

/// The Rust expression of an amount (an `Amount` in base units).
fn amount(amount: &AmountSpec) -> String {
    match amount {
        AmountSpec::Fixed { decimal, decimals } => {
            format!("TokenAmount::parse({decimal:?}, {decimals})?.to_amount()")
        }
        AmountSpec::Fraction { ppm: 1_000_000, of } => balance(of),
        AmountSpec::Fraction { ppm, of } => format!("share({}, {})", balance(of), grouped(*ppm)),
    }
}

fn range(range: &RangeSpec) -> String {
    match range {
        RangeSpec::Price { lower, upper } => format!("LpRange::Price(({lower:?}, {upper:?}))"),
        RangeSpec::Ticks { lower, upper } => format!("LpRange::Ticks(({lower}, {upper}))"),
        RangeSpec::AroundClose(width) => {
            let factor = 1.0 + width;
            format!("LpRange::Price((now.close / {factor:?}, now.close * {factor:?}))")
        }
    }
}

/// `Action::Variant(Record { field: value, ... })`, its first line at
/// `indent` (which the caller writes).
fn record(variant: &str, record: &str, fields: &[(&str, String)], indent: &str) -> String {
    let mut out = format!("Action::{variant}({record} {{\n");
    for (name, value) in fields {
        let _ = writeln!(out, "{indent}    {name}: {value},");
    }
    let _ = write!(out, "{indent}}})");
    out
}

/// How an action becomes Rust.
enum Rendered<'a> {
    /// One `Action` value.
    Value(String),
    /// One action per liquidity position the account holds in `pool`.
    PerPosition {
        /// `LpClose` or `LpCollect`.
        variant: &'static str,
        /// Pool id.
        pool: &'a str,
    },
}

fn action<'a>(action: &'a ActionSpec, indent: &str) -> Rendered<'a> {
    let text = |s: &str| format!("{s:?}.into()");
    Rendered::Value(match action {
        ActionSpec::Swap {
            sell,
            buy,
            exact,
            amount: how_much,
            max_slippage_bps,
            venue,
        } => {
            let side = match exact {
                Exact::In => "ExactIn",
                Exact::Out => "ExactOut",
            };
            let venue = match venue {
                Some(venue) => format!("Some({})", text(venue)),
                None => "None".to_owned(),
            };
            record(
                "Swap",
                "Swap",
                &[
                    ("sell", text(sell)),
                    ("buy", text(buy)),
                    (
                        "amount",
                        format!("SwapAmount::{side}({})", amount(how_much)),
                    ),
                    ("max_slippage_bps", max_slippage_bps.to_string()),
                    ("venue", venue),
                ],
                indent,
            )
        }
        ActionSpec::LpOpen {
            pool,
            range: bounds,
            amount0,
            amount1,
        } => record(
            "LpOpen",
            "LpOpen",
            &[
                ("pool", text(pool)),
                ("range", range(bounds)),
                ("amount0", amount(amount0)),
                ("amount1", amount(amount1)),
            ],
            indent,
        ),
        ActionSpec::LpClose { pool } => {
            return Rendered::PerPosition {
                variant: "LpClose",
                pool,
            };
        }
        ActionSpec::LpCollect { pool } => {
            return Rendered::PerPosition {
                variant: "LpCollect",
                pool,
            };
        }
        ActionSpec::Lending {
            op,
            market,
            asset,
            amount: how_much,
        } => {
            let variant = match op {
                LendingKind::Supply => "Supply",
                LendingKind::Withdraw => "Withdraw",
                LendingKind::Borrow => "Borrow",
                LendingKind::Repay => "Repay",
            };
            record(
                variant,
                "LendingOp",
                &[
                    ("market", text(market)),
                    ("asset", text(asset)),
                    ("amount", amount(how_much)),
                ],
                indent,
            )
        }
        ActionSpec::Vault {
            op,
            vault,
            amount: how_much,
        } => {
            let variant = match op {
                VaultKind::Deposit => "VaultDeposit",
                VaultKind::RequestRedeem => "VaultRequestRedeem",
            };
            record(
                variant,
                "VaultOp",
                &[("vault", text(vault)), ("amount", amount(how_much))],
                indent,
            )
        }
        ActionSpec::Hold { reason } => format!("Action::Hold({})", text(reason)),
    })
}

/// `let actions = ...;` for a rule, at 16 spaces: a `vec!` of values, or
/// pushes when some actions depend on the positions held.
fn actions(rule: &RuleSpec, out: &mut String) {
    const INDENT: &str = "                ";
    if rule.actions.is_empty() {
        let _ = writeln!(out, "{INDENT}let actions = Vec::new();");
        return;
    }
    let per_position = rule
        .actions
        .iter()
        .any(|a| matches!(a, ActionSpec::LpClose { .. } | ActionSpec::LpCollect { .. }));
    if !per_position {
        let inner = format!("{INDENT}    ");
        let _ = writeln!(out, "{INDENT}let actions = vec![");
        for a in &rule.actions {
            if let Rendered::Value(value) = action(a, &inner) {
                let _ = writeln!(out, "{inner}{value},");
            }
        }
        let _ = writeln!(out, "{INDENT}];");
        return;
    }
    let _ = writeln!(out, "{INDENT}let mut actions = Vec::new();");
    for a in &rule.actions {
        match action(a, INDENT) {
            Rendered::Value(value) => {
                let _ = writeln!(out, "{INDENT}actions.push({value});");
            }
            Rendered::PerPosition { variant, pool } => {
                let _ = writeln!(
                    out,
                    "{INDENT}for position in lp_positions(ctx, {pool:?}) {{\n\
                     {INDENT}    actions.push(Action::{variant}({variant} {{ position }}));\n\
                     {INDENT}}}"
                );
            }
        }
    }
}

impl MachineForm<'_> {
    fn any_action(&self, test: impl Fn(&ActionSpec) -> bool) -> bool {
        self.machine
            .rules
            .iter()
            .flat_map(|rule| &rule.actions)
            .any(test)
    }

    /// Every amount of every action.
    fn amounts(&self) -> impl Iterator<Item = &AmountSpec> {
        self.machine
            .rules
            .iter()
            .flat_map(|rule| &rule.actions)
            .flat_map(|action| match action {
                ActionSpec::Swap { amount, .. }
                | ActionSpec::Lending { amount, .. }
                | ActionSpec::Vault { amount, .. } => vec![amount],
                ActionSpec::LpOpen {
                    amount0, amount1, ..
                } => vec![amount0, amount1],
                ActionSpec::LpClose { .. }
                | ActionSpec::LpCollect { .. }
                | ActionSpec::Hold { .. } => Vec::new(),
            })
    }

    fn any_balance(&self, test: impl Fn(&Balance) -> bool) -> bool {
        self.amounts()
            .any(|a| matches!(a, AmountSpec::Fraction { of, .. } if test(of)))
    }

    fn any_share(&self) -> bool {
        self.amounts()
            .any(|a| matches!(a, AmountSpec::Fraction { ppm, .. } if *ppm < 1_000_000))
    }

    fn any_cooldown(&self) -> bool {
        self.machine
            .rules
            .iter()
            .any(|rule| rule.cooldown_candles > 0 || rule.cooldown_ms > 0)
    }
}

impl Form for MachineForm<'_> {
    fn doc(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "//! A state machine over the {market} candles, starting in `{initial}`. On each\n\
             //! candle the rules below are checked in order and the first that applies\n\
             //! fires: it is written for the current state, its cooldown has passed and\n\
             //! its condition holds. It emits its actions in order, with amounts read\n\
             //! from the balances before any of them runs; once all have filled the state\n\
             //! moves to the rule's next one. If one is refused or fails, the state stays.\n\
             //! No rule fires while actions are in flight.\n//!",
            market = self.spec.market.name,
            initial = self.machine.states[0],
        );
        for (index, rule) in self.machine.rules.iter().enumerate() {
            let kinds: Vec<&str> = rule.actions.iter().map(ActionSpec::kind).collect();
            let _ = writeln!(
                out,
                "//! {index}. `{}` in {}: {}{}.",
                rule.name,
                rule.states.join(" or "),
                if kinds.is_empty() {
                    "no action".to_owned()
                } else {
                    kinds.join(", ")
                },
                rule.to
                    .as_ref()
                    .map_or_else(String::new, |to| format!(", then {to}")),
            );
        }
    }

    fn items(&self, out: &mut String) {
        out.push_str(
            "\n/// The states the spec names.\n\
             #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]\nenum State {\n",
        );
        for (index, name) in self.machine.states.iter().enumerate() {
            let initial = if index == 0 {
                ", the initial state"
            } else {
                ""
            };
            let _ = writeln!(out, "    /// `{name}`{initial}.\n    {},", camel_case(name));
        }
        let mut moves: Vec<(&str, &str)> = Vec::new();
        for rule in &self.machine.rules {
            for from in &rule.states {
                if let Some(to) = &rule.to
                    && from != to
                    && !moves.contains(&(from, to))
                {
                    moves.push((from, to));
                }
            }
        }
        let _ = writeln!(
            out,
            "}}\n\n/// Every move a rule can make.\nconst TRANSITIONS: [(State, State); {}] = [",
            moves.len()
        );
        for (from, to) in moves {
            let _ = writeln!(out, "    ({}, {}),", state(from), state(to));
        }
        out.push_str(
            "];\n\n/// A rule's name and how long it waits before firing again.\n\
             struct Rule {\n    name: &'static str,\n    cooldown_candles: u64,\n    cooldown_ms: u64,\n}\n",
        );
        let _ = writeln!(
            out,
            "\n/// The rules, in the order they are checked.\nconst RULES: [Rule; {}] = [",
            self.machine.rules.len()
        );
        for rule in &self.machine.rules {
            let _ = writeln!(
                out,
                "    Rule {{\n        name: {:?},\n        cooldown_candles: {},\n        cooldown_ms: {},\n    }},",
                rule.name, rule.cooldown_candles, rule.cooldown_ms
            );
        }
        out.push_str(
            "];\n\n/// When a rule last fired.\n\
             #[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]\n\
             struct Fired {\n\
             \x20   /// Number of the candle it fired on.\n    candle: u64,\n\
             \x20   /// Block time, ms.\n    at_ms: u64,\n}\n\n\
             /// A fired rule whose actions have not all come back.\n\
             #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]\n\
             struct InFlight {\n\
             \x20   /// Index in `RULES`.\n    rule: usize,\n\
             \x20   /// The state once every action has filled.\n    to: State,\n\
             \x20   /// Accepted actions still waiting for their outcome.\n    waiting: Vec<ActionId>,\n\
             \x20   /// Whether one of the rule's actions was refused or failed.\n    failed: bool,\n}\n",
        );
    }

    fn fields(&self, out: &mut String) {
        out.push_str(
            "    /// Candles of `MARKET` decided on.\n    candles: u64,\n\
             \x20   state: StateMachine<State>,\n\
             \x20   in_flight: Option<InFlight>,\n\
             \x20   /// When each rule last fired, by index in `RULES`.\n    last_fired: Vec<Option<Fired>>,\n",
        );
    }

    fn init(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "            candles: 0,\n\
             \x20           state: StateMachine::with_transitions({}, &TRANSITIONS),\n\
             \x20           in_flight: None,\n\
             \x20           last_fired: vec![None; RULES.len()],",
            state(&self.machine.states[0])
        );
    }

    fn decide(&self, out: &mut String) {
        out.push_str(
            "            self.candles += 1;\n\
             \x20           if self.in_flight.is_some() {\n\
             \x20               continue; // a fired rule's actions are in flight\n\
             \x20           }\n\
             \x20           let state = self.state.state();\n",
        );
        for (index, rule) in self.machine.rules.iter().enumerate() {
            let mut guard = vec![match rule.states.as_slice() {
                [one] => format!("state == {}", state(one)),
                many => {
                    let alternatives: Vec<String> = many.iter().map(|s| state(s)).collect();
                    format!("matches!(state, {})", alternatives.join(" | "))
                }
            }];
            if rule.cooldown_candles > 0 || rule.cooldown_ms > 0 {
                guard.push(format!("self.cooled_down({index}, now_ms)"));
            }
            if let Some(when) = &rule.when {
                guard.push(format!("({})", condition(when)));
            }
            let keyword = if index == 0 {
                "            if"
            } else {
                " else if"
            };
            let _ = writeln!(
                out,
                "{keyword} {} {{\n                // {}{}",
                guard.join(" && "),
                rule.name,
                rule.to
                    .as_ref()
                    .map_or_else(String::new, |to| format!(": then `{to}`")),
            );
            actions(rule, out);
            let to = rule
                .to
                .as_ref()
                .map_or_else(|| "state".to_owned(), |to| state(to));
            let _ = write!(
                out,
                "                self.fire(ctx, {index}, actions, {to}, now_ms)?;\n            }}"
            );
        }
        out.push('\n');
    }

    fn on_action_result(&self, out: &mut String) {
        out.push_str(
            "        let Some(mut in_flight) = self.in_flight.take() else {\n\
             \x20           return Ok(());\n\
             \x20       };\n\
             \x20       if let Some(index) = in_flight.waiting.iter().position(|waiting| *waiting == id) {\n\
             \x20           in_flight.waiting.remove(index);\n\
             \x20           if let ActionOutcome::Failed(failure) = outcome {\n\
             \x20               ctx.warn(&format!(\"action {id} failed: {}: {}\", failure.code, failure.reason));\n\
             \x20               in_flight.failed = true;\n\
             \x20           }\n\
             \x20       }\n\
             \x20       let now_ms = ctx.block().timestamp_ms;\n\
             \x20       self.settle(ctx, in_flight, now_ms)\n",
        );
    }

    fn helpers(&self, out: &mut String) {
        out.push_str("\nimpl Generated {\n");
        if self.any_cooldown() {
            out.push_str(
                "    /// Whether rule `rule`'s cooldown has passed since it last fired.\n\
                 \x20   fn cooled_down(&self, rule: usize, now_ms: u64) -> bool {\n\
                 \x20       let Rule { cooldown_candles, cooldown_ms, .. } = RULES[rule];\n\
                 \x20       self.last_fired[rule].is_none_or(|fired| {\n\
                 \x20           self.candles - fired.candle >= cooldown_candles\n\
                 \x20               && now_ms.saturating_sub(fired.at_ms) >= cooldown_ms\n\
                 \x20       })\n\
                 \x20   }\n\n",
            );
        }
        out.push_str(
            "    /// Emit rule `rule`'s actions in order; the state moves to `to` once all\n\
             \x20   /// of them have filled. A refusal stops the rest and keeps the state.\n\
             \x20   fn fire(\n\
             \x20       &mut self,\n\
             \x20       ctx: &mut Context<'_>,\n\
             \x20       rule: usize,\n\
             \x20       actions: Vec<Action>,\n\
             \x20       to: State,\n\
             \x20       now_ms: u64,\n\
             \x20   ) -> Result<(), Error> {\n\
             \x20       self.last_fired[rule] = Some(Fired {\n\
             \x20           candle: self.candles,\n\
             \x20           at_ms: now_ms,\n\
             \x20       });\n\
             \x20       let name = RULES[rule].name;\n\
             \x20       let mut in_flight = InFlight {\n\
             \x20           rule,\n\
             \x20           to,\n\
             \x20           waiting: Vec::new(),\n\
             \x20           failed: false,\n\
             \x20       };\n\
             \x20       for action in &actions {\n\
             \x20           match ctx.emit(action) {\n\
             \x20               Ok(id) => {\n\
             \x20                   ctx.info(&format!(\"{name}: {} is action {id}\", action.kind()));\n\
             \x20                   // A hold has no outcome to wait for.\n\
             \x20                   if !matches!(action, Action::Hold(_)) {\n\
             \x20                       in_flight.waiting.push(id);\n\
             \x20                   }\n\
             \x20               }\n\
             \x20               Err(Rejection::Denied(d) | Rejection::Invalid(d)) => {\n\
             \x20                   ctx.warn(&format!(\"{name}: {} refused: {}\", action.kind(), d.detail));\n\
             \x20                   in_flight.failed = true;\n\
             \x20                   break;\n\
             \x20               }\n\
             \x20           }\n\
             \x20       }\n\
             \x20       self.settle(ctx, in_flight, now_ms)\n\
             \x20   }\n\n\
             \x20   /// Wait while actions are in flight; then move to the rule's next state\n\
             \x20   /// if all of them went through.\n\
             \x20   fn settle(\n\
             \x20       &mut self,\n\
             \x20       ctx: &mut Context<'_>,\n\
             \x20       in_flight: InFlight,\n\
             \x20       now_ms: u64,\n\
             \x20   ) -> Result<(), Error> {\n\
             \x20       if !in_flight.waiting.is_empty() {\n\
             \x20           self.in_flight = Some(in_flight);\n\
             \x20           return Ok(());\n\
             \x20       }\n\
             \x20       let name = RULES[in_flight.rule].name;\n\
             \x20       if in_flight.failed {\n\
             \x20           ctx.warn(&format!(\"{name}: staying {:?}\", self.state.state()));\n\
             \x20           return Ok(());\n\
             \x20       }\n\
             \x20       let from = self.state.transition(in_flight.to, now_ms)?;\n\
             \x20       if from != in_flight.to {\n\
             \x20           ctx.info(&format!(\"{name}: {from:?} -> {:?}\", in_flight.to));\n\
             \x20       }\n\
             \x20       Ok(())\n\
             \x20   }\n}\n",
        );
        if self.any_share() {
            out.push_str(
                "\n/// `ppm` millionths of `amount`, rounded down (exact in 128 bits).\n\
                 fn share(amount: Amount, ppm: u128) -> Amount {\n\
                 \x20   let units = amount.to_u128();\n\
                 \x20   Amount::from_u128(units / 1_000_000 * ppm + units % 1_000_000 * ppm / 1_000_000)\n\
                 }\n",
            );
        }
        if self.any_balance(|of| matches!(of, Balance::Wallet(_))) {
            out.push_str(
                "\n/// The account's balance of `asset`.\n\
                 fn wallet(ctx: &mut Context<'_>, asset: &str) -> Result<Amount, Error> {\n\
                 \x20   ctx.balance(asset)\n\
                 \x20       .map_err(|e| format!(\"balance of {asset}: {e:?}\").into())\n\
                 }\n",
            );
        }
        if self.any_balance(|of| matches!(of, Balance::Supplied { .. } | Balance::Borrowed { .. }))
        {
            out.push_str(
                "\n/// What the account has supplied or borrowed (`kind`) of `asset` in the\n\
                 /// lending market `market`.\n\
                 fn lent(ctx: &mut Context<'_>, kind: PositionKind, market: &str, asset: &str) -> Amount {\n\
                 \x20   let units = ctx\n\
                 \x20       .positions()\n\
                 \x20       .iter()\n\
                 \x20       .filter(|position| position.kind == kind && position.venue == market)\n\
                 \x20       .flat_map(|position| &position.amounts)\n\
                 \x20       .filter(|held| held.asset == asset)\n\
                 \x20       .fold(0u128, |sum, held| sum.saturating_add(held.amount.to_u128()));\n\
                 \x20   Amount::from_u128(units)\n\
                 }\n",
            );
        }
        if self.any_balance(|of| matches!(of, Balance::VaultShares(_))) {
            out.push_str(
                "\n/// The shares the account holds in `vault`.\n\
                 fn vault_shares(ctx: &mut Context<'_>, vault: &str) -> Result<Amount, Error> {\n\
                 \x20   let state = ctx\n\
                 \x20       .vault(vault)\n\
                 \x20       .map_err(|e| format!(\"vault {vault}: {e:?}\"))?;\n\
                 \x20   Ok(state.shares)\n\
                 }\n",
            );
        }
        if self
            .any_action(|a| matches!(a, ActionSpec::LpClose { .. } | ActionSpec::LpCollect { .. }))
        {
            out.push_str(
                "\n/// Ids of the account's liquidity positions in `pool`.\n\
                 fn lp_positions(ctx: &mut Context<'_>, pool: &str) -> Vec<String> {\n\
                 \x20   ctx.positions()\n\
                 \x20       .into_iter()\n\
                 \x20       .filter(|position| position.kind == PositionKind::Liquidity && position.venue == pool)\n\
                 \x20       .map(|position| position.id)\n\
                 \x20       .collect()\n\
                 }\n",
            );
        }
    }
}
