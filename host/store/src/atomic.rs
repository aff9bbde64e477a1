//! Crash-safe writes inside the store: write a temporary file, fsync it,
//! rename it over the target, fsync the directory.

use std::io::{self, Write};

use cap_std::fs::{Dir, OpenOptions};

/// Suffix of in-flight temporary files.
pub(crate) const TEMP_SUFFIX: &str = ".tmp";

/// Write `bytes` to `dir/name` atomically, staging them in `tmp` (on the
/// same file system): readers see the old file or the new one, never a torn
/// one, even across a crash.
pub(crate) fn write_atomically(tmp: &Dir, dir: &Dir, name: &str, bytes: &[u8]) -> io::Result<()> {
    let mut suffix = [0u8; 12];
    getrandom::fill(&mut suffix).map_err(io::Error::other)?;
    let temp_name = format!("{}{TEMP_SUFFIX}", hex::encode(suffix));
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use cap_std::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = tmp.open_with(&temp_name, &options).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        tmp.rename(&temp_name, dir, name)?;
        sync_dir(dir)
    });
    if result.is_err() {
        // Best effort: a leftover holds ciphertext only and is removed when
        // the store is next opened.
        let _ = tmp.remove_file(&temp_name);
    }
    result
}

/// Make a rename or removal in `dir` durable.
pub(crate) fn sync_dir(dir: &Dir) -> io::Result<()> {
    // `Dir` handles are path-only descriptors on Linux, which cannot be
    // fsynced; a read-only handle on "." can.
    dir.open(".")?.sync_all()
}

/// Remove temporary files left by writes that never completed (a crash).
/// Returns how many were removed.
pub(crate) fn remove_leftovers(tmp: &Dir) -> io::Result<usize> {
    let mut removed = 0;
    for entry in tmp.entries()? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().ends_with(TEMP_SUFFIX) {
            tmp.remove_file(entry.file_name())?;
            removed += 1;
        }
    }
    Ok(removed)
}
