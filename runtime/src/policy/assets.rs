//! The deployment's assets: which tokens exist and how many decimals each
//! has. Policies may only name these.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Tokens known to a deployment, by symbol (or address), with their
/// decimals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AssetCatalog {
    decimals: BTreeMap<String, u8>,
}

impl AssetCatalog {
    /// An empty catalog.
    pub fn new() -> Self {
        AssetCatalog::default()
    }

    /// Add (or replace) an asset.
    pub fn with(mut self, symbol: impl Into<String>, decimals: u8) -> Self {
        self.insert(symbol, decimals);
        self
    }

    /// Add (or replace) an asset.
    pub fn insert(&mut self, symbol: impl Into<String>, decimals: u8) {
        self.decimals.insert(symbol.into(), decimals);
    }

    /// Decimals of `symbol`, if known.
    pub fn decimals(&self, symbol: &str) -> Option<u8> {
        self.decimals.get(symbol).copied()
    }

    /// Whether `symbol` is known.
    pub fn contains(&self, symbol: &str) -> bool {
        self.decimals.contains_key(symbol)
    }

    /// Symbols and decimals, in symbol order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u8)> {
        self.decimals.iter().map(|(s, d)| (s.as_str(), *d))
    }
}
