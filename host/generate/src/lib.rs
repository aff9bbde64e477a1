//! Declarative strategy specs compiled to readable Rust.
//!
//! A spec (TOML) names a market and indicators over its candles, then
//! either an entry and an exit condition on a long-only position (the
//! simple form) or named states with rules that emit any action of the WIT
//! world (swaps, liquidity, lending, vaults) with fixed or
//! fraction-of-balance amounts and cooldowns. [`parse`] checks it into a
//! [`Spec`]; [`generate`] writes a Rust crate using the guest SDK that a
//! reviewer can read before it runs; `stratbox build` turns that crate into
//! a component like any other. Errors name the spec file, the line and the
//! field.

mod codegen;
mod error;
mod format;
mod parse;
mod spec;

pub use codegen::{GeneratedCrate, generate, render};
pub use error::SpecError;
pub use parse::{load, parse};
pub use spec::{
    ActionSpec, AmountSpec, Balance, Comparison, Condition, Exact, IndicatorKind, IndicatorSpec,
    LendingKind, Logic, LongOnlySpec, MachineSpec, MarketSpec, Operand, Operator, PositionSpec,
    RangeSpec, RuleSpec, Spec, VaultKind,
};
