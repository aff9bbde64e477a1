//! `stratbox inspect`.

use std::path::Path;

use anyhow::Context;
use stratbox_runtime::bundle::ObjectKind;
use stratbox_runtime::{Runtime, RuntimeConfig};

use crate::keys::KeyArgs;

/// Print what a component is and whether it loads under the defaults, or
/// what a sealed bundle's manifest says.
pub fn run(path: &Path, key: &KeyArgs, json: bool) -> anyhow::Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if ObjectKind::Bundle.matches(&bytes) {
        return crate::inspect_bundle::run(path, &bytes, key, json);
    }
    let runtime = Runtime::new(RuntimeConfig::default())?;
    let info = runtime.inspect(&bytes)?;
    runtime.load(&bytes)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&info)?);
        return Ok(());
    }
    println!("component   {}", path.display());
    println!("size        {} bytes", info.size_bytes);
    println!("sha256      {}", info.sha256);
    let version = info
        .world_version
        .as_ref()
        .map_or_else(|| "-".to_owned(), ToString::to_string);
    println!("world       stratbox:strategy@{version}");
    println!(
        "modules     {} ({} functions, {} core instances)",
        info.modules, info.functions, info.core_instances
    );
    for import in &info.imports {
        println!("import      {import}");
    }
    for export in &info.exports {
        println!("export      {export}");
    }
    println!("loads       yes, under the default limits");
    Ok(())
}
