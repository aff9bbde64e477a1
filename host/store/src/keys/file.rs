//! Keys in files: reading them (a secret key file must be private to its
//! owner) and writing them without ever overwriting one.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use stratbox_runtime::bundle::{
    DataKey, HostPublicKey, KeyId, KeyProvider, KeySlot, KeyWrapper, SealError, SecretKey,
    UnwrapError,
};
use zeroize::Zeroizing;

use super::error::KeyLoadError;
use super::format::{KeyMaterial, encode_public_key, encode_secret_key, parse_key};

/// A key file is a few dozen bytes; anything bigger is not one.
const MAX_KEY_FILE: u64 = 4096;

/// A secret key loaded from a key file whose permissions were checked.
#[derive(Debug)]
pub struct FileKeyProvider {
    path: PathBuf,
    key: SecretKey,
}

impl FileKeyProvider {
    /// Load the secret key in `path`. On Unix the file must not be
    /// accessible by group or others.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, KeyLoadError> {
        let path = path.as_ref();
        let key = read_key(path)?.into_secret(&path.display().to_string())?;
        Ok(FileKeyProvider {
            path: path.to_owned(),
            key,
        })
    }

    /// The key file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The key's id.
    pub fn id(&self) -> KeyId {
        self.key.id()
    }

    /// The key itself.
    pub fn key(&self) -> &SecretKey {
        &self.key
    }
}

impl KeyProvider for FileKeyProvider {
    fn unwrap(&self, slot: &KeySlot, aad: &[u8]) -> Result<DataKey, UnwrapError> {
        self.key.unwrap(slot, aad)
    }
}

impl KeyWrapper for FileKeyProvider {
    fn wrap(&self, data_key: &DataKey, aad: &[u8]) -> Result<KeySlot, SealError> {
        self.key.wrap(data_key, aad)
    }
}

/// Load a host's public key (from `stratbox keygen --kind x25519`).
pub fn load_public_key(path: impl AsRef<Path>) -> Result<HostPublicKey, KeyLoadError> {
    let path = path.as_ref();
    match read_key(path)? {
        KeyMaterial::Public(public) => Ok(public),
        KeyMaterial::Secret(_) => Err(KeyLoadError::WrongKind {
            origin: path.display().to_string(),
            expected: "an x25519-public key",
            found: "a secret key",
        }),
    }
}

/// Load whatever `path` holds as something to seal for: a public key, or a
/// secret key (its permissions checked).
pub fn load_wrap_target(path: impl AsRef<Path>) -> Result<Box<dyn KeyWrapper>, KeyLoadError> {
    let path = path.as_ref();
    Ok(match read_key(path)? {
        KeyMaterial::Public(public) => Box::new(public),
        KeyMaterial::Secret(key) => Box::new(FileKeyProvider {
            path: path.to_owned(),
            key,
        }),
    })
}

/// Read a key file; a secret one must be private to its owner.
fn read_key(path: &Path) -> Result<KeyMaterial, KeyLoadError> {
    let io = |action| {
        move |source| KeyLoadError::Io {
            action,
            path: path.to_owned(),
            source,
        }
    };
    let file = fs::File::open(path).map_err(io("opening"))?;
    let metadata = file.metadata().map_err(io("reading"))?;
    let mut text = Zeroizing::new(Vec::with_capacity(512));
    file.take(MAX_KEY_FILE)
        .read_to_end(&mut text)
        .map_err(io("reading"))?;
    let origin = path.display().to_string();
    let material = parse_key(&origin, &text)?;
    if let KeyMaterial::Secret(_) = material {
        check_private(path, &metadata)?;
    }
    Ok(material)
}

#[cfg(unix)]
fn check_private(path: &Path, metadata: &fs::Metadata) -> Result<(), KeyLoadError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(KeyLoadError::Permissions {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _metadata: &fs::Metadata) -> Result<(), KeyLoadError> {
    // Without Unix modes there is nothing portable to check; rely on the
    // directory's ACLs.
    Ok(())
}

/// Write a secret key file readable by its owner only (mode 0600). Refuses
/// to replace an existing file.
pub fn write_secret_key(path: impl AsRef<Path>, key: &SecretKey) -> Result<(), KeyLoadError> {
    write_new(path.as_ref(), encode_secret_key(key).as_bytes(), 0o600)
}

/// Write a public key file (mode 0644). Refuses to replace an existing file.
pub fn write_public_key(path: impl AsRef<Path>, key: &HostPublicKey) -> Result<(), KeyLoadError> {
    write_new(path.as_ref(), encode_public_key(key).as_bytes(), 0o644)
}

/// Write `bytes` to a temporary file next to `path`, fsync it, then link it
/// into place, which fails rather than replace an existing key.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeyLoadError> {
    let io = |action| {
        move |source| KeyLoadError::Io {
            action,
            path: path.to_owned(),
            source,
        }
    };
    if path.exists() {
        return Err(KeyLoadError::Exists {
            path: path.to_owned(),
        });
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(|e| io("writing")(std::io::Error::other(e)))?;
    let temp = dir.join(format!(".stratbox-key-{}.tmp", hex::encode(suffix)));
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let written = options
        .open(&temp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| fs::hard_link(&temp, path));
    let _ = fs::remove_file(&temp);
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(KeyLoadError::Exists {
                path: path.to_owned(),
            });
        }
        Err(e) => return Err(io("writing")(e)),
    }
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("syncing the directory of"))
}
