//! `stratbox generate`: a declarative spec to a readable Rust strategy crate.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

/// Options of `stratbox generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The spec (TOML; the format is in `host/generate/README.md`, examples
    /// in `examples/specs/`).
    pub spec: PathBuf,
    /// Directory of the generated crate (created; its `Cargo.toml` and
    /// `src/lib.rs` are replaced). Build it with `stratbox build <dir>`.
    #[arg(short, long)]
    pub output: PathBuf,
    /// The Rust guest SDK the crate depends on (default: this checkout's
    /// `guest-sdk/rust`).
    #[arg(long)]
    pub sdk: Option<PathBuf>,
}

pub fn run(args: &GenerateArgs) -> anyhow::Result<()> {
    let spec = stratbox_generate::load(&args.spec)?;
    let sdk = match &args.sdk {
        Some(sdk) => sdk.clone(),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guest-sdk/rust"),
    };
    let sdk = std::path::absolute(&sdk)
        .and_then(|p| p.canonicalize())
        .with_context(|| format!("the guest SDK at {}", sdk.display()))?;
    stratbox_generate::generate(&spec, &args.spec, &sdk, &args.output)?;
    println!(
        "{} (build it with `stratbox build {}`)",
        args.output.join("src/lib.rs").display(),
        args.output.display()
    );
    Ok(())
}
