//! `stratbox study`: the lending-shortfall study under jump stress.

use crate::{stratbox, text};

fn study_json(extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["study", "--paths", "20000", "--json"];
    args.extend_from_slice(extra);
    let output = stratbox(&args);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    serde_json::from_str(&stdout).unwrap()
}

fn probability(result: &serde_json::Value, which: &str) -> (f64, f64, f64) {
    let p = &result[which];
    (
        p["estimate"].as_f64().unwrap(),
        p["low"].as_f64().unwrap(),
        p["high"].as_f64().unwrap(),
    )
}

#[test]
fn a_study_is_seeded_stressed_and_bounded_by_its_interval() {
    let first = study_json(&["--seed", "7"]);
    assert_eq!(
        first,
        study_json(&["--seed", "7"]),
        "same seed, same figures"
    );
    // The fitted model, stressed: 100 times its jumps, -20% each.
    let fitted = first["config"]["model"]["jump_intensity"].as_f64().unwrap();
    let simulated = first["model"]["jump_intensity"].as_f64().unwrap();
    assert!((simulated - 100.0 * fitted).abs() < 1e-6 * simulated.max(1.0));
    assert!((first["model"]["jump_mean"].as_f64().unwrap() - 0.8f64.ln()).abs() < 1e-12);
    let (end, low, high) = probability(&first, "shortfall_at_end");
    assert!(
        low <= end && end <= high && high - low < 0.02,
        "{end} in [{low}, {high}]"
    );
    let (any, ..) = probability(&first, "shortfall_any_time");
    assert!(any >= end);

    // Without the stress, shortfall from 75% LTV within a day is rarer.
    let (calm, ..) = probability(
        &study_json(&["--seed", "7", "--no-stress"]),
        "shortfall_at_end",
    );
    assert!(calm < end, "{calm} vs stressed {end}");
    // A position already under water is short on every path.
    let (under, ..) = probability(&study_json(&["--ltv", "1.2"]), "shortfall_any_time");
    assert_eq!(under, 1.0);
}

#[test]
fn a_study_draws_its_loss_distribution_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("study.html");
    let output = stratbox(&["study", "--paths", "5000", "--html", html.to_str().unwrap()]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("shortfall at end"), "{stdout}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && page.contains("Distribution of end equity"));

    for (args, expected) in [
        (vec!["study", "--ltv=-0.5"], "ltv"),
        (vec!["study", "--paths", "0"], "paths"),
        (vec!["study", "--horizon", "soon"], "horizon"),
        (vec!["study", "--data", "no/such.csv"], "no/such.csv"),
    ] {
        let output = stratbox(&args);
        let (_, stderr) = text(&output);
        assert_ne!(output.status.code(), Some(0), "{args:?}");
        assert!(
            stderr.to_lowercase().contains(expected),
            "{args:?}: {stderr}"
        );
    }
}
