//! The annotated example is a working policy for the demo deployment.

use stratbox_runtime::policy::AssetCatalog;

use crate::{crate_file, demo_assets};

#[test]
fn the_example_loads_for_the_demo_assets() {
    let file = stratbox_policy::load(&crate_file("example.policy.toml"), &demo_assets()).unwrap();
    assert_eq!(file.sha256.len(), 64);
    assert!(
        file.compiled.rule_count() >= 40,
        "{}",
        file.compiled.rule_count()
    );
}

#[test]
fn the_example_is_refused_for_a_deployment_without_btc() {
    let assets = AssetCatalog::new().with("ETH", 18).with("USDC", 6);
    let error = stratbox_policy::load(&crate_file("example.policy.toml"), &assets).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("example.policy.toml:"), "{text}");
    assert!(text.contains("unknown token `BTC`"), "{text}");
}
