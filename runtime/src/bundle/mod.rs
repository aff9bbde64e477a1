//! Sealed strategy bundles: a strategy component encrypted for one host, with
//! an authenticated manifest, so its code never rests on a disk in plaintext.
//!
//! # Envelope
//!
//! Every sealed object (a bundle, and the store's compiled artifacts and
//! snapshots) is encrypted under a fresh random 256-bit *data key* with
//! XChaCha20-Poly1305. The data key is then wrapped in a *key slot*, either
//!
//! - under a symmetric key-encryption key ([`Kek`], named by its [`KeyId`]),
//!   with XChaCha20-Poly1305, or
//! - to a host's X25519 public key ([`HostPublicKey`]) with HPKE (RFC 9180,
//!   base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305),
//!   so an author can seal for a host without ever holding its secret.
//!
//! Anyone holding the public key can seal to it, so an HPKE slot says
//! nothing about who sealed the object. Objects a host must trust because
//! *it* wrote them (compiled code, snapshots, bundle receipts) are therefore
//! sealed under symmetric keys only the host holds: the host's store derives
//! them from its X25519 secret key with HKDF, one label per kind of object,
//! and never from a key-encryption key (authors who seal with a KEK hold
//! it).
//!
//! A bundle's manifest, strategy name included, is in the bound header, so
//! a bundle filed under another strategy's name is caught by comparing the
//! name it is loaded as with the authenticated one
//! ([`Runtime::load_named_bundle`], [`OpenError::NameMismatch`]).
//!
//! Opening recovers the data key through a [`KeyProvider`], authenticates the
//! header and manifest, decrypts, checks the component's SHA-256 against the
//! manifest and then the import allow-list ([`Runtime::inspect`]), all before
//! anything is compiled. Plaintext lives in [`zeroize::Zeroizing`] buffers.
//!
//! # Binary format, version 1
//!
//! Integers are big-endian. The fixed prefix carries everything needed to
//! pick algorithms and keys, so a reader never interprets a variable-length
//! field before authentication.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic: `SBX\0BNDL` (bundle), `SBX\0ARTF` (compiled artifact), `SBX\0SNAP` (snapshot), `SBX\0RCPT` (bundle receipt) |
//! | 8 | 2 | format version, `1` ([`FORMAT_VERSION`]) |
//! | 10 | 2 | payload AEAD id: `0x5843` XChaCha20-Poly1305 ([`PayloadAlgorithm`]) |
//! | 12 | 2 | key-wrap id: `0x4B57` KEK, `0x4850` HPKE ([`WrapAlgorithm`]) |
//! | 14 | 16 | key id of the KEK, or of the recipient's public key ([`KeyId`]) |
//! | 30 | 24 | payload nonce |
//! | 54 | 4 | metadata length `M` |
//! | 58 | `M` | metadata: for a bundle, the [`Manifest`] as JSON |
//! | 58+`M` | 72 or 80 | key slot: KEK: wrap nonce (24) ‖ wrapped data key (48); HPKE: encapsulated key (32) ‖ sealed data key (48) |
//! | … | rest | payload ciphertext ‖ 16-byte tag |
//!
//! The *bound header* is `magic ‖ version ‖ payload id ‖ nonce ‖ M ‖ metadata
//! ‖ len(context) ‖ context`, where the context is supplied by the caller and
//! not stored (empty for bundles; the cache key for artifacts; the deployment
//! id for snapshots; the strategy name for a store's bundle receipts). The payload is encrypted with associated data
//! `"stratbox sealed v1 payload\0" ‖ bound header`; the data key is wrapped
//! with associated data `"stratbox sealed v1 key slot\0" ‖ bound header`. So
//! a changed byte anywhere in the bound header, the slot or the payload fails
//! authentication, while the key-wrap id, the key id and the slot can be
//! replaced ([`rekey`]) without touching the payload. A key id is a
//! fingerprint of its key, so a slot can only be unwrapped by the key it
//! names.

mod envelope;
mod error;
mod format;
mod keys;
mod manifest;
mod open;
mod provider;
mod rekey;
mod seal;

pub use envelope::{OpenedObject, open_object, seal_object};
pub use error::{AuthenticatedPart, KeyError, OpenError, SealError, UnwrapError};
pub use format::{
    FORMAT_VERSION, ObjectKind, PayloadAlgorithm, SealedHeader, WrapAlgorithm, read_header,
};
pub use keys::{DataKey, HostPublicKey, HostSecretKey, Kek, KeyId, SecretKey};
pub use manifest::{Language, Manifest, StrategyMetadata};
pub use open::{BundleSummary, OpenedBundle, authenticate_manifest, read_bundle};
pub use provider::{KeyProvider, KeySlot, KeyWrapper};
pub use rekey::{RekeyError, rekey, rekey_object};
pub use seal::seal_bundle;

#[cfg(doc)]
use crate::Runtime;
