//! The chain file's slippage bound of LP actions and the age limit of price
//! feeds: their defaults, explicit values and what is refused. No anvil
//! needed.

use std::path::Path;

use stratbox_evm::{ChainConfig, ConfigError};

/// The example chain file as TOML, changed by `edit`.
fn example(edit: impl FnOnce(&mut toml::Table)) -> String {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/live/chain.toml"),
    )
    .unwrap();
    let mut table: toml::Table = text.parse().unwrap();
    edit(&mut table);
    toml::to_string(&table).unwrap()
}

fn feed(table: &mut toml::Table) -> &mut toml::Table {
    table["feeds"]["ETH/USD"].as_table_mut().unwrap()
}

fn invalid_field(text: &str) -> String {
    match ChainConfig::parse(text, "chain.toml").unwrap_err() {
        ConfigError::Invalid { field, .. } => field,
        other => panic!("expected an invalid field, got {other}"),
    }
}

#[test]
fn lp_slippage_defaults_to_50_bps_and_is_at_most_100_percent() {
    let config = ChainConfig::parse(
        &example(|t| {
            t.remove("lp_slippage_bps");
        }),
        "chain.toml",
    )
    .unwrap();
    assert_eq!(config.lp_slippage_bps, 50);
    let config = ChainConfig::parse(
        &example(|t| {
            t.insert("lp_slippage_bps".into(), 120.into());
        }),
        "chain.toml",
    )
    .unwrap();
    assert_eq!(config.lp_slippage_bps, 120);
    let too_wide = example(|t| {
        t.insert("lp_slippage_bps".into(), 10_001.into());
    });
    assert_eq!(invalid_field(&too_wide), "lp_slippage_bps");
}

#[test]
fn feed_max_age_defaults_to_an_hour_and_must_be_positive() {
    let config = ChainConfig::parse(
        &example(|t| {
            feed(t).remove("max_age_secs");
        }),
        "chain.toml",
    )
    .unwrap();
    assert_eq!(config.feeds["ETH/USD"].max_age_secs, 3600);
    let config = ChainConfig::parse(
        &example(|t| {
            feed(t).insert("max_age_secs".into(), 90.into());
        }),
        "chain.toml",
    )
    .unwrap();
    assert_eq!(config.feeds["ETH/USD"].max_age_secs, 90);
    let zero = example(|t| {
        feed(t).insert("max_age_secs".into(), 0.into());
    });
    assert_eq!(invalid_field(&zero), "feeds.\"ETH/USD\".max_age_secs");
    // A misspelt key is an error, not a silently ignored default.
    let misspelt = example(|t| {
        feed(t).insert("max_age".into(), 90.into());
    });
    assert!(matches!(
        ChainConfig::parse(&misspelt, "chain.toml"),
        Err(ConfigError::Toml { .. })
    ));
}
