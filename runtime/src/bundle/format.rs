//! The version-1 binary layout of sealed objects (documented in the module
//! above): parsing, encoding and the associated data each AEAD binds.

use super::error::{AuthenticatedPart, OpenError};
use super::keys::KeyId;
use super::provider::KeySlot;

/// The sealed-object format version this runtime reads and writes.
pub const FORMAT_VERSION: u16 = 1;

/// Length of the payload AEAD nonce (XChaCha20-Poly1305).
pub(crate) const NONCE_LEN: usize = 24;
/// Length of an AEAD tag (Poly1305).
pub(crate) const TAG_LEN: usize = 16;

const MAGIC_LEN: usize = 8;
const VERSION_AT: usize = 8;
const PAYLOAD_ALG_AT: usize = 10;
const WRAP_ALG_AT: usize = 12;
const KEY_ID_AT: usize = 14;
const NONCE_AT: usize = 30;
const METADATA_LEN_AT: usize = 54;
/// Length of the fixed prefix, up to the metadata.
pub(crate) const PREFIX_LEN: usize = 58;

const PAYLOAD_DOMAIN: &[u8] = b"stratbox sealed v1 payload\0";
const SLOT_DOMAIN: &[u8] = b"stratbox sealed v1 key slot\0";

/// What a sealed object holds; its magic says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// A strategy bundle: manifest plus component.
    Bundle,
    /// Compiled native code of a component (the store's artifact cache).
    Artifact,
    /// A deployment's checkpoint.
    Snapshot,
    /// A host's record that it imported a bundle (the store's bundle
    /// receipts): sealed under a key only the host holds, so a bundle
    /// written into the store by anyone else has none.
    Receipt,
}

impl ObjectKind {
    const ALL: [ObjectKind; 4] = [
        ObjectKind::Bundle,
        ObjectKind::Artifact,
        ObjectKind::Snapshot,
        ObjectKind::Receipt,
    ];

    // The kind-specific halves differ in every byte, so no single-byte change
    // turns one kind into another.
    fn magic(self) -> [u8; MAGIC_LEN] {
        *match self {
            ObjectKind::Bundle => b"SBX\0BNDL",
            ObjectKind::Artifact => b"SBX\0ARTF",
            ObjectKind::Snapshot => b"SBX\0SNAP",
            ObjectKind::Receipt => b"SBX\0RCPT",
        }
    }

    /// Whether `bytes` start with this kind's magic (for dispatching on file
    /// contents).
    pub fn matches(self, bytes: &[u8]) -> bool {
        bytes.starts_with(&self.magic())
    }
}

impl std::fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ObjectKind::Bundle => "bundle",
            ObjectKind::Artifact => "compiled artifact",
            ObjectKind::Snapshot => "snapshot",
            ObjectKind::Receipt => "bundle receipt",
        })
    }
}

/// How the payload is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadAlgorithm {
    /// XChaCha20-Poly1305 with a random 192-bit nonce.
    XChaCha20Poly1305,
}

impl PayloadAlgorithm {
    fn id(self) -> u16 {
        match self {
            PayloadAlgorithm::XChaCha20Poly1305 => 0x5843,
        }
    }

    fn from_id(id: u16) -> Option<Self> {
        (id == 0x5843).then_some(PayloadAlgorithm::XChaCha20Poly1305)
    }
}

impl std::fmt::Display for PayloadAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("XChaCha20-Poly1305")
    }
}

/// How the data key is wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WrapAlgorithm {
    /// XChaCha20-Poly1305 under a symmetric key-encryption key.
    Kek,
    /// HPKE base mode to an X25519 public key (DHKEM(X25519, HKDF-SHA256),
    /// HKDF-SHA256, ChaCha20-Poly1305).
    HpkeX25519,
}

impl WrapAlgorithm {
    // The two ids differ in both bytes, so no single-byte change turns one
    // into the other.
    pub(crate) fn id(self) -> u16 {
        match self {
            WrapAlgorithm::Kek => 0x4B57,
            WrapAlgorithm::HpkeX25519 => 0x4850,
        }
    }

    fn from_id(id: u16) -> Option<Self> {
        match id {
            0x4B57 => Some(WrapAlgorithm::Kek),
            0x4850 => Some(WrapAlgorithm::HpkeX25519),
            _ => None,
        }
    }

