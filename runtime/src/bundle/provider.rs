//! The two key roles: a [`KeyWrapper`] wraps fresh data keys when sealing, a
//! [`KeyProvider`] recovers them when opening. Key files, environment
//! variables and KMS clients live with the embedder (the runtime reads no
//! files); they implement these traits.

use super::error::{SealError, UnwrapError};
use super::format::{NONCE_LEN, TAG_LEN, WrapAlgorithm};
use super::keys::{DataKey, KeyId};

/// A wrapped data key, as stored in a sealed object.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeySlot {
    /// Wrapped with XChaCha20-Poly1305 under a key-encryption key.
    Kek {
        /// Fingerprint of the key-encryption key.
        key_id: KeyId,
        /// Wrap nonce.
        nonce: [u8; NONCE_LEN],
        /// Encrypted data key ‖ tag.
        wrapped: [u8; 32 + TAG_LEN],
    },
    /// Sealed with HPKE to an X25519 public key.
    Hpke {
        /// Fingerprint of the recipient's public key.
        recipient: KeyId,
        /// HPKE encapsulated key (the sender's ephemeral public key).
        encapsulated: [u8; 32],
        /// Encrypted data key ‖ tag.
        sealed: [u8; 32 + TAG_LEN],
    },
}

impl std::fmt::Debug for KeySlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySlot")
            .field("algorithm", &self.algorithm())
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

impl KeySlot {
    /// The wrapping algorithm.
    pub fn algorithm(&self) -> WrapAlgorithm {
        match self {
            KeySlot::Kek { .. } => WrapAlgorithm::Kek,
            KeySlot::Hpke { .. } => WrapAlgorithm::HpkeX25519,
        }
    }

    /// The key id (KEK) or recipient fingerprint (HPKE) the slot names.
    pub fn key_id(&self) -> &KeyId {
        match self {
            KeySlot::Kek { key_id, .. } => key_id,
            KeySlot::Hpke { recipient, .. } => recipient,
        }
    }

    pub(crate) fn body_len(&self) -> usize {
        self.algorithm().slot_len()
    }

    pub(crate) fn write_body(&self, out: &mut Vec<u8>) {
        match self {
            KeySlot::Kek { nonce, wrapped, .. } => {
                out.extend_from_slice(nonce);
                out.extend_from_slice(wrapped);
            }
            KeySlot::Hpke {
                encapsulated,
                sealed,
                ..
            } => {
                out.extend_from_slice(encapsulated);
                out.extend_from_slice(sealed);
            }
        }
    }

    pub(crate) fn from_body(algorithm: WrapAlgorithm, key_id: KeyId, body: &[u8]) -> Option<Self> {
        match algorithm {
            WrapAlgorithm::Kek => {
                let (nonce, wrapped) = body.split_at_checked(NONCE_LEN)?;
                Some(KeySlot::Kek {
                    key_id,
                    nonce: nonce.try_into().ok()?,
                    wrapped: wrapped.try_into().ok()?,
                })
            }
            WrapAlgorithm::HpkeX25519 => {
                let (encapsulated, sealed) = body.split_at_checked(32)?;
                Some(KeySlot::Hpke {
                    recipient: key_id,
                    encapsulated: encapsulated.try_into().ok()?,
                    sealed: sealed.try_into().ok()?,
                })
            }
        }
    }
}

/// Wraps a fresh data key for whoever will open the object: a
/// key-encryption key ([`Kek`](super::Kek)), a host's public key
/// ([`HostPublicKey`](super::HostPublicKey)), or a KMS.
pub trait KeyWrapper: Send + Sync {
    /// Wrap `data_key`, binding `aad` (the object's bound header).
    fn wrap(&self, data_key: &DataKey, aad: &[u8]) -> Result<KeySlot, SealError>;
}

/// Recovers the data key of a sealed object.
///
/// Implementations: [`Kek`](super::Kek), [`HostSecretKey`](super::HostSecretKey)
/// and [`SecretKey`](super::SecretKey) hold the key in memory; the host's
/// store crate loads them from a key file or an environment variable.
///
/// # A KMS hook
///
/// A key-management service plugs in here without its key ever leaving it:
/// implement `unwrap` by sending the slot's wrapped key and `aad` to the
/// KMS's decrypt operation (and [`KeyWrapper::wrap`] to its encrypt
/// operation), or, for a KMS that guards a KEK instead, decrypt the KEK once
/// at start-up and delegate to a [`Kek`](super::Kek). Return
/// [`UnwrapError::Provider`] when the service cannot be reached, so it is
/// never mistaken for tampering.
pub trait KeyProvider: Send + Sync {
    /// Recover the data key of `slot`, verifying it against `aad` (the
    /// object's bound header).
    fn unwrap(&self, slot: &KeySlot, aad: &[u8]) -> Result<DataKey, UnwrapError>;
}
