//! Where the deployment's signing key comes from: a private key file or an
//! environment variable, held zeroized in memory. The key signs
//! transactions and nothing else; strategies never see it.

use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256};
use alloy::signers::local::PrivateKeySigner;
use zeroize::Zeroizing;

use crate::error::SignerError;

/// A source of the deployment key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SigningKeySource {
    /// A file holding the key as hex (mode 0600).
    File(PathBuf),
    /// An environment variable holding the key as hex.
    Env(String),
}

impl SigningKeySource {
    /// Load the key.
    pub fn load(&self) -> Result<DeploymentSigner, SignerError> {
        match self {
            SigningKeySource::File(path) => DeploymentSigner::from_file(path),
            SigningKeySource::Env(var) => {
                let text = Zeroizing::new(
                    std::env::var(var).map_err(|_| SignerError::MissingEnv(var.clone()))?,
                );
                DeploymentSigner::from_hex(&text, &format!("${var}"))
            }
        }
    }
}

/// The deployment key, ready to sign.
#[derive(Debug, Clone)]
pub struct DeploymentSigner {
    signer: PrivateKeySigner,
}

impl DeploymentSigner {
    /// Parse a hex key (with or without `0x`); `origin` names it in errors.
    pub fn from_hex(text: &str, origin: &str) -> Result<DeploymentSigner, SignerError> {
        let malformed = || SignerError::Malformed {
            origin: origin.to_owned(),
        };
        let hex_text = text.trim().trim_start_matches("0x");
        let mut bytes = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(hex_text, bytes.as_mut()).map_err(|_| malformed())?;
        let signer = PrivateKeySigner::from_bytes(&B256::from(*bytes)).map_err(|_| malformed())?;
        Ok(DeploymentSigner { signer })
    }

    /// Read a key file, refusing one that others can read.
    pub fn from_file(path: &Path) -> Result<DeploymentSigner, SignerError> {
        let read_error = |source| SignerError::Read {
            path: path.to_owned(),
            source,
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)
                .map_err(read_error)?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(SignerError::NotPrivate {
                    path: path.to_owned(),
                    mode: mode & 0o777,
                });
            }
        }
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(read_error)?);
        DeploymentSigner::from_hex(&text, &path.display().to_string())
    }

    /// The key's address.
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    pub(crate) fn inner(&self) -> &PrivateKeySigner {
        &self.signer
    }
}
