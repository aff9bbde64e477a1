//! Grid, random and TPE searches over synthetic objectives.

use std::ops::Range;
use std::sync::Mutex;

use serde_json::{Map, Value, json};
use stratbox_optimize::{
    BacktestReport, BoxError, Method, Objective, OptimizeError, Param, SearchConfig, Space, search,
};

use crate::report;

/// A run whose total return is `f(config)`: one step from 1 to `1 + f`.
fn two_candles(config: &Value, f: f64) -> BacktestReport {
    report(config, 0..2, &[0.0, f], &[1.0, 1.0])
}

#[test]
fn a_grid_evaluates_every_combination_in_order_and_ranks_them() {
    let space = Space::new(
        serde_json::from_str::<Map<String, Value>>(r#"{"fixed": true}"#).unwrap(),
        vec![
            Param::parse_values("a=1,2").unwrap(),
            Param::parse_values("b=x,y,z").unwrap(),
        ],
    )
    .unwrap();
    let calls = Mutex::new(Vec::new());
    // Return: a/10 + (b == "y") / 100, so (2, y) is best, then (2, x|z)...
    let evaluator = |config: &Value, candles: Range<usize>| -> Result<BacktestReport, BoxError> {
        calls.lock().unwrap().push(config.clone());
        assert_eq!(candles, 0..2);
        let f = config["a"].as_f64().unwrap() / 10.0 + if config["b"] == "y" { 0.01 } else { 0.0 };
        Ok(two_candles(config, f))
    };
    let config = SearchConfig {
        objective: Objective::Return,
        jobs: 3,
        ..SearchConfig::default()
    };
    let result = search(&space, &config, &evaluator, 0..2).unwrap();
    let mut called = calls.into_inner().unwrap();
    called.sort_by_key(|c| c.to_string());
    let mut grid = space.grid().unwrap();
    grid.sort_by_key(|c| c.to_string());
    assert_eq!(called, grid, "each combination once");
    let order: Vec<(i64, &str, Option<usize>)> = result
        .trials
        .iter()
        .map(|t| {
            (
                t.config["a"].as_i64().unwrap(),
                t.config["b"].as_str().unwrap(),
                t.rank,
            )
        })
        .collect();
    // Ties (x and z) keep the grid's order.
    assert_eq!(
        order,
        vec![
            (2, "y", Some(1)),
            (2, "x", Some(2)),
            (2, "z", Some(3)),
            (1, "y", Some(4)),
            (1, "x", Some(5)),
            (1, "z", Some(6)),
        ]
    );
    assert_eq!(result.proposals, 6);
    assert_eq!(
        result.best().unwrap().config,
        json!({"fixed": true, "a": 2, "b": "y"})
    );
    assert!(result.trials.iter().all(|t| t.trial.is_none()));
}

#[test]
fn an_evaluator_error_names_the_combination() {
    let space = Space::new(Map::new(), vec![Param::parse_values("a=1,2").unwrap()]).unwrap();
    let evaluator = |config: &Value, _: Range<usize>| -> Result<BacktestReport, BoxError> {
        if config["a"] == 2 {
            return Err("no such period".into());
        }
        Ok(two_candles(config, 0.0))
    };
    let error = search(&space, &SearchConfig::default(), &evaluator, 0..2).unwrap_err();
    assert!(matches!(&error, OptimizeError::Evaluation { config, .. } if config["a"] == 2));
    assert_eq!(error.to_string(), r#"combination {"a":2}"#);
    assert_eq!(
        std::error::Error::source(&error).unwrap().to_string(),
        "no such period"
    );
    // A float range cannot be a grid.
    let floats = Space::new(Map::new(), vec![Param::parse_range("t=0..1").unwrap()]).unwrap();
    assert!(matches!(
        search(&floats, &SearchConfig::default(), &evaluator, 0..2),
        Err(OptimizeError::Space(_))
    ));
}

/// A smooth objective on `x, y` in `[-1, 1)` with its optimum 0 at
/// `(0.3, -0.6)`, as a total return.
fn bowl(config: &Value) -> f64 {
    let (x, y) = (config["x"].as_f64().unwrap(), config["y"].as_f64().unwrap());
    -0.2 * ((x - 0.3).powi(2) + (y + 0.6).powi(2))
}

/// The best objective value found after each proposal.
fn best_by_trial(method: Method, seed: u64, trials: usize) -> Vec<f64> {
    let space = Space::new(
        Map::new(),
        vec![
            Param::parse_range("x=-1..1").unwrap(),
            Param::parse_range("y=-1..1").unwrap(),
        ],
    )
    .unwrap();
    let evaluator = |config: &Value, _: Range<usize>| -> Result<BacktestReport, BoxError> {
        Ok(two_candles(config, bowl(config)))
    };
    let config = SearchConfig {
        method,
        objective: Objective::Return,
        trials,
        seed,
        batch: 4,
        jobs: 2,
        ..SearchConfig::default()
    };
    let result = search(&space, &config, &evaluator, 0..2).unwrap();
    let mut by_trial: Vec<(usize, f64)> = result
        .trials
        .iter()
        .map(|t| (t.trial.unwrap(), t.metrics.total_return))
        .collect();
    by_trial.sort_by_key(|t| t.0);
    let mut best = f64::NEG_INFINITY;
    by_trial
        .into_iter()
        .map(|(_, f)| {
            best = best.max(f);
            best
        })
        .collect()
}

#[test]
fn tpe_finds_the_optimum_of_a_smooth_objective_faster_than_random_search() {
    let seeds = 1..=12u64;
    let trials = 80;
    // Trials needed to come within 0.002 of the optimum (a distance of
    // 0.1), counting a search that never does as `trials`.
    let needed = |curve: &[f64]| {
        curve
            .iter()
            .position(|b| *b > -0.002)
            .map_or(trials, |i| i + 1)
    };
    let (mut tpe_needed, mut random_needed, mut tpe_wins) = (0, 0, 0);
    // Mean log10 of how far from the optimum each search ended.
    let (mut tpe_gap, mut random_gap) = (0.0, 0.0);
    for seed in seeds.clone() {
        let tpe = best_by_trial(Method::Tpe, seed, trials);
        let random = best_by_trial(Method::Random, seed, trials);
        assert_eq!(tpe.len(), trials, "every float proposal is distinct");
        tpe_needed += needed(&tpe);
        random_needed += needed(&random);
        tpe_wins += usize::from(tpe[trials - 1] > random[trials - 1]);
        tpe_gap += (-tpe[trials - 1]).log10();
        random_gap += (-random[trials - 1]).log10();
    }
    let runs = seeds.count();
    let (tpe_gap, random_gap) = (tpe_gap / runs as f64, random_gap / runs as f64);
    assert!(
        tpe_needed < random_needed,
        "trials to get close: TPE {tpe_needed} in all, random {random_needed}"
    );
    assert!(
        tpe_wins * 4 >= runs * 3,
        "TPE ended closer in {tpe_wins} of {runs} seeds"
    );
    assert!(
        tpe_gap < random_gap - 0.6,
        "TPE ends 10^{tpe_gap:.2} from the optimum, random 10^{random_gap:.2}"
    );
}

#[test]
fn a_model_based_search_is_deterministic_by_seed_and_batch_whatever_the_jobs() {
    let run = |seed: u64, jobs: usize| {
        let space = Space::new(
            Map::new(),
            vec![
                Param::parse_range("x=-1..1").unwrap(),
                Param::parse_range("y=-1..=1").unwrap(),
                Param::parse_values("mode=a,b").unwrap(),
            ],
        )
        .unwrap();
        let evaluator = |config: &Value, _: Range<usize>| -> Result<BacktestReport, BoxError> {
            let f = bowl(config) + if config["mode"] == "b" { 0.01 } else { 0.0 };
            Ok(two_candles(config, f))
        };
        let config = SearchConfig {
            method: Method::Tpe,
            objective: Objective::Return,
            trials: 30,
            seed,
            jobs,
            ..SearchConfig::default()
        };
        search(&space, &config, &evaluator, 0..2).unwrap()
    };
    let first = run(7, 1);
    assert_eq!(first, run(7, 2));
    assert_ne!(first, run(8, 2));
    assert_eq!(first.proposals, 30);
    // Integer and categorical values are drawn again: fewer distinct
    // configs than proposals is possible, never more.
    assert!(first.trials.len() <= 30);
    for trial in &first.trials {
        let y = trial.config["y"].as_i64().unwrap();
        assert!((-1..=1).contains(&y), "{}", trial.config);
        assert!(trial.config["mode"] == "a" || trial.config["mode"] == "b");
    }
}
