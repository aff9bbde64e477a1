//! Sealing and opening of any sealed object: a fresh data key per object,
//! the payload encrypted under it, the key wrapped in a slot.

use chacha20poly1305::aead::AeadInOut;
use zeroize::Zeroizing;

use super::error::{AuthenticatedPart, OpenError, SealError};
use super::format::{Encoder, NONCE_LEN, ObjectKind, Parsed, TAG_LEN, parse};
use super::keys::{DataKey, random};
use super::provider::{KeyProvider, KeyWrapper};
use crate::secret::SecretBytes;

/// Seal `plaintext` as an object of `kind` for whoever `to` wraps for.
///
/// `metadata` is stored in the clear and authenticated; `context` is
/// authenticated but not stored, so the object opens only where the caller
/// supplies the same context (e.g. the cache key it is filed under).
pub fn seal_object(
    kind: ObjectKind,
    metadata: &[u8],
    context: &[u8],
    plaintext: &[u8],
    to: &dyn KeyWrapper,
) -> Result<Vec<u8>, SealError> {
    let data_key = DataKey::generate()?;
    let mut nonce = [0; NONCE_LEN];
    random(&mut nonce).map_err(|reason| SealError::Randomness { reason })?;
    let encoder = Encoder::new(kind, &nonce, metadata).map_err(|_| SealError::InvalidMetadata {
        field: "metadata",
        reason: "longer than 4 GiB".into(),
    })?;
    let slot = to.wrap(&data_key, &encoder.slot_aad(context))?;
    // The buffer holds plaintext until it is encrypted in place, so it is
    // zeroizing, and sized up front so that it never reallocates.
    let mut payload = Zeroizing::new(Vec::with_capacity(plaintext.len() + TAG_LEN));
    payload.extend_from_slice(plaintext);
    let tag = data_key
        .cipher()
        .encrypt_inout_detached(
            &nonce.into(),
            &encoder.payload_aad(context),
            payload.as_mut_slice().into(),
        )
        .map_err(|_| SealError::Encryption {
            reason: "payload too large for the cipher".into(),
        })?;
    payload.extend_from_slice(&tag);
    Ok(encoder.finish(&slot, &payload))
}

/// An opened object: its authenticated metadata and its plaintext.
pub struct OpenedObject<'a> {
    /// The metadata section, authenticated.
    pub metadata: &'a [u8],
    /// The decrypted payload, wiped on drop.
    pub plaintext: SecretBytes,
}

impl std::fmt::Debug for OpenedObject<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedObject")
            .field("metadata_bytes", &self.metadata.len())
            .field("plaintext_bytes", &self.plaintext.len())
            .finish()
    }
}

/// Open a sealed object of `kind` that was sealed with `context`.
pub fn open_object<'a>(
    kind: ObjectKind,
    context: &[u8],
    sealed: &'a [u8],
    keys: &dyn KeyProvider,
) -> Result<OpenedObject<'a>, OpenError> {
    let parsed = parse(sealed, kind)?;
    let data_key = unwrap_data_key(&parsed, context, keys)?;
    let plaintext = decrypt_payload(&parsed, context, &data_key)?;
    Ok(OpenedObject {
        metadata: parsed.metadata,
        plaintext,
    })
}

/// Recover the data key; success authenticates the bound header (and so the
/// metadata).
pub(crate) fn unwrap_data_key(
    parsed: &Parsed<'_>,
    context: &[u8],
    keys: &dyn KeyProvider,
) -> Result<DataKey, OpenError> {
    Ok(keys.unwrap(&parsed.slot, &parsed.slot_aad(context))?)
}

pub(crate) fn decrypt_payload(
    parsed: &Parsed<'_>,
    context: &[u8],
    data_key: &DataKey,
) -> Result<SecretBytes, OpenError> {
    let mut plaintext = SecretBytes::new(parsed.ciphertext.to_vec());
    data_key
        .cipher()
        .decrypt_inout_detached(
            &parsed.nonce.into(),
            &parsed.payload_aad(context),
            plaintext.as_mut_slice().into(),
            &parsed.tag.into(),
        )
        .map_err(|_| OpenError::Authentication {
            part: AuthenticatedPart::Payload,
        })?;
    Ok(plaintext)
}
