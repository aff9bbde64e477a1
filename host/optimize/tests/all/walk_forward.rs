//! Walk-forward analysis over a synthetic market whose best parameter
//! changes from one regime to the next.

use std::ops::Range;
use std::sync::Mutex;

use serde_json::{Map, Value};
use stratbox_optimize::walk_forward::{WindowBounds, windows};
use stratbox_optimize::{
    BacktestReport, BoxError, Length, Method, Objective, Param, SearchConfig, Space,
    WalkForwardConfig, walk_forward,
};

use crate::{STEP_MS, report, timestamps};

/// Candles of the synthetic tape.
const CANDLES: usize = 400;

/// The best `x` at candle `i`: 1, then 3, then 2, then 1, 100 candles each.
fn regime(i: usize) -> i64 {
    [1, 3, 2, 1][i / 100]
}

/// Per-candle return of config `x` at candle `i`: +0.2% when `x` is the
/// regime's best, else -0.1% per unit away from it.
fn returns(x: i64) -> Vec<f64> {
    (0..CANDLES)
        .map(|i| {
            let off = (x - regime(i)).abs();
            if off == 0 { 0.002 } else { -0.001 * off as f64 }
        })
        .collect()
}

fn prices() -> Vec<f64> {
    (0..CANDLES)
        .map(|i| 100.0 + (i % 37) as f64 - (i % 11) as f64)
        .collect()
}

/// Records every call: (config, candles).
struct Recorder {
    calls: Mutex<Vec<(Value, Range<usize>)>>,
}

impl stratbox_optimize::Evaluator for Recorder {
    fn evaluate(&self, config: &Value, candles: Range<usize>) -> Result<BacktestReport, BoxError> {
        self.calls
            .lock()
            .unwrap()
            .push((config.clone(), candles.clone()));
        let x = config["x"].as_i64().ok_or("x must be an integer")?;
        Ok(report(config, candles, &returns(x), &prices()))
    }
}

