//! `backtest`, `sweep` and `report`, end to end over bundled candles.

use std::path::Path;

use stratbox_test_artifacts::Guest;

use crate::{stratbox, text};

fn component(guest: Guest) -> &'static str {
    guest.path().to_str().expect("utf-8 path")
}

/// An RSI config that trades often enough to meet the example policy's
/// cooldown.
const EAGER_RSI: &str = r#"{"period": 3, "oversold": 40, "overbought": 60, "cooldown_ms": 0}"#;

/// Run `stratbox` with `args`, which must succeed, and parse what it
/// printed as JSON.
fn stratbox_json<T: serde::de::DeserializeOwned>(args: &[&str]) -> T {
    let output = stratbox(args);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    serde_json::from_str(&stdout).unwrap()
}

fn backtest_json(dir: &Path, name: &str, extra: &[&str]) -> (Vec<u8>, serde_json::Value) {
    let json = dir.join(format!("{name}.json"));
    let mut args = vec![
        "backtest",
        component(Guest::RsiMomentum),
        "--limit",
        "1500",
        "--quiet",
        "--json-out",
        json.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let output = stratbox(&args);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("ticks         1500 (0 failed)"), "{stdout}");
    let bytes = std::fs::read(&json).unwrap();
    let value = serde_json::from_slice(&bytes).unwrap();
    (bytes, value)
}

