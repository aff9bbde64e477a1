//! Typed errors of loading and writing keys. None of them ever contains key
//! material.

use std::path::PathBuf;

use stratbox_runtime::bundle::KeyError;

/// Why a key could not be loaded or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyLoadError {
    /// The file system refused.
    #[error("{action} key file {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The key file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A key file is already there; keys are never overwritten (losing one
    /// loses everything sealed under it).
    #[error("key file {} already exists; refusing to overwrite it", path.display())]
    Exists {
        /// The key file.
        path: PathBuf,
    },
    /// A secret key file others may read.
    #[error(
        "key file {} is accessible by group or others (mode {mode:04o}); run `chmod 600` on it",
        path.display()
    )]
    Permissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Not a key file (or variable) in the stratbox format.
    #[error("{origin}: {reason}")]
    Malformed {
        /// The file or variable.
        origin: String,
        /// What is wrong (never the key itself).
        reason: String,
    },
    /// A key of another kind than needed (e.g. a public key where a secret
    /// is needed to open).
    #[error("{origin}: expected {expected}, found {found}")]
    WrongKind {
        /// The file or variable.
        origin: String,
        /// What was needed.
        expected: &'static str,
        /// What it holds.
        found: &'static str,
    },
    /// The key bytes are unusable.
    #[error("{origin}: {source}")]
    Invalid {
        /// The file or variable.
        origin: String,
        /// Why.
        #[source]
        source: KeyError,
    },
    /// The environment variable is not set.
    #[error("environment variable {var} is not set")]
    MissingVariable {
        /// The variable.
        var: String,
    },
    /// A secret key stored as plaintext: refused, since keys must not rest
    /// on disk in the clear.
    #[error(
        "{origin} holds a plaintext secret key, which is no longer accepted: seal it under a \
         passphrase with `stratbox keygen --from-plaintext {origin} --out <new key file> \
         --passphrase-env <VAR>` (add `--kind secp256k1` for a deployment signing key), then \
         delete the plaintext file"
    )]
    PlaintextSecret {
        /// The file.
        origin: String,
    },
    /// A sealed key and no passphrase to open it.
    #[error(
        "{origin} is sealed under a passphrase: pass --passphrase-env VAR or --passphrase-file FILE"
    )]
    PassphraseRequired {
        /// The file or variable.
        origin: String,
    },
    /// The passphrase does not open the sealed key, or the sealed key file
    /// was altered (the two are indistinguishable by design).
    #[error("{origin}: wrong passphrase, or the sealed key file was altered")]
    WrongPassphrase {
        /// The file or variable.
        origin: String,
    },
    /// An empty passphrase.
    #[error("{origin}: the passphrase is empty")]
    EmptyPassphrase {
        /// Where it came from.
        origin: String,
    },
    /// The KMS could not decrypt the key.
    #[error("KMS could not decrypt key {key_ref}: {reason}")]
    Kms {
        /// The KMS key reference.
        key_ref: String,
        /// What the KMS reported.
        reason: String,
    },
}
