//! Key providers of a host: a key file (its permissions checked), an
//! environment variable, and a hook for a KMS; plus writing key files for
//! `stratbox keygen`.
//!
//! A key file is one line of JSON, so `export STRATBOX_KEY="$(cat host.key)"`
//! turns a key file into an environment key:
//!
//! ```text
//! {"format":1,"kind":"kek","key":"<64 hex digits>"}            symmetric key-encryption key
//! {"format":1,"kind":"x25519-secret","key":"<64 hex digits>"}  host secret key (HPKE)
//! {"format":1,"kind":"x25519-public","key":"<64 hex digits>"}  host public key, for authors
//! ```

mod env;
mod error;
mod file;
mod format;
mod kms;

pub use env::EnvKeyProvider;
pub use error::KeyLoadError;
pub use file::{
    FileKeyProvider, load_public_key, load_wrap_target, write_public_key, write_secret_key,
};
pub use format::{KeyMaterial, encode_public_key, encode_secret_key, parse_key};
pub use kms::{KmsClient, KmsKeyProvider};
