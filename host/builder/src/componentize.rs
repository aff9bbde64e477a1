use std::path::Path;

use wit_component::{ComponentEncoder, StringEncoding, embed_component_metadata};
use wit_parser::{ManglingAndAbi, Resolve};

use crate::cargo::read;
use crate::error::BuildError;

/// Turn a core module built with `wit-bindgen` into a component. The
/// component's imports and exports are exactly those of the world the
/// bindings were generated from.
pub fn componentize(module_path: &Path) -> Result<Vec<u8>, BuildError> {
    let module = read(module_path)?;
    ComponentEncoder::default()
        .validate(true)
        .module(&module)
        .and_then(|mut encoder| encoder.encode())
        .map_err(|e| BuildError::Componentize {
            module: module_path.to_owned(),
            reason: format!("{e:#}"),
        })
}

/// A component for `world` of the WIT package text `wit` (which may use
/// the packages in `dependencies`) whose functions all trap: enough to
/// exercise load-time checks (imports, exports, versions) without writing a
/// guest.
pub fn dummy_component(
    dependencies: &[&str],
    wit: &str,
    world: &str,
) -> Result<Vec<u8>, BuildError> {
    let wit_error = |e: &dyn std::fmt::Display| BuildError::Wit {
        reason: e.to_string(),
    };
    let mut resolve = Resolve::default();
    for (i, dependency) in dependencies.iter().enumerate() {
        resolve
            .push_str(format!("dependency-{i}.wit"), dependency)
            .map_err(|e| wit_error(&format!("{e:#}")))?;
    }
    let package = resolve
        .push_str("dummy.wit", wit)
        .map_err(|e| wit_error(&format!("{e:#}")))?;
    let world = resolve
        .select_world(&[package], Some(world))
        .map_err(|e| wit_error(&format!("{e:#}")))?;
    let mut module = wit_component::dummy_module(&resolve, world, ManglingAndAbi::Standard32);
    embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8)
        .map_err(|e| wit_error(&format!("{e:#}")))?;
    ComponentEncoder::default()
        .validate(true)
        .module(&module)
        .and_then(|mut encoder| encoder.encode())
        .map_err(|e| wit_error(&format!("{e:#}")))
}
