//! A tenant sees and changes only its own bundles, deployments and
//! journals: every boundary is tried from another tenant, and answers
//! exactly as for something that does not exist.

use serde_json::json;
use stratbox_test_artifacts::Guest;

use crate::support::{Harness, code, paper};

#[test]
fn no_tenant_crosses_into_another() {
    let harness = Harness::start();
    let alice = harness.tenant("alice");
    let mallory = harness.tenant("mallory");
    harness.upload(&alice, Guest::RsiMomentum, "rsi");
    let (status, body) = harness.post(&alice, "/v1/deployments", &paper("live", "rsi", json!({})));
    assert_eq!(status, 201, "{body}");
    harness.wait_for(&alice, "live", |s| s["ticks"].as_u64() >= Some(2));

    // Reads: the same 404 as for what does not exist.
    for path in [
        "/v1/bundles/rsi",
        "/v1/deployments/live",
        "/v1/deployments/live/ticks",
        "/v1/deployments/live/logs",
    ] {
        let (status, body) = harness.get(&mallory, path);
        assert_eq!((status, code(&body)), (404, "not_found"), "{path}: {body}");
        let missing = path.replace("rsi", "nothing").replace("live", "nothing");
        let (_, absent) = harness.get(&mallory, &missing);
        let anonymized = |body: &serde_json::Value, name: &str| body.to_string().replace(name, "X");
        let name = if path.contains("bundles") {
            "rsi"
        } else {
            "live"
        };
        assert_eq!(
            anonymized(&body, name),
            anonymized(&absent, "nothing"),
            "{path}"
        );
    }
    // Lists show nothing of alice's.
    let (_, bundles) = harness.get(&mallory, "/v1/bundles");
    assert_eq!(bundles, json!([]));
    let (_, deployments) = harness.get(&mallory, "/v1/deployments");
    assert_eq!(deployments, json!([]));

    // Changes: refused, and alice's deployment runs on untouched.
    for action in ["pause", "resume", "stop"] {
        let (status, body) = harness.post(
            &mallory,
            &format!("/v1/deployments/live/{action}"),
            &json!({}),
        );
        assert_eq!(
            (status, code(&body)),
            (404, "not_found"),
            "{action}: {body}"
        );
    }
    let (status, body) = harness.delete(&mallory, "/v1/deployments/live");
    assert_eq!((status, code(&body)), (404, "not_found"), "{body}");
    let before = harness.wait_for(&alice, "live", |_| true)["ticks"]
        .as_u64()
        .unwrap_or(0);
    let after = harness.wait_for(&alice, "live", |s| {
        s["state"] == "running" && s["ticks"].as_u64() > Some(before)
    });
    assert_eq!(after["state"], "running");

    // Uploading over alice's name files mallory's own bundle: alice's
    // stays as it was.
    let alice_bundle = harness.get(&alice, "/v1/bundles/rsi").1;
    let (status, body) = harness.post_raw(
        &mallory,
        "/v1/bundles",
        harness.sealed(Guest::EmaCrossover, "rsi", "6.6.6"),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(harness.get(&alice, "/v1/bundles/rsi").1, alice_bundle);
    assert_eq!(body["manifest"]["version"], "6.6.6");

    // A deployment id alice uses is free for mallory, and names
    // mallory's bundle, never alice's.
    let (status, body) = harness.post(
        &mallory,
        "/v1/deployments",
        &paper("live", "rsi", json!({})),
    );
    assert_eq!(status, 201, "{body}");
    let (_, mallory_view) = harness.get(&mallory, "/v1/deployments");
    assert_eq!(mallory_view.as_array().map(Vec::len), Some(1));
    let (_, alice_view) = harness.get(&alice, "/v1/deployments");
    assert_eq!(alice_view.as_array().map(Vec::len), Some(1));
}

#[test]
fn requests_without_a_known_token_are_refused() {
    let harness = Harness::start();
    let alice = harness.tenant("alice");
    harness.upload(&alice, Guest::RsiMomentum, "rsi");
    for token in ["", "sbx_0000", "not-a-token", &alice[..alice.len() - 1]] {
        let (status, body) = harness.get(token, "/v1/bundles");
        assert_eq!(
            (status, code(&body)),
            (401, "unauthorized"),
            "token {token:?}"
        );
        let (status, body) = harness.post_raw(
            token,
            "/v1/bundles",
            harness.sealed(Guest::RsiMomentum, "rsi", "2.0.0"),
        );
        assert_eq!((status, code(&body)), (401, "unauthorized"), "{body}");
    }
    // The token hashes rest in an owner-only file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let control = harness.dir.path().join("data/control.sqlite");
        let mode = std::fs::metadata(&control)
            .expect("control plane")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{}", control.display());
    }
    // Health and metrics need no token; they name no tenant's secrets.
    assert_eq!(harness.get("", "/healthz").0, 200);
    assert_eq!(harness.get("", "/readyz").0, 200);
    assert_eq!(harness.get("", "/metrics").0, 200);
}
