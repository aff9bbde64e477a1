//! Keys in files: reading them (a secret key file must be private to its
//! owner, and sealed under a passphrase) and writing them without ever
//! overwriting one.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use stratbox_runtime::bundle::{
    DataKey, HostPublicKey, KeyId, KeyProvider, KeySlot, KeyWrapper, SealError, SecretKey,
    UnwrapError,
};
use zeroize::Zeroizing;

use super::error::KeyLoadError;
use super::format::{
    KeyMaterial, KeyText, encode_public_key, open_key_text, parse_key, parse_key_text,
    seal_secret_key,
};
use super::sealed::{KdfParams, Passphrase, SealedKind, seal_secret};

/// A key file is a few dozen bytes; anything bigger is not one.
const MAX_KEY_FILE: u64 = 4096;

/// A secret key loaded from a sealed key file whose permissions were
/// checked.
#[derive(Debug)]
pub struct FileKeyProvider {
    path: PathBuf,
    key: SecretKey,
}

impl FileKeyProvider {
    /// Load the secret key sealed in `path` with `passphrase`. On Unix the
    /// file must not be accessible by group or others. A plaintext secret
    /// key file is refused ([`KeyLoadError::PlaintextSecret`], which says
    /// how to seal it).
    pub fn load(
        path: impl AsRef<Path>,
        passphrase: Option<&Passphrase>,
    ) -> Result<Self, KeyLoadError> {
        let path = path.as_ref();
        let key = read_key(path, passphrase)?.into_secret(&path.display().to_string())?;
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
    match read_key(path, None)? {
        KeyMaterial::Public(public) => Ok(public),
        KeyMaterial::Secret(_) => Err(KeyLoadError::WrongKind {
            origin: path.display().to_string(),
            expected: "an x25519-public key",
            found: "a secret key",
        }),
    }
}

/// Load whatever `path` holds as something to seal for: a public key, or a
/// sealed secret key (its permissions checked, opened with `passphrase`).
pub fn load_wrap_target(
    path: impl AsRef<Path>,
    passphrase: Option<&Passphrase>,
) -> Result<Box<dyn KeyWrapper>, KeyLoadError> {
    let path = path.as_ref();
    Ok(match read_key(path, passphrase)? {
        KeyMaterial::Public(public) => Box::new(public),
        KeyMaterial::Secret(key) => Box::new(FileKeyProvider {
            path: path.to_owned(),
            key,
        }),
    })
}

/// Read a key file; a secret one must be private to its owner and sealed.
fn read_key(path: &Path, passphrase: Option<&Passphrase>) -> Result<KeyMaterial, KeyLoadError> {
    let (text, metadata) = read_text(path)?;
    let origin = path.display().to_string();
    // Permissions first: a sealed or plaintext secret others can read is
    // reported as such before anything else.
    if !matches!(parse_key(&origin, &text), Ok(KeyMaterial::Public(_))) {
        check_private(path, &metadata)?;
    }
    open_key_text(&origin, &text, passphrase, false)
}

/// The bytes of a key file and its metadata.
fn read_text(path: &Path) -> Result<(Zeroizing<Vec<u8>>, fs::Metadata), KeyLoadError> {
    let io = |action| {
        move |source| KeyLoadError::Io {
            action,
            path: path.to_owned(),
            source,
        }
    };
    let file = fs::File::open(path).map_err(io("opening"))?;
    let metadata = file.metadata().map_err(io("reading"))?;
    let mut text = Zeroizing::new(Vec::with_capacity(MAX_KEY_FILE as usize + 64));
    file.take(MAX_KEY_FILE)
        .read_to_end(&mut text)
        .map_err(io("reading"))?;
    Ok((text, metadata))
}

/// Seal the plaintext secret key file `from` (format 1, as older versions
/// wrote) under `passphrase` into the new file `to`. Returns the key's
/// id. `from` is left in place for the caller to delete.
pub fn seal_plaintext_key_file(
    from: impl AsRef<Path>,
    to: impl AsRef<Path>,
    passphrase: &Passphrase,
    params: KdfParams,
) -> Result<KeyId, KeyLoadError> {
    let from = from.as_ref();
    let (text, metadata) = read_text(from)?;
    let origin = from.display().to_string();
    let key = parse_key(&origin, &text)?.into_secret(&origin)?;
    check_private(from, &metadata)?;
    write_secret_key(to, &key, passphrase, params)?;
    Ok(key.id())
}

/// Open the sealed key file `path` (private to its owner) holding a key of
/// kind `kind` with `passphrase`: its 32 secret bytes. For keys the store
/// does not use itself, such as a deployment's signing key. A plaintext
/// file is [`KeyLoadError::PlaintextSecret`].
pub fn open_sealed_file(
    path: impl AsRef<Path>,
    kind: SealedKind,
    passphrase: &Passphrase,
) -> Result<Zeroizing<[u8; 32]>, KeyLoadError> {
    let path = path.as_ref();
    let (text, metadata) = read_text(path)?;
    check_private(path, &metadata)?;
    let origin = path.display().to_string();
    match parse_key_text(&origin, &text) {
        Ok(KeyText::Sealed(sealed)) if sealed.kind() == kind => sealed.open(passphrase),
        Ok(KeyText::Sealed(sealed)) => Err(KeyLoadError::WrongKind {
            origin,
            expected: kind.name(),
            found: sealed.kind().name(),
        }),
        // Anything else (a host key file, hex, ...) is a plaintext secret or
        // not a key file: both are refused, the former with the way out.
        Ok(KeyText::Plain(KeyMaterial::Public(_))) => Err(KeyLoadError::WrongKind {
            origin,
            expected: kind.name(),
            found: "x25519-public",
        }),
        Ok(KeyText::Plain(KeyMaterial::Secret(_))) => Err(KeyLoadError::PlaintextSecret { origin }),
        Err(_) if parse_hex_secret(&text).is_some() => {
            Err(KeyLoadError::PlaintextSecret { origin })
        }
        Err(error) => Err(error),
    }
}

/// Seal the plaintext hex key file `from` (a secp256k1 signing key, with or
/// without `0x`) under `passphrase` into the new file `to`, as kind `kind`
/// named `id`. `from` is left in place for the caller to delete.
pub fn seal_plaintext_hex_file(
    from: impl AsRef<Path>,
    to: impl AsRef<Path>,
    kind: SealedKind,
    id: &str,
    passphrase: &Passphrase,
    params: KdfParams,
) -> Result<(), KeyLoadError> {
    let from = from.as_ref();
    let (text, metadata) = read_text(from)?;
    check_private(from, &metadata)?;
    let secret = parse_hex_secret(&text).ok_or_else(|| KeyLoadError::Malformed {
        origin: from.display().to_string(),
        reason: "expected a 32-byte key in hex (64 hex digits, optionally after 0x)".into(),
    })?;
    write_sealed(to, &seal_secret(kind, id, &secret, passphrase, params)?)
}

/// 32 bytes in hex, optionally after `0x`, surrounded by whitespace.
fn parse_hex_secret(text: &[u8]) -> Option<Zeroizing<[u8; 32]>> {
    let text = std::str::from_utf8(text).ok()?.trim();
    let text = text.strip_prefix("0x").unwrap_or(text);
    let mut bytes = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text, bytes.as_mut_slice()).ok()?;
    Some(bytes)
}

#[cfg(unix)]
pub(crate) fn check_private(path: &Path, metadata: &fs::Metadata) -> Result<(), KeyLoadError> {
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
pub(crate) fn check_private(_path: &Path, _metadata: &fs::Metadata) -> Result<(), KeyLoadError> {
    // Without Unix modes there is nothing portable to check; rely on the
    // directory's ACLs.
    Ok(())
}

/// Write a secret key file, sealed under `passphrase` with Argon2id
/// `params`, readable by its owner only (mode 0600). Refuses to replace an
/// existing file.
pub fn write_secret_key(
    path: impl AsRef<Path>,
    key: &SecretKey,
    passphrase: &Passphrase,
    params: KdfParams,
) -> Result<(), KeyLoadError> {
    write_sealed(path, &seal_secret_key(key, passphrase, params)?)
}

/// Write sealed key-file `text` (from [`seal_secret_key`] or
/// [`seal_secret`](super::seal_secret)) to a new file of mode 0600.
pub fn write_sealed(path: impl AsRef<Path>, text: &str) -> Result<(), KeyLoadError> {
    write_new(path.as_ref(), text.as_bytes(), 0o600)
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
