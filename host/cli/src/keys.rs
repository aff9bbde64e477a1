//! Where a command gets a secret key: a key file sealed under a passphrase,
//! or an environment variable (removed once read); and where it gets that
//! passphrase.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use stratbox_store::StoreKey;
use stratbox_store::keys::{EnvKeyProvider, FileKeyProvider, Passphrase};

/// `--passphrase-env VAR` or `--passphrase-file FILE`: what opens a sealed
/// key file.
#[derive(Debug, Args)]
pub struct PassphraseArgs {
    /// Environment variable holding the passphrase of the sealed key file;
    /// removed from the environment once read.
    #[arg(long, value_name = "VAR", conflicts_with = "passphrase_file")]
    pub passphrase_env: Option<String>,
    /// File whose first line is the passphrase of the sealed key file; must
    /// be private (mode 0600).
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

impl PassphraseArgs {
    /// The passphrase, if one was named. Read once: an environment
    /// variable is gone afterwards.
    pub fn read(&self) -> anyhow::Result<Option<Passphrase>> {
        Ok(match (&self.passphrase_env, &self.passphrase_file) {
            (Some(var), _) => Some(Passphrase::from_env(var).context("reading the passphrase")?),
            (None, Some(path)) => {
                Some(Passphrase::from_file(path).context("reading the passphrase")?)
            }
            (None, None) => None,
        })
    }

    /// The passphrase; an error if none was named.
    pub fn require(&self) -> anyhow::Result<Passphrase> {
        self.read()?.context(
            "secret key files are sealed under a passphrase: pass --passphrase-env VAR or \
             --passphrase-file FILE",
        )
    }
}

/// `--key FILE` or `--key-env VAR`, with the passphrase of a sealed key.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// Secret key file (`stratbox keygen`): sealed under a passphrase, and
    /// private (mode 0600).
    #[arg(long, value_name = "FILE", conflicts_with = "key_env")]
    pub key: Option<PathBuf>,
    /// Environment variable holding a key's text (a sealed key file's, or
    /// a plaintext key's); removed from the environment once read.
    #[arg(long, value_name = "VAR")]
    pub key_env: Option<String>,
    /// The passphrase of a sealed key.
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
}

impl KeyArgs {
    /// The key, if one was named.
    pub fn load(&self) -> anyhow::Result<Option<Box<dyn StoreKey>>> {
        if self.key.is_none() && self.key_env.is_none() {
            return Ok(None);
        }
        let passphrase = self.passphrase.read()?;
        self.load_with(passphrase.as_ref())
    }

    /// The key, opened with `passphrase` (already read), if one was named.
    pub fn load_with(
        &self,
        passphrase: Option<&Passphrase>,
    ) -> anyhow::Result<Option<Box<dyn StoreKey>>> {
        Ok(match (&self.key, &self.key_env) {
            (Some(path), _) => Some(Box::new(
                FileKeyProvider::load(path, passphrase).context("loading the key")?,
            )),
            (None, Some(var)) => Some(Box::new(
                EnvKeyProvider::load(var, passphrase).context("loading the key")?,
            )),
            (None, None) => None,
        })
    }
}