#[test]
fn a_backtest_run_twice_writes_byte_identical_json() {
    let dir = tempfile::tempdir().unwrap();
    let (first, report) = backtest_json(dir.path(), "first", &["--config", EAGER_RSI]);
    let (second, _) = backtest_json(dir.path(), "second", &["--config", EAGER_RSI]);
    assert!(first == second, "the same backtest wrote different JSON");
    assert_eq!(report["equity"].as_array().unwrap().len(), 1500);
    assert!(report["metrics"]["actions"].as_u64().unwrap() > 0);
    assert_eq!(report["metrics"]["ticks_per_second"], 0.0);
    // Risk: 1h and 1d, 95% and 99%, three methods, and the stressed
    // Monte Carlo figures, from the 5-minute equity returns.
    let table = &report["risk"]["table"];
    assert_eq!(table["interval_ms"], 300_000, "{}", report["risk"]);
    assert_eq!(table["returns"], 1499);
    assert_eq!(table["figures"].as_array().unwrap().len(), 12);
    assert_eq!(report["risk"]["stressed"].as_array().unwrap().len(), 4);
    for figure in table["figures"].as_array().unwrap() {
        let (var, es) = (
            figure["var"].as_f64().unwrap(),
            figure["es"].as_f64().unwrap(),
        );
        assert!(es >= var - 1e-12, "ES is at least VaR: {figure}");
    }
    // The default fill model, and the buy-and-hold benchmark.
    assert_eq!(report["fill_model"], "close");
    assert_eq!(report["benchmark"]["asset"], "ETH");
    assert_eq!(
        report["benchmark"]["equity"].as_array().unwrap().len(),
        1500
    );
    let prices: Vec<f64> = report["equity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["price"].as_f64().unwrap())
        .collect();
    let expected = prices[1499] / prices[0] - 1.0;
    let got = report["metrics"]["benchmark_return"].as_f64().unwrap();
    assert!((got - expected).abs() < 1e-12, "{got} vs {expected}");
    assert!(
        report["metrics"]["benchmark_max_drawdown"]
            .as_f64()
            .unwrap()
            > 0.0
    );
}

#[test]
fn a_fill_model_is_chosen_on_the_command_line_and_stated_in_every_report() {
    let dir = tempfile::tempdir().unwrap();
    let (json, html) = (dir.path().join("late.json"), dir.path().join("late.html"));
    let output = stratbox(&[
        "backtest",
        component(Guest::RsiMomentum),
        "--config",
        EAGER_RSI,
        "--limit",
        "600",
        "--quiet",
        "--fill",
        "latency:2",
        "--json-out",
        json.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("fill model    latency:2 ("), "{stdout}");
    assert!(stdout.contains("buy and hold  "), "{stdout}");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["fill_model"], "latency:2");
    let trades = report["trades"].as_array().unwrap();
    assert!(
        trades
            .iter()
            .any(|t| t["outcome"] == "filled" && t["executed_ms"].as_u64().is_some()),
        "fills carry their execution time"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("latency:2"), "the HTML states the fill model");
    assert!(page.contains("buy and hold ETH"), "and draws the benchmark");

    let report: serde_json::Value = stratbox_json(&[
        "backtest",
        component(Guest::RsiMomentum),
        "--config",
        EAGER_RSI,
        "--limit",
        "300",
        "--fill",
        "next-open",
        "--json",
    ]);
    assert_eq!(report["fill_model"], "next-open");

    for bad in ["latency:0", "tomorrow"] {
        let output = stratbox(&["backtest", component(Guest::RsiMomentum), "--fill", bad]);
        let (_, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("--fill"), "{stderr}");
    }
    for command in ["backtest", "sweep"] {
        let help = stratbox(&[command, "--help"]);
        let (stdout, _) = text(&help);
        assert!(
            stdout.contains("--fill <MODEL>") && stdout.contains("[default: close]"),
            "{command} --help states the fill models and the default: {stdout}"
        );
        assert!(stdout.contains("latency:N"), "{stdout}");
    }
}

#[test]
fn a_policy_denial_appears_in_the_report_json_html_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    let (_, report) = backtest_json(
        dir.path(),
        "denied",
        &[
            "--config",
            EAGER_RSI,
            "--policy",
            "host/policy/example.policy.toml",
            "--html",
            html.to_str().unwrap(),
        ],
    );
    let denials = report["denials"].as_array().unwrap();
    let cooldown = denials
        .iter()
        .find(|d| d["code"] == "COOLDOWN_ACTIVE")
        .expect("a cooldown denial is reported");
    assert_eq!(cooldown["rule"], "swap.cooldown");
    assert!(
        cooldown["detail"]
            .as_str()
            .unwrap()
            .starts_with("COOLDOWN_ACTIVE: ")
    );
    assert!(
        report["metrics"]["denials_by_rule"]["swap.cooldown"]
            .as_u64()
            .unwrap()
            > 0
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("COOLDOWN_ACTIVE"),
        "the HTML lists the denial"
    );
    assert!(page.contains("<svg"), "the HTML embeds its charts");
    assert!(
        page.contains("<h2>Risk</h2>") && page.contains("<th>ES stressed MC</th>"),
        "the HTML has the risk table"
    );

    // `report` renders the saved JSON again, with the same denials.
    let again = dir.path().join("again.html");
    let output = stratbox(&[
        "report",
        dir.path().join("denied.json").to_str().unwrap(),
        "--html",
        again.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("denied by   swap.cooldown: "), "{stdout}");
    assert!(
        stdout.contains("VaR 1d 99%    historical "),
        "the summary has the risk figures: {stdout}"
    );
    assert!(
        std::fs::read_to_string(&again)
            .unwrap()
            .contains("COOLDOWN_ACTIVE")
    );
}

#[test]
fn a_bad_csv_row_is_refused_with_its_row_number() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("ETH_BTC-5m.csv");
    std::fs::write(
        &csv,
        "timestamp_ms,open,high,low,close,volume\n\
         0,1,2,0.5,1.5,10\n\
         300000,1.5,1.4,1.6,1.5,10\n",
    )
    .unwrap();
    let json = dir.path().join("never.json");
    let output = stratbox(&[
        "backtest",
        component(Guest::RsiMomentum),
        "--data",
        csv.to_str().unwrap(),
        "--json-out",
        json.to_str().unwrap(),
    ]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("row 3"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!json.exists(), "nothing is written for a refused tape");
}

#[test]
fn a_venue_file_naming_an_unknown_asset_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let venues = dir.path().join("venues.toml");
    std::fs::write(
        &venues,
        "quote = \"BTC\"\n[assets.BTC]\ndecimals = 8\n[balances]\nDOGE = \"1\"\n",
    )
    .unwrap();
    let output = stratbox(&[
        "backtest",
        component(Guest::RsiMomentum),
        "--venues",
        venues.to_str().unwrap(),
    ]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("DOGE"), "{stderr}");

    std::fs::write(&venues, "quote = \"BTC\"\nlevrage = 3\n").unwrap();
    let output = stratbox(&[
        "backtest",
        component(Guest::RsiMomentum),
        "--venues",
        venues.to_str().unwrap(),
    ]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("levrage"),
        "unknown fields are named: {stderr}"
    );
}

