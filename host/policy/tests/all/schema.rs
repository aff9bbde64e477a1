//! `policy.schema.json` is the schema the runtime's types generate.

use crate::crate_file;

#[test]
fn the_committed_schema_is_up_to_date() {
    let path = crate_file("policy.schema.json");
    let generated = stratbox_policy::json_schema();
    if std::env::var_os("STRATBOX_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is out of date: regenerate it with `STRATBOX_UPDATE_SCHEMA=1 cargo test -p stratbox-policy`",
        path.display()
    );
}

#[test]
fn the_schema_describes_the_format() {
    let schema: serde_json::Value = serde_json::from_str(&stratbox_policy::json_schema()).unwrap();
    assert_eq!(schema["title"], "stratbox policy");
    assert_eq!(
        schema["additionalProperties"], false,
        "unknown fields are refused"
    );
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(required, ["version", "chains"]);
    for kind in [
        "swap",
        "lp_open",
        "borrow",
        "vault_deposit",
        "hold",
        "allowances",
        "require",
        "risk",
    ] {
        assert!(schema["properties"].get(kind).is_some(), "{kind}");
    }
    let max_var = &schema["$defs"]["MaxVarRule"];
    assert_eq!(max_var["additionalProperties"], false);
    assert_eq!(max_var["properties"]["lookback"]["default"], 1000);
    assert_eq!(max_var["properties"]["horizon"]["default"], "1day");
}
