//! Key providers of a host: a key file (sealed under a passphrase, its
//! permissions checked), an environment variable (removed once read), and a
//! hook for a KMS; plus writing key files for `stratbox keygen`.
//!
//! A key file is one line of JSON. Secret keys rest on disk only sealed
//! under a passphrase-derived key (Argon2id, parameters in the file;
//! [`SealedKey`]); a plaintext secret key file is refused with
//! [`KeyLoadError::PlaintextSecret`], which names the command that seals
//! it ([`seal_plaintext_key_file`]). Plaintext key text is still read from
//! an environment variable or out of a KMS ciphertext, where it never rests
//! on a disk:
//!
//! ```text
//! {"format":2,"kind":"x25519-secret","id":..,"kdf":{"algorithm":"argon2id",..},..}  sealed host secret key
//! {"format":2,"kind":"kek","id":..,"kdf":..,..}                sealed key-encryption key
//! {"format":1,"kind":"x25519-public","key":"<64 hex digits>"}  host public key, for authors
//! {"format":1,"kind":"kek"|"x25519-secret","key":"<64 hex>"}   plaintext: env or KMS only
//! ```

mod env;
mod error;
mod file;
mod format;
mod kms;
mod sealed;

pub use env::EnvKeyProvider;
pub use error::KeyLoadError;
pub use file::{
    FileKeyProvider, load_public_key, load_wrap_target, open_sealed_file, seal_plaintext_hex_file,
    seal_plaintext_key_file, write_public_key, write_sealed, write_secret_key,
};
pub use format::{
    KeyMaterial, KeyText, encode_public_key, encode_secret_key, open_key_text, parse_key,
    parse_key_text, seal_secret_key,
};
pub use kms::{KmsClient, KmsKeyProvider};
pub use sealed::{KdfParams, Passphrase, SealedKey, SealedKind, seal_secret, take_env};
