//! The encrypted store of a stratbox host: sealed strategy bundles, sealed
//! compiled code and sealed snapshots in one directory, and the key
//! providers that open them.
//!
//! Nothing in the store is plaintext: bundles stay sealed as imported;
//! compiled artifacts and checkpoints are sealed under the store's object
//! key, a symmetric key derived from the host's secret
//! ([`StoreKey::object_key`]; never the host's public key, which authors
//! hold), with a fresh data key per object, bound to the cache key or
//! deployment id they are filed under; and every write goes through a
//! temporary file that is fsynced and renamed into place, so a crash never
//! leaves a torn file.
//!
//! ```text
//! <store>/bundles/<name>.bundle           sealed bundles, as imported
//! <store>/artifacts/<cache key>.artifact  sealed compiled code
//! <store>/snapshots/<hex id>.snapshot     sealed checkpoints, one per deployment
//! <store>/tmp/                            in-flight writes (ciphertext only)
//! ```

mod artifacts;
mod atomic;
mod checkpoint;
mod error;
pub mod keys;
mod store;
mod store_key;

pub use artifacts::SealedArtifactCache;
pub use error::StoreError;
pub use store::{LoadedStrategy, Store};
pub use store_key::StoreKey;
