//! Plaintext buffers that hold an author's secret (a component, its compiled
//! code) and are wiped when dropped.

use std::ops::Deref;

use zeroize::{Zeroize, ZeroizeOnDrop};

/// Bytes that are overwritten with zeros when dropped, spare capacity
/// included.
///
/// `Zeroizing<Vec<u8>>` does the same one byte per volatile write, which for
/// the megabytes of a component and its compiled code was a measurable part
/// of a cold start (BENCHMARKS.md); this wipes eight bytes per write.
#[derive(Clone, Default)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Take ownership of `bytes`; they are wiped when this is dropped.
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretBytes(bytes)
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, for decrypting in place.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.0
    }
}

impl Deref for SecretBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for SecretBytes {
    fn from(bytes: Vec<u8>) -> Self {
        SecretBytes(bytes)
    }
}

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the bytes themselves.
        write!(f, "SecretBytes({} bytes)", self.0.len())
    }
}

impl Zeroize for SecretBytes {
    fn zeroize(&mut self) {
        // Spare capacity may still hold plaintext (a truncated tag, an
        // earlier length): bring it into the slice so it is wiped too.
        self.0.resize(self.0.capacity(), 0);
        wipe(&mut self.0);
        self.0.clear();
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for SecretBytes {}

/// Overwrite `bytes` with zeros by volatile writes, eight bytes at a time
/// where the slice is aligned for it.
fn wipe(bytes: &mut [u8]) {
    let (head, words, tail) = bytemuck::pod_align_to_mut::<u8, u64>(bytes);
    head.zeroize();
    words.zeroize();
    tail.zeroize();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wiping_zeroes_every_byte_of_an_unaligned_slice() {
        let mut bytes: Vec<u8> = (1..=255).collect();
        wipe(&mut bytes[3..250]);
        assert!(bytes[3..250].iter().all(|&b| b == 0));
        assert_eq!(&bytes[..3], &[1, 2, 3]);
        assert_eq!(&bytes[250..], &[251, 252, 253, 254, 255]);
    }

    #[test]
    fn zeroizing_empties_the_buffer_and_debug_hides_the_bytes() {
        let mut secret = SecretBytes::new(b"compiled code".to_vec());
        assert_eq!(format!("{secret:?}"), "SecretBytes(13 bytes)");
        secret.zeroize();
        assert!(secret.is_empty());
    }
}
