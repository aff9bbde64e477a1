//! The key a store is opened with, and the symmetric key it derives from it
//! to seal its own objects.
//!
//! A store holds two kinds of sealed objects. *Bundles* come from authors,
//! who seal them for the host with whatever the host handed out: a shared
//! key-encryption key, or the host's X25519 *public* key. The store's *own*
//! objects, compiled native code and snapshots, must be openable only if a
//! holder of the host's secret sealed them: the runtime deserializes a
//! compiled artifact as executable code. Sealing them to the host's public
//! key would let anyone holding that public key (every author) forge one.
//! So the store seals and opens its own objects with a symmetric
//! [`Kek`] derived from the secret with HKDF-SHA256 ([`StoreKey::object_key`]),
//! and [`Kek`] refuses any HPKE slot.

use hkdf::Hkdf;
use sha2_hkdf::Sha256;
use stratbox_runtime::bundle::{HostSecretKey, Kek, KeyProvider, KeyWrapper, SecretKey};
use zeroize::Zeroizing;

use crate::keys::{EnvKeyProvider, FileKeyProvider, KmsKeyProvider};

/// HKDF salt of every store object key.
const OBJECT_KEY_SALT: &[u8] = b"stratbox store v1";
/// HKDF info when the store key is a key-encryption key.
const FROM_KEK: &[u8] = b"stratbox store v1: object key (artifacts, snapshots) from a kek";
/// HKDF info when the store key is an X25519 secret key.
const FROM_X25519: &[u8] =
    b"stratbox store v1: object key (artifacts, snapshots) from an x25519 secret key";

/// The key a store is opened with: it opens the bundles filed there
/// ([`KeyProvider`]), seals bundles for this host ([`KeyWrapper`]), and
/// yields the symmetric key the store seals its own objects with
/// ([`StoreKey::object_key`]).
///
/// Implemented for [`SecretKey`], [`Kek`], [`HostSecretKey`] and the key
/// providers of [`keys`](crate::keys). A KMS adapter that unwraps each
/// bundle's data key remotely implements it by returning a symmetric key it
/// holds in memory (e.g. a data key the KMS generated once and decrypts at
/// start-up).
pub trait StoreKey: KeyProvider + KeyWrapper {
    /// The symmetric key that seals and opens the store's compiled artifacts
    /// and snapshots. It must be computable only from secret key material,
    /// never from anything public (such as the host's X25519 public key):
    /// whoever can produce an object this key opens can make the runtime
    /// run native code of their choosing.
    fn object_key(&self) -> Kek;
}

/// HKDF-SHA256 of `secret` with the store's salt and `info`.
fn derive(secret: &[u8], info: &[u8]) -> Kek {
    let mut okm = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(OBJECT_KEY_SALT), secret)
        .expand(info, okm.as_mut_slice())
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    Kek::from_bytes(okm)
}

impl StoreKey for Kek {
    fn object_key(&self) -> Kek {
        derive(self.expose_secret(), FROM_KEK)
    }
}

impl StoreKey for HostSecretKey {
    fn object_key(&self) -> Kek {
        derive(self.to_bytes().as_slice(), FROM_X25519)
    }
}

impl StoreKey for SecretKey {
    fn object_key(&self) -> Kek {
        match self {
            SecretKey::Kek(kek) => kek.object_key(),
            SecretKey::X25519(secret) => secret.object_key(),
        }
    }
}

impl StoreKey for FileKeyProvider {
    fn object_key(&self) -> Kek {
        self.key().object_key()
    }
}

impl StoreKey for EnvKeyProvider {
    fn object_key(&self) -> Kek {
        self.key().object_key()
    }
}

impl StoreKey for KmsKeyProvider {
    fn object_key(&self) -> Kek {
        self.key().object_key()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn object_keys_are_derived_deterministically_and_domain_separated() {
        let secret = HostSecretKey::generate().unwrap();
        let same = HostSecretKey::from_bytes(&secret.to_bytes()).unwrap();
        assert_eq!(secret.object_key().id(), same.object_key().id());
        assert_ne!(
            secret.object_key().id(),
            HostSecretKey::generate().unwrap().object_key().id()
        );
        // Never the secret itself, nor anything named by the public key.
        let object_key = secret.object_key();
        assert_ne!(object_key.expose_secret(), &*secret.to_bytes());
        assert_ne!(object_key.id(), secret.id());

        // The same 32 bytes as a KEK and as an X25519 secret give different
        // object keys, and a KEK's object key is not the KEK.
        let kek = Kek::from_bytes(secret.to_bytes());
        assert_ne!(kek.object_key().id(), object_key.id());
        assert_ne!(kek.object_key().id(), kek.id());
        assert_eq!(
            SecretKey::Kek(Kek::from_bytes(secret.to_bytes()))
                .object_key()
                .id(),
            kek.object_key().id()
        );
    }
}
