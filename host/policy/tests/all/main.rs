//! Integration tests of policy files: errors with file, line and reason;
//! the committed JSON schema and the annotated example.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod example;
mod refusals;
mod schema;

use std::path::{Path, PathBuf};

use stratbox_runtime::policy::AssetCatalog;

/// The demo deployment's assets.
pub fn demo_assets() -> AssetCatalog {
    AssetCatalog::new().with("ETH", 18).with("BTC", 8)
}

/// A file of this crate.
pub fn crate_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}
