//! `stratbox build`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use stratbox_builder::{JsStrategy, JsToolchain, PythonStrategy, PythonToolchain, RustPackage};
use stratbox_runtime::{LimitClass, RuntimeConfig};

use crate::cache::LocalCache;
use crate::output::write_atomically;

/// A strategy built into a component the runtime accepts.
#[derive(Debug)]
pub struct Built {
    /// Package or directory name.
    pub name: String,
    /// Component bytes.
    pub component: Vec<u8>,
    /// The limit class of the language it was built from.
    pub class: LimitClass,
}

/// Build the strategy in `dir`, check that it loads, write the component.
pub fn run(dir: &Path, output: Option<&Path>) -> anyhow::Result<()> {
    let built = build(dir)?;
    let output = output.map_or_else(|| default_output(&built.name), Path::to_owned);
    write_atomically(&output, &built.component)?;
    println!("{} ({} bytes)", output.display(), built.component.len());
    Ok(())
}

/// Build the strategy in `dir` (a Rust crate, a Python directory with
/// `strategy.py` or a JavaScript one with `strategy.js`) into a component that loads in the runtime.
pub fn build(dir: &Path) -> anyhow::Result<Built> {
    let built = if JsStrategy::is_js_strategy(dir) {
        let strategy = JsStrategy::locate(dir)?;
        let component = cached(strategy.name(), &strategy.fingerprint()?, || {
            let cwd = std::env::current_dir().context("reading the current directory")?;
            let toolchain = JsToolchain::find(&[strategy.dir(), &cwd])?;
            eprintln!(
                "building {} with componentize-js (takes a few seconds)",
                strategy.name()
            );
            Ok(strategy.build_component(&toolchain)?)
        })?;
        Built {
            component,
            name: strategy.name().to_owned(),
            class: LimitClass::JavaScript,
        }
    } else if PythonStrategy::is_python_strategy(dir) {
        let strategy = PythonStrategy::locate(dir)?;
        let component = cached(strategy.name(), &strategy.fingerprint()?, || {
            let cwd = std::env::current_dir().context("reading the current directory")?;
            let toolchain = PythonToolchain::find(&[strategy.dir(), &cwd])?;
            eprintln!(
                "building {} with componentize-py (takes a few seconds)",
                strategy.name()
            );
            Ok(strategy.build_component(&toolchain)?)
        })?;
        Built {
            component,
            name: strategy.name().to_owned(),
            class: LimitClass::Python,
        }
    } else {
        let package = RustPackage::locate(dir)?;
        eprintln!("building {} for wasm32-unknown-unknown", package.name);
        Built {
            component: package.build_component()?,
            name: package.name,
            class: LimitClass::Rust,
        }
    };
    // Refuse to hand out a component the runtime would refuse.
    crate::runtime::isolated(RuntimeConfig::default())?
        .inspect(&built.component)
        .with_context(|| format!("{} built, but the runtime refuses it", built.name))?;
    Ok(built)
}

/// The component built from sources with `fingerprint` (their files, the
/// SDK, the WIT world and the toolchain's version): from the local cache
/// when an identical build is there, else built by `build` and cached.
/// (Rust strategies need no such cache: cargo skips an unchanged crate.)
fn cached(
    name: &str,
    fingerprint: &str,
    build: impl FnOnce() -> anyhow::Result<Vec<u8>>,
) -> anyhow::Result<Vec<u8>> {
    let cache = LocalCache::open();
    if let Some(component) = cache.as_ref().and_then(|c| c.component(fingerprint)) {
        eprintln!("{name}: unchanged since its last build (from the local cache)");
        return Ok(component);
    }
    let component = build()?;
    if let Some(cache) = &cache {
        cache.put_component(fingerprint, &component);
    }
    Ok(component)
}

fn default_output(name: &str) -> PathBuf {
    Path::new("target/stratbox").join(format!("{name}.wasm"))
}
