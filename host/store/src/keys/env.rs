//! A secret key from an environment variable holding key-file text; the
//! variable is removed from the environment once read.

use stratbox_runtime::bundle::{
    DataKey, KeyId, KeyProvider, KeySlot, KeyWrapper, SealError, SecretKey, UnwrapError,
};
use zeroize::Zeroizing;

use super::error::KeyLoadError;
use super::format::open_key_text;
use super::sealed::{Passphrase, take_env};

/// A secret key read from an environment variable, e.g.
/// `STRATBOX_KEY="$(cat host.key)"`: a sealed key file's text (opened with
/// a passphrase), or a plaintext key's text, which never rests on disk.
#[derive(Debug)]
pub struct EnvKeyProvider {
    var: String,
    key: SecretKey,
}

impl EnvKeyProvider {
    /// Load the secret key in variable `var` (sealed ones opened with
    /// `passphrase`), then remove the variable from this process's
    /// environment. Call it before the process starts other threads (see
    /// [`Passphrase::from_env`]).
    pub fn load(var: &str, passphrase: Option<&Passphrase>) -> Result<Self, KeyLoadError> {
        let text: Zeroizing<Vec<u8>> = take_env(var)?;
        Self::from_text(var, &text, passphrase)
    }

    /// Parse key-file text as if read from variable `var` (for callers that
    /// read the environment themselves).
    pub fn from_text(
        var: &str,
        text: &[u8],
        passphrase: Option<&Passphrase>,
    ) -> Result<Self, KeyLoadError> {
        let origin = format!("environment variable {var}");
        let key = open_key_text(&origin, text, passphrase, true)?.into_secret(&origin)?;
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
