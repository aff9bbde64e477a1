//! Composable conditions: a table of tests that must all hold, with
//! `all_of`, `any_of` and `none_of` to combine tables. A failed condition
//! names the test that failed by its path in the policy file.

use super::code::DenialCode;
use super::compile::{AmountLimit, ConditionCompiler, CountLimit, ValueLimit};
use super::config::Condition;
use super::error::{PolicyError, RulePath};
use super::facts::{Facts, show};
use super::kind::ActionKind;
use crate::types::{Action, Amount, Denial};

/// One compiled condition table.
#[derive(Debug, Clone)]
pub(crate) struct CondNode {
    tests: Vec<Test>,
}

/// A name list test with the rule path it came from.
#[derive(Debug, Clone)]
struct Names {
    names: Vec<String>,
    rule: String,
}

#[derive(Debug, Clone)]
enum Test {
    Kind {
        kinds: Vec<ActionKind>,
        rule: String,
    },
    Chain {
        chains: Vec<u64>,
        rule: String,
    },
    Token(Names),
    Sell(Names),
    Buy(Names),
    Venue(Names),
    MaxAmount(Vec<AmountLimit>),
    MaxValue(ValueLimit),
    MaxSlippage(CountLimit),
    Hours {
        from: u8,
        to: u8,
        rule: String,
    },
    AllOf(Vec<CondNode>),
    AnyOf {
        children: Vec<CondNode>,
        rule: String,
    },
    NoneOf {
        children: Vec<CondNode>,
        rules: Vec<String>,
    },
}

/// How a condition judged an action: `Ok(None)` holds, `Ok(Some(denial))`
/// fails with the reason, `Err(denial)` could not be evaluated (fails
/// closed).
type Judgement = Result<Option<Denial>, Denial>;

impl CondNode {
    pub(crate) fn compile(
        compiler: &mut dyn ConditionCompiler,
        path: &RulePath,
        condition: &Condition,
    ) -> Result<CondNode, PolicyError> {
        let mut tests = Vec::new();
        let names = |compiler: &mut dyn ConditionCompiler,
                     key: &str,
                     list: &[String],
                     tokens: bool|
         -> Result<Names, PolicyError> {
            let at = path.key(key);
            if tokens {
                for (i, token) in list.iter().enumerate() {
                    compiler.token(&at.index(i), token)?;
                }
            }
            compiler.counted();
            Ok(Names {
                names: list.to_vec(),
                rule: at.to_string(),
            })
        };
        if let Some(kinds) = &condition.kind {
            compiler.counted();
            tests.push(Test::Kind {
                kinds: kinds.clone(),
                rule: path.key("kind").to_string(),
            });
        }
        if let Some(chains) = &condition.chain {
            compiler.counted();
            tests.push(Test::Chain {
                chains: chains.clone(),
                rule: path.key("chain").to_string(),
            });
        }
        if let Some(list) = &condition.token {
            tests.push(Test::Token(names(compiler, "token", list, true)?));
        }
        if let Some(list) = &condition.sell {
            tests.push(Test::Sell(names(compiler, "sell", list, true)?));
        }
        if let Some(list) = &condition.buy {
            tests.push(Test::Buy(names(compiler, "buy", list, true)?));
        }
        if let Some(list) = &condition.venue {
            tests.push(Test::Venue(names(compiler, "venue", list, false)?));
        }
        if !condition.max_amount.is_empty() {
            let limits = compiler.amounts(&path.key("max_amount"), &condition.max_amount)?;
            tests.push(Test::MaxAmount(limits));
        }
        if let Some(limit) = compiler.value(&path.key("max_value"), condition.max_value)? {
            tests.push(Test::MaxValue(limit));
        }
        if let Some(max) = condition.max_slippage_bps {
            compiler.counted();
            tests.push(Test::MaxSlippage(CountLimit {
                max,
                rule: path.key("max_slippage_bps").to_string(),
            }));
        }
        if let Some([from, to]) = condition.hours_utc {
            let at = path.key("hours_utc");
            if from > 23 || to > 24 || from == to {
                return Err(PolicyError::invalid(
                    at,
                    format!("[{from}, {to}] is not a range of UTC hours (0..24, from != to)"),
                ));
            }
            compiler.counted();
            tests.push(Test::Hours {
                from,
                to,
                rule: at.to_string(),
            });
        }
        let children = |compiler: &mut dyn ConditionCompiler,
                        key: &str,
                        list: &[Condition]|
         -> Result<(Vec<CondNode>, Vec<String>), PolicyError> {
            let at = path.key(key);
            if list.is_empty() {
                return Err(PolicyError::invalid(at, "needs at least one condition"));
            }
            let mut nodes = Vec::with_capacity(list.len());
            let mut rules = Vec::with_capacity(list.len());
            for (i, child) in list.iter().enumerate() {
                nodes.push(CondNode::compile(compiler, &at.index(i), child)?);
                rules.push(at.index(i).to_string());
            }
            Ok((nodes, rules))
        };
        if let Some(list) = &condition.all_of {
            tests.push(Test::AllOf(children(compiler, "all_of", list)?.0));
        }
        if let Some(list) = &condition.any_of {
            tests.push(Test::AnyOf {
                children: children(compiler, "any_of", list)?.0,
                rule: path.key("any_of").to_string(),
            });
        }
        if let Some(list) = &condition.none_of {
            let (children, rules) = children(compiler, "none_of", list)?;
            tests.push(Test::NoneOf { children, rules });
        }
        if tests.is_empty() {
            return Err(PolicyError::invalid(
                path.clone(),
                "an empty condition would always hold; remove it or give a test",
            ));
        }
        Ok(CondNode { tests })
    }

