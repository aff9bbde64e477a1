//! Checking a [`PolicyConfig`] against the deployment's assets and turning
//! it into rules that evaluate without parsing or allocating: amounts in
//! base units, rule paths prepared for denials.

use std::collections::BTreeMap;

use super::assets::AssetCatalog;
use super::condition::CondNode;
use super::config::{
    AllowanceConfig, Condition, LendingRules, LpOpenRules, MaxVarRule, POLICY_FORMAT_VERSION,
    PolicyConfig, PositionRules, SwapRules, VarMethod, VaultDepositRules, VaultRedeemRules,
};
use super::decimal::Decimal;
use super::duration::PolicyDuration;
use super::error::{PolicyError, RulePath};
use super::kind::ActionKind;

/// A checked policy, ready to judge actions. Immutable: share it between
/// deployments with an `Arc`; what changes lives in
/// [`PolicyState`](super::PolicyState).
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    pub(crate) chains: Vec<u64>,
    pub(crate) quote: Option<Quote>,
    pub(crate) assets: AssetCatalog,
    pub(crate) max_actions_per_tick: Option<CountLimit>,
    pub(crate) max_actions_per_day: Option<CountLimit>,
    pub(crate) require: Option<CondNode>,
    pub(crate) kinds: [Option<KindRules>; ActionKind::ALL.len()],
    pub(crate) allowances: Vec<Allowance>,
    pub(crate) max_var: Option<VarLimit>,
    rule_count: usize,
}

/// The asset values are expressed in.
#[derive(Debug, Clone)]
pub(crate) struct Quote {
    pub(crate) symbol: String,
    pub(crate) decimals: u8,
}

/// The rules of one allowed action kind.
#[derive(Debug, Clone)]
pub(crate) struct KindRules {
    pub(crate) kind: ActionKind,
    /// Venues, pools, markets or vaults.
    pub(crate) targets: Option<NameList>,
    pub(crate) tokens: Option<NameList>,
    pub(crate) max_slippage_bps: Option<CountLimit>,
    pub(crate) max_amount: Vec<AmountLimit>,
    pub(crate) max_value: Option<ValueLimit>,
    pub(crate) min_health_factor: Option<RatioLimit>,
    pub(crate) max_ltv: Option<RatioLimit>,
    pub(crate) cooldown: Option<Cooldown>,
    pub(crate) max_per_tick: Option<CountLimit>,
    pub(crate) max_per_day: Option<CountLimit>,
    pub(crate) require: Option<CondNode>,
    /// Indices into [`CompiledPolicy::allowances`] this kind consumes.
    pub(crate) allowances: Vec<usize>,
}

/// An allow-list of names.
#[derive(Debug, Clone)]
pub(crate) struct NameList {
    pub(crate) names: Vec<String>,
    pub(crate) rule: String,
}

impl NameList {
    pub(crate) fn allows(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }
}

/// An upper bound on a count (or basis points).
#[derive(Debug, Clone)]
pub(crate) struct CountLimit {
    pub(crate) max: u32,
    pub(crate) rule: String,
}

/// Largest amount of one token, in its base units.
#[derive(Debug, Clone)]
pub(crate) struct AmountLimit {
    pub(crate) token: String,
    pub(crate) units: u128,
    pub(crate) decimals: u8,
    pub(crate) rule: String,
}

/// Largest value, in whole quote units.
#[derive(Debug, Clone)]
pub(crate) struct ValueLimit {
    pub(crate) max: f64,
    pub(crate) text: String,
    pub(crate) rule: String,
}

/// A bound on a ratio (health factor, loan-to-value).
#[derive(Debug, Clone)]
pub(crate) struct RatioLimit {
    pub(crate) bound: f64,
    pub(crate) rule: String,
}

/// Fewest candles `risk.max_var.lookback` may ask for: 2 returns, the
/// least any method works with.
pub(crate) const MIN_VAR_LOOKBACK: u32 = 3;

