//! The Python SDK and the WIT world, embedded so that a builder binary
//! always builds with the SDK it was compiled with.

/// Files of `guest-sdk/python` the component needs, by path relative to it.
pub(crate) const SDK_FILES: &[(&str, &str)] = &[
    (
        "stratbox_component.py",
        include_str!("../../../guest-sdk/python/stratbox_component.py"),
    ),
    (
        "stratbox/__init__.py",
        include_str!("../../../guest-sdk/python/stratbox/__init__.py"),
    ),
    (
        "stratbox/_export.py",
        include_str!("../../../guest-sdk/python/stratbox/_export.py"),
    ),
    (
        "stratbox/_wasm.py",
        include_str!("../../../guest-sdk/python/stratbox/_wasm.py"),
    ),
    (
        "stratbox/amount.py",
        include_str!("../../../guest-sdk/python/stratbox/amount.py"),
    ),
    (
        "stratbox/context.py",
        include_str!("../../../guest-sdk/python/stratbox/context.py"),
    ),
    (
        "stratbox/errors.py",
        include_str!("../../../guest-sdk/python/stratbox/errors.py"),
    ),
    (
        "stratbox/host.py",
        include_str!("../../../guest-sdk/python/stratbox/host.py"),
    ),
    (
        "stratbox/indicators.py",
        include_str!("../../../guest-sdk/python/stratbox/indicators.py"),
    ),
    (
        "stratbox/sandbox.py",
        include_str!("../../../guest-sdk/python/stratbox/sandbox.py"),
    ),
    (
        "stratbox/snapshot.py",
        include_str!("../../../guest-sdk/python/stratbox/snapshot.py"),
    ),
    (
        "stratbox/state_machine.py",
        include_str!("../../../guest-sdk/python/stratbox/state_machine.py"),
    ),
    (
        "stratbox/strategy.py",
        include_str!("../../../guest-sdk/python/stratbox/strategy.py"),
    ),
    (
        "stratbox/testing.py",
        include_str!("../../../guest-sdk/python/stratbox/testing.py"),
    ),
    (
        "stratbox/types.py",
        include_str!("../../../guest-sdk/python/stratbox/types.py"),
    ),
    (
        "stratbox/verdict.py",
        include_str!("../../../guest-sdk/python/stratbox/verdict.py"),
    ),
];

/// `wit/strategy.wit`.
pub(crate) const WORLD_WIT: &str = include_str!("../../../wit/strategy.wit");

/// The world components are built for.
pub(crate) const WORLD_NAME: &str = "strategy-world";

/// The module componentize-py wraps (in [`SDK_FILES`]).
pub(crate) const ENTRY_MODULE: &str = "stratbox_component";

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::SDK_FILES;

    #[test]
    fn every_sdk_module_is_embedded() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guest-sdk/python");
        let mut on_disk = BTreeSet::from(["stratbox_component.py".to_owned()]);
        for entry in std::fs::read_dir(root.join("stratbox")).expect("guest-sdk/python/stratbox") {
            let name = entry.expect("directory entry").file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".py") {
                on_disk.insert(format!("stratbox/{name}"));
            }
        }
        let embedded: BTreeSet<String> = SDK_FILES.iter().map(|(p, _)| (*p).to_owned()).collect();
        assert_eq!(
            embedded, on_disk,
            "update SDK_FILES in host/builder/src/python_sdk.rs"
        );
    }
}
