//! `stratbox keygen`: a new host key in a file only its owner can read.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use stratbox_runtime::bundle::{HostSecretKey, Kek, SecretKey};
use stratbox_store::keys::{write_public_key, write_secret_key};

/// Which kind of key to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyKind {
    /// A symmetric key-encryption key: seals and opens.
    Kek,
    /// An X25519 key pair: authors seal to the public key, the host opens
    /// with the secret.
    X25519,
}

/// Arguments of `stratbox keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Kind of key.
    #[arg(long, value_enum, default_value = "kek")]
    kind: KeyKind,
    /// Secret key file to create (mode 0600; never overwritten).
    #[arg(short, long, value_name = "FILE")]
    out: PathBuf,
    /// Public key file to create for `--kind x25519` (default: the secret
    /// key file with extension `.pub`).
    #[arg(long, value_name = "FILE")]
    public: Option<PathBuf>,
}

/// Make the key and write its file(s).
pub fn run(args: &KeygenArgs) -> anyhow::Result<()> {
    match args.kind {
        KeyKind::Kek => {
            let key = SecretKey::Kek(Kek::generate()?);
            write_secret_key(&args.out, &key)?;
            println!(
                "kek {} written to {} (mode 0600)",
                key.id(),
                args.out.display()
            );
        }
        KeyKind::X25519 => {
            let public_path = args
                .public
                .clone()
                .unwrap_or_else(|| args.out.with_extension("pub"));
            anyhow::ensure!(
                public_path != args.out,
                "the public key file must differ from the secret key file"
            );
            let secret = HostSecretKey::generate()?;
            let public = secret.public_key().clone();
            write_secret_key(&args.out, &SecretKey::X25519(secret))?;
            write_public_key(&public_path, &public).with_context(|| {
                format!(
                    "the secret key is in {}; write its public key elsewhere with --public",
                    args.out.display()
                )
            })?;
            println!(
                "x25519 key {} written to {} (mode 0600), public key to {}",
                public.id(),
                args.out.display(),
                public_path.display()
            );
        }
    }
    Ok(())
}
