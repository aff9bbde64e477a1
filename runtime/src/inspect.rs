//! Static inspection of component bytes: size, functions, imports, exports
//! and the world version, all checked before anything is compiled.

use semver::Version;
use sha2::{Digest, Sha256};
use wasmparser::{Parser, Payload};

use crate::error::{LoadError, LoadLimit};
use crate::limits::LoadLimits;

/// Package of the stratbox world.
pub const WORLD_PACKAGE: &str = "stratbox:strategy";

/// Version of the stratbox world this runtime implements (must equal the
/// version in `wit/strategy.wit`; a test checks it).
pub const WORLD_VERSION: &str = "0.2.1";

/// Interfaces a component may import.
const IMPORTABLE: [&str; 4] = ["types", "oracle", "actions", "logging"];

/// Interface a component must export.
const EXPORTED: &str = "strategy";

/// What a component is, as read from its bytes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ComponentInfo {
    /// Size in bytes.
    pub size_bytes: u64,
    /// SHA-256 of the component bytes, hex.
    pub sha256: String,
    /// Version of the stratbox world the component was built against.
    pub world_version: Option<Version>,
    /// Top-level import names.
    pub imports: Vec<String>,
    /// Top-level export names.
    pub exports: Vec<String>,
    /// Core functions defined across all modules.
    pub functions: u64,
    /// Most locals declared by one core function (compile time grows with
    /// them).
    #[serde(default)]
    pub max_function_locals: u64,
    /// Core instances created by the component.
    pub core_instances: u64,
    /// Core modules embedded in the component.
    pub modules: u64,
    /// What the component was likely written in (`Rust`, `Python`,
    /// `JavaScript`...), from its `producers` sections; a hint, not a proof.
    #[serde(default)]
    pub language_hint: Option<String>,
}

/// The world version this runtime implements.
pub fn world_version() -> Version {
    Version::new(0, 2, 1)
}

/// Whether two versions are on the same semver-compatible track, as the
/// component model defines it: the first non-zero of major, minor, patch
/// must match.
fn compatible(a: &Version, b: &Version) -> bool {
    match (a.major, b.major) {
        (0, 0) => match (a.minor, b.minor) {
            (0, 0) => a.patch == b.patch,
            (x, y) => x == y,
        },
        (x, y) => x == y,
    }
}

/// A parsed `namespace:package/interface@version` name.
struct InterfaceName<'a> {
    package: &'a str,
    interface: &'a str,
    version: Option<&'a str>,
}

fn parse_interface_name(name: &str) -> Option<InterfaceName<'_>> {
    let (path, version) = match name.split_once('@') {
        Some((path, version)) => (path, Some(version)),
        None => (name, None),
    };
    let (package, interface) = path.split_once('/')?;
    Some(InterfaceName {
        package,
        interface,
        version,
    })
}

/// Read a component's shape and refuse anything outside the stratbox world.
pub fn inspect(bytes: &[u8], limits: &LoadLimits) -> Result<ComponentInfo, LoadError> {
    inspect_hashed(bytes, || hex::encode(Sha256::digest(bytes)), limits)
}

