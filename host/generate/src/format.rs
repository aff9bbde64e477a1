//! The spec as a user writes it (TOML), with the place of every field so
//! that errors can name its line. `parse` checks it and resolves it into a
//! [`Spec`](crate::Spec).

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::spec::{Condition, IndicatorSpec, MarketSpec, PositionSpec};

/// A whole spec file. Either the simple form (`entry`, `exit`,
/// `position`) or the state-machine form (`states`, `assets`, `rules`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SpecFile {
    pub version: Spanned<u32>,
    pub name: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub states: Option<Spanned<Vec<String>>>,
    pub market: MarketSpec,
    #[serde(default)]
    pub assets: Option<Spanned<BTreeMap<String, Spanned<AssetFile>>>>,
    #[serde(default)]
    pub indicators: BTreeMap<String, Spanned<IndicatorSpec>>,
    #[serde(default)]
    pub entry: Option<Spanned<Condition>>,
    #[serde(default)]
    pub exit: Option<Spanned<Condition>>,
    #[serde(default)]
    pub position: Option<Spanned<PositionSpec>>,
    #[serde(default)]
    pub rules: Option<Spanned<Vec<Spanned<RuleFile>>>>,
}

/// `[assets.NAME]`: what the spec must know of an asset.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssetFile {
    pub decimals: Spanned<u8>,
}

/// One `[[rules]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleFile {
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    #[serde(rename = "in")]
    pub states: Spanned<OneOrMany>,
    #[serde(default)]
    pub when: Option<Spanned<Condition>>,
    #[serde(default)]
    pub actions: Vec<Spanned<ActionFile>>,
    #[serde(default)]
    pub to: Option<Spanned<String>>,
    #[serde(default)]
    pub cooldown_candles: u64,
    #[serde(default)]
    pub cooldown_ms: u64,
}

/// `in = "flat"` or `in = ["flat", "long"]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn names(&self) -> &[String] {
        match self {
            OneOrMany::One(name) => std::slice::from_ref(name),
            OneOrMany::Many(names) => names,
        }
    }
}

/// One action of a rule, every field of every kind optional: which ones a
/// kind needs is checked by `parse`, so that a missing or foreign field is
/// reported by name and line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActionFile {
    pub kind: Spanned<String>,
    #[serde(default)]
    pub sell: Option<Spanned<String>>,
    #[serde(default)]
    pub buy: Option<Spanned<String>>,
    #[serde(default)]
    pub exact: Option<Spanned<String>>,
    #[serde(default)]
    pub max_slippage_bps: Option<Spanned<u32>>,
    #[serde(default)]
    pub venue: Option<Spanned<String>>,
    #[serde(default)]
    pub pool: Option<Spanned<String>>,
    #[serde(default)]
    pub token0: Option<Spanned<String>>,
    #[serde(default)]
    pub token1: Option<Spanned<String>>,
    #[serde(default)]
    pub range: Option<Spanned<RangeFile>>,
    #[serde(default)]
    pub market: Option<Spanned<String>>,
    #[serde(default)]
    pub vault: Option<Spanned<String>>,
    #[serde(default)]
    pub asset: Option<Spanned<String>>,
    #[serde(default)]
    pub amount: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub amount0: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub amount1: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub reason: Option<Spanned<String>>,
}

impl ActionFile {
    /// The fields present besides `kind`, with their places.
    pub fn present(&self) -> Vec<(&'static str, Range<usize>)> {
        fn at<T>(field: &Option<Spanned<T>>) -> Option<Range<usize>> {
            field.as_ref().map(Spanned::span)
        }
        [
            ("sell", at(&self.sell)),
            ("buy", at(&self.buy)),
            ("exact", at(&self.exact)),
            ("max_slippage_bps", at(&self.max_slippage_bps)),
            ("venue", at(&self.venue)),
            ("pool", at(&self.pool)),
            ("token0", at(&self.token0)),
            ("token1", at(&self.token1)),
            ("range", at(&self.range)),
            ("market", at(&self.market)),
            ("vault", at(&self.vault)),
            ("asset", at(&self.asset)),
            ("amount", at(&self.amount)),
            ("amount0", at(&self.amount0)),
            ("amount1", at(&self.amount1)),
            ("reason", at(&self.reason)),
        ]
        .into_iter()
        .filter_map(|(name, span)| Some((name, span?)))
        .collect()
    }
}

/// `range = { price = [lower, upper] }`, `{ ticks = [lower, upper] }` or
/// `{ around_close = 0.05 }`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RangeFile {
    Price([f64; 2]),
    Ticks([i32; 2]),
    AroundClose(f64),
}
