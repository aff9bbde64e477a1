//! The shipped `config.json` is the strategy's default config: editing one
//! without the other fails here.

use {{crate}}::Config;

#[test]
fn config_json_holds_the_default_config() {
    let text = include_str!("../config.json");
    let config: Config = stratbox_sdk::parse_config(text).expect("config.json parses");
    assert_eq!(config, Config::default());
}

#[test]
fn unknown_config_keys_are_refused() {
    assert!(stratbox_sdk::parse_config::<Config>(r#"{"no_such_key": 1}"#).is_err());
}
