//! Typed errors of the EVM adapter.

use std::path::PathBuf;

use alloy::transports::TransportError;

/// A chain or deployment file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The TOML is malformed or has an unknown or missing field (the
    /// message names the line and the field).
    #[error("{origin}: {source}")]
    Toml {
        /// The file.
        origin: String,
        /// The parser's error.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// A field has a value that cannot work.
    #[error("{origin}: {field}: {reason}")]
    Invalid {
        /// The file.
        origin: String,
        /// Dotted path of the field.
        field: String,
        /// What is wrong.
        reason: String,
    },
}

/// The deployment key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    /// The key file could not be read.
    #[error("reading the signing key {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The key file can be read by others.
    #[error("the signing key {path} is readable by group or others (mode {mode:o}); chmod 600 it")]
    NotPrivate {
        /// The file.
        path: PathBuf,
        /// Its mode.
        mode: u32,
    },
    /// The environment variable is not set.
    #[error("environment variable {0} (the signing key) is not set")]
    MissingEnv(String),
    /// Not a 32-byte secp256k1 secret key in hex.
    #[error("the signing key from {origin} is not a 32-byte hex secp256k1 key")]
    Malformed {
        /// Where it came from.
        origin: String,
    },
    /// A signing key file holding the key in plaintext: refused, keys do
    /// not rest on disk in the clear.
    #[error(
        "the signing key {path} is stored in plaintext: seal it with `stratbox keygen --kind \
         secp256k1 --from-plaintext {path} --out <sealed file> --passphrase-env <VAR>`, delete \
         the plaintext file, and name it as `signing_key = {{ sealed = {{ file = \"<sealed \
         file>\", passphrase_env = \"<VAR>\" }} }}`",
        path = path.display()
    )]
    Plaintext {
        /// The file.
        path: PathBuf,
    },
    /// The sealed signing key could not be opened (no or wrong passphrase,
    /// altered or foreign file...).
    #[error("the signing key: {0}")]
    Key(Box<stratbox_store::keys::KeyLoadError>),
}

/// The chain could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The RPC endpoint failed.
    #[error("RPC {what}: {message}")]
    Rpc {
        /// The request.
        what: String,
        /// The transport's or node's message.
        message: String,
    },
    /// The node did not answer within the chain file's `rpc_timeout_secs`.
    #[error("RPC {what}: no answer within {}s", after.as_secs_f64())]
    Timeout {
        /// The request.
        what: String,
        /// The timeout that expired.
        after: std::time::Duration,
    },
    /// The RPC URL cannot be parsed.
    #[error("the RPC URL {url} is not a valid URL")]
    BadUrl {
        /// The URL, redacted ([`crate::redact_url`]).
        url: String,
    },
    /// The node serves another chain than configured.
    #[error("the node at {url} serves chain {found}, the deployment expects {expected}")]
    WrongChain {
        /// Endpoint, redacted ([`crate::redact_url`]).
        url: String,
        /// Chain id configured.
        expected: u64,
        /// Chain id reported.
        found: u64,
    },
    /// The node answered something that cannot be interpreted.
    #[error("unexpected answer to {what}: {reason}")]
    Unexpected {
        /// The request.
        what: String,
        /// What was wrong.
        reason: String,
    },
    /// The journal refused a transaction intent: nothing was sent.
    #[error("journaling transaction intent: {0}")]
    Journal(#[from] stratbox_journal::JournalError),
    /// The Safe does not let the deployment key execute.
    #[error("{signer} is not an owner of the Safe {safe}, or the Safe's threshold is not 1")]
    NotSafeOwner {
        /// The Safe.
        safe: String,
        /// The deployment key's address.
        signer: String,
    },
}

impl ChainError {
    /// A failed request: [`ChainError::Timeout`] if it got no answer in
    /// time, [`ChainError::Rpc`] otherwise (the message redacted, in case
    /// the transport quoted the URL).
    pub(crate) fn rpc(what: impl Into<String>, error: TransportError) -> ChainError {
        let what = what.into();
        match crate::rpc::timed_out(&error) {
            Some(after) => ChainError::Timeout { what, after },
            None => ChainError::Rpc {
                what,
                message: crate::redact::redact_urls(&error.to_string()),
            },
        }
    }

    /// Whether the node did not answer in time.
    pub fn is_timeout(&self) -> bool {
        matches!(self, ChainError::Timeout { .. })
    }
}
