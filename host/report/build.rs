//! Embeds TradingView Lightweight Charts (from the repository's
//! `node_modules`, which `scripts/setup.sh` fills from `package-lock.json`)
//! into the crate, so that every HTML report carries its charting library
//! and works offline: its standalone production bundle, its version and
//! its license text.

use std::path::{Path, PathBuf};

/// The bundle that defines `window.LightweightCharts`, no module loader
/// needed.
const BUNDLE: &str = "dist/lightweight-charts.standalone.production.js";

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let package = manifest.join("../../node_modules/lightweight-charts");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    let bundle = read(&package.join(BUNDLE));
    let license = read(&package.join("LICENSE"));
    let manifest_json = read(&package.join("package.json"));
    let version = serde_json::from_str::<serde_json::Value>(&manifest_json)
        .ok()
        .and_then(|v| v["version"].as_str().map(str::to_owned))
        .unwrap_or_else(|| fail(&package.join("package.json"), "has no version"));
    // The bundle goes into a <script> element and the license into an
    // HTML comment as they are: neither may contain what would end them
    // early (the HTML tokenizer, not JavaScript, decides where a script
    // ends).
    let lower = bundle.to_ascii_lowercase();
    for forbidden in ["</script", "<!--", "<script"] {
        if lower.contains(forbidden) {
            fail(
                &package.join(BUNDLE),
                &format!(
                    "contains `{forbidden}`, which would break out of the report's <script> element"
                ),
            );
        }
    }
    if license.contains("--") {
        fail(
            &package.join("LICENSE"),
            "contains `--`, which would end the report's HTML comment",
        );
    }
    // The bundle's own licence header names its copyright holder and year:
    // the attribution notice the licence asks reports to show.
    let copyright = bundle
        .lines()
        .take(10)
        .find_map(|line| {
            line.trim_start_matches([' ', '*'])
                .strip_prefix("Copyright")
        })
        .map(|rest| format!("Copyright{rest}"))
        .unwrap_or_else(|| fail(&package.join(BUNDLE), "has no copyright line in its header"));
    write(&out.join("lightweight-charts.js"), &bundle);
    write(&out.join("lightweight-charts-LICENSE.txt"), &license);
    println!("cargo:rustc-env=LIGHTWEIGHT_CHARTS_VERSION={version}");
    println!(
        "cargo:rustc-env=LIGHTWEIGHT_CHARTS_COPYRIGHT={}",
        copyright.trim()
    );
    for file in [BUNDLE, "LICENSE", "package.json"] {
        println!("cargo:rerun-if-changed={}", package.join(file).display());
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| {
        fail(
            path,
            &format!(
                "cannot be read ({error}); the HTML report embeds TradingView Lightweight Charts \
                 from npm: run scripts/setup.sh (it installs package-lock.json's npm packages \
                 into node_modules)"
            ),
        )
    })
}

fn write(path: &Path, text: &str) {
    if let Err(error) = std::fs::write(path, text) {
        fail(path, &format!("cannot be written: {error}"));
    }
}

fn fail(path: &Path, why: &str) -> ! {
    eprintln!("error: {} {why}", path.display());
    panic!("{} {why}", path.display());
}
