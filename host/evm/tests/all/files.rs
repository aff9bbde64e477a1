//! The chain and deployments files users start from parse, and mistakes in
//! them are named by file, line and field.

use std::path::Path;

use stratbox_evm::daemon::{DeploymentsFile, Schedule};
use stratbox_evm::{AccountMode, ChainConfig, ConfigError, SigningKeySource};

fn examples() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/live"))
}

#[test]
fn example_files_parse() {
    let chain = ChainConfig::load(&examples().join("chain.toml")).unwrap();
    assert_eq!(chain.account, AccountMode::Eoa);
    assert!(chain.pool_for("DAI", "WETH").is_some());
    let file = DeploymentsFile::load(&examples().join("deployments.toml")).unwrap();
    let deployment = &file.deployments[0];
    assert_eq!(deployment.schedule, Schedule::EverySecs(60));
    assert_eq!(deployment.limits.fuel_per_tick, 20_000_000);
    assert!(
        matches!(&deployment.signing_key, SigningKeySource::Sealed { file, .. } if file.ends_with("deployer.key"))
    );
    assert!(
        deployment
            .journal
            .as_ref()
            .unwrap()
            .ends_with("rsi-weth-dai.db")
    );
}

#[test]
fn chain_file_mistakes_are_named() {
    let text = std::fs::read_to_string(examples().join("chain.toml")).unwrap();
    let unknown = text.replace(
        "[pools.\"WETH/DAI\"]\n",
        "[pools.\"WETH/DAI\"]\nslippage = 3\n",
    );
    let error = ChainConfig::parse(&unknown, "chain.toml").unwrap_err();
    assert!(matches!(error, ConfigError::Toml { .. }));
    assert!(
        error.to_string().contains("unknown field `slippage`"),
        "{error}"
    );
    let unknown_asset = text.replace("token1 = \"DAI\"", "token1 = \"USDC\"");
    match ChainConfig::parse(&unknown_asset, "chain.toml").unwrap_err() {
        ConfigError::Invalid { field, .. } => assert_eq!(field, "pools.\"WETH/DAI\".token1"),
        other => panic!("{other}"),
    }
    let swapped = text
        .replace("token0 = \"WETH\"", "token0 = \"X\"")
        .replace("token1 = \"DAI\"", "token1 = \"WETH\"")
        .replace("token0 = \"X\"", "token0 = \"DAI\"");
    match ChainConfig::parse(&swapped, "chain.toml").unwrap_err() {
        ConfigError::Invalid { reason, .. } => assert!(reason.contains("lower address")),
        other => panic!("{other}"),
    }
}

#[test]
fn deployments_file_mistakes_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(examples().join("deployments.toml")).unwrap();
    let write = |text: &str| {
        let path = dir.path().join("deployments.toml");
        std::fs::write(&path, text).unwrap();
        DeploymentsFile::load(&path)
    };
    let both = text.replace(
        "candles = { market = \"WETH/DAI\", pool = \"WETH/DAI\" }",
        "candles = { market = \"WETH/DAI\", pool = \"WETH/DAI\", csv = \"x.csv\" }",
    );
    match write(&both).unwrap_err() {
        ConfigError::Invalid { field, .. } => assert_eq!(field, "deployment[0].candles"),
        other => panic!("{other}"),
    }
    let first = text.find("\n[[deployment]]").unwrap();
    let twice = format!("{text}{}", &text[first..]);
    match write(&twice).unwrap_err() {
        ConfigError::Invalid { field, .. } => assert_eq!(field, "deployment[1].id"),
        other => panic!("{other}"),
    }
    let no_policy = text.replace("policy = \"policy.toml\"", "");
    let error = write(&no_policy).unwrap_err();
    assert!(
        error.to_string().contains("missing field `policy`"),
        "{error}"
    );
}