    /// Length of this algorithm's key-slot body.
    pub(crate) fn slot_len(self) -> usize {
        match self {
            WrapAlgorithm::Kek => NONCE_LEN + 32 + TAG_LEN,
            WrapAlgorithm::HpkeX25519 => 32 + 32 + TAG_LEN,
        }
    }
}

impl std::fmt::Display for WrapAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WrapAlgorithm::Kek => "KEK (XChaCha20-Poly1305)",
            WrapAlgorithm::HpkeX25519 => "HPKE X25519-HKDF-SHA256 ChaCha20-Poly1305",
        })
    }
}

/// The routing information of a sealed object, read without any key. Not
/// authenticated: use it to pick a key or to show what an object claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedHeader {
    /// What the object holds.
    pub kind: ObjectKind,
    /// Format version.
    pub format_version: u16,
    /// Payload encryption.
    pub payload_algorithm: PayloadAlgorithm,
    /// Data-key wrapping.
    pub wrap_algorithm: WrapAlgorithm,
    /// The key-encryption key or recipient the data key is wrapped for.
    pub key_id: KeyId,
    /// Length of the metadata section.
    pub metadata_bytes: usize,
    /// Length of the payload ciphertext, tag included.
    pub payload_bytes: usize,
}

/// A sealed object split into its fields, borrowing the input.
pub(crate) struct Parsed<'a> {
    pub header: SealedHeader,
    pub slot: KeySlot,
    pub metadata: &'a [u8],
    pub nonce: [u8; NONCE_LEN],
    /// Payload ciphertext, without the tag.
    pub ciphertext: &'a [u8],
    pub tag: [u8; TAG_LEN],
    bytes: &'a [u8],
}

fn truncated() -> OpenError {
    OpenError::Authentication {
        part: AuthenticatedPart::Structure,
    }
}

fn u16_at(bytes: &[u8], at: usize) -> Result<u16, OpenError> {
    bytes
        .get(at..at + 2)
        .and_then(|b| b.try_into().ok())
        .map(u16::from_be_bytes)
        .ok_or_else(truncated)
}

fn array_at<const N: usize>(bytes: &[u8], at: usize) -> Result<[u8; N], OpenError> {
    bytes
        .get(at..at + N)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(truncated)
}

