//! The key a store is opened with, and the host-only keys it derives from it
//! to seal its own objects.
//!
//! A store holds two kinds of sealed objects. *Bundles* come from authors,
//! who seal them for the host with the host's X25519 *public* key (or, for
//! a host that shares one with them, a key-encryption key). The store's
//! *own* objects, compiled native code, snapshots and bundle receipts, must
//! be openable only if the host sealed them: the runtime deserializes a
//! compiled artifact as executable code, restores a snapshot as strategy
//! state, and loads only bundles it has a receipt for. Anything an author
//! holds (the public key, a shared KEK, any key derived from either) must
//! therefore never seal them. So the store seals its own objects under
//! [`HostKeys`]: three symmetric keys derived with HKDF-SHA256, one label
//! each, from the host's X25519 *secret* key, which authors never hold.
//!
//! A store opened with a key-encryption key has no host-only key
//! ([`StoreKey::host_keys`] is `None`): authors seal bundles with that same
//! key, so whatever the store derived from it they could derive too. Such a
//! store opens bundles but caches no compiled code, keeps no snapshots
//! ([`StoreError::NoHostKey`](crate::StoreError::NoHostKey)) and refuses
//! every artifact it finds.

use hkdf::Hkdf;
use sha2_hkdf::Sha256;
use stratbox_runtime::bundle::{HostSecretKey, Kek, KeyProvider, KeyWrapper, SecretKey};
use zeroize::Zeroizing;

use crate::keys::{EnvKeyProvider, FileKeyProvider, KmsKeyProvider};

/// HKDF salt of every host-only store key.
const SALT: &[u8] = b"stratbox store v2: host-only keys";
/// HKDF info of the key sealing compiled artifacts.
const ARTIFACTS: &[u8] = b"stratbox store v2: compiled artifacts";
/// HKDF info of the key sealing snapshots.
const SNAPSHOTS: &[u8] = b"stratbox store v2: snapshots";
/// HKDF info of the key sealing bundle receipts.
const RECEIPTS: &[u8] = b"stratbox store v2: bundle receipts";
/// HKDF info of the key of journals' hash chains.
const JOURNAL_CHAIN: &[u8] = b"stratbox store v2: journal chain";

/// The symmetric keys a store seals its own objects with, one per kind of
/// object, so a key that opens one kind opens no other.
pub struct HostKeys {
    artifacts: Kek,
    snapshots: Kek,
    receipts: Kek,
    journal_chain: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for HostKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostKeys")
            .field("artifacts", &self.artifacts)
            .field("snapshots", &self.snapshots)
            .field("receipts", &self.receipts)
            .finish()
    }
}

impl HostKeys {
    /// Derive the keys from `secret`, keying material only the host holds
    /// (its X25519 secret key, or a secret a KMS keeps for it). Never pass
    /// anything an author holds: a public key, a key-encryption key authors
    /// seal with, or anything derived from them.
    pub fn derive(secret: &[u8]) -> Self {
        let hkdf = Hkdf::<Sha256>::new(Some(SALT), secret);
        let key = |info: &[u8]| {
            let mut okm = Zeroizing::new([0u8; 32]);
            hkdf.expand(info, okm.as_mut_slice())
                .expect("32 bytes is a valid HKDF-SHA256 output length");
            Kek::from_bytes(okm)
        };
        let mut journal_chain = Zeroizing::new([0u8; 32]);
        hkdf.expand(JOURNAL_CHAIN, journal_chain.as_mut_slice())
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        HostKeys {
            artifacts: key(ARTIFACTS),
            snapshots: key(SNAPSHOTS),
            receipts: key(RECEIPTS),
            journal_chain,
        }
    }

    /// Keys journals' hash chains (`stratbox_journal::ChainKey`): only the
    /// host can write a link that verifies.
    pub fn journal_chain(&self) -> Zeroizing<[u8; 32]> {
        self.journal_chain.clone()
    }