/// [`inspect`], with the SHA-256 (hex) of `bytes` from `sha256` (a caller
/// that has just checked the hash passes it on instead of hashing twice).
pub(crate) fn inspect_hashed(
    bytes: &[u8],
    sha256: impl FnOnce() -> String,
    limits: &LoadLimits,
) -> Result<ComponentInfo, LoadError> {
    let size = bytes.len() as u64;
    if size > limits.component_bytes {
        return Err(LoadError::LimitExceeded {
            what: LoadLimit::ComponentBytes,
            actual: size,
            limit: limits.component_bytes,
        });
    }
    if !Parser::is_component(bytes) {
        return Err(LoadError::Malformed {
            reason: if Parser::is_core_wasm(bytes) {
                "this is a core WebAssembly module, not a component; turn it into a component with wit-component (`stratbox build` does)".into()
            } else {
                "not a WebAssembly component (bad magic or version)".into()
            },
        });
    }
    let mut info = ComponentInfo {
        size_bytes: size,
        sha256: sha256(),
        world_version: None,
        imports: Vec::new(),
        exports: Vec::new(),
        functions: 0,
        max_function_locals: 0,
        core_instances: 0,
        modules: 0,
        language_hint: None,
    };
    let mut producers = Producers::default();
    let malformed = |e: wasmparser::BinaryReaderError| LoadError::Malformed {
        reason: e.to_string(),
    };
    // Depth 0 is the outer component; nested modules and components open
    // deeper levels and their imports are satisfied internally.
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(malformed)? {
            Payload::ModuleSection { .. } => {
                info.modules += 1;
                depth += 1;
            }
            Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::FunctionSection(section) => info.functions += u64::from(section.count()),
            Payload::CodeSectionEntry(body) => {
                let mut locals = 0u64;
                for group in body.get_locals_reader().map_err(malformed)? {
                    let (count, _) = group.map_err(malformed)?;
                    locals = locals.saturating_add(u64::from(count));
                }
                info.max_function_locals = info.max_function_locals.max(locals);
                if locals > limits.function_locals {
                    return Err(LoadError::LimitExceeded {
                        what: LoadLimit::FunctionLocals,
                        actual: locals,
                        limit: limits.function_locals,
                    });
                }
            }
            Payload::InstanceSection(section) => {
                info.core_instances += u64::from(section.count());
                producers.read_instances(section);
            }
            Payload::CustomSection(section) => {
                if let wasmparser::KnownCustom::Producers(reader) = section.as_known() {
                    producers.read(reader);
                }
            }
            Payload::ComponentImportSection(section) if depth == 0 => {
                for import in section {
                    info.imports
                        .push(import.map_err(malformed)?.name.name.to_owned());
                }
            }
            Payload::ComponentExportSection(section) if depth == 0 => {
                for export in section {
                    info.exports
                        .push(export.map_err(malformed)?.name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    info.language_hint = producers.language();
    if info.functions > limits.functions {
        return Err(LoadError::LimitExceeded {
            what: LoadLimit::Functions,
            actual: info.functions,
            limit: limits.functions,
        });
    }
    if info.imports.len() as u64 > limits.imports {
        return Err(LoadError::LimitExceeded {
            what: LoadLimit::Imports,
            actual: info.imports.len() as u64,
            limit: limits.imports,
        });
    }
    check_world(&mut info)?;
    Ok(info)
}

fn check_world(info: &mut ComponentInfo) -> Result<(), LoadError> {
    let expected = world_version();
    let mut forbidden = Vec::new();
    let mut found_version: Option<Version> = None;
    let mut note_version = |version: Option<&str>| -> Result<(), LoadError> {
        let Some(text) = version else {
            return Ok(());
        };
        let version = Version::parse(text).map_err(|e| LoadError::Malformed {
            reason: format!("bad version `{text}` on a stratbox interface: {e}"),
        })?;
        if !compatible(&version, &expected) {
            return Err(LoadError::WorldVersionMismatch {
                expected: expected.clone(),
                found: version,
            });
        }
        found_version = Some(version);
        Ok(())
    };
    for import in &info.imports {
        match parse_interface_name(import) {
            Some(name) if name.package == WORLD_PACKAGE && IMPORTABLE.contains(&name.interface) => {
                note_version(name.version)?;
            }
            _ => forbidden.push(import.clone()),
        }
    }
    if !forbidden.is_empty() {
        return Err(LoadError::ForbiddenImports { imports: forbidden });
    }
    let mut exports_strategy = false;
    for export in &info.exports {
        if let Some(name) = parse_interface_name(export)
            && name.package == WORLD_PACKAGE
            && name.interface == EXPORTED
        {
            note_version(name.version)?;
            exports_strategy = true;
        }
    }
    if !exports_strategy {
        return Err(LoadError::MissingExport {
            expected: format!("{WORLD_PACKAGE}/{EXPORTED}@{expected}"),
        });
    }
    info.world_version = found_version;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn world_version_matches_the_wit_package() {
        let wit = include_str!("../../wit/strategy.wit");
        let declared = format!("package {WORLD_PACKAGE}@{WORLD_VERSION};");
        assert!(
            wit.contains(&declared),
            "wit/strategy.wit must declare {declared}"
        );
        assert_eq!(world_version().to_string(), WORLD_VERSION);
    }

    #[test]
    fn compatibility_follows_the_component_model_tracks() {
        let v = |s: &str| Version::parse(s).unwrap();
        assert!(compatible(&v("0.1.0"), &v("0.1.7")));
        assert!(!compatible(&v("0.1.0"), &v("0.2.0")));
        assert!(!compatible(&v("0.1.0"), &v("1.0.0")));
        assert!(compatible(&v("1.2.0"), &v("1.0.3")));
        assert!(!compatible(&v("0.0.1"), &v("0.0.2")));
    }

    #[test]
    fn core_modules_and_garbage_are_malformed() {
        let limits = LoadLimits::default();
        let core = b"\0asm\x01\0\0\0";
        assert!(matches!(
            inspect(core, &limits),
            Err(LoadError::Malformed { .. })
        ));
        assert!(matches!(
            inspect(b"hello", &limits),
            Err(LoadError::Malformed { .. })
        ));
    }

    #[test]
    fn size_limit_is_checked_first() {
        let limits = LoadLimits {
            component_bytes: 4,
            ..LoadLimits::default()
        };
        assert!(matches!(
            inspect(b"0123456789", &limits),
            Err(LoadError::LimitExceeded {
                what: LoadLimit::ComponentBytes,
                actual: 10,
                limit: 4
            })
        ));
    }
}

/// Tool and language names from `producers` custom sections, and the
/// shared libraries core modules are linked against.
#[derive(Default)]
struct Producers {
    languages: Vec<String>,
    tools: Vec<String>,
    libraries: Vec<String>,
}

impl Producers {
    fn read_instances(&mut self, reader: wasmparser::InstanceSectionReader<'_>) {
        for instance in reader.into_iter().flatten() {
            if let wasmparser::Instance::Instantiate { args, .. } = instance {
                self.libraries.extend(
                    args.iter()
                        .filter(|arg| arg.name.ends_with(".so"))
                        .map(|arg| arg.name.to_owned()),
                );
            }
        }
    }

    fn read(&mut self, reader: wasmparser::ProducersSectionReader<'_>) {
        // A malformed producers section is only a missing hint.
        for field in reader.into_iter().flatten() {
            let names = field
                .values
                .into_iter()
                .flatten()
                .map(|value| value.name.to_owned());
            match field.name {
                "language" => self.languages.extend(names),
                "processed-by" => self.tools.extend(names),
                _ => {}
            }
        }
    }

    /// Generators that embed an interpreter win over the language of the
    /// interpreter's own modules (C, Rust).
    fn language(&self) -> Option<String> {
        let tool = |name: &str| self.tools.iter().any(|t| t.contains(name));
        let library = |name: &str| self.libraries.iter().any(|l| l.starts_with(name));
        if tool("componentize-py") || library("libpython") {
            return Some("Python".into());
        }
        if tool("componentize-js") || tool("ComponentizeJS") {
            return Some("JavaScript".into());
        }
        ["Rust", "C11", "C", "C++", "Go", "TinyGo", "AssemblyScript"]
            .iter()
            .find(|language| self.languages.iter().any(|l| l == *language))
            .map(|language| (*language).to_owned())
    }
}
