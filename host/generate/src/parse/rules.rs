//! The state-machine form: `states`, `[assets]` and `[[rules]]`.

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;

use super::actions::{Assets, BALANCE_WORDS};
use super::{Checker, camel_case, is_identifier};
use crate::error::SpecError;
use crate::format::{RuleFile, SpecFile};
use crate::spec::{IndicatorSpec, MachineSpec, RuleSpec};

impl Checker<'_> {
    pub(super) fn machine(
        &self,
        written: &SpecFile,
        rules: &Spanned<Vec<Spanned<RuleFile>>>,
        indicators: &BTreeMap<String, IndicatorSpec>,
    ) -> Result<MachineSpec, SpecError> {
        let states = self.states(written, &rules.span())?;
        let assets = self.assets(written)?;
        if rules.get_ref().is_empty() {
            return Err(self.invalid(&rules.span(), "rules", "is empty"));
        }
        let mut names = BTreeSet::new();
        let mut resolved = Vec::new();
        for (index, rule) in rules.get_ref().iter().enumerate() {
            let path = format!("rules[{index}]");
            let rule = self.rule(rule, &path, &states, &assets, indicators)?;
            if !names.insert(rule.name.clone()) {
                return Err(self.invalid(
                    &rules.get_ref()[index].span(),
                    &format!("{path}.name"),
                    format!("another rule is already called `{}`", rule.name),
                ));
            }
            resolved.push(rule);
        }
        Ok(MachineSpec {
            states,
            rules: resolved,
        })
    }

    fn states(
        &self,
        written: &SpecFile,
        rules: &std::ops::Range<usize>,
    ) -> Result<Vec<String>, SpecError> {
        let Some(states) = &written.states else {
            return Err(self.invalid(
                rules,
                "states",
                "missing: a spec with [[rules]] lists its states at the top, the first being \
                 the initial one (states = [\"flat\", \"long\"])",
            ));
        };
        let span = states.span();
        if states.get_ref().is_empty() {
            return Err(self.invalid(&span, "states", "is empty"));
        }
        let mut variants = BTreeMap::new();
        for (index, state) in states.get_ref().iter().enumerate() {
            let field = format!("states[{index}]");
            if !is_identifier(state) || state == "self" {
                return Err(self.invalid(
                    &span,
                    &field,
                    format!("`{state}`: state names are lowercase identifiers (`in_position`)"),
                ));
            }
            // The generated code names states in CamelCase.
            if let Some(other) = variants.insert(camel_case(state), state) {
                let reason = if other == state {
                    format!("`{state}` is listed twice")
                } else {
                    format!("`{state}` and `{other}` are the same name in the generated code")
                };
                return Err(self.invalid(&span, &field, reason));
            }
        }
        Ok(states.get_ref().clone())
    }

    fn assets(&self, written: &SpecFile) -> Result<Assets, SpecError> {
        let market = &written.market;
        let mut assets = Assets::new(market);
        let Some(listed) = &written.assets else {
            return Ok(assets);
        };
        for (name, asset) in listed.get_ref() {
            let field = format!("assets.{name}");
            let decimals = &asset.get_ref().decimals;
            if name.is_empty() || BALANCE_WORDS.contains(&name.as_str()) {
                return Err(self.invalid(
                    &asset.span(),
                    &field,
                    "supplied, borrowed and shares name balances, not assets",
                ));
            }
            if *decimals.get_ref() > 38 {
                return Err(self.invalid(
                    &decimals.span(),
                    &format!("{field}.decimals"),
                    "at most 38",
                ));
            }
            if *name == market.quote && *decimals.get_ref() != market.quote_decimals {
                return Err(self.invalid(
                    &decimals.span(),
                    &format!("{field}.decimals"),
                    format!(
                        "market.quote_decimals says {} for {name}",
                        market.quote_decimals
                    ),
                ));
            }
            assets.insert(name, *decimals.get_ref());
        }
        Ok(assets)
    }

    fn rule(
        &self,
        written: &Spanned<RuleFile>,
        path: &str,
        states: &[String],
        assets: &Assets,
        indicators: &BTreeMap<String, IndicatorSpec>,
    ) -> Result<RuleSpec, SpecError> {
        let rule = written.get_ref();
        let name = match &rule.name {
            Some(name) if name.get_ref().trim().is_empty() => {
                return Err(self.invalid(&name.span(), &format!("{path}.name"), "is empty"));
            }
            Some(name) => name.get_ref().clone(),
            None => path.to_owned(),
        };
        let state = |name: &str, span, field: &str| {
            if states.iter().any(|s| s == name) {
                Ok(name.to_owned())
            } else {
                Err(self.invalid(
                    span,
                    field,
                    format!("unknown state `{name}` (states: {})", states.join(", ")),
                ))
            }
        };
        let mut from = Vec::new();
        let in_span = rule.states.span();
        for name in rule.states.get_ref().names() {
            let name = state(name, &in_span, &format!("{path}.in"))?;
            if !from.contains(&name) {
                from.push(name);
            }
        }
        if from.is_empty() {
            return Err(self.invalid(&in_span, &format!("{path}.in"), "is empty"));
        }
        let to = match &rule.to {
            Some(to) => Some(state(to.get_ref(), &to.span(), &format!("{path}.to"))?),
            None => None,
        };
        if let Some(when) = &rule.when {
            self.condition(
                indicators,
                when.get_ref(),
                &when.span(),
                &format!("{path}.when"),
            )?;
        }
        let actions = rule
            .actions
            .iter()
            .enumerate()
            .map(|(index, action)| {
                self.action(action, &format!("{path}.actions[{index}]"), &name, assets)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let moves = to.as_ref().is_some_and(|to| from.iter().any(|f| f != to));
        if actions.is_empty() && !moves {
            return Err(self.invalid(
                &written.span(),
                path,
                "does nothing: give it actions or a `to` state",
            ));
        }
        Ok(RuleSpec {
            name,
            states: from,
            when: rule.when.as_ref().map(|when| when.get_ref().clone()),
            actions,
            to,
            cooldown_candles: rule.cooldown_candles,
            cooldown_ms: rule.cooldown_ms,
        })
    }
}
