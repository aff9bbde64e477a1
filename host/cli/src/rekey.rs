//! `stratbox rekey`: re-wrap a bundle's data key for a new key without
//! re-encrypting the component.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use stratbox_runtime::bundle::{read_bundle, rekey};
use stratbox_store::keys::load_wrap_target;

use crate::keys::KeyArgs;
use crate::output::write_atomically;

/// Arguments of `stratbox rekey`.
#[derive(Debug, Args)]
pub struct RekeyArgs {
    /// The sealed bundle.
    bundle: PathBuf,
    /// The key the bundle is sealed for now.
    #[command(flatten)]
    key: KeyArgs,
    /// The new key file: a host's public key, or a sealed key-encryption
    /// key (opened with the same passphrase as `--key`).
    #[arg(long, value_name = "FILE")]
    to: PathBuf,
    /// Where to write the result (default: replace the bundle, atomically).
    #[arg(short, long)]
    output: Option<PathBuf>,
}

/// Re-wrap the bundle.
pub fn run(args: &RekeyArgs) -> anyhow::Result<()> {
    // Read once: a passphrase from an environment variable is gone after.
    let passphrase = args.key.passphrase.read()?;
    let old = args
        .key
        .load_with(passphrase.as_ref())?
        .context("no key given: pass --key FILE or --key-env VAR")?;
    let new = load_wrap_target(&args.to, passphrase.as_ref()).context("loading the new key")?;
    let bundle = std::fs::read(&args.bundle)
        .with_context(|| format!("reading {}", args.bundle.display()))?;
    let before = read_bundle(&bundle)?.header.key_id;
    let rekeyed = rekey(&bundle, old.as_ref(), new.as_ref())?;
    let after = read_bundle(&rekeyed)?.header.key_id;
    let output = args.output.as_ref().unwrap_or(&args.bundle);
    write_atomically(output, &rekeyed)?;
    println!(
        "rekeyed {}: key {before} -> {after} (payload unchanged), written to {}",
        args.bundle.display(),
        output.display()
    );
    Ok(())
}