#[test]
fn a_sweep_runs_every_combination_and_ranks_them() {
    let rows: Vec<serde_json::Value> = stratbox_json(&[
        "sweep",
        component(Guest::RsiMomentum),
        "--grid",
        "period=3,14",
        "--grid",
        "oversold=30,40",
        "--config",
        r#"{"cooldown_ms": 0}"#,
        "--limit",
        "800",
        "--jobs",
        "2",
        "--metric",
        "return",
        "--fill",
        "next-open",
        "--json",
    ]);
    assert_eq!(rows.len(), 4);
    // Every combination has the same benchmark, and says how it filled.
    let benchmark = &rows[0]["metrics"]["benchmark_return"];
    assert!(benchmark.as_f64().is_some(), "{}", rows[0]);
    for row in &rows {
        assert_eq!(&row["metrics"]["benchmark_return"], benchmark);
        assert_eq!(row["fill_model"], "next-open");
    }
    let mut seen: Vec<(u64, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["config"]["period"].as_u64().unwrap(),
                r["config"]["oversold"].as_u64().unwrap(),
            )
        })
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, vec![(3, 30), (3, 40), (14, 30), (14, 40)]);
    let returns: Vec<f64> = rows
        .iter()
        .map(|r| r["metrics"]["total_return"].as_f64().unwrap())
        .collect();
    assert!(
        returns.windows(2).all(|w| w[0] >= w[1]),
        "ranked best first: {returns:?}"
    );
}

#[test]
fn the_lp_and_leverage_examples_trade_their_venues() {
    let report: serde_json::Value = stratbox_json(&[
        "backtest",
        component(Guest::DynamicLp),
        "--venues",
        "examples/venues/eth-btc-lp.toml",
        "--config",
        r#"{"pool":"ETH/BTC-0.3","token0":"ETH","token1":"BTC","token0_decimals":18,"token1_decimals":8,"rebalance_cost":0.002}"#,
        "--limit",
        "3000",
        "--quiet",
        "--json",
    ]);
    let kinds: Vec<&str> = report["trades"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["outcome"] == "filled")
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    for kind in ["lp_open", "lp_collect", "lp_close"] {
        assert!(
            kinds.contains(&kind),
            "dynamic-lp filled no {kind}: {kinds:?}"
        );
    }
    assert!(report["metrics"]["fees_paid"].as_f64().unwrap() > 0.0);
    assert!(report["metrics"]["gas_paid"].as_f64().unwrap() > 0.0);

    let report: serde_json::Value = stratbox_json(&[
        "backtest",
        component(Guest::LeverageLoop),
        "--venues",
        "examples/venues/eth-btc-lending.toml",
        "--config",
        r#"{"market":"aave","collateral":"ETH","debt":"BTC","collateral_decimals":18,"debt_decimals":8,"pool":"ETH/BTC-0.3","min_step":0.01,"target_health_factor":1.15,"unwind_below":1.1}"#,
        "--limit",
        "3000",
        "--quiet",
        "--json",
    ]);
    let filled = |kind: &str| {
        report["trades"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["kind"] == kind && t["outcome"] == "filled")
            .count()
    };
    assert!(filled("supply") >= 2, "supplies, then re-supplies");
    assert!(filled("borrow") >= 1);
    assert!(filled("swap") >= 1);
    // ETH/BTC falls enough for the health factor to cross 1.1: the loop
    // unwinds (withdraw, swap back, repay) instead of being liquidated.
    assert!(filled("withdraw") >= 1 && filled("repay") >= 1);
    assert_eq!(report["liquidations"], 0);
}

