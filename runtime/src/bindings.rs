//! Host-side bindings generated from `wit/strategy.wit`.
#![allow(missing_docs, unused_qualifications)]

wasmtime::component::bindgen!({
    path: "../wit",
    world: "stratbox:strategy/strategy-world",
    imports: { default: trappable },
    additional_derives: [PartialEq, serde::Serialize, serde::Deserialize],
});