    /// Judge the action: the first test that fails names itself.
    pub(crate) fn judge(&self, facts: &mut Facts<'_, '_>) -> Judgement {
        for test in &self.tests {
            if let Some(denial) = test.judge(facts)? {
                return Ok(Some(denial));
            }
        }
        Ok(None)
    }
}

fn failed(rule: &str, fields: &[(&str, &dyn std::fmt::Display)]) -> Judgement {
    Ok(Some(DenialCode::ConditionFailed.deny(rule, fields)))
}

fn in_list(list: &[String], name: &str) -> bool {
    list.iter().any(|n| n == name)
}

impl Test {
    fn judge(&self, facts: &mut Facts<'_, '_>) -> Judgement {
        match self {
            Test::Kind { kinds, rule } => {
                if kinds.contains(&facts.kind) {
                    return Ok(None);
                }
                failed(rule, &[("field", &"kind"), ("value", &facts.kind)])
            }
            Test::Chain { chains, rule } => {
                let chain = facts.ctx.block.chain_id;
                if chains.contains(&chain) {
                    return Ok(None);
                }
                failed(rule, &[("field", &"chain"), ("value", &chain)])
            }
            Test::Token(list) => {
                let resolved = facts.resolved().map_err(|m| m.denial(&list.rule))?;
                if resolved.tokens.iter().any(|t| in_list(&list.names, t)) {
                    return Ok(None);
                }
                let tokens: Vec<&str> = resolved.tokens.iter().map(|t| t.as_ref()).collect();
                let value = if tokens.is_empty() {
                    "none".to_owned()
                } else {
                    tokens.join(",")
                };
                failed(&list.rule, &[("field", &"token"), ("value", &value)])
            }
            Test::Sell(list) | Test::Buy(list) => {
                let sell = matches!(self, Test::Sell(_));
                let side = match facts.action {
                    Action::Swap(swap) if sell => Some(swap.sell.as_str()),
                    Action::Swap(swap) => Some(swap.buy.as_str()),
                    _ => None,
                };
                if side.is_some_and(|token| in_list(&list.names, token)) {
                    return Ok(None);
                }
                let field = if sell { "sell" } else { "buy" };
                failed(
                    &list.rule,
                    &[("field", &field), ("value", &side.unwrap_or("none"))],
                )
            }
            Test::Venue(list) => {
                let target = facts.target();
                if target.is_some_and(|t| in_list(&list.names, t)) {
                    return Ok(None);
                }
                failed(
                    &list.rule,
                    &[("field", &"venue"), ("value", &target.unwrap_or("none"))],
                )
            }
            Test::MaxAmount(limits) => {
                for limit in limits {
                    let units = facts
                        .largest_amount(&limit.token)
                        .map_err(|m| m.denial(&limit.rule))?;
                    if units > limit.units {
                        let amount = Amount::from_u128(units).to_decimal_string(limit.decimals);
                        let max = Amount::from_u128(limit.units).to_decimal_string(limit.decimals);
                        return failed(
                            &limit.rule,
                            &[
                                ("field", &"max_amount"),
                                ("amount", &amount),
                                ("max", &max),
                                ("token", &limit.token),
                            ],
                        );
                    }
                }
                Ok(None)
            }
            Test::MaxValue(limit) => {
                let value = facts.value().map_err(|m| m.denial(&limit.rule))?;
                if value <= limit.max {
                    return Ok(None);
                }
                let (quote, decimals) = facts.quote().unwrap_or(("none", 0));
                failed(
                    &limit.rule,
                    &[
                        ("field", &"max_value"),
                        ("value", &show(value, usize::from(decimals))),
                        ("max", &limit.text),
                        ("quote", &quote),
                    ],
                )
            }
            Test::MaxSlippage(limit) => match facts.action {
                Action::Swap(swap) if swap.max_slippage_bps > limit.max => failed(
                    &limit.rule,
                    &[
                        ("field", &"max_slippage_bps"),
                        ("bps", &swap.max_slippage_bps),
                        ("max", &limit.max),
                    ],
                ),
                _ => Ok(None),
            },
            Test::Hours { from, to, rule } => {
                let hour = facts.hour_utc();
                let inside = if from < to {
                    (*from..*to).contains(&hour)
                } else {
                    hour >= *from || hour < *to
                };
                if inside {
                    return Ok(None);
                }
                failed(
                    rule,
                    &[
                        ("field", &"hours_utc"),
                        ("hour", &hour),
                        ("from", from),
                        ("to", to),
                    ],
                )
            }
            Test::AllOf(children) => {
                for child in children {
                    if let Some(denial) = child.judge(facts)? {
                        return Ok(Some(denial));
                    }
                }
                Ok(None)
            }
            Test::AnyOf { children, rule } => {
                // A branch that cannot be evaluated does not hold.
                for child in children {
                    if let Ok(None) = child.judge(facts) {
                        return Ok(None);
                    }
                }
                failed(
                    rule,
                    &[("field", &"any_of"), ("alternatives", &children.len())],
                )
            }
            Test::NoneOf { children, rules } => {
                for (i, (child, rule)) in children.iter().zip(rules).enumerate() {
                    // A branch that cannot be evaluated might hold: fail closed.
                    if child.judge(facts)?.is_none() {
                        return failed(rule, &[("field", &"none_of"), ("matched", &i)]);
                    }
                }
                Ok(None)
            }
        }
    }
}
