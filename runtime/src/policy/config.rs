//! The policy file's data model: what a user writes, before it is checked
//! against the deployment's assets. Every table refuses unknown fields.
//!
//! An action kind is allowed only if its table exists (`[swap]`), and only
//! on the chains listed in `chains`. Inside a kind's table every rule that
//! is present restricts; a rule that is absent does not. Amounts are exact
//! decimals in whole tokens (`"1000"`, `"0.5"`); values are in `quote`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::decimal::Decimal;
use super::duration::PolicyDuration;
use super::kind::ActionKind;

/// The policy format this runtime reads.
pub const POLICY_FORMAT_VERSION: u32 = 1;

/// A whole policy file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "json-schema", schemars(title = "stratbox policy"))]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// Policy format version; must be 1.
    pub version: u32,
    /// Asset in which value limits (`max_value`, value allowances, health
    /// factors) are expressed. Required when any such rule is present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// Chains (EIP-155 ids; 0 for a simulated venue) on which actions may
    /// be emitted. Actions on any other chain are denied.
    pub chains: Vec<u64>,
    /// Limits over all action kinds together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<GlobalLimits>,
    /// A condition every action (except `hold`) must satisfy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require: Option<Condition>,
    /// Swaps are allowed, under these rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swap: Option<SwapRules>,
    /// Opening concentrated-liquidity positions is allowed, under these
    /// rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lp_open: Option<LpOpenRules>,
    /// Closing liquidity positions is allowed, under these rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lp_close: Option<PositionRules>,
    /// Collecting fees of liquidity positions is allowed, under these rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lp_collect: Option<PositionRules>,
    /// Supplying to lending markets is allowed, under these rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supply: Option<LendingRules>,
    /// Withdrawing from lending markets is allowed, under these rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdraw: Option<LendingRules>,
    /// Borrowing is allowed, under these rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub borrow: Option<LendingRules>,
    /// Repaying is allowed, under these rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repay: Option<LendingRules>,
    /// Vault deposits are allowed, under these rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_deposit: Option<VaultDepositRules>,
    /// Vault redemption requests are allowed, under these rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_request_redeem: Option<VaultRedeemRules>,
    /// `hold` actions (deliberately doing nothing) are allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<HoldRules>,
    /// Allowances by name: budgets that refill every period and are
    /// consumed only by actions that execute successfully.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub allowances: BTreeMap<String, AllowanceConfig>,
    /// Limits on the risk of the whole portfolio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<RiskRules>,
}

impl PolicyConfig {
    /// A policy that allows nothing.
    pub fn deny_all() -> Self {
        PolicyConfig {
            version: POLICY_FORMAT_VERSION,
            quote: None,
            chains: Vec::new(),
            limits: None,
            require: None,
            swap: None,
            lp_open: None,
            lp_close: None,
            lp_collect: None,
            supply: None,
            withdraw: None,
            borrow: None,
            repay: None,
            vault_deposit: None,
            vault_request_redeem: None,
            hold: None,
            allowances: BTreeMap::new(),
            risk: None,
        }
    }
}

/// Limits on the risk of the whole portfolio (`[risk]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RiskRules {
    /// Deny a swap when the portfolio's value-at-risk after it would be
    /// above a limit (and above the VaR before it). Needs `quote`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_var: Option<MaxVarRule>,
}

/// A limit on the value-at-risk (VaR) of the post-trade portfolio
/// (`[risk.max_var]`): the loss, in the `quote` asset, that the portfolio's
/// holdings exceed over `horizon` with probability `1 - confidence`,
/// estimated from the oracle's candles of each asset against `quote`.
/// Give `max_fraction`, `max_value` or both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MaxVarRule {
    /// How VaR is estimated (default `historical`).
    #[serde(default)]
    pub method: VarMethod,
    /// Horizon of the loss (default `"1d"`). With `historical` it must be a
    /// whole number of candle intervals.
    #[serde(default = "default_var_horizon")]
    pub horizon: PolicyDuration,
    /// Confidence level, strictly between 0 and 1 (default 0.99).
    #[serde(default = "default_var_confidence")]
    pub confidence: f64,
    /// Largest VaR as a fraction of the post-trade portfolio's value, in
    /// (0, 1] (default: no such limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fraction: Option<f64>,
    /// Largest VaR in the `quote` asset (default: no such limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value: Option<Decimal>,
    /// Candles read per asset for its returns, 3 to 10000 (default 1000).
    #[serde(default = "default_var_lookback")]
    #[cfg_attr(feature = "json-schema", schemars(range(min = 3, max = 10_000)))]
    pub lookback: u32,
}

