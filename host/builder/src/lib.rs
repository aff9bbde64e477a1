//! Builds strategy sources into stratbox components.
//!
//! Rust strategies are compiled for `wasm32-unknown-unknown` (so the module
//! imports nothing but the stratbox world) and turned into a component with
//! `wit-component`, using the component-type section that `wit-bindgen`
//! embedded in the module.

mod cargo;
mod componentize;
mod error;
mod package;

pub use cargo::{BuiltModule, RustBuild, WasmTarget};
pub use componentize::{componentize, dummy_component};
pub use error::BuildError;
pub use package::RustPackage;