#[test]
fn a_backtest_can_run_over_the_candles_a_journaled_run_saw() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.db");
    let output = stratbox(&[
        "demo",
        "--component",
        component(Guest::RsiMomentum),
        "--limit",
        "600",
        "--journal",
        journal.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output).1);
    let report: serde_json::Value = stratbox_json(&[
        "backtest",
        component(Guest::RsiMomentum),
        "--from-journal",
        journal.to_str().unwrap(),
        "--run",
        "demo",
        "--quiet",
        "--json",
    ]);
    assert_eq!(report["metrics"]["ticks"], 600);
    assert_eq!(report["market"], "ETH/BTC");
}

#[test]
fn the_default_snapshot_interval_gives_an_every_tick_run_and_replays_identically() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.db");
    let (_, mut every_tick) = backtest_json(
        dir.path(),
        "every",
        &["--config", EAGER_RSI, "--commit-every", "1"],
    );
    let (_, mut default) = backtest_json(
        dir.path(),
        "default",
        &[
            "--config",
            EAGER_RSI,
            "--journal",
            journal.to_str().unwrap(),
        ],
    );
    assert!(every_tick["metrics"]["actions"].as_u64().unwrap() > 0);
    // The same report but for fuel: a tick that snapshots pays for it.
    for report in [&mut every_tick, &mut default] {
        let metrics = report["metrics"].as_object_mut().unwrap();
        metrics.remove("fuel_p50");
        metrics.remove("fuel_p99");
    }
    assert!(
        every_tick == default,
        "the default interval changed the report"
    );

    let output = stratbox(&["replay", "1", "--journal", journal.to_str().unwrap()]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stdout.contains("1500 ticks replayed identically"),
        "{stdout}"
    );

    let help = stratbox(&["backtest", "--help"]);
    let (stdout, _) = text(&help);
    assert!(
        stdout.contains("[default: 100]"),
        "--help states the default interval: {stdout}"
    );
}

#[test]
fn a_long_backtest_writes_a_report_that_does_not_grow_per_candle() {
    let dir = tempfile::tempdir().unwrap();
    let (json, html) = (dir.path().join("long.json"), dir.path().join("long.html"));
    let output = stratbox(&[
        "backtest",
        component(Guest::RsiMomentum),
        "--synthetic",
        "20000",
        "--market",
        "ETH/BTC",
        "--quiet",
        "--json-out",
        json.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stdout.contains("ticks         20000 (0 failed)"),
        "{stdout}"
    );
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let equity = report["equity"].as_array().unwrap();
    assert!(
        equity.len() <= stratbox_backtest::report::MAX_EQUITY_POINTS,
        "{} equity points",
        equity.len()
    );
    assert_eq!(report["metrics"]["ticks"], 20_000);
    // The candles for the price chart, up to their bound.
    let candles = report["candles"].as_array().unwrap().len();
    assert!(candles <= stratbox_backtest::report::MAX_CANDLE_BARS);
    // Per trade and bounded candles, not per candle: the curve and
    // everything else fit in a fixed size beside the trades, round trips
    // and candles.
    // Each as the report writes it: one key of an object, indented so.
    let pretty = |key: &str| {
        serde_json::to_string_pretty(&serde_json::json!({ key: report[key] }))
            .unwrap()
            .len()
    };
    let beside = pretty("trades") + pretty("round_trips") + pretty("candles");
    let size = std::fs::metadata(&json).unwrap().len() as usize;
    assert!(
        size < beside + 500_000,
        "{size} bytes, {beside} of trades and candles"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("<svg"),
        "the HTML draws the downsampled curve without JavaScript"
    );
    assert!(
        page.contains("id=\"stratbox-chart-data\"") && page.contains("LightweightCharts"),
        "and embeds the interactive chart, its data and its library"
    );
}
