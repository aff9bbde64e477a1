//! Policy files for stratbox deployments: a TOML file, checked against the
//! deployment's assets, refused with the file, line and reason when it
//! cannot be used.
//!
//! ```no_run
//! use stratbox_runtime::policy::{AssetCatalog, PolicyEngine};
//!
//! let assets = AssetCatalog::new().with("ETH", 18).with("BTC", 8);
//! let file = stratbox_policy::load(std::path::Path::new("policy.toml"), &assets)?;
//! let engine = PolicyEngine::new(file.compiled.clone()); // a `stratbox_runtime::Policy`
//! # Ok::<(), stratbox_policy::PolicyFileError>(())
//! ```
//!
//! The format is described by `example.policy.toml` (annotated) and
//! `policy.schema.json` (JSON Schema, generated from the runtime's types by
//! [`json_schema`]).

mod error;
mod load;
mod location;
mod schema;

pub use error::PolicyFileError;
pub use load::{PolicyFile, load, parse};
pub use schema::json_schema;
