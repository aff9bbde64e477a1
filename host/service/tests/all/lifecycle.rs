//! A deployment's life through the API: ticking on its schedule, paged
//! journal, pause, resume, stop, delete, metrics; a restart of the service
//! that resumes every deployment where it stopped; and a failing
//! deployment that costs only its own ticks.

use std::time::Duration;

use serde_json::{Value, json};
use stratbox_journal::Journal;
use stratbox_test_artifacts::Guest;

use crate::support::{Harness, code, paper};

fn ticks(status: &Value) -> u64 {
    status["ticks"].as_u64().unwrap_or(0)
}

/// Sequences of the journal's ticks, as the API pages them.
fn sequences(harness: &Harness, token: &str, id: &str) -> Vec<u64> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let query = match after {
            Some(after) => format!("?after={after}&limit=7"),
            None => "?limit=7".to_owned(),
        };
        let (status, page) = harness.get(token, &format!("/v1/deployments/{id}/ticks{query}"));
        assert_eq!(status, 200, "{page}");
        let page: Vec<u64> = page
            .as_array()
            .expect("a list")
            .iter()
            .map(|tick| tick["call"]["tick"].as_u64().expect("a tick"))
            .collect();
        let Some(last) = page.last().copied() else {
            return all;
        };
        assert!(page.len() <= 7);
        all.extend(page);
        after = Some(last);
    }
}

#[test]
fn a_deployment_ticks_pauses_resumes_stops_and_is_deleted() {
    let harness = Harness::start();
    let token = harness.tenant("alice");
    harness.upload(&token, Guest::RsiMomentum, "rsi");
    let (status, body) = harness.post(&token, "/v1/deployments", &paper("d", "rsi", json!({})));
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["state"], "running");
    harness.wait_for(&token, "d", |s| ticks(s) >= 3);

    let seen = sequences(&harness, &token, "d");
    assert!(seen.len() >= 3, "{seen:?}");
    assert!(
        seen.windows(2).all(|w| w[1] == w[0] + 1),
        "contiguous: {seen:?}"
    );
    let (status, logs) = harness.get(&token, "/v1/deployments/d/logs");
    assert_eq!(status, 200, "{logs}");

    let (status, body) = harness.post(&token, "/v1/deployments/d/pause", &json!({}));
    assert_eq!(
        (status, body["state"].as_str()),
        (200, Some("paused")),
        "{body}"
    );
    let paused_at = ticks(&harness.wait_for(&token, "d", |_| true));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(ticks(&harness.wait_for(&token, "d", |_| true)), paused_at);
    // Pausing twice is no error; stopping is refused nothing.
    assert_eq!(
        harness
            .post(&token, "/v1/deployments/d/pause", &json!({}))
            .0,
        200
    );

    let (status, body) = harness.post(&token, "/v1/deployments/d/resume", &json!({}));
    assert_eq!(
        (status, body["state"].as_str()),
        (200, Some("running")),
        "{body}"
    );
    harness.wait_for(&token, "d", |s| ticks(s) >= paused_at + 2);

    let (status, body) = harness.post(&token, "/v1/deployments/d/stop", &json!({}));
    assert_eq!(
        (status, body["state"].as_str()),
        (200, Some("stopped")),
        "{body}"
    );
    let (status, body) = harness.post(&token, "/v1/deployments/d/resume", &json!({}));
    assert_eq!((status, code(&body)), (409, "invalid_state"));
    let journal = harness
        .dir
        .path()
        .join("data/tenants/alice/journals/d.sqlite");
    assert!(journal.exists());

    let metrics = harness.get("", "/metrics").1;
    let metrics = metrics.as_str().expect("text");
    for series in [
        "stratbox_ticks_total{tenant=\"alice\",result=\"committed\"}",
        "stratbox_tick_latency_seconds_bucket{le=",
        "stratbox_fuel_total{tenant=\"alice\"}",
        "stratbox_deployments{tenant=\"alice\",state=\"stopped\"} 1",
        "stratbox_deployments{tenant=\"alice\",state=\"running\"} 0",
    ] {
        assert!(metrics.contains(series), "{series} in\n{metrics}");
    }

    let (status, _) = harness.delete(&token, "/v1/deployments/d");
    assert_eq!(status, 204);
    assert_eq!(harness.get(&token, "/v1/deployments/d").0, 404);
    assert!(!journal.exists(), "the journal goes with the deployment");
}

