//! The KMS hook: a host key kept encrypted by a key-management service and
//! decrypted into memory once, at start-up.
//!
//! Two shapes fit the runtime's traits:
//!
//! 1. **KMS-guarded host key** (this module): the key file is stored
//!    encrypted by the KMS (`aws kms encrypt`, `gcloud kms encrypt`,
//!    Vault transit...). Implement [`KmsClient::decrypt`] with the
//!    service's SDK; [`KmsKeyProvider::unseal`] decrypts the key once and
//!    serves every bundle, artifact and snapshot from memory, so the KMS is
//!    called once per process, not once per object.
//! 2. **Per-bundle unwrapping**: implement
//!    [`KeyProvider`](stratbox_runtime::bundle::KeyProvider) (and
//!    [`KeyWrapper`]) directly, sending each bundle slot's wrapped data key
//!    to the KMS, so the KEK never leaves the KMS, at the price of one KMS
//!    call per bundle opened. To open a store with it, implement
//!    [`StoreKey`](crate::StoreKey) too: its
//!    [`host_keys`](crate::StoreKey::host_keys) must be
//!    [`HostKeys::derive`](crate::HostKeys::derive) of a secret only the
//!    host can obtain (e.g. a data key the KMS generated once, kept
//!    encrypted and decrypted at start-up), which seal the store's compiled
//!    code, snapshots and bundle receipts.

use stratbox_runtime::bundle::{
    DataKey, KeyId, KeyProvider, KeySlot, KeyWrapper, SealError, SecretKey, UnwrapError,
};
use zeroize::Zeroizing;

use super::error::KeyLoadError;
use super::format::parse_key;

/// A key-management service able to decrypt what it encrypted.
pub trait KmsClient {
    /// Decrypt `ciphertext` with the KMS key `key_ref`. Errors are the
    /// service's messages.
    fn decrypt(&self, key_ref: &str, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, String>;
}

/// A host secret key decrypted by a KMS at start-up.
#[derive(Debug)]
pub struct KmsKeyProvider {
    key_ref: String,
    key: SecretKey,
}

impl KmsKeyProvider {
    /// Decrypt `encrypted_key_file` (a key file encrypted by the KMS under
    /// `key_ref`) with `client`.
    pub fn unseal(
        client: &dyn KmsClient,
        key_ref: &str,
        encrypted_key_file: &[u8],
    ) -> Result<Self, KeyLoadError> {
        let text = client
            .decrypt(key_ref, encrypted_key_file)
            .map_err(|reason| KeyLoadError::Kms {
                key_ref: key_ref.to_owned(),
                reason,
            })?;
        let origin = format!("KMS key {key_ref}");
        let key = parse_key(&origin, &text)?.into_secret(&origin)?;
        Ok(KmsKeyProvider {
            key_ref: key_ref.to_owned(),
            key,
        })
    }

    /// The KMS key that guards this key.
    pub fn key_ref(&self) -> &str {
        &self.key_ref
    }

    /// The host key's id.
    pub fn id(&self) -> KeyId {
        self.key.id()
    }

    /// The host key itself.
    pub fn key(&self) -> &SecretKey {
        &self.key
    }
}

impl KeyProvider for KmsKeyProvider {
    fn unwrap(&self, slot: &KeySlot, aad: &[u8]) -> Result<DataKey, UnwrapError> {
        self.key.unwrap(slot, aad)
    }
}

impl KeyWrapper for KmsKeyProvider {
    fn wrap(&self, data_key: &DataKey, aad: &[u8]) -> Result<KeySlot, SealError> {
        self.key.wrap(data_key, aad)
    }
}
