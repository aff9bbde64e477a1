//! Bad input gets a typed JSON error with a stable code, and nothing is
//! half-created.

use serde_json::{Value, json};
use stratbox_runtime::bundle::HostSecretKey;
use stratbox_test_artifacts::Guest;

use crate::support::{Harness, code, paper, seal_to};

/// A policy the RSI strategy's paper deployment passes.
const POLICY: &str = "version = 1
quote = \"BTC\"
chains = [0]

[swap]
tokens = [\"ETH\", \"BTC\"]
max_amount = { BTC = \"0.2\", ETH = \"5\" }
";

/// The tenant's deployments and bundles, to check nothing was created.
fn inventory(harness: &Harness, token: &str) -> (Value, Value) {
    (
        harness.get(token, "/v1/deployments").1,
        harness.get(token, "/v1/bundles").1,
    )
}

#[test]
fn bad_deployment_requests_get_typed_errors_and_create_nothing() {
    let harness = Harness::start();
    let token = harness.tenant("alice");
    harness.upload(&token, Guest::RsiMomentum, "rsi");
    let before = inventory(&harness, &token);

    let mut unknown_field = paper("d", "rsi", json!({}));
    unknown_field["scheduel"] = json!({"every_ms": 1000});
    let mut nested_unknown = paper("d", "rsi", json!({}));
    nested_unknown["venue"]["paper"]["quote_balanse"] = json!(5);
    let mut missing = paper("d", "rsi", json!({}));
    missing.as_object_mut().map(|o| o.remove("schedule"));
    let mut too_fast = paper("d", "rsi", json!({}));
    too_fast["schedule"]["every_ms"] = json!(1);
    let mut no_snapshots = paper("d", "rsi", json!({}));
    no_snapshots["snapshot_every"] = json!(0);
    let mut bad_id = paper("../etc", "rsi", json!({}));
    bad_id["id"] = json!("../etc");
    let mut unknown_feed = paper("d", "rsi", json!({}));
    unknown_feed["venue"]["paper"]["feed"] = json!({"bundled": "DOGE_USD-1s"});
    let mut wrong_market = paper("d", "rsi", json!({}));
    wrong_market["venue"]["paper"]["feed"] = json!({"bundled": "ADA_BTC-5m"});
    let mut policy_typo = paper("d", "rsi", json!({}));
    policy_typo["policy"] = json!(POLICY.replace("max_amount", "max_amout"));
    let mut policy_unknown_asset = paper("d", "rsi", json!({}));
    policy_unknown_asset["policy"] = json!(POLICY.replace("BTC = ", "USDC = "));
    let mut init_fails = paper("d", "rsi", json!({"period": 0}));
    init_fails["config"] = json!({"period": 0});
    let no_bundle = paper("d", "nothing", json!({}));

    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("not JSON", "{\"id\": ".into(), 400, "malformed_request"),
        ("an array", "[]".into(), 400, "malformed_request"),
        (
            "unknown field",
            unknown_field.to_string(),
            400,
            "malformed_request",
        ),
        (
            "nested unknown field",
            nested_unknown.to_string(),
            400,
            "malformed_request",
        ),
        (
            "missing field",
            missing.to_string(),
            400,
            "malformed_request",
        ),
        (
            "schedule too fast",
            too_fast.to_string(),
            422,
            "deployment_invalid",
        ),
        (
            "id with a path",
            bad_id.to_string(),
            422,
            "deployment_invalid",
        ),
        (
            "unknown feed",
            unknown_feed.to_string(),
            422,
            "deployment_invalid",
        ),
        (
            "feed of another market",
            wrong_market.to_string(),
            422,
            "deployment_invalid",
        ),
        (
            "policy typo",
            policy_typo.to_string(),
            422,
            "policy_invalid",
        ),
        (
            "policy names an unknown asset",
            policy_unknown_asset.to_string(),
            422,
            "policy_invalid",
        ),
        (
            "init fails",
            init_fails.to_string(),
            422,
            "deployment_failed",
        ),
        ("unknown bundle", no_bundle.to_string(), 404, "not_found"),
    ];
    for (what, body, status, expected) in cases {
        let (got, answer) = harness.post_raw(&token, "/v1/deployments", body);
        assert_eq!((got, code(&answer)), (status, expected), "{what}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{what}: a message for people: {answer}"
        );
        assert_eq!(
            inventory(&harness, &token),
            before,
            "{what}: nothing created"
        );
    }
    // No journal was left behind by the deployment whose init failed.
    let journals = harness.dir.path().join("data/tenants/alice/journals");
    let left = files_in(&journals);
    assert!(left.is_empty(), "journal files left: {left:?}");

    // The id is free after all those refusals; taken after a success.
    let (status, body) = harness.post(&token, "/v1/deployments", &paper("d", "rsi", json!({})));
    assert_eq!(status, 201, "{body}");
    let (status, body) = harness.post(&token, "/v1/deployments", &paper("d", "rsi", json!({})));
    assert_eq!((status, code(&body)), (409, "already_exists"));
    // A running deployment is not deleted, nor its bundle uploaded over.
    let (status, body) = harness.delete(&token, "/v1/deployments/d");
    assert_eq!((status, code(&body)), (409, "invalid_state"));
    let (status, body) = harness.post_raw(
        &token,
        "/v1/bundles",
        harness.sealed(Guest::RsiMomentum, "rsi", "2.0.0"),
    );
    assert_eq!((status, code(&body)), (409, "invalid_state"), "{body}");
}

#[test]
fn bad_bundles_are_refused_and_nothing_is_stored() {
    let harness = Harness::start();
    let token = harness.tenant("alice");
    let before = inventory(&harness, &token);
    let other_host = HostSecretKey::generate().expect("key");
    let mut tampered = harness.sealed(Guest::RsiMomentum, "rsi", "1.0.0");
    let middle = tampered.len() / 2;
    tampered[middle] ^= 1;
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "sealed to another host",
            seal_to(Guest::RsiMomentum, "rsi", "1.0.0", other_host.public_key()),
            422,
            "bundle_rejected",
        ),
        ("tampered", tampered, 422, "bundle_rejected"),
        ("not a bundle", b"hello".to_vec(), 422, "bundle_rejected"),
        (
            "a bare component",
            Guest::RsiMomentum.bytes(),
            422,
            "bundle_rejected",
        ),
        ("too large", vec![0u8; 9 << 20], 413, "body_too_large"),
    ];
    for (what, bytes, status, expected) in cases {
        let (got, answer) = harness.post_raw(&token, "/v1/bundles", bytes);
        assert_eq!((got, code(&answer)), (status, expected), "{what}: {answer}");
        assert_eq!(
            inventory(&harness, &token),
            before,
            "{what}: nothing stored"
        );
    }
    let store = harness.dir.path().join("data/tenants/alice/store/bundles");
    let filed = files_in(&store);
    assert!(filed.is_empty(), "files in the store: {filed:?}");
}

