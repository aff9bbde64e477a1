//! Builds the workspace's guest strategies and fixtures into components.
//!
//! Runs once per change of the WIT, the SDK or a strategy; products are
//! cached under `<target>/stratbox-guests` (cargo) and `OUT_DIR`
//! (components).

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use stratbox_builder::{RustBuild, WasmTarget, componentize, dummy_component};

#[path = "build/javascript.rs"]
mod javascript;
#[path = "build/python.rs"]
mod python;

/// Rust guests built for wasm32-unknown-unknown: (constant name, package).
const RUST_GUESTS: &[(&str, &str)] = &[
    ("RSI_MOMENTUM", "rsi-momentum"),
    ("EMA_CROSSOVER", "ema-crossover"),
    ("DYNAMIC_LP", "dynamic-lp"),
    ("LEVERAGE_LOOP", "leverage-loop"),
    ("HOSTILE", "hostile"),
    ("FOREIGN_IMPORT", "foreign-import"),
    ("CANARY", "canary"),
    ("EMPTY", "empty"),
    ("ORACLE_READ", "oracle-read"),
];

/// Guests built for wasm32-wasip2 (already components).
const WASIP2_GUESTS: &[(&str, &str)] = &[("WASI_CLOCK", "wasi-clock")];

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir
        .join("../..")
        .canonicalize()
        .expect("workspace root");
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    for input in [
        "wit",
        "guest-sdk/rust",
        "guest-sdk/python",
        "strategies",
        "package-lock.json",
        "Cargo.lock",
        "tests/artifacts/wit-0.1",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(input).display());
    }
    println!("cargo:rerun-if-env-changed=STRATBOX_SKIP_GUEST_BUILD");
    // `cargo clippy` runs build scripts too; it needs no components, and the
    // variable changing back makes `cargo test` rerun this script.
    println!("cargo:rerun-if-env-changed=RUSTC_WORKSPACE_WRAPPER");
    let skip = env::var_os("STRATBOX_SKIP_GUEST_BUILD").is_some()
        || env::var("RUSTC_WORKSPACE_WRAPPER").is_ok_and(|w| w.contains("clippy"));

    let mut paths: Vec<(&str, PathBuf)> = Vec::new();
    let component_path = |name: &str| out_dir.join(format!("{}.wasm", name.to_lowercase()));
    if skip {
        for (name, _) in RUST_GUESTS.iter().chain(WASIP2_GUESTS) {
            paths.push((name, component_path(name)));
        }
        paths.push(("WORLD_V1", component_path("WORLD_V1")));
        paths.push(("WORLD_V0_1", component_path("WORLD_V0_1")));
        paths.push(("WORLD_V0_2_0", component_path("WORLD_V0_2_0")));
        paths.push(("NO_EXPORT", component_path("NO_EXPORT")));
        paths.push(("MINIMAL", component_path("MINIMAL")));
        paths.push(("WRONG_EXPORT_TYPES", component_path("WRONG_EXPORT_TYPES")));
        for (name, _) in python::GUESTS.iter().chain(javascript::GUESTS) {
            paths.push((name, component_path(name)));
        }
    } else {
        let target_dir = guest_target_dir(&out_dir);
        let manifest = root.join("Cargo.toml");
        build(
            &manifest,
            &target_dir,
            WasmTarget::Unknown,
            RUST_GUESTS,
            true,
            &mut paths,
            &component_path,
        );
        build(
            &manifest,
            &target_dir,
            WasmTarget::Wasip2,
            WASIP2_GUESTS,
            false,
            &mut paths,
            &component_path,
        );
        let wit = fs::read_to_string(root.join("wit/strategy.wit")).expect("read wit/strategy.wit");
        paths.push((
            "WORLD_V1",
            write(&component_path("WORLD_V1"), &world_v1(&wit)),
        ));
        let previous_wit = fs::read_to_string(manifest_dir.join("wit-0.1/strategy.wit"))
            .expect("read tests/artifacts/wit-0.1/strategy.wit");
        paths.push((
            "WORLD_V0_1",
            write(&component_path("WORLD_V0_1"), &minimal(&previous_wit)),
        ));
        paths.push((
            "WORLD_V0_2_0",
            write(&component_path("WORLD_V0_2_0"), &world_v0_2_0(&wit)),
        ));
        paths.push((
            "NO_EXPORT",
            write(&component_path("NO_EXPORT"), &no_export(&wit)),
        ));
        paths.push(("MINIMAL", write(&component_path("MINIMAL"), &minimal(&wit))));
        paths.push((
            "WRONG_EXPORT_TYPES",
            write(
                &component_path("WRONG_EXPORT_TYPES"),
                &wrong_export_types(&wit),
            ),
        ));
        python::build(
            &root,
            &guest_target_dir(&out_dir).join("python"),
            &mut paths,
        );
        javascript::build(
            &root,
            &guest_target_dir(&out_dir).join("javascript"),
            &mut paths,
        );
    }

    // Where tests may keep compiled (wasmtime) artifacts between runs.
    paths.push((
        "COMPILED_CACHE_DIR",
        guest_target_dir(&out_dir).join("compiled"),
    ));

    let mut source = String::new();
    for (name, path) in &paths {
        writeln!(source, "/// Component file `{}`.", path.display()).expect("write to string");
        writeln!(
            source,
            "pub const {name}: &str = {:?};",
            path.display().to_string()
        )
        .expect("write to string");
    }
    fs::write(out_dir.join("artifacts.rs"), source).expect("write artifacts.rs");
}

