//! The checked-in OpenAPI description (`openapi.json`) against the
//! server: every documented operation is routed and answers only statuses
//! it documents, and the error codes are the service's.

use serde_json::{Value, json};
use stratbox_service::ErrorCode;
use stratbox_test_artifacts::Guest;

use crate::support::{Harness, paper};

fn description() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json"))
        .expect("openapi.json");
    serde_json::from_str(&text).expect("valid JSON")
}

#[test]
fn every_documented_operation_is_routed_and_answers_a_documented_status() {
    let harness = Harness::start();
    let token = harness.tenant("alice");
    harness.upload(&token, Guest::RsiMomentum, "rsi");
    let (status, body) = harness.post(&token, "/v1/deployments", &paper("d", "rsi", json!({})));
    assert_eq!(status, 201, "{body}");
    let doc = description();
    let paths = doc["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (template, item) in paths {
        for (method, operation) in item.as_object().expect("path item") {
            let documented: Vec<u16> = operation["responses"]
                .as_object()
                .expect("responses")
                .keys()
                .map(|status| status.parse().expect("a status"))
                .collect();
            // Path parameters name the tenant's objects, or missing ones.
            for (name, id) in [("rsi", "d"), ("missing", "missing")] {
                let path = template.replace("{name}", name).replace("{id}", id);
                let (status, body) = match method.as_str() {
                    "get" => harness.get(&token, &path),
                    "delete" => harness.delete(&token, &path),
                    "post" if path == "/v1/bundles" => harness.post_raw(&token, &path, "x"),
                    "post" => harness.post(&token, &path, &json!({})),
                    other => panic!("undocumented method {other}"),
                };
                assert_ne!(
                    body["error"]["message"], "no such route",
                    "{method} {path} is documented but not routed"
                );
                assert_ne!(status, 405, "{method} {path}: method not allowed");
                assert!(
                    documented.contains(&status),
                    "{method} {path} answered {status}, documented {documented:?}: {body}"
                );
                operations += 1;
            }
        }
    }
    assert!(operations >= 2 * 15, "{operations} operations tried");
}

#[test]
fn the_documented_error_codes_are_the_services() {
    let doc = description();
    let documented: Vec<String> = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .expect("enum")
        .iter()
        .map(|code| code.as_str().expect("text").to_owned())
        .collect();
    let actual: Vec<String> = ErrorCode::ALL
        .iter()
        .map(|code| {
            serde_json::to_value(code)
                .expect("code")
                .as_str()
                .expect("text")
                .to_owned()
        })
        .collect();
    assert_eq!(documented, actual);
    let named: Vec<&str> = ErrorCode::ALL.iter().map(|code| code.as_str()).collect();
    assert_eq!(documented, named, "as_str names each code as serde does");
}
