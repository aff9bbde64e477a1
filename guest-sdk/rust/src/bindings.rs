//! Bindings generated from the stratbox WIT world (`wit/strategy.wit`).
//!
//! Strategy code normally uses [`crate::types`] and [`crate::Context`]
//! instead of these modules directly.
#![allow(missing_docs, unused_qualifications)]

wit_bindgen::generate!({
    path: "../../wit",
    world: "stratbox:strategy/strategy-world",
    pub_export_macro: true,
    export_macro_name: "export_guest",
    default_bindings_module: "stratbox_sdk::bindings",
    additional_derives: [PartialEq, serde::Serialize, serde::Deserialize],
    generate_all,
});
