//! Builds strategy sources into stratbox components.
//!
//! Rust strategies are compiled for `wasm32-unknown-unknown` (so the module
//! imports nothing but the stratbox world) and turned into a component with
//! `wit-component`, using the component-type section that `wit-bindgen`
//! embedded in the module.
//!
//! Python strategies (a directory with `strategy.py`) are built with
//! componentize-py `--stub-wasi` together with the embedded Python SDK, and
//! checked to import only the stratbox world.

mod cargo;
mod componentize;
mod error;
mod javascript;
mod package;
mod python;
mod python_errors;
mod python_sdk;
mod tools;
mod world_check;

pub use cargo::{BuiltModule, RustBuild, WasmTarget};
pub use componentize::{componentize, dummy_component};
pub use error::{BuildError, SourceLocation};
pub use javascript::{COMPONENTIZE_JS_VERSION, JS_STRATEGY_FILE, JsStrategy, JsToolchain};
pub use package::RustPackage;
pub use python::{
    COMPONENTIZE_PY_ENV, COMPONENTIZE_PY_VERSION, PythonStrategy, PythonToolchain, STRATEGY_FILE,
};
