//! `walk-forward`, `sweep --search tpe` and `robustness`, end to end over
//! bundled candles.

use stratbox_test_artifacts::Guest;

use crate::{stratbox, text};

fn rsi() -> &'static str {
    Guest::RsiMomentum.path().to_str().expect("utf-8 path")
}

/// Run `stratbox` with `args`, which must succeed: its standard output.
fn ok(args: &[&str]) -> String {
    let output = stratbox(args);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{args:?}: {stderr}");
    stdout
}

/// `value` without wall-clock measurements.
fn untimed(mut value: serde_json::Value) -> serde_json::Value {
    if let Some(rows) = value.as_array_mut() {
        for row in rows {
            row["metrics"]["ticks_per_second"] = 0.0.into();
        }
    }
    value
}

#[test]
fn a_walk_forward_chooses_in_sample_runs_out_of_sample_and_stitches() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("wf.html");
    let json = ok(&[
        "walk-forward",
        rsi(),
        "--grid",
        "period=3,14",
        "--config",
        r#"{"cooldown_ms": 0, "oversold": 40, "overbought": 60}"#,
        "--limit",
        "900",
        "--in-sample",
        "300",
        "--out-of-sample",
        "150",
        "--metric",
        "return",
        "--jobs",
        "2",
        "--json",
        "--html",
        html.to_str().unwrap(),
    ]);
    let wf: serde_json::Value = serde_json::from_str(&json).unwrap();
    let windows = wf["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 4, "(900 - 300) / 150 windows");
    let stitched = wf["stitched"]["equity"].as_array().unwrap();
    assert_eq!(stitched.len(), 4 * 150);
    for (k, w) in windows.iter().enumerate() {
        assert_eq!(w["in_sample"]["start"], 150 * k);
        assert_eq!(w["in_sample"]["end"], 300 + 150 * k);
        assert_eq!(w["out_of_sample"]["start"], 300 + 150 * k);
        assert_eq!(w["out_of_sample"]["end"], 450 + 150 * k);
        assert_eq!(w["evaluations"], 2);
        let period = w["params"]["period"].as_u64().unwrap();
        assert!(period == 3 || period == 14, "{w}");
        assert_eq!(w["best"]["cooldown_ms"], 0);
        // The out-of-sample run is 150 candles, and the stitched curve
        // goes on from the previous window's last point.
        assert_eq!(w["out_of_sample_metrics"]["ticks"], 150);
        // Equity points are at candle closes: the first out-of-sample
        // candle opens at `from_ms`, 5 minutes earlier.
        let first = &stitched[150 * k];
        let from = w["out_of_sample"]["from_ms"].as_u64().unwrap();
        assert_eq!(first["timestamp_ms"].as_u64().unwrap(), from + 300_000);
        assert_eq!(
            w["out_of_sample"]["to_ms"].as_u64().unwrap(),
            from + 150 * 300_000
        );
        if k > 0 {
            assert_eq!(first["equity"], stitched[150 * k - 1]["equity"]);
        }
    }
    assert_eq!(wf["stitched"]["metrics"]["ticks"], 600);
    assert_eq!(wf["stability"][0]["key"], "period");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && page.contains("Parameter stability"));
    assert!(!page.contains("<script"));

    // A duration longer than the tape is refused, naming the tape.
    let output = stratbox(&[
        "walk-forward",
        rsi(),
        "--grid",
        "period=3",
        "--limit",
        "100",
        "--in-sample",
        "30d",
        "--out-of-sample",
        "7d",
    ]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("shorter than one in-sample window"),
        "{stderr}"
    );
}

#[test]
fn a_tpe_sweep_and_a_robustness_run_are_seeded() {
    let dir = tempfile::tempdir().unwrap();
    let tpe = |seed: &str| -> serde_json::Value {
        untimed(
            serde_json::from_str(&ok(&[
                "sweep",
                rsi(),
                "--search",
                "tpe",
                "--range",
                "period=3..=20",
                "--range",
                "oversold=20..45",
                "--config",
                r#"{"cooldown_ms": 0, "overbought": 60}"#,
                "--trials",
                "6",
                "--batch",
                "3",
                "--search-seed",
                seed,
                "--limit",
                "300",
                "--jobs",
                "2",
                "--json",
            ]))
            .unwrap(),
        )
    };
    let first = tpe("4");
    assert_eq!(first, tpe("4"), "the same seed proposes the same trials");
    let rows = first.as_array().unwrap();
    assert!(!rows.is_empty() && rows.len() <= 6);
    for row in rows {
        let period = row["config"]["period"].as_i64().unwrap();
        let oversold = row["config"]["oversold"].as_f64().unwrap();
        assert!(
            (3..=20).contains(&period) && (20.0..45.0).contains(&oversold),
            "{row}"
        );
        assert!((1..=6).contains(&row["trial"].as_u64().unwrap()));
    }
    assert_eq!(rows[0]["rank"], 1);

    let report = dir.path().join("rsi.json");
    ok(&[
        "backtest",
        rsi(),
        "--config",
        r#"{"period": 3, "oversold": 40, "overbought": 60, "cooldown_ms": 0}"#,
        "--limit",
        "600",
        "--quiet",
        "--json-out",
        report.to_str().unwrap(),
    ]);
    let html = dir.path().join("mc.html");
    let mc = |seed: &str| -> serde_json::Value {
        serde_json::from_str(&ok(&[
            "robustness",
            report.to_str().unwrap(),
            "--runs",
            "300",
            "--seed",
            seed,
            "--json",
            "--html",
            html.to_str().unwrap(),
        ]))
        .unwrap()
    };
    let result = mc("3");
    assert_eq!(result, mc("3"));
    assert_ne!(result["bootstrap"], mc("4")["bootstrap"]);
    let order = &result["trade_order"];
    assert!(order["samples"].as_u64().unwrap() >= 2, "{result}");
    // Reordering trades keeps the product of their returns.
    let returns = &order["total_return"];
    let (low, high) = (
        returns["min"].as_f64().unwrap(),
        returns["max"].as_f64().unwrap(),
    );
    assert!(high - low < 1e-9, "{returns}");
    let p = &result["bootstrap"]["max_drawdown"]["percentiles"];
    let ps: Vec<f64> = ["p5", "p25", "p50", "p75", "p95"]
        .iter()
        .map(|k| p[k].as_f64().unwrap())
        .collect();
    assert!(ps.windows(2).all(|w| w[0] <= w[1]), "{p}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("Bootstrap of returns") && page.contains("<svg"));
}