    /// Seals and opens compiled artifacts.
    pub fn artifacts(&self) -> &Kek {
        &self.artifacts
    }

    /// Seals and opens snapshots.
    pub fn snapshots(&self) -> &Kek {
        &self.snapshots
    }

    /// Seals and opens bundle receipts.
    pub fn receipts(&self) -> &Kek {
        &self.receipts
    }
}

/// The key a store is opened with: it opens the bundles filed there
/// ([`KeyProvider`]), seals bundles for this host ([`KeyWrapper`]), and
/// yields the host-only keys the store seals its own objects with
/// ([`StoreKey::host_keys`]).
///
/// Implemented for [`SecretKey`], [`Kek`], [`HostSecretKey`] and the key
/// providers of [`keys`](crate::keys). A KMS adapter that unwraps each
/// bundle's data key remotely implements it by returning
/// [`HostKeys::derive`] of a secret it holds in memory (e.g. a data key the
/// KMS generated once and decrypts at start-up).
pub trait StoreKey: KeyProvider + KeyWrapper {
    /// The host-only keys that seal and open the store's compiled
    /// artifacts, snapshots and bundle receipts, or `None` when this key
    /// is one authors may hold too (a key-encryption key). They must be
    /// computable only from secret key material no author holds: whoever
    /// can produce an object they open can make the runtime run native
    /// code of their choosing.
    fn host_keys(&self) -> Option<HostKeys>;
}

impl StoreKey for Kek {
    /// `None`: authors seal bundles with the same key-encryption key, so
    /// nothing derived from it is the host's alone.
    fn host_keys(&self) -> Option<HostKeys> {
        None
    }
}

impl StoreKey for HostSecretKey {
    fn host_keys(&self) -> Option<HostKeys> {
        Some(HostKeys::derive(self.to_bytes().as_slice()))
    }
}

impl StoreKey for SecretKey {
    fn host_keys(&self) -> Option<HostKeys> {
        match self {
            SecretKey::Kek(kek) => kek.host_keys(),
            SecretKey::X25519(secret) => secret.host_keys(),
        }
    }
}

impl StoreKey for FileKeyProvider {
    fn host_keys(&self) -> Option<HostKeys> {
        self.key().host_keys()
    }
}

impl StoreKey for EnvKeyProvider {
    fn host_keys(&self) -> Option<HostKeys> {
        self.key().host_keys()
    }
}

impl StoreKey for KmsKeyProvider {
    fn host_keys(&self) -> Option<HostKeys> {
        self.key().host_keys()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn host_keys_are_derived_deterministically_and_domain_separated() {
        let secret = HostSecretKey::generate().unwrap();
        let same = HostSecretKey::from_bytes(&secret.to_bytes()).unwrap();
        let keys = secret.host_keys().unwrap();
        assert_eq!(
            keys.artifacts().id(),
            same.host_keys().unwrap().artifacts().id()
        );
        let other = HostSecretKey::generate().unwrap().host_keys().unwrap();
        assert_ne!(keys.artifacts().id(), other.artifacts().id());
        // One key per kind of object, none of them the secret itself nor
        // named like the public key.
        let ids = [
            keys.artifacts().id(),
            keys.snapshots().id(),
            keys.receipts().id(),
        ];
        assert_ne!(ids[0], ids[1]);
        assert_ne!(ids[1], ids[2]);
        assert_ne!(ids[0], ids[2]);
        for kek in [keys.artifacts(), keys.snapshots(), keys.receipts()] {
            assert_ne!(kek.expose_secret(), &*secret.to_bytes());
            assert_ne!(kek.id(), secret.id());
        }
    }

    #[test]
    fn a_key_encryption_key_yields_no_host_keys() {
        let kek = Kek::generate().unwrap();
        assert!(kek.host_keys().is_none());
        assert!(SecretKey::Kek(kek).host_keys().is_none());
    }
}
