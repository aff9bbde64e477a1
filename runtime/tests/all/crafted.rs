//! Hostile components crafted byte by byte: a real guest component with
//! core modules and core instances appended, so that it still passes every
//! load-time check of the world (its imports and exports are untouched)
//! while its shape is what a test needs.

use wasmparser::{Parser, Payload};

/// WebAssembly page size.
pub const PAGE: u64 = 64 << 10;

/// `value` as unsigned LEB128.
pub fn leb(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// A section: `id`, its size, `contents`.
pub fn section(out: &mut Vec<u8>, id: u8, contents: &[u8]) {
    out.push(id);
    leb(out, contents.len() as u64);
    out.extend_from_slice(contents);
}

/// A core module of `sections` (id, contents), in the order given.
pub fn core_module(sections: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut module = b"\0asm\x01\0\0\0".to_vec();
    for (id, contents) in sections {
        section(&mut module, *id, contents);
    }
    module
}

/// A core module that defines one memory of `pages` pages (no maximum)
/// per entry of `memories`, and nothing else.
pub fn memories_module(memories: &[u64]) -> Vec<u8> {
    let mut contents = Vec::new();
    leb(&mut contents, memories.len() as u64);
    for pages in memories {
        contents.push(0x00); // limits: a minimum, no maximum
        leb(&mut contents, *pages);
    }
    core_module(&[(5, contents)])
}

/// Core modules defined at the top level of `component` (nested
/// components' modules are in index spaces of their own).
fn top_level_modules(component: &[u8]) -> u64 {
    let mut depth = 0usize;
    let mut modules = 0;
    for payload in Parser::new(0).parse_all(component) {
        match payload.expect("a valid component") {
            Payload::ModuleSection { .. } => {
                if depth == 0 {
                    modules += 1;
                }
                depth += 1;
            }
            Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    modules
}

/// `component` with `module` appended as one more core module, and
/// `instances` core instances of it (the module must import nothing).
/// Nothing refers to them: they only exist, created with the component's
/// other instances when it is instantiated, compiled when it is.
pub fn append_module(component: &[u8], module: &[u8], instances: u64) -> Vec<u8> {
    let index = top_level_modules(component);
    let mut out = component.to_vec();
    section(&mut out, 1, module); // core module section
    if instances > 0 {
        let mut contents = Vec::new();
        leb(&mut contents, instances);
        for _ in 0..instances {
            contents.push(0x00); // instantiate
            leb(&mut contents, index);
            leb(&mut contents, 0); // no arguments
        }
        section(&mut out, 2, &contents); // core instance section
    }
    out
}

/// `component` with a `producers` custom section appended that claims
/// `processed-by` `tool` (a custom section may stand anywhere).
pub fn append_producer(component: &[u8], tool: &str, version: &str) -> Vec<u8> {
    fn name(out: &mut Vec<u8>, text: &str) {
        leb(out, text.len() as u64);
        out.extend_from_slice(text.as_bytes());
    }
    let mut contents = Vec::new();
    name(&mut contents, "producers");
    leb(&mut contents, 1); // one field
    name(&mut contents, "processed-by");
    leb(&mut contents, 1); // one value
    name(&mut contents, tool);
    name(&mut contents, version);
    let mut out = component.to_vec();
    section(&mut out, 0, &contents);
    out
}