fn build(
    manifest: &Path,
    target_dir: &Path,
    target: WasmTarget,
    guests: &[(&'static str, &str)],
    needs_componentizing: bool,
    paths: &mut Vec<(&'static str, PathBuf)>,
    component_path: &dyn Fn(&str) -> PathBuf,
) {
    let packages: Vec<&str> = guests.iter().map(|(_, package)| *package).collect();
    let modules = RustBuild::new(manifest, &packages, target)
        .target_dir(target_dir)
        .run()
        .unwrap_or_else(|e| panic!("building guests {packages:?} failed: {e}"));
    for ((name, _), module) in guests.iter().zip(modules) {
        let bytes = if needs_componentizing {
            componentize(&module.path).unwrap_or_else(|e| panic!("{e}"))
        } else {
            fs::read(&module.path).unwrap_or_else(|e| panic!("{}: {e}", module.path.display()))
        };
        paths.push((name, write(&component_path(name), &bytes)));
    }
}

/// A component for the same world at version 1.0.0: the runtime must refuse
/// it and name both versions.
fn world_v1(wit: &str) -> Vec<u8> {
    let bumped = wit.replace(
        "package stratbox:strategy@0.2.1;",
        "package stratbox:strategy@1.0.0;",
    );
    assert_ne!(
        bumped, wit,
        "wit/strategy.wit must declare stratbox:strategy@0.2.1"
    );
    dummy_component(&[], &bumped, "strategy-world").unwrap_or_else(|e| panic!("{e}"))
}

/// A component of the world's previous patch release, 0.2.0 (before
/// `logging.series`): semver-compatible, so the runtime must still link it.
fn world_v0_2_0(wit: &str) -> Vec<u8> {
    let previous = wit
        .replace(
            "package stratbox:strategy@0.2.1;",
            "package stratbox:strategy@0.2.0;",
        )
        .replace("    series: func(name: name-id, value: f64);\n", "")
        .replace("use types.{level, name-id};", "use types.{level};");
    assert!(
        previous.contains("@0.2.0;") && !previous.contains("series: func"),
        "wit/strategy.wit must declare 0.2.1 with `logging.series`"
    );
    dummy_component(&[], &previous, "strategy-world").unwrap_or_else(|e| panic!("{e}"))
}

/// The smallest component of the stratbox world that loads (its functions
/// trap): small enough to tamper with every byte of a sealed bundle of it.
fn minimal(wit: &str) -> Vec<u8> {
    dummy_component(&[], wit, "strategy-world").unwrap_or_else(|e| panic!("{e}"))
}

/// A component of the current world's version whose `snapshot` export has
/// the wrong type: the version alone must not let it through.
fn wrong_export_types(wit: &str) -> Vec<u8> {
    let wrong = wit.replace(
        "snapshot: func() -> list<u8>;",
        "snapshot: func() -> string;",
    );
    assert_ne!(
        wrong, wit,
        "wit/strategy.wit declares `snapshot: func() -> list<u8>;`"
    );
    dummy_component(&[], &wrong, "strategy-world").unwrap_or_else(|e| panic!("{e}"))
}

/// A component that imports the oracle but exports no strategy.
fn no_export(wit: &str) -> Vec<u8> {
    let world = "package fixture:no-export;\n\nworld reader {\n    import stratbox:strategy/oracle@0.2.1;\n}\n";
    dummy_component(&[wit], world, "reader").unwrap_or_else(|e| panic!("{e}"))
}

fn write(path: &Path, bytes: &[u8]) -> PathBuf {
    fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path.to_owned()
}

/// `<target>/stratbox-guests`, next to the profile directories, so nested
/// builds never wait on the outer build's lock and survive `OUT_DIR` churn.
fn guest_target_dir(out_dir: &Path) -> PathBuf {
    // OUT_DIR is <target>/[<triple>/]<profile>/build/<pkg>-<hash>/out.
    out_dir
        .ancestors()
        .find(|dir| dir.file_name().is_some_and(|n| n == "build"))
        .and_then(Path::parent)
        .and_then(Path::parent)
        .map_or_else(
            || out_dir.join("guests"),
            |target| target.join("stratbox-guests"),
        )
}
