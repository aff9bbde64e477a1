//! Typed errors of sealing, opening and key handling. Each failure a caller
//! may react to differently is its own variant.

use super::format::ObjectKind;
use super::keys::KeyId;
use crate::error::LoadError;

/// Which authenticated part of a sealed object failed to verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthenticatedPart {
    /// The object ends early, or its lengths do not add up.
    Structure,
    /// The key slot (it also authenticates the header and metadata).
    KeySlot,
    /// The encrypted payload.
    Payload,
}

impl std::fmt::Display for AuthenticatedPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AuthenticatedPart::Structure => "structure (truncated or inconsistent lengths)",
            AuthenticatedPart::KeySlot => "key slot, header or metadata",
            AuthenticatedPart::Payload => "payload",
        })
    }
}

/// Why a sealed object could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The bytes do not start with any stratbox sealed-object magic.
    #[error("not a sealed stratbox {expected}")]
    NotSealed {
        /// What was expected.
        expected: ObjectKind,
    },
    /// A sealed object of another kind (e.g. a snapshot where a bundle was
    /// expected).
    #[error("expected a sealed {expected}, found a sealed {found}")]
    WrongKind {
        /// What was expected.
        expected: ObjectKind,
        /// What the magic says.
        found: ObjectKind,
    },
    /// The format version is not one this runtime reads.
    #[error("unknown sealed format version {found} (this runtime reads version {supported})")]
    UnknownFormatVersion {
        /// Version in the header.
        found: u16,
        /// The version this runtime reads.
        supported: u16,
    },
    /// An algorithm id is not one this runtime implements.
    #[error("unknown {field} algorithm id {id:#06x}")]
    UnknownAlgorithm {
        /// Which algorithm field: `payload` or `key-wrap`.
        field: &'static str,
        /// The id found.
        id: u16,
    },
    /// Sealed under a key-encryption key the key provider does not hold.
    #[error("sealed under key {key_id}, which this key provider does not hold")]
    WrongKey {
        /// Key id named by the object.
        key_id: KeyId,
    },
    /// Sealed to a public key whose secret the key provider does not hold.
    #[error("sealed to recipient {recipient}, not to this host")]
    WrongRecipient {
        /// Fingerprint of the public key the object was sealed to.
        recipient: KeyId,
    },
    /// Some byte of the object was changed, removed or added.
    #[error("authentication failed: the {part} has been altered or truncated")]
    Authentication {
        /// The part that failed to verify.
        part: AuthenticatedPart,
    },
    /// The key provider failed (e.g. a KMS could not be reached).
    #[error("key provider failed: {reason}")]
    KeyProvider {
        /// What failed.
        reason: String,
    },
    /// The decrypted component is not the one the manifest names.
    #[error("component hash mismatch: manifest names {expected}, decrypted component is {actual}")]
    HashMismatch {
        /// SHA-256 in the manifest, hex.
        expected: String,
        /// SHA-256 of the decrypted component, hex.
        actual: String,
    },
    /// The authenticated manifest is unreadable or inconsistent with the
    /// component (a sealer bug, never tampering: tampering fails
    /// authentication first).
    #[error("invalid manifest: {reason}")]
    InvalidManifest {
        /// What is wrong.
        reason: String,
    },
    /// The authenticated manifest names another world version than the
    /// decrypted component targets (a sealer bug or a lying key holder,
    /// never tampering: tampering fails authentication first).
    #[error(
        "world version mismatch: the manifest names stratbox:strategy@{manifest}, \
         the component targets @{component}"
    )]
    WorldVersionMismatch {
        /// The version the manifest names.
        manifest: String,
        /// The version the component targets (the runtime's world version
        /// for a component whose interfaces carry none).
        component: String,
    },
    /// The bundle's authenticated manifest names another strategy than the
    /// one it was loaded as: a bundle copied over another strategy's file.
    #[error(
        "bundle filed as `{expected}` is strategy `{found}` (a bundle copied over another's name)"
    )]
    NameMismatch {
        /// The name the caller loaded the bundle as.
        expected: String,
        /// The name in the authenticated manifest.
        found: String,
    },
    /// The decrypted component was refused (import allow-list, world
    /// version, limits), or could not be compiled.
    #[error("sealed component refused: {0}")]
    Component(#[from] LoadError),
}

impl From<UnwrapError> for OpenError {
    fn from(error: UnwrapError) -> Self {
        match error {
            UnwrapError::WrongKey { key_id } => OpenError::WrongKey { key_id },
            UnwrapError::WrongRecipient { recipient } => OpenError::WrongRecipient { recipient },
            UnwrapError::Authentication => OpenError::Authentication {
                part: AuthenticatedPart::KeySlot,
            },
            UnwrapError::Provider { reason } => OpenError::KeyProvider { reason },
        }
    }
}

/// Why a [`KeyProvider`](super::KeyProvider) could not recover a data key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnwrapError {
    /// The slot names a key-encryption key this provider does not hold.
    #[error("no key-encryption key with id {key_id}")]
    WrongKey {
        /// Key id named by the slot.
        key_id: KeyId,
    },
    /// The slot is sealed to a public key whose secret this provider does
    /// not hold.
    #[error("not the recipient {recipient}")]
    WrongRecipient {
        /// Recipient named by the slot.
        recipient: KeyId,
    },
    /// The slot did not verify under the named key.
    #[error("key slot failed authentication")]
    Authentication,
    /// The provider itself failed (I/O, KMS unavailable...).
    #[error("{reason}")]
    Provider {
        /// What failed.
        reason: String,
    },
}

/// Why an object could not be sealed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The operating system's random number generator failed.
    #[error("no randomness from the operating system: {reason}")]
    Randomness {
        /// The OS error.
        reason: String,
    },
    /// The cipher or the key wrapper refused (e.g. a degenerate public key).
    #[error("encryption failed: {reason}")]
    Encryption {
        /// What failed.
        reason: String,
    },
    /// A manifest field is unusable.
    #[error("invalid {field}: {reason}")]
    InvalidMetadata {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The component would not load, so sealing it would only defer the
    /// error to the host.
    #[error("component refused: {0}")]
    Component(#[from] LoadError),
}

/// Why a key could not be made or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The operating system's random number generator failed.
    #[error("no randomness from the operating system: {reason}")]
    Randomness {
        /// The OS error.
        reason: String,
    },
    /// The bytes are not a usable key.
    #[error("invalid key: {reason}")]
    Invalid {
        /// What is wrong.
        reason: String,
    },
}
