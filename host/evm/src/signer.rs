//! Where the deployment's signing key comes from: a key file sealed under
//! a passphrase (Argon2id, `stratbox keygen --kind secp256k1
//! --from-plaintext`), or an environment variable (removed once read); held
//! zeroized in memory. A plaintext hex key file is refused. The key signs
//! transactions and nothing else; strategies never see it.

use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256};
use alloy::signers::local::PrivateKeySigner;
use stratbox_store::keys::{KeyLoadError, Passphrase, SealedKind, open_sealed_file, take_env};
use zeroize::Zeroizing;

use crate::error::SignerError;

/// A source of the deployment key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SigningKeySource {
    /// A sealed key file (mode 0600) and where its passphrase comes from:
    /// `{ sealed = { file = "deployer.key", passphrase_env = "VAR" } }`.
    Sealed {
        /// The sealed key file.
        file: PathBuf,
        /// Environment variable holding the passphrase (removed once
        /// read).
        #[serde(default)]
        passphrase_env: Option<String>,
        /// File whose first line is the passphrase (mode 0600).
        #[serde(default)]
        passphrase_file: Option<PathBuf>,
    },
    /// A key file. Only a sealed one would load, and a sealed one needs a
    /// passphrase: this form is refused, with the way to seal it
    /// ([`SignerError::Plaintext`]) or to name its passphrase.
    File(PathBuf),
    /// An environment variable holding the key as hex; removed from the
    /// environment once read (the process keeps the value for reconnects).
    Env(String),
}

impl SigningKeySource {
    /// Load the key. An environment variable it reads is removed from the
    /// environment ([`take_env`]): load keys before starting threads.
    pub fn load(&self) -> Result<DeploymentSigner, SignerError> {
        match self {
            SigningKeySource::Sealed {
                file,
                passphrase_env,
                passphrase_file,
            } => {
                let passphrase = match (passphrase_env, passphrase_file) {
                    (Some(var), _) => Passphrase::from_env(var),
                    (None, Some(path)) => Passphrase::from_file(path),
                    (None, None) => Err(KeyLoadError::PassphraseRequired {
                        origin: file.display().to_string(),
                    }),
                }
                .map_err(|e| SignerError::Key(Box::new(e)))?;
                DeploymentSigner::from_sealed_file(file, &passphrase)
            }
            SigningKeySource::File(path) => DeploymentSigner::from_file(path),
            SigningKeySource::Env(var) => {
                let text = take_env(var).map_err(|_| SignerError::MissingEnv(var.clone()))?;
                let text = std::str::from_utf8(&text).map_err(|_| SignerError::Malformed {
                    origin: format!("${var}"),
                })?;
                DeploymentSigner::from_hex(text, &format!("${var}"))
            }
        }
    }

    /// Make a relative key or passphrase file path relative to `base` (the
    /// deployments file's directory).
    pub fn rebase(&mut self, base: &Path) {
        match self {
            SigningKeySource::Sealed {
                file,
                passphrase_file,
                ..
            } => {
                *file = base.join(&*file);
                if let Some(path) = passphrase_file {
                    *path = base.join(&*path);
                }
            }
            SigningKeySource::File(path) => *path = base.join(&*path),
            SigningKeySource::Env(_) => {}
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

    /// Open a sealed key file (mode 0600) with `passphrase`.
    pub fn from_sealed_file(
        path: &Path,
        passphrase: &Passphrase,
    ) -> Result<DeploymentSigner, SignerError> {
        let bytes = open_sealed_file(path, SealedKind::Secp256k1Secret, passphrase)
            .map_err(|e| SignerError::Key(Box::new(e)))?;
        let signer = PrivateKeySigner::from_bytes(&B256::from(*bytes)).map_err(|_| {
            SignerError::Malformed {
                origin: path.display().to_string(),
            }
        })?;
        Ok(DeploymentSigner { signer })
    }

    /// Read a key file, refusing one that others can read, and one that
    /// holds the key in plaintext ([`SignerError::Plaintext`]); a sealed one
    /// needs its passphrase (`SigningKeySource::Sealed`).
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
        // Only parsed to tell the two cases apart; never used to sign.
        if DeploymentSigner::from_hex(&text, &path.display().to_string()).is_ok() {
            return Err(SignerError::Plaintext {
                path: path.to_owned(),
            });
        }
        if text.trim_start().starts_with('{') {
            return Err(SignerError::Key(Box::new(
                KeyLoadError::PassphraseRequired {
                    origin: path.display().to_string(),
                },
            )));
        }
        Err(SignerError::Malformed {
            origin: path.display().to_string(),
        })
    }

    /// The key's address.
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    pub(crate) fn inner(&self) -> &PrivateKeySigner {
        &self.signer
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use stratbox_store::keys::{KdfParams, seal_secret, write_sealed};

    use super::*;
    use crate::devnet::DEPLOYMENT_KEY;

    fn write_private(path: &Path, text: &str) {
        std::fs::write(path, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }

    /// A hex key file is refused with the way to seal it; the sealed file
    /// loads with its passphrase (and only with it) into the same key.
    #[test]
    fn a_plaintext_signing_key_file_is_refused_and_a_sealed_one_loads() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("deployer.hex");
        write_private(&plain, DEPLOYMENT_KEY);
        let error = SigningKeySource::File(plain.clone()).load().unwrap_err();
        assert!(matches!(error, SignerError::Plaintext { .. }), "{error:?}");
        assert!(error.to_string().contains("--from-plaintext"), "{error}");

        let pass_file = dir.path().join("pass");
        write_private(&pass_file, "signing key passphrase\n");
        let passphrase = Passphrase::from_file(&pass_file).unwrap();
        let mut secret = [0u8; 32];
        hex::decode_to_slice(DEPLOYMENT_KEY, &mut secret).unwrap();
        let sealed = dir.path().join("deployer.key");
        write_sealed(
            &sealed,
            &seal_secret(
                SealedKind::Secp256k1Secret,
                "deployer",
                &secret,
                &passphrase,
                KdfParams::default(),
            )
            .unwrap(),
        )
        .unwrap();
        assert!(
            !std::fs::read_to_string(&sealed)
                .unwrap()
                .contains(DEPLOYMENT_KEY)
        );
        let source = SigningKeySource::Sealed {
            file: sealed.clone(),
            passphrase_env: None,
            passphrase_file: Some(pass_file.clone()),
        };
        let expected = DeploymentSigner::from_hex(DEPLOYMENT_KEY, "test").unwrap();
        assert_eq!(source.load().unwrap().address(), expected.address());

        // Without its passphrase, or with another, it does not load.
        let error = SigningKeySource::File(sealed.clone()).load().unwrap_err();
        assert!(
            matches!(&error, SignerError::Key(e) if matches!(**e, KeyLoadError::PassphraseRequired { .. })),
            "{error:?}"
        );
        write_private(&pass_file, "another passphrase\n");
        let error = source.load().unwrap_err();
        assert!(
            matches!(&error, SignerError::Key(e) if matches!(**e, KeyLoadError::WrongPassphrase { .. })),
            "{error:?}"
        );
    }
}
