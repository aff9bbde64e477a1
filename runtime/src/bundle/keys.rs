//! Key material held in memory: data keys, key-encryption keys and X25519
//! host keys, each zeroized on drop and never printed.

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{KeyInit, XChaCha20Poly1305};
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::error::{KeyError, SealError, UnwrapError};
use super::format::{NONCE_LEN, TAG_LEN};
use super::provider::{KeyProvider, KeySlot, KeyWrapper};

type Kem = hpke::kem::X25519HkdfSha256;
type Kdf = hpke::kdf::HkdfSha256;
type HpkeAead = hpke::aead::ChaCha20Poly1305;

/// HPKE `info`: binds every HPKE slot to this format.
const HPKE_INFO: &[u8] = b"stratbox sealed v1 data key";
const KEK_ID_DOMAIN: &[u8] = b"stratbox key id v1: kek\0";
const X25519_ID_DOMAIN: &[u8] = b"stratbox key id v1: x25519 public key\0";

/// Fill `out` from the operating system's random number generator.
pub(crate) fn random(out: &mut [u8]) -> Result<(), String> {
    getrandom::fill(out).map_err(|e| e.to_string())
}

/// A 16-byte fingerprint naming a key-encryption key or a public key. It
/// reveals nothing about a secret key, and two different keys never share
/// one in practice.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId([u8; 16]);

impl KeyId {
    /// The id with these bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        KeyId(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    fn fingerprint(domain: &[u8], key: &[u8]) -> Self {
        let digest = Sha256::new()
            .chain_update(domain)
            .chain_update(key)
            .finalize();
        let mut id = [0; 16];
        id.copy_from_slice(&digest[..16]);
        KeyId(id)
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl std::fmt::Debug for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// The per-object 256-bit key that encrypts a payload.
pub struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    /// A fresh random data key.
    pub(crate) fn generate() -> Result<Self, SealError> {
        let mut key = Zeroizing::new([0; 32]);
        random(key.as_mut_slice()).map_err(|reason| SealError::Randomness { reason })?;
        Ok(DataKey(key))
    }

    /// A data key recovered by a [`KeyProvider`] (e.g. from a KMS).
    pub fn from_bytes(bytes: Zeroizing<[u8; 32]>) -> Self {
        DataKey(bytes)
    }

    /// The key bytes, for a [`KeyWrapper`] to wrap.
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.0
    }

    pub(crate) fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&(*self.0).into())
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

/// A symmetric key-encryption key: wraps data keys with XChaCha20-Poly1305.
pub struct Kek {
    key: Zeroizing<[u8; 32]>,
    id: KeyId,
}

impl Kek {
    /// A fresh random key.
    pub fn generate() -> Result<Self, KeyError> {
        let mut key = Zeroizing::new([0; 32]);
        random(key.as_mut_slice()).map_err(|reason| KeyError::Randomness { reason })?;
        Ok(Kek::from_bytes(key))
    }

    /// The key with these bytes.
    pub fn from_bytes(key: Zeroizing<[u8; 32]>) -> Self {
        let id = KeyId::fingerprint(KEK_ID_DOMAIN, key.as_slice());
        Kek { key, id }
    }

    /// Its fingerprint, as stored in the objects it wraps.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The key bytes, for writing a key file.
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.key
    }
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kek({})", self.id)
    }
}

impl KeyWrapper for Kek {
    fn wrap(&self, data_key: &DataKey, aad: &[u8]) -> Result<KeySlot, SealError> {
        let mut nonce = [0; NONCE_LEN];
        random(&mut nonce).map_err(|reason| SealError::Randomness { reason })?;
        let mut wrapped = [0; 32 + TAG_LEN];
        let (body, tag_out) = wrapped.split_at_mut(32);
        body.copy_from_slice(data_key.expose_secret());
        let tag = XChaCha20Poly1305::new(&(*self.key).into())
            .encrypt_inout_detached(&nonce.into(), aad, body.into())
            .map_err(|_| SealError::Encryption {
                reason: "wrapping the data key failed".into(),
            })?;
        tag_out.copy_from_slice(&tag);
        Ok(KeySlot::Kek {
            key_id: self.id,
            nonce,
            wrapped,
        })
    }
}

