//! The policy engine: every rule kind (allow and deny), allowances across
//! periods and outcomes, cooldowns, composed conditions, and the exact
//! denial text a guest receives.

mod allowances;
mod conditions;
mod counters;
mod guest;
mod harness;
mod rules;
