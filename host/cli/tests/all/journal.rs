//! `demo --policy --journal`, `journal runs|show` and `replay`, end to end.

use std::path::Path;

use stratbox_test_artifacts::Guest;

use crate::{stratbox, text};

fn rsi() -> &'static str {
    Guest::RsiMomentum.path().to_str().expect("utf-8 path")
}

const EXAMPLE: &str = "host/policy/example.policy.toml";

/// Record a demo run under the example policy; returns the journal path.
fn record(dir: &Path) -> String {
    let journal = dir.join("run.db").to_str().unwrap().to_owned();
    let output = stratbox(&[
        "demo",
        "--component",
        rsi(),
        "--limit",
        "800",
        "--config",
        r#"{"period": 3, "oversold": 40, "overbought": 60, "cooldown_ms": 0}"#,
        "--policy",
        EXAMPLE,
        "--journal",
        &journal,
    ]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("ticks        800 (0 failed)"), "{stdout}");
    assert!(
        stdout.contains("rejected: COOLDOWN_ACTIVE: kind=swap"),
        "{stdout}"
    );
    assert!(stdout.contains("(rule swap.cooldown)"), "{stdout}");
    assert!(stdout.contains("journal      run 1 in "), "{stdout}");
    journal
}

#[test]
fn a_journaled_demo_can_be_listed_shown_and_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let journal = record(dir.path());

    let output = stratbox(&["journal", "--journal", &journal, "runs"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("demo"), "{stdout}");
    assert!(stdout.contains("file v1"), "{stdout}");

    let output = stratbox(&["journal", "show", "1", "init", "--journal", &journal]);
    assert!(output.status.success(), "{}", text(&output).1);
    assert!(text(&output).0.contains("run 1, init"));

    let output = stratbox(&[
        "journal",
        "--journal",
        &journal,
        "show",
        "demo",
        "10",
        "--json",
    ]);
    assert!(output.status.success(), "{}", text(&output).1);
    let call: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(call["call"]["tick"], 10);
    assert_eq!(call["input"]["block"]["number"], 10);

    let output = stratbox(&["replay", "1", "--journal", &journal]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stdout.contains("run 1: init and 800 ticks replayed identically"),
        "{stdout}"
    );
}

#[test]
fn replay_reports_a_tampered_tick_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let journal = record(dir.path());
    // Change the first log line of the first tick that logged, as a forger
    // would.
    let conn = rusqlite_open(&journal);
    let (tick, sequence): (i64, i64) = conn
        .query_row(
            "SELECT t.id, t.sequence FROM logs l JOIN ticks t ON t.id = l.tick
             WHERE t.call = 'tick' ORDER BY t.sequence LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    conn.execute(
        "UPDATE logs SET message = 'forged' WHERE position = 0 AND tick = ?1",
        [tick],
    )
    .unwrap();
    drop(conn);
    let output = stratbox(&["replay", "1", "--journal", &journal]);
    let (_, stderr) = text(&output);
    // The journal's hash chain names the edited tick before anything is
    // re-executed (a divergence found by re-execution is named the same
    // way: see the journal crate's replay tests).
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("hash chain breaks at tick {sequence}")),
        "{stderr}"
    );
}

#[test]
fn replay_reports_a_journal_whose_newest_ticks_were_removed() {
    let dir = tempfile::tempdir().unwrap();
    let journal = record(dir.path());
    // Drop the last 100 ticks with everything recorded with them: what is
    // left still links, and only the run's head anchor shows the loss.
    let ticks = "SELECT id FROM ticks WHERE call = 'tick' AND sequence >= 700";
    rusqlite_open(&journal)
        .execute_batch(&format!(
            "DELETE FROM oracle_reads WHERE tick IN ({ticks});
             DELETE FROM emissions WHERE tick IN ({ticks});
             DELETE FROM logs WHERE tick IN ({ticks});
             DELETE FROM snapshots WHERE tick IN ({ticks});
             DELETE FROM ticks WHERE call = 'tick' AND sequence >= 700;"
        ))
        .unwrap();
    let output = stratbox(&["replay", "1", "--journal", &journal]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the journal lacks its tick 799") && stderr.contains("were removed"),
        "{stderr}"
    );
}

fn rusqlite_open(path: &str) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[test]
fn a_policy_naming_an_unknown_token_is_refused_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "version = 1\nchains = [0]\n\n[swap]\nmax_amount = { USDC = \"100\" }\n",
    )
    .unwrap();
    let journal = dir.path().join("run.db");
    let output = stratbox(&[
        "demo",
        "--component",
        rsi(),
        "--policy",
        policy.to_str().unwrap(),
        "--journal",
        journal.to_str().unwrap(),
    ]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr.contains("policy.toml:5:") && stderr.contains("unknown token `USDC`"),
        "{stderr}"
    );
    assert!(
        !journal.exists(),
        "nothing is recorded for a refused policy"
    );
}

#[test]
fn journal_commands_name_a_missing_journal_or_run() {
    let output = stratbox(&["journal", "--journal", "no/such.db", "runs"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output).1.contains("no journal at no/such.db"));

    let dir = tempfile::tempdir().unwrap();
    let journal = record(dir.path());
    let output = stratbox(&["replay", "7", "--journal", &journal]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output).1.contains("no run `7`"),
        "{}",
        text(&output).1
    );
}

#[test]
fn status_shows_a_paused_deployment_its_last_tick_and_why_it_failed() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("status.db").to_str().unwrap().to_owned();
    let hostile = Guest::Hostile.path().to_str().expect("utf-8 path");
    // Fails every tick from 2 on: three in a row pause the deployment.
    let output = stratbox(&[
        "backtest",
        hostile,
        "--config",
        r#"{"attack": "return-error", "at_sequence": 2, "repeat": true}"#,
        "--limit",
        "10",
        "--continue-on-failure",
        "--journal",
        &journal,
    ]);
    assert!(output.status.success(), "{}", text(&output).1);

    let output = stratbox(&["journal", "--journal", &journal, "status"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains(": paused"), "{stdout}");
    assert!(stdout.contains("pending tx   0"), "{stdout}");
    // The refused ticks ran nothing and are not journaled: the last tick
    // is the failure that paused it.
    assert!(
        stdout.contains("last tick    4 FAILED: strategy returned an error"),
        "{stdout}"
    );
    // The failures that paused it, newest first, not the refused ticks.
    for sequence in [4, 3, 2] {
        assert!(
            stdout.contains(&format!(
                "failure      tick {sequence}: strategy returned an error: hostile strategy refuses to tick"
            )),
            "{stdout}"
        );
    }
}