#[test]
fn unknown_routes_and_ids_get_json_not_found() {
    let harness = Harness::start();
    let token = harness.tenant("alice");
    for path in ["/v1/nothing", "/v1/deployments/none", "/v1/bundles/none"] {
        let (status, body) = harness.get(&token, path);
        assert_eq!((status, code(&body)), (404, "not_found"), "{path}: {body}");
    }
}

#[test]
fn feeds_are_bounded_in_size_and_in_what_the_service_holds() {
    let harness = Harness::start_with(|config| config.max_feed_candles = 12_000);
    let token = harness.tenant("alice");
    harness.upload(&token, Guest::RsiMomentum, "rsi");
    let with_feed = |id: &str, candles: u64, seed: u64| {
        let mut request = paper(id, "rsi", json!({}));
        request["venue"]["paper"]["feed"] =
            json!({"synthetic": {"candles": candles, "seed": seed}});
        harness.post(&token, "/v1/deployments", &request)
    };
    let (status, body) = with_feed("huge", 1_000_001, 1);
    assert_eq!((status, code(&body)), (422, "deployment_invalid"), "{body}");
    let (status, body) = with_feed("first", 8_000, 1);
    assert_eq!(status, 201, "{body}");
    // A second distinct tape would pass what the service holds ...
    let (status, body) = with_feed("second", 8_000, 2);
    assert_eq!((status, code(&body)), (429, "quota_exceeded"), "{body}");
    // ... but the first one is shared.
    let (status, body) = with_feed("same", 8_000, 1);
    assert_eq!(status, 201, "{body}");
}

/// The names of the entries of `dir` (none when it does not exist).
fn files_in(dir: &std::path::Path) -> Vec<std::ffi::OsString> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name())
                .collect()
        })
        .unwrap_or_default()
}
