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
    /// The new key file: a key-encryption key, or a host's public key.
    #[arg(long, value_name = "FILE")]
    to: PathBuf,
    /// Where to write the result (default: replace the bundle, atomically).
    #[arg(short, long)]
    output: Option<PathBuf>,
}

/// Re-wrap the bundle.
pub fn run(args: &RekeyArgs) -> anyhow::Result<()> {
    let old = args.key.require()?;
    let new = load_wrap_target(&args.to).context("loading the new key")?;
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
