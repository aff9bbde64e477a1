//! Declarative strategy specs compiled to readable Rust.
//!
//! A spec (TOML, [`Spec`]) names a market, indicators over its candles, an
//! entry and an exit condition, and a long-only position. [`generate`]
//! writes a Rust crate using the guest SDK that a reviewer can read before
//! it runs; `stratbox build` turns that crate into a component like any
//! other. Errors name the spec file, the line and the field.

mod codegen;
mod error;
mod spec;

pub use codegen::{GeneratedCrate, generate, render};
pub use error::SpecError;
pub use spec::{Comparison, Condition, IndicatorKind, IndicatorSpec, Operator, Spec, load, parse};

#[cfg(test)]
mod tests;
