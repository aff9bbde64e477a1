//! The encrypted store of a stratbox host: sealed strategy bundles, sealed
//! compiled code and sealed snapshots in one directory, and the key
//! providers that open them.
//!
//! Nothing in the store is plaintext: bundles stay sealed as imported;
//! compiled artifacts, checkpoints and bundle receipts are sealed under the
//! store's host-only keys ([`HostKeys`], derived with HKDF from the host's
//! X25519 secret, one label per kind of object; never from the host's public
//! key or a key-encryption key, which authors hold), with a fresh data key
//! per object, bound to the cache key, deployment id or strategy name they
//! are filed under. Snapshots carry their sequence in their authenticated
//! header, so an older one copied back is refused; a bundle loads only with
//! this host's receipt for its bytes and under the name its manifest
//! carries. Every write goes through a temporary file that is fsynced and
//! renamed into place, so a crash never leaves a torn file.
//!
//! ```text
//! <store>/bundles/<name>.bundle           sealed bundles, as imported
//! <store>/bundles/<name>.receipt          the host's receipt: SHA-256 of the bundle, sealed
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
pub use store_key::{HostKeys, StoreKey};
