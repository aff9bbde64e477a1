//! Secret keys at rest: sealed under a key derived from a passphrase with
//! Argon2id, the parameters stored beside the sealed key, and the whole
//! file authenticated (XChaCha20-Poly1305, the runtime's [`Kek`] wrap).
//!
//! A sealed key file is one line of JSON:
//!
//! ```text
//! {"format":2,"kind":"x25519-secret","id":"<key id>",
//!  "kdf":{"algorithm":"argon2id","version":19,"memory_kib":65536,"iterations":3,"parallelism":1,"salt":"<32 hex bytes>"},
//!  "cipher":"xchacha20poly1305","nonce":"<24 hex bytes>","sealed_key":"<48 hex bytes>"}
//! ```
//!
//! `kind` is `kek`, `x25519-secret` (host keys) or `secp256k1-secret` (a
//! deployment's signing key). Every field but the sealed key itself is
//! bound into the AEAD's associated data, so a changed parameter, kind or
//! id fails to open exactly like a wrong passphrase.

use std::path::Path;

use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use stratbox_runtime::bundle::{DataKey, Kek, KeyProvider, KeySlot, KeyWrapper};
use zeroize::Zeroizing;

use super::error::KeyLoadError;

/// The sealed key-file format version.
pub(crate) const SEALED_FORMAT: u32 = 2;
const AAD_DOMAIN: &str = "stratbox sealed key file v2";
const SALT_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const SEALED_LEN: usize = 48;
/// Longest passphrase read from a file or variable.
const MAX_PASSPHRASE: usize = 1024;

/// A passphrase that unseals key files; wiped on drop, never printed.
pub struct Passphrase(Zeroizing<String>);

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(..)")
    }
}

impl Passphrase {
    /// A passphrase given as text (`origin` names it in errors). Refuses an
    /// empty one.
    pub fn new(text: Zeroizing<String>, origin: &str) -> Result<Self, KeyLoadError> {
        if text.is_empty() {
            return Err(KeyLoadError::EmptyPassphrase {
                origin: origin.to_owned(),
            });
        }
        if text.len() > MAX_PASSPHRASE {
            return Err(KeyLoadError::Malformed {
                origin: origin.to_owned(),
                reason: format!("a passphrase is at most {MAX_PASSPHRASE} bytes"),
            });
        }
        Ok(Passphrase(text))
    }

    /// Read the passphrase from environment variable `var`, then remove the
    /// variable from this process's environment so that nothing started
    /// later (or reading `/proc/self/environ`) sees it.
    ///
    /// Call it before the process starts other threads: changing the
    /// environment while another thread reads it is undefined behaviour on
    /// some platforms.
    pub fn from_env(var: &str) -> Result<Self, KeyLoadError> {
        let value = take_env(var)?;
        let origin = format!("environment variable {var}");
        let text = std::str::from_utf8(&value).map_err(|_| KeyLoadError::Malformed {
            origin: origin.clone(),
            reason: "the passphrase is not UTF-8".into(),
        })?;
        Self::new(Zeroizing::new(text.to_owned()), &origin)
    }

    /// Read the passphrase from the first line of `path`, which must be
    /// private to its owner (like a key file).
    pub fn from_file(path: &Path) -> Result<Self, KeyLoadError> {
        let io = |action| {
            move |source| KeyLoadError::Io {
                action,
                path: path.to_owned(),
                source,
            }
        };
        let file = std::fs::File::open(path).map_err(io("opening"))?;
        let metadata = file.metadata().map_err(io("reading"))?;
        super::file::check_private(path, &metadata)?;
        let mut bytes = Zeroizing::new(Vec::with_capacity(MAX_PASSPHRASE + 2));
        std::io::Read::read_to_end(
            &mut std::io::Read::take(file, MAX_PASSPHRASE as u64 + 2),
            &mut bytes,
        )
        .map_err(io("reading"))?;
        let origin = path.display().to_string();
        let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = std::str::from_utf8(line).map_err(|_| KeyLoadError::Malformed {
            origin: origin.clone(),
            reason: "the passphrase is not UTF-8".into(),
        })?;
        Self::new(Zeroizing::new(text.to_owned()), &origin)
    }

    fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// Values taken out of the environment by [`take_env`], for later reads in
/// this process.
static TAKEN: std::sync::Mutex<std::collections::BTreeMap<String, Zeroizing<Vec<u8>>>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// Read environment variable `var` and remove it from the environment, so
/// that nothing the process starts later (a child, a crash reporter
/// reading `/proc/self/environ`) sees it. The value is kept in memory
/// (zeroized on exit of the process's use of it) so that a later read of
/// the same variable in this process, e.g. a reconnect or a second
/// deployment naming the same variable, still gets it.
///
/// Call it at start-up, before the process starts threads that may read
/// the environment through C code: removing a variable while another
/// thread calls `getenv` is undefined behaviour on some platforms.
pub fn take_env(var: &str) -> Result<Zeroizing<Vec<u8>>, KeyLoadError> {
    let mut taken = TAKEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(value) = taken.get(var) {
        return Ok(Zeroizing::new(value.to_vec()));
    }
    let value = std::env::var_os(var).ok_or_else(|| KeyLoadError::MissingVariable {
        var: var.to_owned(),
    })?;
    // SAFETY: `remove_var` is unsafe because another thread may read the
    // environment at the same time. Rust's own readers are serialized with
    // it by the standard library; the loaders are documented to run at
    // start-up, before threads that read the environment from C exist (the
    // CLI loads keys before its worker threads start).
    #[allow(unsafe_code)]
    unsafe {
        std::env::remove_var(var);
    }
    let value = Zeroizing::new(value.into_encoded_bytes());
    taken.insert(var.to_owned(), Zeroizing::new(value.to_vec()));
    Ok(value)
}

/// Argon2id cost parameters, stored in each sealed key file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KdfParams {
    /// Memory, in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane (RFC 9106's second recommended option,
    /// single-lane).
    fn default() -> Self {
        KdfParams {
            memory_kib: 64 * 1024,
            iterations: 3,
            parallelism: 1,
        }
    }
}

impl KdfParams {
    /// The least this build accepts: 19 MiB, 2 passes (OWASP's minimum for
    /// Argon2id).
    pub const MIN_MEMORY_KIB: u32 = 19 * 1024;
    /// The most this build accepts (a file cannot make loading take more
    /// than 4 GiB).
    pub const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;

    fn check(&self, origin: &str) -> Result<Params, KeyLoadError> {
        let bad = |reason: String| KeyLoadError::Malformed {
            origin: origin.to_owned(),
            reason,
        };
        if !(Self::MIN_MEMORY_KIB..=Self::MAX_MEMORY_KIB).contains(&self.memory_kib) {
            return Err(bad(format!(
                "argon2id memory {} KiB is outside {}..={} KiB",
                self.memory_kib,
                Self::MIN_MEMORY_KIB,
                Self::MAX_MEMORY_KIB
            )));
        }
        if !(2..=64).contains(&self.iterations) {
            return Err(bad(format!(
                "argon2id iterations {} is outside 2..=64",
                self.iterations
            )));
        }
        if !(1..=16).contains(&self.parallelism) {
            return Err(bad(format!(
                "argon2id parallelism {} is outside 1..=16",
                self.parallelism
            )));
        }
        Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32))
            .map_err(|e| bad(format!("argon2id parameters: {e}")))
    }
}

/// What a sealed key file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SealedKind {
    /// A symmetric key-encryption key.
    Kek,
    /// A host's X25519 secret key.
    X25519Secret,
    /// A deployment's secp256k1 signing key.
    Secp256k1Secret,
}

