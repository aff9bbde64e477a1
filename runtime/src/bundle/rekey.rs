//! Re-wrapping a sealed object's data key for a new key, leaving its
//! payload ciphertext byte for byte as it was.

use super::envelope::unwrap_data_key;
use super::error::{OpenError, SealError};
use super::format::{ObjectKind, parse, replace_slot};
use super::provider::{KeyProvider, KeyWrapper};

/// Why [`rekey`] failed: the old slot did not open, or the new one could not
/// be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RekeyError {
    /// The object could not be opened with the old key.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The data key could not be wrapped for the new key.
    #[error(transparent)]
    Seal(#[from] SealError),
}

/// Re-wrap a bundle's data key: unwrap it with `keys` (authenticating the
/// header and manifest), wrap it for `to`, and keep the payload ciphertext
/// unchanged. The old key no longer opens the result.
pub fn rekey(
    bundle: &[u8],
    keys: &dyn KeyProvider,
    to: &dyn KeyWrapper,
) -> Result<Vec<u8>, RekeyError> {
    rekey_object(ObjectKind::Bundle, &[], bundle, keys, to)
}

/// [`rekey`] for any sealed object, with the context it was sealed with.
pub fn rekey_object(
    kind: ObjectKind,
    context: &[u8],
    sealed: &[u8],
    keys: &dyn KeyProvider,
    to: &dyn KeyWrapper,
) -> Result<Vec<u8>, RekeyError> {
    let parsed = parse(sealed, kind)?;
    let data_key = unwrap_data_key(&parsed, context, keys)?;
    // The slot's associated data leaves out the wrap id and key id, so it is
    // the same for the new slot.
    let slot = to.wrap(&data_key, &parsed.slot_aad(context))?;
    Ok(replace_slot(&parsed, &slot))
}
