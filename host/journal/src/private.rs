//! Owner-only files: journals and control databases hold strategy
//! outputs, policy state, signed transactions and token hashes.

use std::path::Path;

/// Make `path` readable and writable by its owner only (mode 0600,
/// whatever the umask); with `create`, create it empty (and owner-only from
/// the start) if missing. A file of another user that cannot be changed is
/// left as it is, with a warning (reading someone else's journal). A path
/// that is not a regular file is left to whoever opens it to complain about.
#[cfg(unix)]
pub fn private_file(path: &Path, create: bool) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if create {
        let created = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path);
        match created {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    let mode = match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => return Ok(()),
        Ok(meta) => meta.permissions().mode() & 0o777,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !create => return Ok(()),
        Err(e) => return Err(e),
    };
    if mode == 0o600 {
        return Ok(());
    }
    match std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            tracing::warn!(path = %path.display(), mode = format!("{mode:o}"), "file is not private and not ours to change");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Elsewhere the file's access is the directory's business.
#[cfg(not(unix))]
pub fn private_file(_path: &Path, _create: bool) -> std::io::Result<()> {
    Ok(())
}