fn space() -> Space {
    Space::new(
        serde_json::from_str::<Map<String, Value>>(r#"{"base": 1}"#).unwrap(),
        vec![Param::parse_range("x=1..=3").unwrap()],
    )
    .unwrap()
}

/// In sample 100 candles, out of sample the next 50, moving 100 at a time:
/// each in-sample window is one regime and its out-of-sample window the
/// next one.
fn config() -> WalkForwardConfig {
    WalkForwardConfig {
        in_sample: Length::Candles(100),
        out_of_sample: Length::Candles(50),
        step: Some(Length::Candles(100)),
        anchored: false,
    }
}

#[test]
fn each_window_is_chosen_on_its_in_sample_candles_only_and_evaluated_out_of_sample() {
    for method in [Method::Grid, Method::Tpe] {
        let recorder = Recorder {
            calls: Mutex::new(Vec::new()),
        };
        let search = SearchConfig {
            method,
            objective: Objective::Return,
            trials: 16,
            jobs: 2,
            ..SearchConfig::default()
        };
        let ts = timestamps(CANDLES);
        let wf = walk_forward(&space(), &search, &config(), &ts, &recorder).unwrap();
        let bounds = windows(&ts, &config()).unwrap();
        assert_eq!(
            bounds,
            vec![
                WindowBounds {
                    in_sample: 0..100,
                    out_of_sample: 100..150
                },
                WindowBounds {
                    in_sample: 100..200,
                    out_of_sample: 200..250
                },
                WindowBounds {
                    in_sample: 200..300,
                    out_of_sample: 300..350
                },
            ]
        );
        // The in-sample regime's best, never the out-of-sample one's (which
        // is what looking ahead would pick: 3, 2, 1).
        let chosen: Vec<i64> = wf
            .windows
            .iter()
            .map(|w| w.best.as_ref().unwrap()["x"].as_i64().unwrap())
            .collect();
        assert_eq!(chosen, vec![1, 3, 2], "{method:?}");
        let calls = recorder.calls.into_inner().unwrap();
        for (config, candles) in &calls {
            let window = bounds
                .iter()
                .position(|b| b.in_sample == *candles || b.out_of_sample == *candles);
            assert!(
                window.is_some(),
                "{method:?}: a call over {candles:?}, not a window's part"
            );
            assert_eq!(config["base"], 1);
        }
        for (w, bound) in bounds.iter().enumerate() {
            let oos: Vec<&Value> = calls
                .iter()
                .filter(|(_, c)| *c == bound.out_of_sample)
                .map(|(config, _)| config)
                .collect();
            assert_eq!(oos.len(), 1, "{method:?}: one out-of-sample run per window");
            assert_eq!(Some(oos[0]), wf.windows[w].best.as_ref());
            let in_sample = calls.iter().filter(|(_, c)| *c == bound.in_sample).count();
            assert_eq!(in_sample, wf.windows[w].evaluations);
            // The out-of-sample metrics are the chosen config's over the
            // out-of-sample candles: the regime after, where it loses.
            let expected = report(
                oos[0],
                bound.out_of_sample.clone(),
                &returns(chosen[w]),
                &prices(),
            );
            assert_eq!(
                wf.windows[w].out_of_sample_metrics.as_ref(),
                Some(&expected.metrics)
            );
            assert!(expected.metrics.total_return < 0.0);
            assert!(
                wf.windows[w]
                    .in_sample_metrics
                    .as_ref()
                    .unwrap()
                    .total_return
                    > 0.0
            );
            assert_eq!(
                wf.windows[w].efficiency.map(f64::is_sign_negative),
                Some(true)
            );
        }
        // Chosen 1, 3, 2: three distinct values, two changes.
        let stability = &wf.stability[0];
        assert_eq!(stability.key, "x");
        assert_eq!((stability.distinct, stability.changes), (3, 2));
        assert_eq!(stability.mean, Some(2.0));
        assert!(wf.efficiency.unwrap() < 0.0);
    }
}

#[test]
fn out_of_sample_runs_stitch_into_one_continuous_curve() {
    let recorder = Recorder {
        calls: Mutex::new(Vec::new()),
    };
    let ts = timestamps(CANDLES);
    // Durations: 100 candles in sample, 60 out, rolling by 60.
    let config = WalkForwardConfig {
        in_sample: Length::Millis(100 * STEP_MS),
        out_of_sample: Length::Millis(60 * STEP_MS),
        step: None,
        anchored: false,
    };
    let search = SearchConfig {
        objective: Objective::Sharpe,
        jobs: 2,
        ..SearchConfig::default()
    };
    let wf = walk_forward(&space(), &search, &config, &ts, &recorder).unwrap();
    assert_eq!(wf.windows.len(), 5);
    let stitched = &wf.stitched;
    assert!(stitched.per_candle);
    // Each window's points follow the previous window's, 60 candles each.
    assert_eq!(stitched.equity.len(), 5 * 60);
    let mut product = 1.0;
    let mut bench = 1.0;
    for (k, w) in wf.windows.iter().enumerate() {
        assert_eq!(w.out_of_sample.len(), 60);
        assert_eq!(w.out_of_sample.start, 100 + 60 * k);
        let m = w.out_of_sample_metrics.as_ref().unwrap();
        product *= 1.0 + m.total_return;
        bench *= 1.0 + m.benchmark_return.unwrap_or(0.0);
        let first = &stitched.equity[60 * k];
        assert_eq!(first.timestamp_ms, w.out_of_sample.from_ms);
        assert_eq!(
            w.out_of_sample.to_ms,
            w.out_of_sample.from_ms + 60 * STEP_MS
        );
        if k > 0 {
            // Continuity: a window starts at the equity the last one ended.
            assert_eq!(
                first.equity,
                stitched.equity[60 * k - 1].equity,
                "window {}",
                k + 1
            );
        }
        // Within a window the stitched curve moves as the run did.
        let last = &stitched.equity[60 * k + 59];
        assert!(((last.equity / first.equity - 1.0) - m.total_return).abs() < 1e-12);
    }
    assert!((stitched.metrics.total_return - (product - 1.0)).abs() < 1e-12);
    assert_eq!(stitched.metrics.initial_equity, 1.0);
    // The benchmark stitches the same way.
    assert_eq!(stitched.benchmark.len(), stitched.equity.len());
    assert!((stitched.metrics.benchmark_return.unwrap() - (bench - 1.0)).abs() < 1e-12);
    // Drawdown: from the running peak of the stitched curve.
    let mut peak = f64::MIN;
    let mut worst = 0.0f64;
    for p in &stitched.equity {
        peak = peak.max(p.equity);
        worst = worst.max((peak - p.equity) / peak);
        assert!((p.drawdown - (peak - p.equity) / peak).abs() < 1e-12);
    }
    assert!((stitched.metrics.max_drawdown - worst).abs() < 1e-12);
    assert_eq!(stitched.metrics.ticks, 300);
}

#[test]
fn anchored_windows_grow_from_the_first_candle() {
    let recorder = Recorder {
        calls: Mutex::new(Vec::new()),
    };
    let ts = timestamps(CANDLES);
    let config = WalkForwardConfig {
        anchored: true,
        ..config()
    };
    let search = SearchConfig {
        objective: Objective::Return,
        jobs: 2,
        ..SearchConfig::default()
    };
    let wf = walk_forward(&space(), &search, &config, &ts, &recorder).unwrap();
    let starts: Vec<(usize, usize)> = wf
        .windows
        .iter()
        .map(|w| (w.in_sample.start, w.in_sample.end))
        .collect();
    assert_eq!(starts, vec![(0, 100), (0, 200), (0, 300)]);
    // 0..200 is half regime 1 and half regime 3: x = 2 loses 0.1% on
    // every candle; 1 and 3 each win half the time and lose 0.2% the
    // other half, so neither 1 nor 3 can be beaten by 2.
    assert_ne!(wf.windows[1].best.as_ref().unwrap()["x"], 2);
}