/// Most candles `risk.max_var.lookback` may ask for per asset: every
/// judged swap reads them and they are journaled with the tick.
pub(crate) const MAX_VAR_LOOKBACK: u32 = 10_000;

/// A checked `risk.max_var`.
#[derive(Debug, Clone)]
pub(crate) struct VarLimit {
    pub(crate) method: stratbox_risk::RiskMethod,
    pub(crate) horizon_ms: u64,
    pub(crate) confidence: f64,
    pub(crate) max_fraction: Option<f64>,
    pub(crate) max_value: Option<ValueLimit>,
    pub(crate) lookback: u32,
    pub(crate) rule: String,
}

/// Minimum time between two accepted actions of a kind.
#[derive(Debug, Clone)]
pub(crate) struct Cooldown {
    pub(crate) ms: u64,
    pub(crate) rule: String,
}

/// What an allowance counts.
#[derive(Debug, Clone)]
pub(crate) enum AllowanceUnit {
    /// Base units of a token.
    Token { symbol: String, decimals: u8 },
    /// Base units of the quote asset, by value.
    QuoteValue { symbol: String, decimals: u8 },
}

/// A checked allowance, amounts in base units.
#[derive(Debug, Clone)]
pub(crate) struct Allowance {
    pub(crate) name: String,
    pub(crate) rule: String,
    pub(crate) unit: AllowanceUnit,
    pub(crate) balance: u128,
    pub(crate) refill: u128,
    pub(crate) max_refill: u128,
    pub(crate) period_ms: u64,
}

impl CompiledPolicy {
    /// Check `config` against the deployment's `assets`: every token it
    /// names must be known, amounts must fit the tokens' decimals, and
    /// every rule must be usable as written.
    pub fn compile(config: &PolicyConfig, assets: &AssetCatalog) -> Result<Self, PolicyError> {
        Compiler {
            assets,
            quote: None,
            rules: 0,
        }
        .policy(config)
    }

    /// A policy that allows nothing (the default).
    pub fn deny_all() -> Self {
        CompiledPolicy {
            chains: Vec::new(),
            quote: None,
            assets: AssetCatalog::new(),
            max_actions_per_tick: None,
            max_actions_per_day: None,
            require: None,
            kinds: Default::default(),
            allowances: Vec::new(),
            max_var: None,
            rule_count: 0,
        }
    }

    /// How many rules the policy has: each allowed kind, each restriction
    /// inside it (each token of a `max_amount` counts), each condition test,
    /// each allowance, each global limit, each limit of `risk.max_var`, and
    /// the chain list.
    pub fn rule_count(&self) -> usize {
        self.rule_count
    }

    /// The deployment's assets the policy was checked against.
    pub fn assets(&self) -> &AssetCatalog {
        &self.assets
    }

    pub(crate) fn rules(&self, kind: ActionKind) -> Option<&KindRules> {
        self.kinds[kind.index()].as_ref()
    }
}

struct Compiler<'a> {
    assets: &'a AssetCatalog,
    quote: Option<Quote>,
    rules: usize,
}

/// The fields every kind table may have, whatever its kind.
struct Common<'c> {
    cooldown: Option<PolicyDuration>,
    max_per_tick: Option<u32>,
    max_per_day: Option<u32>,
    require: Option<&'c Condition>,
}

/// The fields only some kind tables have.
#[derive(Default)]
struct Specific<'c> {
    targets: Option<(&'static str, &'c [String])>,
    tokens: Option<&'c [String]>,
    max_amount: Option<&'c BTreeMap<String, Decimal>>,
    max_value: Option<Decimal>,
    max_slippage_bps: Option<u32>,
    min_health_factor: Option<f64>,
    max_ltv: Option<f64>,
}

