//! `generate` then `build`: a spec equivalent to the RSI example trades
//! exactly like it, and a state-machine spec with lending actions acts at
//! the candles its rules say.

use std::path::{Path, PathBuf};

use stratbox_test_artifacts::Guest;

use crate::{stratbox, text};

/// Generate `spec` into `dir/<name>`, build it, and return the component.
fn generate_and_build(dir: &Path, spec: &Path, name: &str) -> (PathBuf, String) {
    let crate_dir = dir.join(name);
    let output = stratbox(&[
        "generate",
        spec.to_str().unwrap(),
        "-o",
        crate_dir.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output).1);
    let source = std::fs::read_to_string(crate_dir.join("src/lib.rs")).unwrap();
    let component = dir.join(format!("{name}.wasm"));
    let output = stratbox(&[
        "build",
        crate_dir.to_str().unwrap(),
        "-o",
        component.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output).1);
    (component, source)
}

/// Backtest `component` with `extra` arguments; the JSON report.
fn backtest(component: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["backtest", component.to_str().unwrap(), "--quiet", "--json"];
    args.extend_from_slice(extra);
    let output = stratbox(&args);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    serde_json::from_str(&stdout).unwrap()
}

#[test]
fn the_rsi_spec_generates_a_strategy_that_trades_like_the_hand_written_one() {
    let dir = tempfile::tempdir().unwrap();
    let (component, source) =
        generate_and_build(dir.path(), Path::new("examples/specs/rsi.toml"), "rsi-spec");
    assert!(source.contains("let entry = now.rsi < 30.0;"), "{source}");

    let trades = |component: &Path| {
        let report = backtest(component, &[]);
        (report["trades"].clone(), report["denials"].clone())
    };
    let generated = trades(&component);
    let hand_written = trades(Guest::RsiMomentum.path());
    assert!(
        generated.0.as_array().unwrap().len() >= 4,
        "the RSI example trades over the bundled candles"
    );
    assert_eq!(generated, hand_written);
}

/// Two states; every decision depends on the close only, so the candles at
/// which the rules fire follow from [`CLOSES`].
const LENDING_SPEC: &str = r#"
version = 1
name = "lend-on-dips"
states = ["idle", "lending"]

[market]
name = "ETH/BTC"
base = "ETH"
quote = "BTC"
quote_decimals = 8

[assets]
ETH = { decimals = 18 }

[[rules]]
name = "lend"
in = "idle"
when = { left = "close", op = "<", right = 0.048 }
actions = [{ kind = "supply", market = "aave", asset = "ETH", amount = { fraction = 0.25, of = "ETH" } }]
to = "lending"

[[rules]]
name = "top_up"
in = "lending"
when = { left = "close", op = "<", right = 0.048 }
actions = [{ kind = "supply", market = "aave", asset = "ETH", amount = { fraction = 0.5, of = "ETH" } }]
cooldown_candles = 3

[[rules]]
name = "withdraw"
in = "lending"
when = { left = "close", op = ">", right = 0.052 }
actions = [{ kind = "withdraw", market = "aave", asset = "ETH", amount = { fraction = 1.0, of = "supplied" } }]
to = "idle"
"#;

/// One 5-minute candle per close.
const CLOSES: [f64; 12] = [
    0.050, 0.050, 0.047, 0.047, 0.047, 0.047, 0.047, 0.050, 0.053, 0.053, 0.047, 0.050,
];

fn write_tape(path: &Path) {
    let mut csv = String::from("timestamp_ms,open,high,low,close,volume\n");
    for (index, close) in CLOSES.iter().enumerate() {
        let at = 1_700_000_000_000u64 + index as u64 * 300_000;
        csv.push_str(&format!("{at},{close},{close},{close},{close},10\n"));
    }
    std::fs::write(path, csv).unwrap();
}

