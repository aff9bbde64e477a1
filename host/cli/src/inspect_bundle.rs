//! `stratbox inspect` on a sealed bundle: the header and manifest, never the
//! code; with a key, the manifest is authenticated without decrypting the
//! component.

use std::path::Path;

use chrono::DateTime;
use stratbox_runtime::bundle::{BundleSummary, authenticate_manifest, read_bundle};

use crate::keys::KeyArgs;

/// Print a bundle's header and manifest.
pub fn run(path: &Path, bytes: &[u8], key: &KeyArgs, json: bool) -> anyhow::Result<()> {
    let (summary, authenticated) = match key.load()? {
        Some(key) => (authenticate_manifest(bytes, key.as_ref())?, true),
        None => (read_bundle(bytes)?, false),
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&to_json(&summary, authenticated))?
        );
        return Ok(());
    }
    let BundleSummary { header, manifest } = &summary;
    println!("bundle      {}", path.display());
    println!("format      version {}", header.format_version);
    println!(
        "payload     {} ({} bytes sealed)",
        header.payload_algorithm, header.payload_bytes
    );
    println!("key wrap    {}", header.wrap_algorithm);
    println!("key id      {}", header.key_id);
    println!("name        {}", manifest.name);
    println!("version     {}", manifest.version);
    println!("world       stratbox:strategy@{}", manifest.world_version);
    println!("language    {}", manifest.language);
    println!("author      {}", manifest.author);
    println!("created     {}", created(manifest.created_at_unix));
    println!(
        "component   {} bytes, sha256 {}",
        manifest.component_bytes, manifest.component_sha256
    );
    println!(
        "manifest    {}",
        if authenticated {
            "authenticated with the given key (component not decrypted)"
        } else {
            "NOT authenticated (pass --key or --key-env to check it)"
        }
    );
    Ok(())
}

fn created(unix: u64) -> String {
    i64::try_from(unix)
        .ok()
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .map_or_else(|| unix.to_string(), |t| t.to_rfc3339())
}

fn to_json(summary: &BundleSummary, authenticated: bool) -> serde_json::Value {
    let header = &summary.header;
    serde_json::json!({
        "kind": "bundle",
        "format_version": header.format_version,
        "payload_algorithm": header.payload_algorithm.to_string(),
        "wrap_algorithm": header.wrap_algorithm.to_string(),
        "key_id": header.key_id.to_string(),
        "payload_bytes": header.payload_bytes,
        "authenticated": authenticated,
        "manifest": summary.manifest,
    })
}
