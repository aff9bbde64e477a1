//! JavaScript guests: built with the repository's componentize-js
//! (installed by `scripts/setup.sh` into `node_modules`) and cached by
//! fingerprint, so each is built once per change of its module, the WIT or
//! the pinned componentize-js version.

use std::fs;
use std::path::{Path, PathBuf};

use stratbox_builder::{JsStrategy, JsToolchain};

/// JavaScript guests: (constant name, directory relative to the workspace
/// root).
pub const GUESTS: &[(&str, &str)] = &[("JS_RSI_MOMENTUM", "strategies/js/rsi-momentum-js")];

/// Build (or find in `cache_dir`) every JavaScript guest and record its path.
pub fn build(root: &Path, cache_dir: &Path, paths: &mut Vec<(&'static str, PathBuf)>) {
    fs::create_dir_all(cache_dir).unwrap_or_else(|e| panic!("{}: {e}", cache_dir.display()));
    for (name, dir) in GUESTS {
        let strategy = JsStrategy::locate(&root.join(dir)).unwrap_or_else(|e| panic!("{e}"));
        let fingerprint = strategy.fingerprint().unwrap_or_else(|e| panic!("{e}"));
        let file = cache_dir.join(format!(
            "{}-{}.wasm",
            strategy.name(),
            fingerprint.get(..16).unwrap_or(&fingerprint)
        ));
        if !file.is_file() {
            let toolchain = JsToolchain::find(&[root])
                .unwrap_or_else(|e| panic!("cannot build the JavaScript guests: {e}"));
            let component = strategy
                .build_component(&toolchain)
                .unwrap_or_else(|e| panic!("building {}: {e}", strategy.dir().display()));
            let temp = file.with_extension(format!("tmp-{}", std::process::id()));
            fs::write(&temp, &component).unwrap_or_else(|e| panic!("{}: {e}", temp.display()));
            fs::rename(&temp, &file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        }
        paths.push((name, file));
    }
}
