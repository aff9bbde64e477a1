//! The JSON Schema of the policy file format, generated from the runtime's
//! policy types so it cannot drift from what the runtime accepts.

use stratbox_runtime::policy::PolicyConfig;

/// The policy file format as a JSON Schema (pretty-printed, with a final
/// newline). `policy.schema.json` in this crate is this text.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(PolicyConfig);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
