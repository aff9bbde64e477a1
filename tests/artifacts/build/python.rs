//! Python guests: built with the repository's componentize-py (installed by
//! `scripts/setup.sh` into `.venv`) and cached by fingerprint, so each is
//! built once per change of its sources, the SDK, the WIT or the pinned
//! componentize-py version.

use std::fs;
use std::path::{Path, PathBuf};

use stratbox_builder::{PythonStrategy, PythonToolchain};

/// Python guests: (constant name, directory relative to the workspace root).
pub const GUESTS: &[(&str, &str)] = &[
    ("PY_BOLLINGER", "strategies/python/bollinger"),
    ("PY_YIELD_ROTATOR", "strategies/python/yield-rotator"),
    ("PY_HOSTILE", "strategies/python/fixtures/hostile"),
    ("PY_PROBE", "strategies/python/fixtures/probe"),
];

/// Build (or find in `cache_dir`) every Python guest and record its path.
pub fn build(root: &Path, cache_dir: &Path, paths: &mut Vec<(&'static str, PathBuf)>) {
    fs::create_dir_all(cache_dir).unwrap_or_else(|e| panic!("{}: {e}", cache_dir.display()));
    let planned: Vec<(&'static str, PythonStrategy, PathBuf)> = GUESTS
        .iter()
        .map(|(name, dir)| {
            let strategy =
                PythonStrategy::locate(&root.join(dir)).unwrap_or_else(|e| panic!("{e}"));
            let fingerprint = strategy.fingerprint().unwrap_or_else(|e| panic!("{e}"));
            let file = cache_dir.join(format!(
                "{}-{}.wasm",
                strategy.name(),
                fingerprint.get(..16).unwrap_or(&fingerprint)
            ));
            (*name, strategy, file)
        })
        .collect();
    let missing: Vec<&(&str, PythonStrategy, PathBuf)> = planned
        .iter()
        .filter(|(_, _, file)| !file.is_file())
        .collect();
    if !missing.is_empty() {
        let toolchain = PythonToolchain::find(&[root])
            .unwrap_or_else(|e| panic!("cannot build the Python guests: {e}"));
        // componentize-py is mostly single-threaded: build side by side.
        std::thread::scope(|scope| {
            for (_, strategy, file) in &missing {
                let toolchain = &toolchain;
                scope.spawn(move || {
                    let component = strategy
                        .build_component(toolchain)
                        .unwrap_or_else(|e| panic!("building {}: {e}", strategy.dir().display()));
                    remove_stale(cache_dir, strategy.name());
                    write_atomically(file, &component);
                });
            }
        });
    }
    for (name, _, file) in planned {
        paths.push((name, file));
    }
}

/// Drop older builds of the same guest.
fn remove_stale(cache_dir: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(cache_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let file = file.to_string_lossy();
        if file.strip_prefix(name).is_some_and(|rest| {
            rest.len() == ".wasm".len() + 17 && rest.starts_with('-') && rest.ends_with(".wasm")
        }) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) {
    let temp = path.with_extension(format!("tmp-{}", std::process::id()));
    fs::write(&temp, bytes)
        .and_then(|()| fs::File::open(&temp)?.sync_all())
        .and_then(|()| fs::rename(&temp, path))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}
