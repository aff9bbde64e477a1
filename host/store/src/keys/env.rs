//! A secret key from an environment variable holding key-file text.

use stratbox_runtime::bundle::{
    DataKey, KeyId, KeyProvider, KeySlot, KeyWrapper, SealError, SecretKey, UnwrapError,
};
use zeroize::Zeroizing;

use super::error::KeyLoadError;
use super::format::parse_key;

/// A secret key read from an environment variable, e.g.
/// `STRATBOX_KEY="$(cat host.key)"`.
#[derive(Debug)]
pub struct EnvKeyProvider {
    var: String,
    key: SecretKey,
}

impl EnvKeyProvider {
    /// Load the secret key in variable `var`.
    pub fn load(var: &str) -> Result<Self, KeyLoadError> {
        let value = std::env::var_os(var).ok_or_else(|| KeyLoadError::MissingVariable {
            var: var.to_owned(),
        })?;
        let text = Zeroizing::new(value.into_encoded_bytes());
        Self::from_text(var, &text)
    }

    /// Parse key-file text as if read from variable `var` (for callers that
    /// read the environment themselves).
    pub fn from_text(var: &str, text: &[u8]) -> Result<Self, KeyLoadError> {
        let origin = format!("environment variable {var}");
        let key = parse_key(&origin, text)?.into_secret(&origin)?;
        Ok(EnvKeyProvider {
            var: var.to_owned(),
            key,
        })
    }

    /// The variable the key came from.
    pub fn var(&self) -> &str {
        &self.var
    }

    /// The key's id.
    pub fn id(&self) -> KeyId {
        self.key.id()
    }

    /// The key itself.
    pub fn key(&self) -> &SecretKey {
        &self.key
    }
}

impl KeyProvider for EnvKeyProvider {
    fn unwrap(&self, slot: &KeySlot, aad: &[u8]) -> Result<DataKey, UnwrapError> {
        self.key.unwrap(slot, aad)
    }
}

impl KeyWrapper for EnvKeyProvider {
    fn wrap(&self, data_key: &DataKey, aad: &[u8]) -> Result<KeySlot, SealError> {
        self.key.wrap(data_key, aad)
    }
}
