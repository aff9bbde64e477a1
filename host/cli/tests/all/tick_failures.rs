//! Failed ticks in `backtest`, `sweep` and `report`: a backtest stops at the
//! first one unless told to continue, every failure is listed with its
//! cause, guest text reaches the terminal escaped, and snapshot intervals
//! change nothing a clean run shows.

use std::path::Path;

use stratbox_test_artifacts::Guest;

use crate::{stratbox, text};

fn hostile() -> &'static str {
    Guest::Hostile.path().to_str().expect("utf-8 path")
}

/// The Rust default memory limit (64 MiB).
const MEMORY_LIMIT: &str = "67108864";

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_owned()
}

#[test]
fn a_failed_tick_stops_the_backtest_with_a_clear_error_and_a_report_listing_it() {
    let dir = tempfile::tempdir().unwrap();
    let (json, html) = (path(dir.path(), "r.json"), path(dir.path(), "r.html"));
    let output = stratbox(&[
        "backtest",
        hostile(),
        "--config",
        r#"{"attack": "memory-bomb", "at_sequence": 5}"#,
        "--limit",
        "50",
        "--quiet",
        "--json-out",
        &json,
        "--html",
        &html,
    ]);
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success(), "a failed tick fails the command");
    assert!(
        stderr.contains(
            "error: the backtest stopped at a failed tick: tick 5 (candle 6 of 50, \
             closing 2018-01-10 05:25:00 UTC) failed: memory limit exceeded: requested "
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("limit {MEMORY_LIMIT}")),
        "{stderr}"
    );
    assert!(stderr.contains("--continue-on-failure"), "{stderr}");
    // The summary of the ticks run is printed, the failure listed.
    assert!(
        stdout.contains("ticks         6 (1 failed; stopped at the failure"),
        "{stdout}"
    );
    assert!(
        stdout.contains("failed        tick 5 at 2018-01-10 05:25 UTC: memory limit exceeded"),
        "{stdout}"
    );
    // So are the JSON and HTML reports.
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["stopped"], true);
    assert_eq!(report["metrics"]["failed_ticks"], 1);
    let failure = &report["failures"][0];
    assert_eq!(failure["sequence"], 5);
    assert_eq!(
        failure["cause"]["MemoryLimit"]["limit"].to_string(),
        MEMORY_LIMIT
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("Failed ticks (1)"), "the HTML lists failures");
    assert!(page.contains("memory limit exceeded"));
}

#[test]
fn a_panic_is_reported_with_its_message() {
    let output = stratbox(&[
        "backtest",
        hostile(),
        "--config",
        r#"{"attack": "panic", "at_sequence": 2}"#,
        "--limit",
        "10",
        "--quiet",
    ]);
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(stderr.contains("tick 2 (candle 3 of 10"), "{stderr}");
    assert!(stderr.contains("guest trapped"), "{stderr}");
    assert!(
        stdout.contains("hostile strategy panicked on purpose"),
        "the panic message from the tick's log is listed: {stdout}"
    );
}

#[test]
fn continue_on_failure_runs_every_candle_and_lists_every_failure() {
    let dir = tempfile::tempdir().unwrap();
    let json = path(dir.path(), "r.json");
    let output = stratbox(&[
        "backtest",
        hostile(),
        "--config",
        r#"{"attack": "return-error", "at_sequence": 3, "repeat": true}"#,
        "--limit",
        "30",
        "--quiet",
        "--continue-on-failure",
        "--json-out",
        &json,
    ]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    // The third failure in a row pauses the deployment; every later tick
    // fails as paused, listed as one run of ticks.
    assert!(stdout.contains("ticks         30 (27 failed)"), "{stdout}");
    for sequence in 3..=5 {
        assert!(
            stdout.contains(&format!("failed        tick {sequence} at 2018-01-10 ")),
            "{stdout}"
        );
    }
    assert_eq!(
        stdout
            .matches(": strategy returned an error: hostile strategy refuses to tick\n")
            .count(),
        3,
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "and the 23 ticks after it: deployment paused after 3 consecutive failed ticks"
        ),
        "{stdout}"
    );
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["stopped"], false);
    assert_eq!(report["equity"].as_array().unwrap().len(), 30);
    assert_eq!(report["failures"].as_array().unwrap().len(), 4);
}

