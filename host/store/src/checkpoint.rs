//! The plaintext encoding of a [`Checkpoint`] inside its sealed snapshot:
//! `version (1) ‖ sequence (u64 LE) ‖ next action id (u64 LE) ‖ snapshot`.

use stratbox_runtime::Checkpoint;
use zeroize::Zeroizing;

const VERSION: u8 = 1;
const HEADER: usize = 1 + 8 + 8;

/// Encode `checkpoint` into a zeroizing buffer (it holds strategy state).
pub(crate) fn encode(checkpoint: &Checkpoint) -> Zeroizing<Vec<u8>> {
    let mut bytes = Zeroizing::new(Vec::with_capacity(HEADER + checkpoint.snapshot.len()));
    bytes.push(VERSION);
    bytes.extend_from_slice(&checkpoint.sequence.to_le_bytes());
    bytes.extend_from_slice(&checkpoint.next_action_id.to_le_bytes());
    bytes.extend_from_slice(&checkpoint.snapshot);
    bytes
}

/// Decode what [`encode`] wrote. The snapshot is copied into a buffer of
/// exactly its size (never reallocated), which the returned [`Checkpoint`]
/// zeroizes when dropped; `bytes` is the caller's zeroizing plaintext.
pub(crate) fn decode(bytes: &[u8]) -> Option<Checkpoint> {
    let (&version, rest) = bytes.split_first()?;
    if version != VERSION {
        return None;
    }
    let (sequence, rest) = rest.split_at_checked(8)?;
    let (next_action_id, snapshot) = rest.split_at_checked(8)?;
    Some(Checkpoint {
        sequence: u64::from_le_bytes(sequence.try_into().ok()?),
        next_action_id: u64::from_le_bytes(next_action_id.try_into().ok()?),
        snapshot: snapshot.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let checkpoint = Checkpoint {
            sequence: 7,
            next_action_id: 42,
            snapshot: b"{\"x\":1}".to_vec(),
        };
        assert_eq!(decode(&encode(&checkpoint)), Some(checkpoint));
        assert_eq!(decode(&[2, 0, 0]), None);
        assert_eq!(decode(&[1, 0, 0]), None);
    }
}
