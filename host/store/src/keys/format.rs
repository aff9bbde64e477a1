//! The key-file formats (one line of JSON each), shared by key files and
//! environment variables: format 1 holds a key in hex (public keys; secret
//! keys only in an environment variable or inside a KMS ciphertext), format
//! 2 a secret key sealed under a passphrase ([`super::sealed`]).

use serde::{Deserialize, Serialize};
use stratbox_runtime::bundle::{HostPublicKey, HostSecretKey, Kek, KeyId, SecretKey};
use zeroize::Zeroizing;

use super::error::KeyLoadError;
use super::sealed::{
    KdfParams, Passphrase, SEALED_FORMAT, SealedKey, SealedKind, format_of, seal_secret,
};

const FORMAT: u32 = 1;
const HELP: &str = r#"expected one line of JSON: {"format":1,"kind":"kek"|"x25519-secret"|"x25519-public","key":"<64 hex digits>"}"#;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    format: u32,
    kind: Kind,
    key: Zeroizing<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Kind {
    Kek,
    X25519Secret,
    X25519Public,
}

/// What a key file or variable holds.
#[derive(Debug)]
pub enum KeyMaterial {
    /// A secret: opens (and seals).
    Secret(SecretKey),
    /// A host's public key: seals only.
    Public(HostPublicKey),
}

impl KeyMaterial {
    /// `kek`, `x25519-secret` or `x25519-public`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            KeyMaterial::Secret(SecretKey::Kek(_)) => "kek",
            KeyMaterial::Secret(SecretKey::X25519(_)) => "x25519-secret",
            KeyMaterial::Public(_) => "x25519-public",
        }
    }

    /// The key's id (a public key's fingerprint for X25519 keys).
    pub fn id(&self) -> KeyId {
        match self {
            KeyMaterial::Secret(secret) => secret.id(),
            KeyMaterial::Public(public) => public.id(),
        }
    }

    /// The secret, or [`KeyLoadError::WrongKind`] for a public key.
    pub fn into_secret(self, origin: &str) -> Result<SecretKey, KeyLoadError> {
        match self {
            KeyMaterial::Secret(secret) => Ok(secret),
            KeyMaterial::Public(_) => Err(KeyLoadError::WrongKind {
                origin: origin.to_owned(),
                expected: "a secret key (kek or x25519-secret)",
                found: "x25519-public",
            }),
        }
    }
}

/// Key-file text, parsed: plaintext (format 1) or sealed (format 2).
#[derive(Debug)]
pub enum KeyText {
    /// A key in the clear.
    Plain(KeyMaterial),
    /// A secret key sealed under a passphrase.
    Sealed(SealedKey),
}

/// Parse key-file text of either format read from `origin`. Error messages
/// never quote the input.
pub fn parse_key_text(origin: &str, text: &[u8]) -> Result<KeyText, KeyLoadError> {
    if format_of(text) == Some(SEALED_FORMAT) {
        return SealedKey::parse(origin, text).map(KeyText::Sealed);
    }
    parse_key(origin, text).map(KeyText::Plain)
}

/// Open key-file text of either format read from `origin`: a sealed secret
/// with `passphrase`; a plaintext secret only if `plaintext_secret_ok` (an
/// environment variable, a KMS ciphertext), else
/// [`KeyLoadError::PlaintextSecret`]; a public key as is.
pub fn open_key_text(
    origin: &str,
    text: &[u8],
    passphrase: Option<&Passphrase>,
    plaintext_secret_ok: bool,
) -> Result<KeyMaterial, KeyLoadError> {
    match parse_key_text(origin, text)? {
        KeyText::Plain(KeyMaterial::Secret(_)) if !plaintext_secret_ok => {
            Err(KeyLoadError::PlaintextSecret {
                origin: origin.to_owned(),
            })
        }
        KeyText::Plain(material) => Ok(material),
        KeyText::Sealed(sealed) => {
            let passphrase = passphrase.ok_or_else(|| KeyLoadError::PassphraseRequired {
                origin: origin.to_owned(),
            })?;
            let invalid = |source| KeyLoadError::Invalid {
                origin: origin.to_owned(),
                source,
            };
            let secret = match sealed.kind() {
                SealedKind::Kek => SecretKey::Kek(Kek::from_bytes(sealed.open(passphrase)?)),
                SealedKind::X25519Secret => SecretKey::X25519(
                    HostSecretKey::from_bytes(&sealed.open(passphrase)?).map_err(invalid)?,
                ),
                SealedKind::Secp256k1Secret => {
                    return Err(KeyLoadError::WrongKind {
                        origin: origin.to_owned(),
                        expected: "a host key (kek or x25519-secret)",
                        found: "secp256k1-secret (a deployment signing key)",
                    });
                }
            };
            // The id is authenticated with the key: a mismatch is a sealer
            // bug, never tampering.
            if secret.id().to_string() != sealed.id() {
                return Err(KeyLoadError::Malformed {
                    origin: origin.to_owned(),
                    reason: "the sealed key does not match the id it names".into(),
                });
            }
            Ok(KeyMaterial::Secret(secret))
        }
    }
}