impl SealedKind {
    /// The `kind` field's value.
    pub fn name(self) -> &'static str {
        match self {
            SealedKind::Kek => "kek",
            SealedKind::X25519Secret => "x25519-secret",
            SealedKind::Secp256k1Secret => "secp256k1-secret",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum KdfAlgorithm {
    Argon2id,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Cipher {
    Xchacha20poly1305,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KdfSection {
    algorithm: KdfAlgorithm,
    version: u32,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    salt: String,
}

impl KdfSection {
    fn params(&self) -> KdfParams {
        KdfParams {
            memory_kib: self.memory_kib,
            iterations: self.iterations,
            parallelism: self.parallelism,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SealedKeyFile {
    format: u32,
    kind: SealedKind,
    id: String,
    kdf: KdfSection,
    cipher: Cipher,
    nonce: String,
    sealed_key: String,
}

/// A sealed key, parsed but not opened.
pub struct SealedKey {
    origin: String,
    kind: SealedKind,
    id: String,
    params: KdfParams,
    salt: [u8; SALT_LEN],
    nonce: [u8; NONCE_LEN],
    sealed: [u8; SEALED_LEN],
}

impl std::fmt::Debug for SealedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedKey")
            .field("origin", &self.origin)
            .field("kind", &self.kind)
            .field("id", &self.id)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

fn associated_data(kind: SealedKind, id: &str, params: &KdfParams, salt: &[u8]) -> Vec<u8> {
    format!(
        "{AAD_DOMAIN}\0kind={}\0id={id}\0kdf=argon2id v19 m={} t={} p={} salt={}\0cipher=xchacha20poly1305",
        kind.name(),
        params.memory_kib,
        params.iterations,
        params.parallelism,
        hex::encode(salt)
    )
    .into_bytes()
}

fn derive(
    passphrase: &Passphrase,
    params: &KdfParams,
    salt: &[u8],
    origin: &str,
) -> Result<Kek, KeyLoadError> {
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.check(origin)?);
    let mut key = Zeroizing::new([0u8; 32]);
    argon2
        .hash_password_into(passphrase.as_bytes(), salt, key.as_mut_slice())
        .map_err(|e| KeyLoadError::Malformed {
            origin: origin.to_owned(),
            reason: format!("argon2id: {e}"),
        })?;
    Ok(Kek::from_bytes(key))
}

/// Seal the 32 secret bytes `secret` of kind `kind` (named `id`, e.g. its
/// key id or address) under `passphrase`: the text of a sealed key file,
/// newline-terminated.
pub fn seal_secret(
    kind: SealedKind,
    id: &str,
    secret: &[u8; 32],
    passphrase: &Passphrase,
    params: KdfParams,
) -> Result<Zeroizing<String>, KeyLoadError> {
    let origin = "the new key file";
    let mut salt = [0u8; SALT_LEN];
    getrandom::fill(&mut salt).map_err(|e| KeyLoadError::Malformed {
        origin: origin.into(),
        reason: format!("no randomness from the operating system: {e}"),
    })?;
    let kek = derive(passphrase, &params, &salt, origin)?;
    let aad = associated_data(kind, id, &params, &salt);
    let slot = kek
        .wrap(&DataKey::from_bytes(Zeroizing::new(*secret)), &aad)
        .map_err(|e| KeyLoadError::Malformed {
            origin: origin.into(),
            reason: e.to_string(),
        })?;
    let KeySlot::Kek { nonce, wrapped, .. } = slot else {
        unreachable!("a KEK wraps into a KEK slot")
    };
    let file = SealedKeyFile {
        format: SEALED_FORMAT,
        kind,
        id: id.to_owned(),
        kdf: KdfSection {
            algorithm: KdfAlgorithm::Argon2id,
            version: 19,
            memory_kib: params.memory_kib,
            iterations: params.iterations,
            parallelism: params.parallelism,
            salt: hex::encode(salt),
        },
        cipher: Cipher::Xchacha20poly1305,
        nonce: hex::encode(nonce),
        sealed_key: hex::encode(wrapped),
    };
    let mut text = serde_json::to_string(&file).map_err(|e| KeyLoadError::Malformed {
        origin: origin.into(),
        reason: e.to_string(),
    })?;
    text.push('\n');
    Ok(Zeroizing::new(text))
}

impl SealedKey {
    /// Parse sealed key-file text read from `origin`. Errors never quote
    /// the input.
    pub fn parse(origin: &str, text: &[u8]) -> Result<Self, KeyLoadError> {
        let malformed = |reason: String| KeyLoadError::Malformed {
            origin: origin.to_owned(),
            reason,
        };
        let file: SealedKeyFile = serde_json::from_slice(text).map_err(|e| {
            malformed(format!(
                "not a sealed stratbox key ({:?} error at line {} column {})",
                e.classify(),
                e.line(),
                e.column()
            ))
        })?;
        if file.format != SEALED_FORMAT {
            return Err(malformed(format!(
                "sealed key format {} is not supported (this build reads format {SEALED_FORMAT})",
                file.format
            )));
        }
        if file.kdf.version != 19 {
            return Err(malformed(format!(
                "argon2 version {} is not supported (this build reads 19)",
                file.kdf.version
            )));
        }
        file.kdf.params().check(origin)?;
        let field = |name: &str, text: &str, out: &mut [u8]| {
            hex::decode_to_slice(text, out)
                .map_err(|_| malformed(format!("`{name}` is not {} hex bytes", out.len())))
        };
        let mut salt = [0u8; SALT_LEN];
        field("kdf.salt", &file.kdf.salt, &mut salt)?;
        let mut nonce = [0u8; NONCE_LEN];
        field("nonce", &file.nonce, &mut nonce)?;
        let mut sealed = [0u8; SEALED_LEN];
        field("sealed_key", &file.sealed_key, &mut sealed)?;
        Ok(SealedKey {
            origin: origin.to_owned(),
            kind: file.kind,
            id: file.id,
            params: file.kdf.params(),
            salt,
            nonce,
            sealed,
        })
    }

    /// What the file says it holds.
    pub fn kind(&self) -> SealedKind {
        self.kind
    }

    /// The id the file names (not authenticated until opened).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its Argon2id parameters.
    pub fn params(&self) -> KdfParams {
        self.params
    }

    /// Open with `passphrase`: the 32 secret bytes.
    /// [`KeyLoadError::WrongPassphrase`] for a wrong passphrase or an
    /// altered file (indistinguishable, by design).
    pub fn open(&self, passphrase: &Passphrase) -> Result<Zeroizing<[u8; 32]>, KeyLoadError> {
        let kek = derive(passphrase, &self.params, &self.salt, &self.origin)?;
        let aad = associated_data(self.kind, &self.id, &self.params, &self.salt);
        let slot = KeySlot::Kek {
            key_id: kek.id(),
            nonce: self.nonce,
            wrapped: self.sealed,
        };
        let key = kek
            .unwrap(&slot, &aad)
            .map_err(|_| KeyLoadError::WrongPassphrase {
                origin: self.origin.clone(),
            })?;
        Ok(Zeroizing::new(*key.expose_secret()))
    }
}

/// The `format` field of key-file text, if it has one.
pub(crate) fn format_of(text: &[u8]) -> Option<u32> {
    #[derive(Deserialize)]
    struct Probe {
        format: u32,
    }
    serde_json::from_slice::<Probe>(text).ok().map(|p| p.format)
}
