//! Shared fixtures: a runtime, keys, stores in temporary directories.

use std::path::Path;
use std::sync::{Arc, LazyLock};

use stratbox_runtime::bundle::{HostSecretKey, Language, SecretKey, StrategyMetadata};
use stratbox_runtime::types::BlockInfo;
use stratbox_runtime::{Oracle, Runtime, RuntimeConfig};
use stratbox_store::Store;
use stratbox_test_artifacts::Guest;

/// One runtime shared by the tests of this binary.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: LazyLock<Runtime> =
        LazyLock::new(|| Runtime::new(RuntimeConfig::default()).expect("runtime"));
    &RUNTIME
}

/// A fresh host key: an X25519 secret, to whose public key the tests seal
/// bundles, and from which the store derives its host-only keys.
pub fn host_key() -> Arc<SecretKey> {
    Arc::new(SecretKey::X25519(HostSecretKey::generate().unwrap()))
}

/// A store in `dir` under `key`.
pub fn store(dir: &Path, key: &Arc<SecretKey>) -> Store {
    Store::open(dir, Arc::clone(key) as _).unwrap()
}

/// `guest` sealed for `key` as strategy `name`.
pub fn sealed(guest: Guest, name: &str, key: &SecretKey) -> Vec<u8> {
    runtime()
        .seal_bundle(
            &guest.bytes(),
            StrategyMetadata::new(name, "1.0.0", Language::Rust, "tests"),
            key,
        )
        .unwrap()
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// An oracle that only knows the time.
pub struct Clock;

impl Oracle for Clock {
    fn block(&mut self) -> BlockInfo {
        block(0)
    }
}

/// Block `number` on chain 1.
pub fn block(number: u64) -> BlockInfo {
    BlockInfo {
        chain_id: 1,
        number,
        timestamp_ms: 1_700_000_000_000 + number * 60_000,
    }
}