#[test]
fn a_restarted_service_resumes_every_deployment_where_it_stopped() {
    let mut harness = Harness::start();
    let token = harness.tenant("alice");
    harness.upload(&token, Guest::RsiMomentum, "rsi");
    for id in ["running", "paused"] {
        let (status, body) = harness.post(&token, "/v1/deployments", &paper(id, "rsi", json!({})));
        assert_eq!(status, 201, "{body}");
    }
    harness.wait_for(&token, "paused", |s| ticks(s) >= 2);
    assert_eq!(
        harness
            .post(&token, "/v1/deployments/paused/pause", &json!({}))
            .0,
        200
    );
    harness.wait_for(&token, "running", |s| ticks(s) >= 5);
    let paused_before = sequences(&harness, &token, "paused");

    harness.restart();

    // The same tenant and token, the same deployments in the same states.
    let (_, list) = harness.get(&token, "/v1/deployments");
    let states: Vec<(&str, &str)> = list
        .as_array()
        .expect("list")
        .iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap_or(""),
                d["state"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(states, [("paused", "paused"), ("running", "running")]);
    let resumed = harness.wait_for(&token, "running", |s| ticks(s) >= 3);
    assert_eq!(resumed["failed_ticks"], 0);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(sequences(&harness, &token, "paused"), paused_before);

    // One run, no tick committed twice, none skipped over.
    let seen = sequences(&harness, &token, "running");
    assert!(
        seen.windows(2).all(|w| w[1] == w[0] + 1),
        "contiguous: {seen:?}"
    );
    let journal = Journal::open(
        &harness
            .dir
            .path()
            .join("data/tenants/alice/journals/running.sqlite"),
    )
    .expect("journal");
    let runs = journal.runs().expect("runs");
    assert_eq!(runs.len(), 1, "resumed, not restarted: {runs:?}");
    assert_eq!(journal.resumes(runs[0].id).expect("resumes").len(), 1);
}

#[test]
fn a_failing_deployment_costs_only_its_own_ticks() {
    let harness = Harness::start();
    let token = harness.tenant("alice");
    harness.upload(&token, Guest::RsiMomentum, "rsi");
    harness.upload(&token, Guest::Hostile, "hostile");
    let attacks = [
        json!({"attack": "panic", "at_sequence": 0, "repeat": true}),
        json!({"attack": "infinite-loop", "at_sequence": 0, "repeat": true}),
        json!({"attack": "memory-bomb", "at_sequence": 0, "repeat": true}),
    ];
    for (index, attack) in attacks.iter().enumerate() {
        let (status, body) = harness.post(
            &token,
            "/v1/deployments",
            &paper(&format!("hostile-{index}"), "hostile", attack.clone()),
        );
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = harness.post(&token, "/v1/deployments", &paper("good", "rsi", json!({})));
    assert_eq!(status, 201, "{body}");
    for index in 0..attacks.len() {
        let failed = harness.wait_for(&token, &format!("hostile-{index}"), |s| {
            s["state"] == "failed"
        });
        assert!(
            failed["reason"]
                .as_str()
                .is_some_and(|r| r.contains("paused")),
            "{failed}"
        );
        assert!(failed["failed_ticks"].as_u64() >= Some(3), "{failed}");
    }
    let good = harness.wait_for(&token, "good", |s| ticks(s) >= 10);
    assert_eq!(good["state"], "running");
    assert_eq!(good["failed_ticks"], 0);
    let metrics = harness.get("", "/metrics").1;
    assert!(
        metrics.as_str().is_some_and(|m| m.contains(
            "stratbox_failures_total{tenant=\"alice\",kind=\"tick\",code=\"guest_trap\"}"
        )),
        "{metrics}"
    );
}

#[test]
fn a_restarted_paper_account_holds_what_its_fills_left() {
    let mut harness = Harness::start();
    let token = harness.tenant("alice");
    harness.upload(&token, Guest::RsiMomentum, "rsi");
    // A jumpy RSI that trades every few candles.
    let config = json!({"period": 2, "oversold": 45.0, "overbought": 55.0, "cooldown_ms": 0});
    let (status, body) = harness.post(&token, "/v1/deployments", &paper("trader", "rsi", config));
    assert_eq!(status, 201, "{body}");
    let start = body["balances"].clone();
    assert_eq!(start, json!({"BTC": "100000000"}), "{body}");
    harness.wait_for(&token, "trader", |s| {
        s["balances"] != start && s["balances"]["ETH"].as_str().is_some_and(|eth| eth != "0")
    });
    assert_eq!(
        harness
            .post(&token, "/v1/deployments/trader/pause", &json!({}))
            .0,
        200
    );
    let before = harness.wait_for(&token, "trader", |_| true);

    harness.restart();

    let after = harness.wait_for(&token, "trader", |_| true);
    assert_eq!(after["state"], "paused");
    assert_eq!(
        after["balances"], before["balances"],
        "the account after the restart"
    );
    assert_eq!(after["next_sequence"], before["next_sequence"]);
    assert_eq!(
        harness
            .post(&token, "/v1/deployments/trader/resume", &json!({}))
            .0,
        200
    );
    let resumed = harness.wait_for(&token, "trader", |s| ticks(s) >= 5);
    assert_eq!(resumed["failed_ticks"], 0, "{resumed}");
}

#[test]
fn a_second_service_on_the_same_directory_is_refused() {
    let harness = Harness::start();
    let config = stratbox_service::ServiceConfig {
        data_dir: harness.dir.path().join("data"),
        workers: 1,
        ..stratbox_service::ServiceConfig::default()
    };
    let second =
        stratbox_service::Service::open(config, std::sync::Arc::new(harness.key.clone()), None);
    assert!(
        matches!(second, Err(stratbox_service::ServiceError::InUse { .. })),
        "{second:?}"
    );
}

#[test]
fn a_state_change_decided_on_a_stale_state_does_not_overwrite_a_newer_one() {
    use stratbox_service::Quotas;
    use stratbox_service::control::ControlPlane;
    use stratbox_service::request::{DeploymentRequest, DeploymentState};
    let dir = tempfile::tempdir().unwrap();
    let control = ControlPlane::open(&dir.path().join("control.sqlite")).unwrap();
    assert!(control.create_tenant("t", "00", Quotas::default()).unwrap());
    let request: DeploymentRequest =
        serde_json::from_value(paper("d", "rsi", serde_json::json!({}))).unwrap();
    let state = |control: &ControlPlane| control.deployment("t", "d").unwrap().unwrap().state;
    assert!(
        control
            .insert_deployment("t", &request, DeploymentState::Running)
            .unwrap()
    );
    // A worker records the deployment's failure while a pause is being
    // decided on the `running` it read before: the pause is refused and
    // the failure stands (before compare-and-set, it said `paused`, and a
    // resume then said `running` with nothing running).
    let (running, paused) = (DeploymentState::Running, DeploymentState::Paused);
    assert!(
        control
            .transition(
                "t",
                "d",
                &[running, paused],
                DeploymentState::Failed,
                Some("boom")
            )
            .unwrap()
    );
    assert!(
        !control
            .transition("t", "d", &[running], paused, None)
            .unwrap()
    );
    assert_eq!(state(&control), DeploymentState::Failed);
    // A stop stands against a worker's late end.
    control
        .set_state("t", "d", DeploymentState::Stopped, None)
        .unwrap();
    assert!(
        !control
            .transition(
                "t",
                "d",
                &[running, paused],
                DeploymentState::Finished,
                None
            )
            .unwrap()
    );
    assert_eq!(state(&control), DeploymentState::Stopped);
}
