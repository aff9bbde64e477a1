//! Where a command gets a secret key: a key file or an environment variable.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use stratbox_store::StoreKey;
use stratbox_store::keys::{EnvKeyProvider, FileKeyProvider};

/// `--key FILE` or `--key-env VAR`.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// Secret key file (`stratbox keygen`); must be private (mode 0600).
    #[arg(long, value_name = "FILE", conflicts_with = "key_env")]
    pub key: Option<PathBuf>,
    /// Environment variable holding a key file's text, e.g.
    /// `STRATBOX_KEY="$(cat host.key)"`.
    #[arg(long, value_name = "VAR")]
    pub key_env: Option<String>,
}

impl KeyArgs {
    /// The key, if one was named.
    pub fn load(&self) -> anyhow::Result<Option<Box<dyn StoreKey>>> {
        Ok(match (&self.key, &self.key_env) {
            (Some(path), _) => Some(Box::new(
                FileKeyProvider::load(path).context("loading the key")?,
            )),
            (None, Some(var)) => Some(Box::new(
                EnvKeyProvider::load(var).context("loading the key")?,
            )),
            (None, None) => None,
        })
    }

    /// The key; an error if none was named.
    pub fn require(&self) -> anyhow::Result<Box<dyn StoreKey>> {
        self.load()?
            .context("no key given: pass --key FILE or --key-env VAR")
    }
}