#[test]
fn a_state_machine_spec_lends_at_the_candles_its_rules_say() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("lend-on-dips.toml");
    std::fs::write(&spec, LENDING_SPEC).unwrap();
    let (component, source) = generate_and_build(dir.path(), &spec, "lend-on-dips");
    for readable in [
        "if state == State::Idle && (now.close < 0.048) {",
        "amount: share(wallet(ctx, \"ETH\")?, 250_000),",
        "} else if state == State::Lending && self.cooled_down(1, now_ms) && (now.close < 0.048) {",
        "amount: lent(ctx, PositionKind::Supplied, \"aave\", \"ETH\"),",
        "self.fire(ctx, 2, actions, State::Idle, now_ms)?;",
    ] {
        assert!(
            source.contains(readable),
            "missing {readable:?} in\n{source}"
        );
    }

    let tape = dir.path().join("tape.csv");
    write_tape(&tape);
    let journal = dir.path().join("run.db");
    let report = backtest(
        &component,
        &[
            "--data",
            tape.to_str().unwrap(),
            "--market",
            "ETH/BTC",
            "--venues",
            "examples/venues/eth-btc-lending.toml",
            "--journal",
            journal.to_str().unwrap(),
        ],
    );
    assert_eq!(report["metrics"]["failed_ticks"], 0, "{report:#}");
    assert_eq!(report["denials"], serde_json::json!([]));
    let acted: Vec<(u64, &str, &str)> = report["trades"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["sequence"].as_u64().unwrap(),
                t["kind"].as_str().unwrap(),
                t["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        acted,
        [
            // `lend` on the first close under 0.048, in `idle`.
            (2, "supply", "filled"),
            // `lending` once the supply filled: `top_up`, then its cooldown
            // of 3 candles.
            (3, "supply", "filled"),
            (6, "supply", "filled"),
            // `withdraw` on the first close over 0.052; `idle` again, so the
            // next dip is `lend`'s.
            (8, "withdraw", "filled"),
            (10, "supply", "filled"),
        ]
    );

    // The amounts: shares of the balances read when the rule fired.
    let call = |tick: &str| -> serde_json::Value {
        let output = stratbox(&[
            "journal",
            "--journal",
            journal.to_str().unwrap(),
            "show",
            "1",
            tick,
            "--json",
        ]);
        assert!(output.status.success(), "{}", text(&output).1);
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let units = |amount: &serde_json::Value| {
        u128::from(amount["hi"].as_u64().unwrap()) << 64
            | u128::from(amount["lo"].as_u64().unwrap())
    };
    let emitted = |call: &serde_json::Value, kind: &str| {
        let emissions = call["emissions"].as_array().unwrap();
        assert_eq!(emissions.len(), 1, "{call:#}");
        units(&emissions[0]["action"][kind]["amount"])
    };
    let read = |call: &serde_json::Value, read: &str| {
        call["oracle_reads"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["read"] == read)
            .unwrap_or_else(|| panic!("no {read} read in {call:#}"))["response"]
            .clone()
    };
    let lend = call("2");
    assert_eq!(
        emitted(&lend, "Supply"),
        2_500_000_000_000_000_000,
        "a quarter of 10 ETH"
    );
    let top_up = call("3");
    let balance = units(&read(&top_up, "balance")["Ok"]);
    assert_eq!(emitted(&top_up, "Supply"), balance / 2);
    let logs: Vec<&str> = top_up["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        logs,
        ["lend: Idle -> Lending", "top_up: supply is action 2"]
    );
    let withdraw = call("8");
    let supplied = &read(&withdraw, "positions")[0];
    assert_eq!(supplied["kind"], "Supplied");
    assert_eq!(
        emitted(&withdraw, "Withdraw"),
        units(&supplied["amounts"][0]["amount"]),
        "all that was supplied"
    );
}

#[test]
fn the_lp_example_spec_opens_collects_and_closes_positions() {
    let dir = tempfile::tempdir().unwrap();
    let (component, _) = generate_and_build(
        dir.path(),
        Path::new("examples/specs/lp-bands.toml"),
        "lp-bands-spec",
    );
    let report = backtest(&component, &["--venues", "examples/venues/eth-btc-lp.toml"]);
    assert_eq!(report["metrics"]["failed_ticks"], 0, "{report:#}");
    // Walk the trades through the spec's states: `open` only when idle,
    // `breakout` and `collect` only while providing, `collect` at most once
    // per 288 candles, and a candle of cooling off between a close and the
    // next open.
    let mut providing = false;
    let mut last_close = None;
    let mut last_collect: Option<u64> = None;
    let mut count = std::collections::BTreeMap::new();
    for trade in report["trades"].as_array().unwrap() {
        let sequence = trade["sequence"].as_u64().unwrap();
        let kind = trade["kind"].as_str().unwrap();
        assert_eq!(trade["outcome"], "filled", "{trade}");
        match kind {
            "lp_open" => {
                assert!(!providing, "{trade}");
                assert!(
                    last_close.is_none_or(|close| sequence >= close + 2),
                    "{trade}"
                );
                providing = true;
            }
            "lp_close" => {
                assert!(providing, "{trade}");
                providing = false;
                last_close = Some(sequence);
            }
            "lp_collect" => {
                assert!(providing, "{trade}");
                assert!(
                    last_collect.is_none_or(|last| sequence >= last + 288),
                    "{trade}"
                );
                last_collect = Some(sequence);
            }
            other => panic!("unexpected {other}"),
        }
        *count.entry(kind).or_insert(0) += 1;
    }
    assert_eq!(
        report["trades"][0]["sequence"], 19,
        "the first candle with the bands ready opens"
    );
    assert!(
        count["lp_open"] > 10 && count["lp_close"] > 10 && count["lp_collect"] > 10,
        "{count:?}"
    );
}

#[test]
fn a_malformed_spec_is_refused_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let refusal = |name: &str, text_of_spec: String| {
        let spec = dir.path().join(name);
        std::fs::write(&spec, text_of_spec).unwrap();
        let out = dir.path().join("out");
        let output = stratbox(&[
            "generate",
            spec.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        let (_, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(!out.exists(), "nothing is written for a refused spec");
        stderr
    };
    let rsi = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/specs/rsi.toml"
    ))
    .unwrap();
    let stderr = refusal(
        "broken.toml",
        rsi.replace("right = 30", "right = \"rsi_slow\""),
    );
    assert!(stderr.contains("broken.toml:"), "{stderr}");
    assert!(
        stderr.contains("entry.right: unknown series `rsi_slow`"),
        "{stderr}"
    );

    let stderr = refusal(
        "unknown-state.toml",
        LENDING_SPEC.replace("to = \"idle\"", "to = \"flat\""),
    );
    assert!(
        stderr.contains(
            "unknown-state.toml:34: rules[2].to: unknown state `flat` (states: idle, lending)"
        ),
        "{stderr}"
    );
}