/// The sealed key-file text of a host secret key under `passphrase`.
pub fn seal_secret_key(
    key: &SecretKey,
    passphrase: &Passphrase,
    params: KdfParams,
) -> Result<Zeroizing<String>, KeyLoadError> {
    let id = key.id().to_string();
    match key {
        SecretKey::Kek(kek) => seal_secret(
            SealedKind::Kek,
            &id,
            kek.expose_secret(),
            passphrase,
            params,
        ),
        SecretKey::X25519(secret) => seal_secret(
            SealedKind::X25519Secret,
            &id,
            &secret.to_bytes(),
            passphrase,
            params,
        ),
    }
}

/// Parse plaintext (format 1) key-file text read from `origin` (a path or
/// variable name, used in errors). Error messages never quote the input.
pub fn parse_key(origin: &str, text: &[u8]) -> Result<KeyMaterial, KeyLoadError> {
    if format_of(text) == Some(SEALED_FORMAT) {
        return Err(KeyLoadError::PassphraseRequired {
            origin: origin.to_owned(),
        });
    }
    let malformed = |reason: String| KeyLoadError::Malformed {
        origin: origin.to_owned(),
        reason,
    };
    let file: KeyFile = serde_json::from_slice(text).map_err(|e| {
        malformed(format!(
            "not a stratbox key ({:?} error at line {} column {}); {HELP}",
            e.classify(),
            e.line(),
            e.column()
        ))
    })?;
    if file.format != FORMAT {
        return Err(malformed(format!(
            "key format {} is not supported (this build reads format {FORMAT})",
            file.format
        )));
    }
    let mut bytes = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(file.key.as_bytes(), bytes.as_mut_slice())
        .map_err(|_| malformed(format!("the key is not 64 hex digits; {HELP}")))?;
    let invalid = |source| KeyLoadError::Invalid {
        origin: origin.to_owned(),
        source,
    };
    Ok(match file.kind {
        Kind::Kek => KeyMaterial::Secret(SecretKey::Kek(Kek::from_bytes(bytes))),
        Kind::X25519Secret => KeyMaterial::Secret(SecretKey::X25519(
            HostSecretKey::from_bytes(&bytes).map_err(invalid)?,
        )),
        Kind::X25519Public => {
            KeyMaterial::Public(HostPublicKey::from_bytes(&bytes).map_err(invalid)?)
        }
    })
}

fn encode(kind: Kind, key: &[u8; 32]) -> Zeroizing<String> {
    let mut hex_key = Zeroizing::new([0u8; 64]);
    // Both lengths are fixed, so this cannot fail.
    let _ = hex::encode_to_slice(key, hex_key.as_mut_slice());
    let file = KeyFile {
        format: FORMAT,
        kind,
        key: Zeroizing::new(String::from_utf8_lossy(hex_key.as_slice()).into_owned()),
    };
    // Sized up front so the buffer never reallocates (a reallocation would
    // leave a copy of the key behind, unzeroized).
    let mut out = Zeroizing::new(Vec::with_capacity(256));
    let _ = serde_json::to_writer(&mut *out, &file);
    out.push(b'\n');
    Zeroizing::new(String::from_utf8(std::mem::take(&mut *out)).unwrap_or_default())
}

/// The plaintext key-file text of a secret key (one line,
/// newline-terminated), for an environment variable or a KMS to encrypt;
/// never write it to a file ([`seal_secret_key`] is the file form).
pub fn encode_secret_key(key: &SecretKey) -> Zeroizing<String> {
    match key {
        SecretKey::Kek(kek) => encode(Kind::Kek, kek.expose_secret()),
        SecretKey::X25519(secret) => encode(Kind::X25519Secret, &secret.to_bytes()),
    }
}

/// The key-file text of a host public key.
pub fn encode_public_key(key: &HostPublicKey) -> String {
    encode(Kind::X25519Public, &key.to_bytes()).to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_kind_round_trips() {
        let kek = SecretKey::Kek(Kek::generate().unwrap());
        let secret = HostSecretKey::generate().unwrap();
        let public = secret.public_key().clone();
        let x25519 = SecretKey::X25519(secret);
        for key in [kek, x25519] {
            let text = encode_secret_key(&key);
            let parsed = parse_key("test", text.as_bytes()).unwrap();
            assert_eq!(parsed.id(), key.id());
        }
        let parsed = parse_key("test", encode_public_key(&public).as_bytes()).unwrap();
        assert!(matches!(parsed, KeyMaterial::Public(p) if p == public));
    }

    #[test]
    fn errors_never_quote_the_key() {
        let text = br#"{"format":1,"kind":"0123456789abcdef","key":"00"}"#;
        let error = parse_key("test", text).unwrap_err();
        assert!(matches!(error, KeyLoadError::Malformed { .. }));
        assert!(!error.to_string().contains("0123456789abcdef"), "{error}");
        let text = br#"{"format":1,"kind":"kek","key":"zz23456789abcdef"}"#;
        let error = parse_key("test", text).unwrap_err();
        assert!(!error.to_string().contains("zz23456789abcdef"), "{error}");
        let text = br#"{"format":1,"kind":"kek","key":"00","extra":1}"#;
        assert!(matches!(
            parse_key("test", text),
            Err(KeyLoadError::Malformed { .. })
        ));
    }
}
