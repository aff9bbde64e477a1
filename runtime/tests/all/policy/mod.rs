//! The policy engine: every rule kind (allow and deny), allowances across
//! periods and outcomes, cooldowns, composed conditions, the exact denial
//! text a guest receives, charges for the most an action can spend, and
//! policy time that never goes back.

mod allowances;
mod conditions;
mod counters;
mod guest;
mod harness;
mod rules;
mod spend;
mod time;
