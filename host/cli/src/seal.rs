//! `stratbox seal`: a component into a sealed bundle for a host.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};
use stratbox_runtime::RuntimeConfig;
use stratbox_runtime::bundle::{KeyWrapper, Language, StrategyMetadata};
use stratbox_store::keys::load_wrap_target;

use crate::keys::KeyArgs;
use crate::output::write_atomically;

/// Source language, as recorded in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LanguageArg {
    /// Rust.
    Rust,
    /// Python.
    Python,
    /// Anything else.
    Other,
}

impl From<LanguageArg> for Language {
    fn from(language: LanguageArg) -> Self {
        match language {
            LanguageArg::Rust => Language::Rust,
            LanguageArg::Python => Language::Python,
            LanguageArg::Other => Language::Other,
        }
    }
}

/// Arguments of `stratbox seal`.
#[derive(Debug, Args)]
pub struct SealArgs {
    /// The component to seal.
    component: PathBuf,
    /// Strategy name (default: the component's file stem).
    #[arg(long)]
    name: Option<String>,
    /// Strategy version.
    #[arg(long)]
    version: String,
    /// Who seals it.
    #[arg(long)]
    author: String,
    /// Source language.
    #[arg(long, value_enum, default_value = "rust")]
    language: LanguageArg,
    /// Seal for this key file: a host's public key (`.pub`), or a sealed
    /// secret key you hold (opened with the passphrase flags).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["key", "key_env"])]
    to: Option<PathBuf>,
    #[command(flatten)]
    key: KeyArgs,
    /// Where to write the bundle (default: the component's path with
    /// extension `.bundle`).
    #[arg(short, long)]
    output: Option<PathBuf>,
}

/// Seal the component.
pub fn run(args: &SealArgs) -> anyhow::Result<()> {
    let target: Box<dyn KeyWrapper> = match &args.to {
        Some(path) => load_wrap_target(path, args.key.passphrase.read()?.as_ref())
            .context("loading the recipient key")?,
        None => args
            .key
            .load()?
            .context("no key to seal for: pass --to FILE, --key FILE or --key-env VAR")?,
    };
    let component = std::fs::read(&args.component)
        .with_context(|| format!("reading {}", args.component.display()))?;
    let name = match &args.name {
        Some(name) => name.clone(),
        None => file_stem(&args.component)?,
    };
    let runtime = crate::runtime::isolated(RuntimeConfig::default())?;
    let metadata = StrategyMetadata::new(name, &args.version, args.language.into(), &args.author);
    let bundle = runtime.seal_bundle(&component, metadata, target.as_ref())?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| args.component.with_extension("bundle"));
    write_atomically(&output, &bundle)?;
    let summary = stratbox_runtime::bundle::read_bundle(&bundle)?;
    println!(
        "sealed {} {} ({} bytes) for key {} into {}",
        summary.manifest.name,
        summary.manifest.version,
        component.len(),
        summary.header.key_id,
        output.display()
    );
    Ok(())
}

fn file_stem(path: &Path) -> anyhow::Result<String> {
    path.file_stem()
        .and_then(|s| s.to_str())
        .map(|s| s.replace('_', "-"))
        .context("cannot derive a strategy name from the file name; pass --name")
}
