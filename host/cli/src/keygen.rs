//! `stratbox keygen`: a new host key, sealed under a passphrase
//! (Argon2id), in a file only its owner can read; or an existing plaintext
//! key file sealed into a new one.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use stratbox_runtime::bundle::{HostSecretKey, Kek, SecretKey};
use stratbox_store::keys::{
    KdfParams, SealedKind, seal_plaintext_hex_file, seal_plaintext_key_file, write_public_key,
    write_secret_key,
};

use crate::keys::PassphraseArgs;

/// Which kind of key to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyKind {
    /// A symmetric key-encryption key: seals and opens. Whoever seals with
    /// it can open, so a store opened with one keeps no compiled code or
    /// snapshots; hosts give authors an X25519 public key instead.
    Kek,
    /// An X25519 key pair: authors seal to the public key, the host opens
    /// with the secret.
    X25519,
    /// A deployment's secp256k1 signing key (`stratbox run`): only with
    /// `--from-plaintext`, sealing an existing hex key file.
    Secp256k1,
}

/// Arguments of `stratbox keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Kind of key.
    #[arg(long, value_enum, default_value = "kek")]
    kind: KeyKind,
    /// Secret key file to create, sealed under the passphrase (mode 0600;
    /// never overwritten).
    #[arg(short, long, value_name = "FILE")]
    out: PathBuf,
    /// Public key file to create for `--kind x25519` (default: the secret
    /// key file with extension `.pub`).
    #[arg(long, value_name = "FILE", conflicts_with = "from_plaintext")]
    public: Option<PathBuf>,
    /// Instead of making a key, seal this plaintext key file (written by
    /// earlier versions) into `--out`; delete the plaintext file afterwards.
    #[arg(long, value_name = "FILE")]
    from_plaintext: Option<PathBuf>,
    /// The passphrase the key file is sealed under.
    #[command(flatten)]
    passphrase: PassphraseArgs,
}

/// Make the key and write its file(s).
pub fn run(args: &KeygenArgs) -> anyhow::Result<()> {
    let passphrase = args.passphrase.require()?;
    let params = KdfParams::default();
    if let Some(from) = &args.from_plaintext {
        anyhow::ensure!(
            *from != args.out,
            "--out must name a new file, not the plaintext key file"
        );
        let id = if args.kind == KeyKind::Secp256k1 {
            seal_plaintext_hex_file(
                from,
                &args.out,
                SealedKind::Secp256k1Secret,
                "deployment signing key",
                &passphrase,
                params,
            )
            .with_context(|| format!("sealing {}", from.display()))?;
            "(signing key)".to_owned()
        } else {
            seal_plaintext_key_file(from, &args.out, &passphrase, params)
                .with_context(|| format!("sealing {}", from.display()))?
                .to_string()
        };
        println!(
            "key {id} from {} sealed into {} (mode 0600); delete {} now",
            from.display(),
            args.out.display(),
            from.display()
        );
        return Ok(());
    }
    match args.kind {
        KeyKind::Kek => {
            let key = SecretKey::Kek(Kek::generate()?);
            write_secret_key(&args.out, &key, &passphrase, params)?;
            println!(
                "kek {} sealed into {} (mode 0600)",
                key.id(),
                args.out.display()
            );
        }
        KeyKind::Secp256k1 => anyhow::bail!(
            "stratbox does not make signing keys: seal an existing one with \
             --kind secp256k1 --from-plaintext FILE"
        ),
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
            write_secret_key(&args.out, &SecretKey::X25519(secret), &passphrase, params)?;
            write_public_key(&public_path, &public).with_context(|| {
                format!(
                    "the secret key is in {}; write its public key elsewhere with --public",
                    args.out.display()
                )
            })?;
            println!(
                "x25519 key {} sealed into {} (mode 0600), public key to {}",
                public.id(),
                args.out.display(),
                public_path.display()
            );
        }
    }
    Ok(())
}