/// Read the routing fields of a sealed object of kind `expected`, in the
/// order that makes each error precise: magic, version, algorithms, key id,
/// then the lengths.
pub(crate) fn parse(bytes: &[u8], expected: ObjectKind) -> Result<Parsed<'_>, OpenError> {
    let magic = &bytes[..bytes.len().min(MAGIC_LEN)];
    if !expected.magic().starts_with(magic) {
        return Err(
            match ObjectKind::ALL.into_iter().find(|kind| kind.matches(bytes)) {
                Some(found) => OpenError::WrongKind { expected, found },
                None => OpenError::NotSealed { expected },
            },
        );
    }
    if magic.len() < MAGIC_LEN {
        return Err(truncated());
    }
    let version = u16_at(bytes, VERSION_AT)?;
    if version != FORMAT_VERSION {
        return Err(OpenError::UnknownFormatVersion {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let payload_id = u16_at(bytes, PAYLOAD_ALG_AT)?;
    let payload_algorithm =
        PayloadAlgorithm::from_id(payload_id).ok_or(OpenError::UnknownAlgorithm {
            field: "payload",
            id: payload_id,
        })?;
    let wrap_id = u16_at(bytes, WRAP_ALG_AT)?;
    let wrap_algorithm = WrapAlgorithm::from_id(wrap_id).ok_or(OpenError::UnknownAlgorithm {
        field: "key-wrap",
        id: wrap_id,
    })?;
    let key_id = KeyId::from_bytes(array_at(bytes, KEY_ID_AT)?);
    let nonce = array_at(bytes, NONCE_AT)?;
    let metadata_len = usize::try_from(u32::from_be_bytes(array_at(bytes, METADATA_LEN_AT)?))
        .map_err(|_| truncated())?;
    let slot_at = PREFIX_LEN.checked_add(metadata_len).ok_or_else(truncated)?;
    let payload_at = slot_at
        .checked_add(wrap_algorithm.slot_len())
        .ok_or_else(truncated)?;
    let metadata = bytes.get(PREFIX_LEN..slot_at).ok_or_else(truncated)?;
    let slot_body = bytes.get(slot_at..payload_at).ok_or_else(truncated)?;
    let payload = bytes.get(payload_at..).ok_or_else(truncated)?;
    let tag_at = payload.len().checked_sub(TAG_LEN).ok_or_else(truncated)?;
    let (ciphertext, tag) = payload.split_at(tag_at);
    Ok(Parsed {
        header: SealedHeader {
            kind: expected,
            format_version: version,
            payload_algorithm,
            wrap_algorithm,
            key_id,
            metadata_bytes: metadata_len,
            payload_bytes: payload.len(),
        },
        slot: KeySlot::from_body(wrap_algorithm, key_id, slot_body).ok_or_else(truncated)?,
        metadata,
        nonce,
        ciphertext,
        tag: tag.try_into().map_err(|_| truncated())?,
        bytes,
    })
}

impl Parsed<'_> {
    /// Associated data of the payload AEAD.
    pub fn payload_aad(&self, context: &[u8]) -> Vec<u8> {
        bound_header(PAYLOAD_DOMAIN, self.bytes, self.metadata.len(), context)
    }

    /// Associated data of the key slot.
    pub fn slot_aad(&self, context: &[u8]) -> Vec<u8> {
        bound_header(SLOT_DOMAIN, self.bytes, self.metadata.len(), context)
    }

    /// The sealed bytes from the start up to the key-wrap id, and from the
    /// payload nonce to the end of the metadata: what a rekey keeps.
    pub fn kept_prefix(&self) -> (&[u8], &[u8]) {
        (
            &self.bytes[..WRAP_ALG_AT],
            &self.bytes[NONCE_AT..PREFIX_LEN + self.metadata.len()],
        )
    }

    /// The payload ciphertext with its tag.
    pub fn sealed_payload(&self) -> &[u8] {
        &self.bytes[self.bytes.len() - self.header.payload_bytes..]
    }
}

/// `domain ‖ magic ‖ version ‖ payload id ‖ nonce ‖ M ‖ metadata ‖
/// len(context) ‖ context`, taken from the encoded bytes so that what is
/// authenticated is exactly what is stored.
fn bound_header(domain: &[u8], encoded: &[u8], metadata_len: usize, context: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(domain.len() + PREFIX_LEN + metadata_len + 4 + context.len());
    aad.extend_from_slice(domain);
    aad.extend_from_slice(&encoded[..WRAP_ALG_AT]);
    aad.extend_from_slice(&encoded[NONCE_AT..PREFIX_LEN + metadata_len]);
    aad.extend_from_slice(
        &u32::try_from(context.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    aad.extend_from_slice(context);
    aad
}

/// Writes a sealed object in two steps: the header (from which both AADs
/// are taken), then the slot and payload.
pub(crate) struct Encoder {
    bytes: Vec<u8>,
    metadata_len: usize,
}

impl Encoder {
    /// Start an object; the wrap id and key id are filled in by
    /// [`Encoder::finish`].
    pub fn new(
        kind: ObjectKind,
        nonce: &[u8; NONCE_LEN],
        metadata: &[u8],
    ) -> Result<Self, std::num::TryFromIntError> {
        let metadata_len = u32::try_from(metadata.len())?;
        let mut bytes = Vec::with_capacity(PREFIX_LEN + metadata.len());
        bytes.extend_from_slice(&kind.magic());
        bytes.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
        bytes.extend_from_slice(&PayloadAlgorithm::XChaCha20Poly1305.id().to_be_bytes());
        bytes.extend_from_slice(&[0; 2 + 16]);
        bytes.extend_from_slice(nonce);
        bytes.extend_from_slice(&metadata_len.to_be_bytes());
        bytes.extend_from_slice(metadata);
        Ok(Encoder {
            bytes,
            metadata_len: metadata.len(),
        })
    }

    /// Associated data of the payload AEAD.
    pub fn payload_aad(&self, context: &[u8]) -> Vec<u8> {
        bound_header(PAYLOAD_DOMAIN, &self.bytes, self.metadata_len, context)
    }

    /// Associated data of the key slot.
    pub fn slot_aad(&self, context: &[u8]) -> Vec<u8> {
        bound_header(SLOT_DOMAIN, &self.bytes, self.metadata_len, context)
    }

    /// Append the slot and the payload (ciphertext ‖ tag).
    pub fn finish(mut self, slot: &KeySlot, sealed_payload: &[u8]) -> Vec<u8> {
        self.bytes[WRAP_ALG_AT..WRAP_ALG_AT + 2]
            .copy_from_slice(&slot.algorithm().id().to_be_bytes());
        self.bytes[KEY_ID_AT..NONCE_AT].copy_from_slice(slot.key_id().as_bytes());
        self.bytes.reserve(slot.body_len() + sealed_payload.len());
        slot.write_body(&mut self.bytes);
        self.bytes.extend_from_slice(sealed_payload);
        self.bytes
    }
}

/// Re-encode `parsed` with a new key slot, keeping the bound header and the
/// payload bytes as they are.
pub(crate) fn replace_slot(parsed: &Parsed<'_>, slot: &KeySlot) -> Vec<u8> {
    let (head, rest) = parsed.kept_prefix();
    let payload = parsed.sealed_payload();
    let mut bytes =
        Vec::with_capacity(head.len() + 18 + rest.len() + slot.body_len() + payload.len());
    bytes.extend_from_slice(head);
    bytes.extend_from_slice(&slot.algorithm().id().to_be_bytes());
    bytes.extend_from_slice(slot.key_id().as_bytes());
    bytes.extend_from_slice(rest);
    slot.write_body(&mut bytes);
    bytes.extend_from_slice(payload);
    bytes
}

/// Read the routing header of a sealed object of kind `expected` without
/// any key. Nothing in it is authenticated.
pub fn read_header(bytes: &[u8], expected: ObjectKind) -> Result<SealedHeader, OpenError> {
    parse(bytes, expected).map(|parsed| parsed.header)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sizes in the format table of `bundle/mod.rs` are the ones the
    /// code reads and writes.
    #[test]
    fn the_documented_layout_matches_the_code() {
        let doc = include_str!("mod.rs");
        let row = |field: &str| -> Vec<String> {
            let line = doc
                .lines()
                .find(|line| line.starts_with("//! |") && line.contains(field))
                .unwrap_or_else(|| panic!("no `{field}` row in the format table"));
            line.trim_start_matches("//!")
                .split('|')
                .map(|cell| cell.trim().to_owned())
                .filter(|cell| !cell.is_empty())
                .collect()
        };
        let slot = row("key slot: KEK");
        assert_eq!(slot[0], "58+`M`");
        assert_eq!(
            slot[1],
            format!(
                "{} or {}",
                WrapAlgorithm::Kek.slot_len(),
                WrapAlgorithm::HpkeX25519.slot_len()
            )
        );
        assert_eq!(WrapAlgorithm::Kek.slot_len(), 72);
        assert_eq!(WrapAlgorithm::HpkeX25519.slot_len(), 80);
        // The parts named in the row add up to each slot.
        assert!(slot[2].contains("wrap nonce (24) ‖ wrapped data key (48)"));
        assert!(slot[2].contains("encapsulated key (32) ‖ sealed data key (48)"));
        assert_eq!(NONCE_LEN + 32 + TAG_LEN, 24 + 48);
        assert_eq!(32 + 32 + TAG_LEN, 32 + 48);

        for (field, offset, size) in [
            ("format version", VERSION_AT, 2),
            ("payload AEAD id", PAYLOAD_ALG_AT, 2),
            ("key-wrap id", WRAP_ALG_AT, 2),
            ("key id of the KEK", KEY_ID_AT, 16),
            ("payload nonce", NONCE_AT, NONCE_LEN),
            ("metadata length", METADATA_LEN_AT, 4),
        ] {
            let cells = row(field);
            assert_eq!(cells[0], offset.to_string(), "offset of {field}");
            assert_eq!(cells[1], size.to_string(), "size of {field}");
        }
        assert_eq!(row("magic")[1], MAGIC_LEN.to_string());
        assert_eq!(row("metadata: for a bundle")[0], PREFIX_LEN.to_string());
        assert_eq!(METADATA_LEN_AT + 4, PREFIX_LEN);
    }
}
