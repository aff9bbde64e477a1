//! The policy engine: every rule kind (allow and deny), allowances across
//! periods and outcomes, cooldowns, composed conditions, the exact denial
//! text a guest receives, charges for the most an action can spend,
//! policy time that never goes back, and the value-at-risk limit.

mod allowances;
mod conditions;
mod counters;
mod guest;
mod harness;
mod risk;
mod rules;
mod spend;
mod time;