impl KeyProvider for Kek {
    fn unwrap(&self, slot: &KeySlot, aad: &[u8]) -> Result<DataKey, UnwrapError> {
        match slot {
            KeySlot::Kek {
                key_id,
                nonce,
                wrapped,
            } if *key_id == self.id => {
                let mut key = Zeroizing::new([0; 32]);
                key.copy_from_slice(&wrapped[..32]);
                let tag = wrapped[32..]
                    .try_into()
                    .map_err(|_| UnwrapError::Authentication)?;
                XChaCha20Poly1305::new(&(*self.key).into())
                    .decrypt_inout_detached(&(*nonce).into(), aad, key.as_mut_slice().into(), &tag)
                    .map_err(|_| UnwrapError::Authentication)?;
                Ok(DataKey(key))
            }
            KeySlot::Kek { key_id, .. } => Err(UnwrapError::WrongKey { key_id: *key_id }),
            KeySlot::Hpke { recipient, .. } => Err(UnwrapError::WrongRecipient {
                recipient: *recipient,
            }),
        }
    }
}

/// A host's X25519 public key: authors seal bundles to it with HPKE.
#[derive(Clone, PartialEq, Eq)]
pub struct HostPublicKey {
    key: <Kem as hpke::Kem>::PublicKey,
    id: KeyId,
}

impl HostPublicKey {
    /// The public key with these bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        let key =
            <Kem as hpke::Kem>::PublicKey::from_bytes(bytes).map_err(|e| KeyError::Invalid {
                reason: e.to_string(),
            })?;
        Ok(HostPublicKey {
            key,
            id: KeyId::fingerprint(X25519_ID_DOMAIN, bytes),
        })
    }

    /// The key's bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes().into()
    }

    /// Its fingerprint, as stored in the bundles sealed to it.
    pub fn id(&self) -> KeyId {
        self.id
    }
}

impl std::fmt::Debug for HostPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HostPublicKey({})", self.id)
    }
}

impl KeyWrapper for HostPublicKey {
    /// Seal with HPKE base mode; the ephemeral key comes from the OS random
    /// number generator (`hpke` panics if that fails, which on a running
    /// system it does not).
    fn wrap(&self, data_key: &DataKey, aad: &[u8]) -> Result<KeySlot, SealError> {
        let (encapsulated, sealed) = hpke::single_shot_seal::<HpkeAead, Kdf, Kem>(
            &OpModeS::Base,
            &self.key,
            HPKE_INFO,
            data_key.expose_secret(),
            aad,
        )
        .map_err(|e| SealError::Encryption {
            reason: format!("HPKE seal to {}: {e}", self.id),
        })?;
        let sealed = sealed
            .as_slice()
            .try_into()
            .map_err(|_| SealError::Encryption {
                reason: "HPKE produced an unexpected ciphertext length".into(),
            })?;
        Ok(KeySlot::Hpke {
            recipient: self.id,
            encapsulated: encapsulated.to_bytes().into(),
            sealed,
        })
    }
}

/// A host's X25519 secret key: opens bundles sealed to its public key.
#[derive(Clone)]
pub struct HostSecretKey {
    key: <Kem as hpke::Kem>::PrivateKey,
    public: HostPublicKey,
}

impl HostSecretKey {
    /// A fresh random key pair.
    pub fn generate() -> Result<Self, KeyError> {
        let mut ikm = Zeroizing::new([0; 32]);
        random(ikm.as_mut_slice()).map_err(|reason| KeyError::Randomness { reason })?;
        let (key, _) = Kem::derive_keypair(ikm.as_slice());
        Self::from_private(key)
    }

