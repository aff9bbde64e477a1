//! Why a policy was refused, naming the rule by its path in the file.

use std::fmt;

use super::decimal::DecimalError;

/// One step of a [`RulePath`]: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathSegment {
    /// A key of a table.
    Key(String),
    /// An element of an array, from 0.
    Index(usize),
}

/// Where a rule sits in a policy file: `swap.max_amount.USDC`,
/// `require.any_of[1].sell`. Displayed like a TOML key path; a host maps it
/// back to a line of the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RulePath(Vec<PathSegment>);

impl RulePath {
    /// The root of the file.
    pub fn root() -> Self {
        RulePath::default()
    }

    /// This path followed by a key.
    pub fn key(&self, key: &str) -> Self {
        let mut segments = self.0.clone();
        segments.push(PathSegment::Key(key.to_owned()));
        RulePath(segments)
    }

    /// This path followed by an array index.
    pub fn index(&self, index: usize) -> Self {
        let mut segments = self.0.clone();
        segments.push(PathSegment::Index(index));
        RulePath(segments)
    }

    /// The segments, from the root.
    pub fn segments(&self) -> &[PathSegment] {
        &self.0
    }
}

impl fmt::Display for RulePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                PathSegment::Index(index) => write!(f, "[{index}]")?,
                PathSegment::Key(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    let bare = !key.is_empty()
                        && key
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                    if bare {
                        f.write_str(key)?;
                    } else {
                        write!(f, "{key:?}")?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// A policy that cannot be used for this deployment. Every variant names
/// the rule at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file declares a format version this runtime does not read.
    #[error(
        "version: policy format {found} is not supported (this runtime reads version {supported})"
    )]
    UnsupportedVersion {
        /// Version in the file.
        found: u32,
        /// Version this runtime reads.
        supported: u32,
    },
    /// The policy names a token that is not in the deployment's assets.
    #[error("{path}: unknown token `{token}` (the deployment's assets are: {known})")]
    UnknownToken {
        /// Where.
        path: RulePath,
        /// The token.
        token: String,
        /// The deployment's assets, comma-separated.
        known: String,
    },
    /// An amount cannot be expressed in the token's base units.
    #[error("{path}: {source}")]
    Amount {
        /// Where.
        path: RulePath,
        /// What is wrong with it.
        #[source]
        source: DecimalError,
    },
    /// A value rule is present but the policy has no `quote` asset.
    #[error("{path}: value limits need a `quote` asset at the top of the policy")]
    MissingQuote {
        /// The value rule.
        path: RulePath,
    },
    /// A rule is present but cannot work as written.
    #[error("{path}: {reason}")]
    Invalid {
        /// Where.
        path: RulePath,
        /// Why.
        reason: String,
    },
}

impl PolicyError {
    /// The rule at fault (empty for the whole file).
    pub fn path(&self) -> RulePath {
        match self {
            PolicyError::UnsupportedVersion { .. } => RulePath::root().key("version"),
            PolicyError::UnknownToken { path, .. }
            | PolicyError::Amount { path, .. }
            | PolicyError::MissingQuote { path }
            | PolicyError::Invalid { path, .. } => path.clone(),
        }
    }

    pub(crate) fn invalid(path: RulePath, reason: impl Into<String>) -> Self {
        PolicyError::Invalid {
            path,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RulePath;

    #[test]
    fn paths_print_like_toml_keys() {
        let path = RulePath::root()
            .key("swap")
            .key("require")
            .key("any_of")
            .index(1)
            .key("sell");
        assert_eq!(path.to_string(), "swap.require.any_of[1].sell");
        let quoted = RulePath::root().key("swap").key("max_amount").key("USDC.e");
        assert_eq!(quoted.to_string(), "swap.max_amount.\"USDC.e\"");
    }
}
