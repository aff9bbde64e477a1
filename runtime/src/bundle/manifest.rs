//! The manifest of a bundle: what the strategy is, stored in the clear next
//! to the encrypted component and authenticated with it.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::error::SealError;

/// Longest strategy name, in bytes.
const MAX_NAME: usize = 64;
/// Longest version or author, in bytes.
const MAX_TEXT: usize = 256;

/// The language a strategy was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Rust, through the Rust guest SDK.
    Rust,
    /// Python, through componentize-py.
    Python,
    /// Anything else (generated code, another toolchain).
    Other,
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::Other => "other",
        })
    }
}

/// What a bundle holds. Readable without a key; authenticated on opening.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Strategy name: 1 to 64 of `A-Z a-z 0-9 . _ -`, not starting with `.`.
    pub name: String,
    /// Strategy version, as its author numbers it.
    pub version: String,
    /// Version of the stratbox world the component targets.
    pub world_version: String,
    /// Source language.
    pub language: Language,
    /// SHA-256 of the plaintext component, hex.
    pub component_sha256: String,
    /// Size of the plaintext component in bytes.
    pub component_bytes: u64,
    /// When it was sealed, seconds since the Unix epoch (UTC).
    pub created_at_unix: u64,
    /// Who sealed it.
    pub author: String,
}

impl Manifest {
    /// Whether `name` is a valid strategy name (safe as a file name).
    pub fn is_valid_name(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= MAX_NAME
            && !name.starts_with('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    }

    pub(crate) fn to_json(&self) -> Vec<u8> {
        // A struct of strings and integers always serializes.
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub(crate) fn from_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// What the author states about a strategy when sealing it; the runtime
/// adds the component's hash, size and world version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyMetadata {
    /// Strategy name (see [`Manifest::name`]).
    pub name: String,
    /// Strategy version.
    pub version: String,
    /// Source language.
    pub language: Language,
    /// Who seals it.
    pub author: String,
    /// Seconds since the Unix epoch.
    pub created_at_unix: u64,
}

impl StrategyMetadata {
    /// Metadata created now.
    pub fn new(
        name: impl Into<String>,
        version: impl Into<String>,
        language: Language,
        author: impl Into<String>,
    ) -> Self {
        StrategyMetadata {
            name: name.into(),
            version: version.into(),
            language,
            author: author.into(),
            created_at_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), SealError> {
        validate_fields(&self.name, &self.version, &self.author)
    }
}

/// Check what an author states: a name safe as a file name, a version, and
/// printable text.
pub(crate) fn validate_fields(name: &str, version: &str, author: &str) -> Result<(), SealError> {
    if !Manifest::is_valid_name(name) {
        return Err(SealError::InvalidMetadata {
            field: "name",
            reason: format!(
                "`{}` must be 1 to {MAX_NAME} of A-Z a-z 0-9 . _ - and not start with `.`",
                name.escape_default()
            ),
        });
    }
    check_text("version", version, false)?;
    check_text("author", author, true)
}

fn check_text(field: &'static str, text: &str, may_be_empty: bool) -> Result<(), SealError> {
    let reason = if text.is_empty() && !may_be_empty {
        "must not be empty"
    } else if text.len() > MAX_TEXT {
        "longer than 256 bytes"
    } else if text.chars().any(char::is_control) {
        "contains control characters"
    } else {
        return Ok(());
    };
    Err(SealError::InvalidMetadata {
        field,
        reason: reason.into(),
    })
}