    /// The secret key with these bytes (as written by
    /// [`HostSecretKey::to_bytes`]).
    pub fn from_bytes(bytes: &Zeroizing<[u8; 32]>) -> Result<Self, KeyError> {
        let key = <Kem as hpke::Kem>::PrivateKey::from_bytes(bytes.as_slice()).map_err(|e| {
            KeyError::Invalid {
                reason: e.to_string(),
            }
        })?;
        Self::from_private(key)
    }

    fn from_private(key: <Kem as hpke::Kem>::PrivateKey) -> Result<Self, KeyError> {
        let public = HostPublicKey::from_bytes(&Kem::sk_to_pk(&key).to_bytes().into())?;
        Ok(HostSecretKey { key, public })
    }

    /// The secret key's bytes, for writing a key file.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        let mut bytes = Zeroizing::new([0; 32]);
        self.key.write_exact(bytes.as_mut_slice());
        bytes
    }

    /// The matching public key, to hand to authors.
    pub fn public_key(&self) -> &HostPublicKey {
        &self.public
    }

    /// Fingerprint of the public key.
    pub fn id(&self) -> KeyId {
        self.public.id
    }
}

impl std::fmt::Debug for HostSecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HostSecretKey({})", self.public.id)
    }
}

impl KeyWrapper for HostSecretKey {
    fn wrap(&self, data_key: &DataKey, aad: &[u8]) -> Result<KeySlot, SealError> {
        self.public.wrap(data_key, aad)
    }
}

impl KeyProvider for HostSecretKey {
    fn unwrap(&self, slot: &KeySlot, aad: &[u8]) -> Result<DataKey, UnwrapError> {
        match slot {
            KeySlot::Hpke {
                recipient,
                encapsulated,
                sealed,
            } if *recipient == self.public.id => {
                let encapsulated = <Kem as hpke::Kem>::EncappedKey::from_bytes(encapsulated)
                    .map_err(|_| UnwrapError::Authentication)?;
                let opened = Zeroizing::new(
                    hpke::single_shot_open::<HpkeAead, Kdf, Kem>(
                        &OpModeR::Base,
                        &self.key,
                        &encapsulated,
                        HPKE_INFO,
                        sealed,
                        aad,
                    )
                    .map_err(|_| UnwrapError::Authentication)?,
                );
                let mut key = Zeroizing::new([0; 32]);
                if opened.len() != key.len() {
                    return Err(UnwrapError::Authentication);
                }
                key.copy_from_slice(&opened);
                Ok(DataKey(key))
            }
            KeySlot::Hpke { recipient, .. } => Err(UnwrapError::WrongRecipient {
                recipient: *recipient,
            }),
            KeySlot::Kek { key_id, .. } => Err(UnwrapError::WrongKey { key_id: *key_id }),
        }
    }
}

/// Either kind of secret a host holds; what a key file or an environment
/// variable contains.
#[derive(Debug)]
pub enum SecretKey {
    /// A symmetric key-encryption key.
    Kek(Kek),
    /// An X25519 secret key.
    X25519(HostSecretKey),
}

impl SecretKey {
    /// The key's id (the public key's fingerprint for X25519).
    pub fn id(&self) -> KeyId {
        match self {
            SecretKey::Kek(kek) => kek.id(),
            SecretKey::X25519(secret) => secret.id(),
        }
    }
}

impl KeyWrapper for SecretKey {
    fn wrap(&self, data_key: &DataKey, aad: &[u8]) -> Result<KeySlot, SealError> {
        match self {
            SecretKey::Kek(kek) => kek.wrap(data_key, aad),
            SecretKey::X25519(secret) => secret.wrap(data_key, aad),
        }
    }
}

impl KeyProvider for SecretKey {
    fn unwrap(&self, slot: &KeySlot, aad: &[u8]) -> Result<DataKey, UnwrapError> {
        match self {
            SecretKey::Kek(kek) => kek.unwrap(slot, aad),
            SecretKey::X25519(secret) => secret.unwrap(slot, aad),
        }
    }
}
