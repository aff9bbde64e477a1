//! Durations as written in policy files: `"90s"`, `"15m"`, `"1h"`, `"1d"`.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration written the human way (parsed by `humantime`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PolicyDuration(pub Duration);

impl PolicyDuration {
    /// Whole milliseconds, saturating.
    pub fn as_millis(self) -> u64 {
        u64::try_from(self.0.as_millis()).unwrap_or(u64::MAX)
    }
}

impl fmt::Display for PolicyDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

impl Serialize for PolicyDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PolicyDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_duration(&text)
            .map(PolicyDuration)
            .map_err(|e| {
                serde::de::Error::custom(format!(
                    "`{text}` is not a duration like \"90s\", \"15m\", \"1h\" or \"1d\": {e}"
                ))
            })
    }
}

#[cfg(feature = "json-schema")]
impl schemars::JsonSchema for PolicyDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A duration such as \"90s\", \"15m\", \"1h\", \"1d\" or \"1h 30m\".",
            "type": "string"
        })
    }
}