impl Compiler<'_> {
    fn policy(mut self, config: &PolicyConfig) -> Result<CompiledPolicy, PolicyError> {
        let root = RulePath::root();
        if config.version != POLICY_FORMAT_VERSION {
            return Err(PolicyError::UnsupportedVersion {
                found: config.version,
                supported: POLICY_FORMAT_VERSION,
            });
        }
        if let Some(quote) = &config.quote {
            let decimals = self.token(&root.key("quote"), quote)?;
            self.quote = Some(Quote {
                symbol: quote.clone(),
                decimals,
            });
        }
        self.rules += 1; // chains
        let limits = config.limits.clone().unwrap_or_default();
        let limits_path = root.key("limits");
        let max_actions_per_tick = self.count(
            &limits_path.key("max_actions_per_tick"),
            limits.max_actions_per_tick,
        )?;
        let max_actions_per_day = self.count(
            &limits_path.key("max_actions_per_day"),
            limits.max_actions_per_day,
        )?;
        let require = self.condition(&root.key("require"), config.require.as_ref())?;
        let allowances = config
            .allowances
            .iter()
            .map(|(name, allowance)| self.allowance(&root.key("allowances"), name, allowance))
            .collect::<Result<Vec<_>, _>>()?;
        let max_var = match config.risk.as_ref().and_then(|r| r.max_var.as_ref()) {
            Some(rule) => Some(self.max_var(&root.key("risk").key("max_var"), rule)?),
            None => None,
        };

        let mut kinds: [Option<KindRules>; ActionKind::ALL.len()] = Default::default();
        let mut set = |kind: ActionKind, rules: Option<KindRules>| kinds[kind.index()] = rules;
        set(ActionKind::Swap, self.swap(config.swap.as_ref())?);
        set(ActionKind::LpOpen, self.lp_open(config.lp_open.as_ref())?);
        for (kind, rules) in [
            (ActionKind::LpClose, &config.lp_close),
            (ActionKind::LpCollect, &config.lp_collect),
        ] {
            set(kind, self.position(kind, rules.as_ref())?);
        }
        for (kind, rules) in [
            (ActionKind::Supply, &config.supply),
            (ActionKind::Withdraw, &config.withdraw),
            (ActionKind::Borrow, &config.borrow),
            (ActionKind::Repay, &config.repay),
        ] {
            set(kind, self.lending(kind, rules.as_ref())?);
        }
        set(
            ActionKind::VaultDeposit,
            self.vault_deposit(config.vault_deposit.as_ref())?,
        );
        set(
            ActionKind::VaultRequestRedeem,
            self.vault_redeem(config.vault_request_redeem.as_ref())?,
        );
        if config.hold.is_some() {
            self.rules += 1;
            set(ActionKind::Hold, Some(self.empty_rules(ActionKind::Hold)));
        }
        for (index, (name, allowance)) in config.allowances.iter().enumerate() {
            let path = root.key("allowances").key(name).key("kinds");
            let consumers = match &allowance.kinds {
                Some(listed) => {
                    for (i, kind) in listed.iter().enumerate() {
                        if !kind.moves_tokens() {
                            return Err(PolicyError::invalid(
                                path.index(i),
                                format!(
                                    "{kind} actions move no tokens, so they cannot consume an allowance"
                                ),
                            ));
                        }
                    }
                    listed.clone()
                }
                None => ActionKind::ALL
                    .into_iter()
                    .filter(|k| k.moves_tokens())
                    .collect(),
            };
            for kind in consumers {
                if let Some(rules) = kinds[kind.index()].as_mut() {
                    rules.allowances.push(index);
                }
            }
        }

        Ok(CompiledPolicy {
            chains: config.chains.clone(),
            quote: self.quote,
            assets: self.assets.clone(),
            max_actions_per_tick,
            max_actions_per_day,
            require,
            kinds,
            allowances,
            max_var,
            rule_count: self.rules,
        })
    }

    /// `risk.max_var`: needs `quote`, a portfolio method, a confidence in
    /// (0, 1), a non-zero horizon, a bounded lookback and at least one
    /// limit. Each limit counts as a rule.
    fn max_var(&mut self, path: &RulePath, rule: &MaxVarRule) -> Result<VarLimit, PolicyError> {
        if self.quote.is_none() {
            return Err(PolicyError::MissingQuote { path: path.clone() });
        }
        let method = match rule.method {
            VarMethod::Historical => stratbox_risk::RiskMethod::Historical,
            VarMethod::Parametric => stratbox_risk::RiskMethod::Parametric,
            VarMethod::MonteCarlo => {
                return Err(PolicyError::invalid(
                    path.key("method"),
                    "monte_carlo is not supported for a portfolio (it has no joint model of \
                     the assets' jumps): use historical or parametric",
                ));
            }
        };
        let confidence = rule.confidence;
        if !(confidence.is_finite() && confidence > 0.0 && confidence < 1.0) {
            return Err(PolicyError::invalid(
                path.key("confidence"),
                format!("{confidence} must be strictly between 0 and 1"),
            ));
        }
        let horizon_ms = rule.horizon.as_millis();
        if horizon_ms == 0 {
            return Err(PolicyError::invalid(
                path.key("horizon"),
                "the horizon must be at least 1 ms",
            ));
        }
        if !(MIN_VAR_LOOKBACK..=MAX_VAR_LOOKBACK).contains(&rule.lookback) {
            return Err(PolicyError::invalid(
                path.key("lookback"),
                format!(
                    "{} candles: must be from {MIN_VAR_LOOKBACK} to {MAX_VAR_LOOKBACK}",
                    rule.lookback
                ),
            ));
        }
        if let Some(fraction) = rule.max_fraction
            && !(fraction.is_finite() && fraction > 0.0 && fraction <= 1.0)
        {
            return Err(PolicyError::invalid(
                path.key("max_fraction"),
                format!("{fraction} must be in (0, 1]"),
            ));
        }
        if rule.max_fraction.is_none() && rule.max_value.is_none() {
            return Err(PolicyError::invalid(
                path.clone(),
                "give `max_fraction`, `max_value` or both",
            ));
        }
        if rule.max_fraction.is_some() {
            self.rules += 1;
        }
        let max_value = self.value(&path.key("max_value"), rule.max_value)?;
        Ok(VarLimit {
            method,
            horizon_ms,
            confidence,
            max_fraction: rule.max_fraction,
            max_value,
            lookback: rule.lookback,
            rule: path.to_string(),
        })
    }

    fn swap(&mut self, rules: Option<&SwapRules>) -> Result<Option<KindRules>, PolicyError> {
        let Some(r) = rules else { return Ok(None) };
        let common = Common {
            cooldown: r.cooldown,
            max_per_tick: r.max_per_tick,
            max_per_day: r.max_per_day,
            require: r.require.as_ref(),
        };
        let specific = Specific {
            targets: r.venues.as_deref().map(|v| ("venues", v)),
            tokens: r.tokens.as_deref(),
            max_amount: Some(&r.max_amount),
            max_value: r.max_value,
            max_slippage_bps: r.max_slippage_bps,
            ..Specific::default()
        };
        self.kind(ActionKind::Swap, common, specific).map(Some)
    }

    fn lp_open(&mut self, rules: Option<&LpOpenRules>) -> Result<Option<KindRules>, PolicyError> {
        let Some(r) = rules else { return Ok(None) };
        let common = Common {
            cooldown: r.cooldown,
            max_per_tick: r.max_per_tick,
            max_per_day: r.max_per_day,
            require: r.require.as_ref(),
        };
        let specific = Specific {
            targets: r.pools.as_deref().map(|v| ("pools", v)),
            tokens: r.tokens.as_deref(),
            max_amount: Some(&r.max_amount),
            max_value: r.max_value,
            ..Specific::default()
        };
        self.kind(ActionKind::LpOpen, common, specific).map(Some)
    }

    fn position(
        &mut self,
        kind: ActionKind,
        rules: Option<&PositionRules>,
    ) -> Result<Option<KindRules>, PolicyError> {
        let Some(r) = rules else { return Ok(None) };
        let common = Common {
            cooldown: r.cooldown,
            max_per_tick: r.max_per_tick,
            max_per_day: r.max_per_day,
            require: r.require.as_ref(),
        };
        self.kind(kind, common, Specific::default()).map(Some)
    }

    fn lending(
        &mut self,
        kind: ActionKind,
        rules: Option<&LendingRules>,
    ) -> Result<Option<KindRules>, PolicyError> {
        let Some(r) = rules else { return Ok(None) };
        let common = Common {
            cooldown: r.cooldown,
            max_per_tick: r.max_per_tick,
            max_per_day: r.max_per_day,
            require: r.require.as_ref(),
        };
        let specific = Specific {
            targets: r.markets.as_deref().map(|v| ("markets", v)),
            tokens: r.tokens.as_deref(),
            max_amount: Some(&r.max_amount),
            max_value: r.max_value,
            min_health_factor: r.min_health_factor,
            max_ltv: r.max_ltv,
            ..Specific::default()
        };
        self.kind(kind, common, specific).map(Some)
    }

    fn vault_deposit(
        &mut self,
        rules: Option<&VaultDepositRules>,
    ) -> Result<Option<KindRules>, PolicyError> {
        let Some(r) = rules else { return Ok(None) };
        let common = Common {
            cooldown: r.cooldown,
            max_per_tick: r.max_per_tick,
            max_per_day: r.max_per_day,
            require: r.require.as_ref(),
        };
        let specific = Specific {
            targets: r.vaults.as_deref().map(|v| ("vaults", v)),
            tokens: r.tokens.as_deref(),
            max_amount: Some(&r.max_amount),
            max_value: r.max_value,
            ..Specific::default()
        };
        self.kind(ActionKind::VaultDeposit, common, specific)
            .map(Some)
    }

    fn vault_redeem(
        &mut self,
        rules: Option<&VaultRedeemRules>,
    ) -> Result<Option<KindRules>, PolicyError> {
        let Some(r) = rules else { return Ok(None) };
        let common = Common {
            cooldown: r.cooldown,
            max_per_tick: r.max_per_tick,
            max_per_day: r.max_per_day,
            require: r.require.as_ref(),
        };
        let specific = Specific {
            targets: r.vaults.as_deref().map(|v| ("vaults", v)),
            ..Specific::default()
        };
        self.kind(ActionKind::VaultRequestRedeem, common, specific)
            .map(Some)
    }

    fn empty_rules(&self, kind: ActionKind) -> KindRules {
        KindRules {
            kind,
            targets: None,
            tokens: None,
            max_slippage_bps: None,
            max_amount: Vec::new(),
            max_value: None,
            min_health_factor: None,
            max_ltv: None,
            cooldown: None,
            max_per_tick: None,
            max_per_day: None,
            require: None,
            allowances: Vec::new(),
        }
    }

    fn kind(
        &mut self,
        kind: ActionKind,
        common: Common<'_>,
        specific: Specific<'_>,
    ) -> Result<KindRules, PolicyError> {
        self.rules += 1;
        let path = RulePath::root().key(kind.as_str());
        let mut rules = self.empty_rules(kind);
        if let Some((key, names)) = specific.targets {
            rules.targets = Some(self.names(&path.key(key), names));
        }
        if let Some(tokens) = specific.tokens {
            let list_path = path.key("tokens");
            for (i, token) in tokens.iter().enumerate() {
                self.token(&list_path.index(i), token)?;
            }
            rules.tokens = Some(self.names(&list_path, tokens));
        }
        rules.max_slippage_bps = match specific.max_slippage_bps {
            Some(bps) if bps > 10_000 => {
                return Err(PolicyError::invalid(
                    path.key("max_slippage_bps"),
                    format!("{bps} bps is more than 100%"),
                ));
            }
            bps => self.count(&path.key("max_slippage_bps"), bps)?,
        };
        if let Some(max_amount) = specific.max_amount {
            rules.max_amount = self.amounts(&path.key("max_amount"), max_amount)?;
        }
        rules.max_value = self.value(&path.key("max_value"), specific.max_value)?;
        rules.min_health_factor = self.ratio(
            &path.key("min_health_factor"),
            specific.min_health_factor,
            |v| v > 0.0,
            "must be a positive number",
        )?;
        rules.max_ltv = self.ratio(
            &path.key("max_ltv"),
            specific.max_ltv,
            |v| v > 0.0 && v <= 1.0,
            "must be in (0, 1]",
        )?;
        if let Some(cooldown) = common.cooldown {
            self.rules += 1;
            rules.cooldown = Some(Cooldown {
                ms: cooldown.as_millis(),
                rule: path.key("cooldown").to_string(),
            });
        }
        rules.max_per_tick = self.count(&path.key("max_per_tick"), common.max_per_tick)?;
        rules.max_per_day = self.count(&path.key("max_per_day"), common.max_per_day)?;
        rules.require = self.condition(&path.key("require"), common.require)?;
        Ok(rules)
    }

    fn names(&mut self, path: &RulePath, names: &[String]) -> NameList {
        self.rules += 1;
        NameList {
            names: names.to_vec(),
            rule: path.to_string(),
        }
    }

    fn count(
        &mut self,
        path: &RulePath,
        max: Option<u32>,
    ) -> Result<Option<CountLimit>, PolicyError> {
        Ok(max.map(|max| {
            self.rules += 1;
            CountLimit {
                max,
                rule: path.to_string(),
            }
        }))
    }

    fn ratio(
        &mut self,
        path: &RulePath,
        bound: Option<f64>,
        valid: impl Fn(f64) -> bool,
        expected: &str,
    ) -> Result<Option<RatioLimit>, PolicyError> {
        let Some(bound) = bound else { return Ok(None) };
        if !bound.is_finite() || !valid(bound) {
            return Err(PolicyError::invalid(
                path.clone(),
                format!("{bound} {expected}"),
            ));
        }
        if self.quote.is_none() {
            return Err(PolicyError::MissingQuote { path: path.clone() });
        }
        self.rules += 1;
        Ok(Some(RatioLimit {
            bound,
            rule: path.to_string(),
        }))
    }

    /// Decimals of a token the policy names, or why it is unknown.
    pub(crate) fn token(&self, path: &RulePath, token: &str) -> Result<u8, PolicyError> {
        self.assets
            .decimals(token)
            .ok_or_else(|| PolicyError::UnknownToken {
                path: path.clone(),
                token: token.to_owned(),
                known: self
                    .assets
                    .iter()
                    .map(|(symbol, _)| symbol)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    pub(crate) fn amounts(
        &mut self,
        path: &RulePath,
        amounts: &BTreeMap<String, Decimal>,
    ) -> Result<Vec<AmountLimit>, PolicyError> {
        amounts
            .iter()
            .map(|(token, max)| {
                let at = path.key(token);
                let decimals = self.token(&at, token)?;
                let units = max
                    .to_units(decimals)
                    .map_err(|source| PolicyError::Amount {
                        path: at.clone(),
                        source,
                    })?;
                self.rules += 1;
                Ok(AmountLimit {
                    token: token.clone(),
                    units,
                    decimals,
                    rule: at.to_string(),
                })
            })
            .collect()
    }

    pub(crate) fn value(
        &mut self,
        path: &RulePath,
        max: Option<Decimal>,
    ) -> Result<Option<ValueLimit>, PolicyError> {
        let Some(max) = max else { return Ok(None) };
        if self.quote.is_none() {
            return Err(PolicyError::MissingQuote { path: path.clone() });
        }
        self.rules += 1;
        Ok(Some(ValueLimit {
            max: max.to_f64(),
            text: max.to_string(),
            rule: path.to_string(),
        }))
    }

    fn allowance(
        &mut self,
        parent: &RulePath,
        name: &str,
        config: &AllowanceConfig,
    ) -> Result<Allowance, PolicyError> {
        let path = parent.key(name);
        let unit = match (&config.token, config.quote_value) {
            (Some(token), false) => AllowanceUnit::Token {
                symbol: token.clone(),
                decimals: self.token(&path.key("token"), token)?,
            },
            (None, true) => match &self.quote {
                Some(quote) => AllowanceUnit::QuoteValue {
                    symbol: quote.symbol.clone(),
                    decimals: quote.decimals,
                },
                None => {
                    return Err(PolicyError::MissingQuote {
                        path: path.key("quote_value"),
                    });
                }
            },
            _ => {
                return Err(PolicyError::invalid(
                    path,
                    "give either `token = \"...\"` or `quote_value = true`",
                ));
            }
        };
        let decimals = match &unit {
            AllowanceUnit::Token { decimals, .. } | AllowanceUnit::QuoteValue { decimals, .. } => {
                *decimals
            }
        };
        let units = |key: &str, amount: Decimal| {
            amount
                .to_units(decimals)
                .map_err(|source| PolicyError::Amount {
                    path: path.key(key),
                    source,
                })
        };
        let balance = units("balance", config.balance)?;
        let (refill, period_ms) = match (config.refill, config.period) {
            (Some(refill), Some(period)) if !period.0.is_zero() => {
                (units("refill", refill)?, period.as_millis())
            }
            (Some(_), _) => {
                return Err(PolicyError::invalid(
                    path.key("period"),
                    "a refill needs a non-zero `period`",
                ));
            }
            (None, Some(_)) => {
                return Err(PolicyError::invalid(
                    path.key("refill"),
                    "a `period` needs a `refill` amount",
                ));
            }
            (None, None) => (0, 0),
        };
        let max_refill = match config.max_refill {
            Some(max) => units("max_refill", max)?,
            None => refill,
        };
        self.rules += 1;
        Ok(Allowance {
            name: name.to_owned(),
            rule: path.to_string(),
            unit,
            balance,
            refill,
            max_refill,
            period_ms,
        })
    }

    fn condition(
        &mut self,
        path: &RulePath,
        condition: Option<&Condition>,
    ) -> Result<Option<CondNode>, PolicyError> {
        condition
            .map(|c| CondNode::compile(self, path, c))
            .transpose()
    }

    pub(crate) fn counted(&mut self) {
        self.rules += 1;
    }
}

/// What [`CondNode::compile`] needs from the compiler.
pub(crate) trait ConditionCompiler {
    fn token(&self, path: &RulePath, token: &str) -> Result<u8, PolicyError>;
    fn amounts(
        &mut self,
        path: &RulePath,
        amounts: &BTreeMap<String, Decimal>,
    ) -> Result<Vec<AmountLimit>, PolicyError>;
    fn value(
        &mut self,
        path: &RulePath,
        max: Option<Decimal>,
    ) -> Result<Option<ValueLimit>, PolicyError>;
    fn counted(&mut self);
}

impl ConditionCompiler for Compiler<'_> {
    fn token(&self, path: &RulePath, token: &str) -> Result<u8, PolicyError> {
        Compiler::token(self, path, token)
    }

    fn amounts(
        &mut self,
        path: &RulePath,
        amounts: &BTreeMap<String, Decimal>,
    ) -> Result<Vec<AmountLimit>, PolicyError> {
        Compiler::amounts(self, path, amounts)
    }

    fn value(
        &mut self,
        path: &RulePath,
        max: Option<Decimal>,
    ) -> Result<Option<ValueLimit>, PolicyError> {
        Compiler::value(self, path, max)
    }

    fn counted(&mut self) {
        Compiler::counted(self);
    }
}