/// How a VaR limit estimates VaR.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum VarMethod {
    /// The empirical distribution of past losses over overlapping
    /// horizon-long windows of the candles.
    #[default]
    Historical,
    /// Delta-normal: the returns' mean and covariance, scaled to the
    /// horizon.
    Parametric,
    /// Simulation of a fitted jump-diffusion: not available for a
    /// portfolio, refused when the policy is compiled.
    MonteCarlo,
}

fn default_var_horizon() -> PolicyDuration {
    PolicyDuration(std::time::Duration::from_secs(86_400))
}

fn default_var_confidence() -> f64 {
    0.99
}

fn default_var_lookback() -> u32 {
    1000
}

/// Limits over all action kinds together (`hold` is never counted).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct GlobalLimits {
    /// Most actions accepted in one tick.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_actions_per_tick: Option<u32>,
    /// Most actions accepted per UTC day (by block time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_actions_per_day: Option<u32>,
}

/// Rules for swaps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SwapRules {
    /// Venues or protocols a swap may name. When present, a swap must name
    /// one of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venues: Option<Vec<String>>,
    /// Tokens a swap may sell or buy: both sides must be listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Vec<String>>,
    /// Largest amount per swap, by token, in whole tokens. Applies to the
    /// amount the swap names (the sold amount of an exact-in swap, the
    /// bought amount of an exact-out swap) and to the most an exact-out
    /// swap can pay of its sold token (the bought amount at the oracle's
    /// price plus the slippage tolerance).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub max_amount: BTreeMap<String, Decimal>,
    /// Largest value per swap, in the `quote` asset: the value of what it
    /// can spend (for an exact-out swap, its maximum input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value: Option<Decimal>,
    /// Largest slippage tolerance a swap may ask for, in basis points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_slippage_bps: Option<u32>,
    /// Minimum time between two accepted swaps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown: Option<PolicyDuration>,
    /// Most swaps accepted in one tick.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_tick: Option<u32>,
    /// Most swaps accepted per UTC day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_day: Option<u32>,
    /// A condition every swap must satisfy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require: Option<Condition>,
}

/// Rules for opening liquidity positions. Token rules use the pool's tokens
/// (read from the oracle).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LpOpenRules {
    /// Pools a position may be opened in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pools: Option<Vec<String>>,
    /// Tokens the pool may hold: both must be listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Vec<String>>,
    /// Largest deposit per token, in whole tokens.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub max_amount: BTreeMap<String, Decimal>,
    /// Largest value deposited, in the `quote` asset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value: Option<Decimal>,
    /// Minimum time between two accepted openings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown: Option<PolicyDuration>,
    /// Most openings accepted in one tick.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_tick: Option<u32>,
    /// Most openings accepted per UTC day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_day: Option<u32>,
    /// A condition every opening must satisfy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require: Option<Condition>,
}

/// Rules for actions on existing positions (`lp_close`, `lp_collect`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PositionRules {
    /// Minimum time between two accepted actions of this kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown: Option<PolicyDuration>,
    /// Most actions of this kind accepted in one tick.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_tick: Option<u32>,
    /// Most actions of this kind accepted per UTC day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_day: Option<u32>,
    /// A condition every action of this kind must satisfy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require: Option<Condition>,
}

