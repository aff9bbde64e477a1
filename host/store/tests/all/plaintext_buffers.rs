//! Plaintext the store hands back (compiled code, strategy state) comes in
//! buffers that are zeroized when dropped. Checked at the type level: a
//! revert to plain `Vec`s stops this file from compiling.

use stratbox_runtime::{ArtifactCache, Checkpoint, SecretBytes};
use zeroize::ZeroizeOnDrop;

use crate::support::{host_key, store};

fn zeroized_on_drop<T: ZeroizeOnDrop>(_: &T) {}

#[test]
fn compiled_code_and_checkpoints_come_back_in_zeroizing_buffers() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path(), &host_key());

    let cache = store.artifact_cache();
    let key = "e".repeat(64);
    cache.put(&key, b"compiled code").unwrap();
    let code: SecretBytes = cache.get(&key).unwrap().unwrap();
    zeroized_on_drop(&code);
    assert_eq!(&*code, b"compiled code");

    let checkpoint = Checkpoint {
        sequence: 1,
        next_action_id: 2,
        snapshot: b"private state".to_vec(),
    };
    store.save_checkpoint("dep", &checkpoint).unwrap();
    let restored = store.load_checkpoint("dep").unwrap().unwrap();
    zeroized_on_drop(&restored);
    assert_eq!(restored, checkpoint);
}
