//! `stratbox build`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use stratbox_builder::RustPackage;
use stratbox_runtime::{Runtime, RuntimeConfig};

use crate::output::write_atomically;

/// Build the strategy in `dir`, check that it loads, write the component.
pub fn run(dir: &Path, output: Option<&Path>) -> anyhow::Result<()> {
    let (package, component) = build(dir)?;
    let output = output.map_or_else(|| default_output(&package), Path::to_owned);
    write_atomically(&output, &component)?;
    println!("{} ({} bytes)", output.display(), component.len());
    Ok(())
}

/// Build the strategy in `dir` into a component that loads in the runtime;
/// returns its package name and bytes.
pub fn build(dir: &Path) -> anyhow::Result<(String, Vec<u8>)> {
    let package = RustPackage::locate(dir)?;
    eprintln!("building {} for wasm32-unknown-unknown", package.name);
    let component = package.build_component()?;
    // Refuse to hand out a component the runtime would refuse.
    Runtime::new(RuntimeConfig::default())?
        .inspect(&component)
        .with_context(|| format!("{} built, but the runtime refuses it", package.name))?;
    Ok((package.name, component))
}

fn default_output(package: &str) -> PathBuf {
    Path::new("target/stratbox").join(format!("{package}.wasm"))
}
