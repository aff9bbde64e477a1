//! The policy engine: Zodiac-Roles-grade permissions, evaluated off-chain
//! at the moment of emission.
//!
//! A [`PolicyConfig`] (what a policy file says) is checked against the
//! deployment's [`AssetCatalog`] into a [`CompiledPolicy`]; a
//! [`PolicyEngine`] applies it to one deployment and implements
//! [`Policy`](crate::Policy). Denials carry a stable code, the rule's path
//! in the file and a `CODE: key=value` detail, e.g. rule
//! `swap.max_amount.USDC`, `AMOUNT_ABOVE_MAX: amount=1500 max=1000
//! token=USDC`.
//!
//! Verdicts are deterministic: time is the tick's block time (never going
//! backwards: policy time is the latest block time the deployment's policy
//! has seen, kept in its journaled state), and every
//! price, pool, vault, position or lending read a rule needs goes through
//! the deployment's oracle and is recorded in the tick's oracle reads, so a
//! replay served from the journal reaches the same verdicts.
//!
//! Every action is charged for the most it can spend: the amount of an
//! exact-in swap, the `amountInMaximum` of an exact-out one
//! ([`ExactOutBound`], the same bound the venues enforce), both maxima of
//! an LP deposit, a supply, repayment or vault deposit in full. An action
//! whose most cannot be worked out is denied (`MAX_SPEND_UNKNOWN`). Denial
//! codes are the [`DenialCode`]s.
//!
//! `[risk.max_var]` limits the value-at-risk of the portfolio after a swap
//! (the deployment's balances, the swaps accepted earlier in the tick and
//! this one), estimated from the oracle's candles with `stratbox-risk`; a
//! swap that does not raise VaR is never denied by it (see the `risk`
//! module).
//!
//! Allowances follow Zodiac Roles v2: `{balance, refill, max_refill,
//! period}`, refilled for whole elapsed periods up to `max_refill`. An
//! accepted action reserves the most it can spend (so actions in flight
//! cannot overspend); the reservation is consumed when the venue reports a fill
//! (or what the fill says it spent of the allowance's token, if more) and
//! given back, exactly, if the tick is dropped or the venue reports a
//! failure. Cooldowns and per-day counters count actions whose tick
//! succeeded; a dropped tick gives back what its actions took. The state
//! ([`PolicyState`]) serializes so a host journals it with every tick.

mod assets;
mod code;
mod compile;
mod condition;
mod config;
mod decimal;
mod duration;
mod engine;
mod error;
mod facts;
mod kind;
mod risk;
mod spend;
mod state;

pub use assets::AssetCatalog;
pub use code::DenialCode;
pub use compile::CompiledPolicy;
pub use config::{
    AllowanceConfig, Condition, GlobalLimits, HoldRules, LendingRules, LpOpenRules, MaxVarRule,
    POLICY_FORMAT_VERSION, PolicyConfig, PositionRules, RiskRules, SwapRules, VarMethod,
    VaultDepositRules, VaultRedeemRules,
};
pub use decimal::{Decimal, DecimalError};
pub use duration::PolicyDuration;
pub use engine::PolicyEngine;
pub use error::{PathSegment, PolicyError, RulePath};
pub use kind::ActionKind;
pub use spend::{ExactOutBound, MaxInputError};
pub use state::{AllowanceState, PolicyState, PolicyStateError};