#[test]
fn sweep_marks_combinations_with_failed_ticks_and_ranks_only_clean_ones() {
    let sweep = |extra: &[&str]| {
        let mut args = vec![
            "sweep",
            hostile(),
            "--config",
            r#"{"at_sequence": 4}"#,
            "--grid",
            "attack=none,return-error",
            "--limit",
            "20",
            "--jobs",
            "1",
        ];
        args.extend_from_slice(extra);
        let output = stratbox(&args);
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{stderr}");
        stdout
    };
    let table = sweep(&[]);
    assert!(table.contains("stop!"), "{table}");
    assert!(table.contains("are not ranked"), "{table}");
    assert!(
        table.contains("attack=\"return-error\": 1 failed, first tick 4 at "),
        "{table}"
    );
    assert!(
        table.contains(r#"best by Sharpe: {"at_sequence":4,"attack":"none"}"#),
        "{table}"
    );

    let rows: serde_json::Value = serde_json::from_str(&sweep(&["--json"])).unwrap();
    assert_eq!(rows[0]["config"]["attack"], "none");
    assert_eq!(rows[0]["rank"], 1);
    assert_eq!(rows[0]["failures"].as_array().unwrap().len(), 0);
    assert_eq!(rows[1]["config"]["attack"], "return-error");
    assert_eq!(rows[1]["rank"], serde_json::Value::Null);
    assert_eq!(rows[1]["stopped"], true);
    assert!(rows[1]["failures"][0]["cause"]["GuestError"].is_object());

    let rows: serde_json::Value =
        serde_json::from_str(&sweep(&["--json", "--continue-on-failure"])).unwrap();
    assert_eq!(rows[1]["stopped"], false);
    assert_eq!(rows[1]["rank"], serde_json::Value::Null);
    assert_eq!(rows[1]["metrics"]["ticks"], 20);
    assert_eq!(rows[1]["metrics"]["failed_ticks"], 1);
}

#[test]
fn guest_text_with_terminal_escapes_is_printed_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let json = path(dir.path(), "r.json");
    let output = stratbox(&[
        "backtest",
        hostile(),
        "--config",
        r#"{"attack": "return-error", "at_sequence": 1}"#,
        "--limit",
        "5",
        "--quiet",
        "--continue-on-failure",
        "--json-out",
        &json,
    ]);
    assert!(output.status.success(), "{}", text(&output).1);
    // A log line that recolors the terminal, erases the line and returns
    // the carriage to overwrite it, as a strategy could log it.
    let mut report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let hostile_line = "\u{1b}[31mred\u{1b}[0m\u{1b}[2K\rall good";
    report["failures"][0]["logs"] = serde_json::json!([hostile_line]);
    report["failures"][0]["message"] = serde_json::json!(format!("boom{hostile_line}"));
    report["strategy"] = serde_json::json!("name\u{1b}]0;title\u{7}");
    std::fs::write(&json, report.to_string()).unwrap();

    let html = path(dir.path(), "r.html");
    let output = stratbox(&["report", &json, "--html", &html]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\r') && !stdout.contains('\u{7}'),
        "a control character reached the terminal: {stdout:?}"
    );
    assert!(
        stdout.contains("  log         \\u{1b}[31mred\\u{1b}[0m\\u{1b}[2K\\rall good\n"),
        "{stdout}"
    );
    assert!(stdout.contains("boom\\u{1b}[31m"), "{stdout}");
    assert!(stdout.contains("name\\u{1b}]0;title\\u{7}"), "{stdout}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(!page.contains('\u{1b}') && !page.contains('\r'));
}

#[test]
fn a_snapshot_interval_changes_nothing_a_clean_run_shows_and_replays() {
    let dir = tempfile::tempdir().unwrap();
    let journal = path(dir.path(), "run.db");
    let run = |name: &str, extra: &[&str]| {
        let json = path(dir.path(), name);
        let mut args = vec![
            "backtest",
            Guest::RsiMomentum.path().to_str().unwrap(),
            "--config",
            r#"{"period": 3, "oversold": 40, "overbought": 60, "cooldown_ms": 0}"#,
            "--limit",
            "800",
            "--quiet",
            "--json-out",
            &json,
        ];
        args.extend_from_slice(extra);
        let output = stratbox(&args);
        assert!(output.status.success(), "{}", text(&output).1);
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        report
    };
    let every_tick = run("every.json", &["--commit-every", "1"]);
    let sparse = run(
        "sparse.json",
        &["--commit-every", "37", "--journal", &journal],
    );
    assert!(every_tick["metrics"]["actions"].as_u64().unwrap() > 0);
    assert_eq!(sparse["trades"], every_tick["trades"]);
    assert_eq!(sparse["equity"], every_tick["equity"]);

    let output = stratbox(&["replay", "1", "--journal", &journal]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stdout.contains("800 ticks replayed identically"),
        "{stdout}"
    );

    let output = stratbox(&["backtest", hostile(), "--commit-every", "0"]);
    assert!(!output.status.success(), "--commit-every 0 is refused");
}