/// Rules for lending operations (`supply`, `withdraw`, `borrow`, `repay`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LendingRules {
    /// Lending markets the operation may use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markets: Option<Vec<String>>,
    /// Assets the operation may move.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Vec<String>>,
    /// Largest amount per operation, by token, in whole tokens.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub max_amount: BTreeMap<String, Decimal>,
    /// Largest value per operation, in the `quote` asset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value: Option<Decimal>,
    /// Lowest health factor the market position may have after the
    /// operation (collateral value x liquidation threshold / debt value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_health_factor: Option<f64>,
    /// Highest loan-to-value the market position may have after the
    /// operation (debt value / collateral value), 0..1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ltv: Option<f64>,
    /// Minimum time between two accepted operations of this kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown: Option<PolicyDuration>,
    /// Most operations of this kind accepted in one tick.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_tick: Option<u32>,
    /// Most operations of this kind accepted per UTC day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_day: Option<u32>,
    /// A condition every operation of this kind must satisfy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require: Option<Condition>,
}

/// Rules for vault deposits. Token rules use the vault's asset (read from
/// the oracle).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct VaultDepositRules {
    /// Vaults that may be deposited into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vaults: Option<Vec<String>>,
    /// Assets the vault may take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Vec<String>>,
    /// Largest deposit, by token, in whole tokens.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub max_amount: BTreeMap<String, Decimal>,
    /// Largest deposit value, in the `quote` asset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value: Option<Decimal>,
    /// Minimum time between two accepted deposits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown: Option<PolicyDuration>,
    /// Most deposits accepted in one tick.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_tick: Option<u32>,
    /// Most deposits accepted per UTC day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_day: Option<u32>,
    /// A condition every deposit must satisfy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require: Option<Condition>,
}

/// Rules for vault redemption requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct VaultRedeemRules {
    /// Vaults redemptions may be requested from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vaults: Option<Vec<String>>,
    /// Minimum time between two accepted requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown: Option<PolicyDuration>,
    /// Most requests accepted in one tick.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_tick: Option<u32>,
    /// Most requests accepted per UTC day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_day: Option<u32>,
    /// A condition every request must satisfy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require: Option<Condition>,
}

/// `hold` takes no rules: its table only allows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct HoldRules {}

/// A budget in the style of Zodiac Roles allowances: `balance` to start
/// with; every `period`, `refill` is added, up to `max_refill`. An action
/// reserves the most it can spend when it is accepted (an exact-out swap:
/// its maximum input; an LP deposit: both maxima), consumes the reservation
/// (or what the venue reports it spent, if more) when it executes
/// successfully, and gets it back if it is dropped or fails. An action
/// whose most cannot be worked out is denied (`MAX_SPEND_UNKNOWN`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AllowanceConfig {
    /// Count the most of this token each action can spend (whole tokens).
    /// Give either `token` or `quote_value = true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Count the value of what each action can spend, in the `quote` asset,
    /// instead of a token.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub quote_value: bool,
    /// Action kinds that consume the allowance (default: every kind that
    /// moves tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<ActionKind>>,
    /// Starting balance.
    pub balance: Decimal,
    /// Added every `period` (default: nothing, a one-off budget).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refill: Option<Decimal>,
    /// Refills stop at this balance (default: `refill`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_refill: Option<Decimal>,
    /// Refill period; required with `refill`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<PolicyDuration>,
}

/// A condition on an action. Every field present must hold; `all_of`,
/// `any_of` and `none_of` compose conditions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The action is of one of these kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Vec<ActionKind>>,
    /// The tick's chain is one of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<Vec<u64>>,
    /// The action involves at least one of these tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Vec<String>>,
    /// The action is a swap selling one of these tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sell: Option<Vec<String>>,
    /// The action is a swap buying one of these tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buy: Option<Vec<String>>,
    /// The action names one of these venues, pools, markets or vaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<Vec<String>>,
    /// Amounts the action names or can spend (an exact-out swap's maximum
    /// input) are at most these, by token, in whole tokens.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub max_amount: BTreeMap<String, Decimal>,
    /// The action's value is at most this, in the `quote` asset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value: Option<Decimal>,
    /// A swap's slippage tolerance is at most this (other kinds pass).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_slippage_bps: Option<u32>,
    /// The block time is within these UTC hours, `[from, to)`; `[22, 6]`
    /// wraps around midnight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours_utc: Option<[u8; 2]>,
    /// Every one of these conditions holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_of: Option<Vec<Condition>>,
    /// At least one of these conditions holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub any_of: Option<Vec<Condition>>,
    /// None of these conditions holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub none_of: Option<Vec<Condition>>,
}
