//! Searches over a [`Space`]: a grid (every combination), a seeded random
//! search, or TPE (Tree-structured Parzen Estimator), each evaluated in
//! parallel and ranked by an [`Objective`].

use std::collections::HashMap;
use std::ops::Range;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use stratbox_backtest::FillModel;
use stratbox_backtest::metrics::Metrics;
use stratbox_backtest::report::{BacktestReport, FailureRecord};
use tpe::TpeOptimizer;

use crate::Evaluator;
use crate::error::OptimizeError;
use crate::objective::Objective;
use crate::parallel::{default_jobs, parallel_map};
use crate::space::{Domain, Param, Space};

/// How a search picks the configs it evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Every combination of the space (no float ranges).
    Grid,
    /// Tree-structured Parzen Estimator: after
    /// [`startup`](SearchConfig::startup) random trials, each parameter's
    /// next value is the candidate most likely under a density fitted to
    /// the best trials relative to one fitted to the rest.
    Tpe,
    /// Uniformly random configs: the baseline TPE should beat.
    Random,
}

impl Method {
    /// Lower-case name, as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Method::Grid => "grid",
            Method::Tpe => "tpe",
            Method::Random => "random",
        }
    }
}

/// What a search runs and how.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchConfig {
    /// How configs are picked. Default: [`Method::Grid`].
    pub method: Method,
    /// What "best" means. Default: [`Objective::Sharpe`].
    pub objective: Objective,
    /// Configs a TPE or random search proposes (a config proposed again is
    /// not run again); a grid runs every combination. Default: 100.
    pub trials: usize,
    /// Seed of a TPE or random search: the same seed, space and `batch`
    /// give the same trials on any machine. Default: 1.
    pub seed: u64,
    /// Configs a TPE search proposes before it is told their results; they
    /// run in parallel. Fixed rather than the number of cores so that the
    /// trials do not depend on the machine. Default: 8.
    pub batch: usize,
    /// Random trials a TPE search starts with before it models the
    /// results. Default: 10.
    pub startup: usize,
    /// Backtests run at once. Default: the number of cores.
    pub jobs: usize,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            method: Method::Grid,
            objective: Objective::Sharpe,
            trials: 100,
            seed: 1,
            batch: 8,
            startup: 10,
            jobs: default_jobs(),
        }
    }
}

/// One evaluated config. Trials with failed ticks are not ranked: a failed
/// tick released nothing and rolled the strategy back, so their metrics
/// are not the strategy's (a stopped run's cover only the ticks before the
/// failure).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// The whole config run.
    pub config: Value,
    /// 1 for the best clean trial; `None` for one with failed ticks.
    pub rank: Option<usize>,
    /// When actions executed.
    pub fill_model: FillModel,
    /// Its `benchmark_return` and `benchmark_max_drawdown` are buying and
    /// holding (the same for every trial over the same candles).
    pub metrics: Metrics,
    /// The run stopped at its first failed tick.
    pub stopped: bool,
    /// Every failed tick.
    pub failures: Vec<FailureRecord>,
    /// For TPE and random searches, the proposal (from 1) that first
    /// asked for this config; absent for a grid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial: Option<usize>,
    /// What the buy-and-hold benchmark holds (not serialized).
    #[serde(skip)]
    pub benchmark: Option<String>,
}

impl Trial {
    /// The trial of `config`, from its backtest report.
    pub fn of(config: Value, report: BacktestReport) -> Trial {
        Trial {
            config,
            rank: None,
            fill_model: report.fill_model,
            metrics: report.metrics,
            stopped: report.stopped,
            failures: report.failures,
            trial: None,
            benchmark: report.benchmark.map(|b| b.asset),
        }
    }

    /// No failed tick.
    pub fn clean(&self) -> bool {
        self.failures.is_empty()
    }

    /// What a model-based search minimises: the negated score of a clean
    /// trial, `+inf` for one with failed ticks or no finite score.
    fn loss(&self, objective: Objective) -> f64 {
        let score = objective.score(&self.metrics);
        if self.clean() && score.is_finite() {
            -score
        } else {
            f64::INFINITY
        }
    }
}

/// Clean trials first, best first, ranked 1, 2...; then those with failed
/// ticks, unranked, ordered the same way among themselves. The sort is
/// stable: ties keep their order.
pub fn rank(trials: &mut [Trial], objective: Objective) {
    trials.sort_by(|a, b| {
        b.clean().cmp(&a.clean()).then_with(|| {
            objective
                .score(&b.metrics)
                .total_cmp(&objective.score(&a.metrics))
        })
    });
    for (index, trial) in trials.iter_mut().filter(|t| t.clean()).enumerate() {
        trial.rank = Some(index + 1);
    }
}

/// What a search found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    /// How configs were picked.
    pub method: Method,
    /// What they were ranked by.
    pub objective: Objective,
    /// Every distinct config evaluated, ranked ([`rank`]).
    pub trials: Vec<Trial>,
    /// Configs proposed: the combinations of a grid, the trials asked of a
    /// TPE or random search (more than `trials.len()` when a config came
    /// up again).
    pub proposals: usize,
}

impl SearchResult {
    /// The best clean trial.
    pub fn best(&self) -> Option<&Trial> {
        self.trials.iter().find(|t| t.rank == Some(1))
    }
}

/// Evaluate `configs` over `candles` in parallel: their trials in order, or
/// the first (in order) evaluator error.
fn evaluate_all<E: Evaluator + ?Sized>(
    evaluator: &E,
    configs: &[Value],
    candles: &Range<usize>,
    jobs: usize,
) -> Result<Vec<Trial>, OptimizeError> {
    let reports = parallel_map(configs, jobs, |config| {
        evaluator.evaluate(config, candles.clone())
    });
    configs
        .iter()
        .zip(reports)
        .map(|(config, report)| match report {
            Ok(report) => Ok(Trial::of(config.clone(), report)),
            Err(source) => Err(OptimizeError::Evaluation {
                config: config.clone(),
                source,
            }),
        })
        .collect()
}

/// Search `space` over the driving tape's `candles` with `evaluator`, as
/// `config` says: every trial ranked by its objective. A grid evaluates
/// every combination (the first parameter varying slowest); a TPE or random
/// search proposes `config.trials` configs in batches. Any evaluator error
/// aborts the search (after the batch it was in).
pub fn search<E: Evaluator + ?Sized>(
    space: &Space,
    config: &SearchConfig,
    evaluator: &E,
    candles: Range<usize>,
) -> Result<SearchResult, OptimizeError> {
    let (mut trials, proposals) = match config.method {
        Method::Grid => {
            let configs = space.grid()?;
            let trials = evaluate_all(evaluator, &configs, &candles, config.jobs)?;
            (trials, configs.len())
        }
        Method::Tpe | Method::Random => model_search(space, config, evaluator, &candles)?,
    };
    rank(&mut trials, config.objective);
    Ok(SearchResult {
        method: config.method,
        objective: config.objective,
        trials,
        proposals,
    })
}

/// One parameter's sampler: uniform, and its TPE model.
struct Sampler {
    domain: Domain,
    model: TpeOptimizer,
}

impl Sampler {
    fn new(param: &Param) -> Result<Sampler, OptimizeError> {
        let bad = |e: tpe::range::RangeError| {
            OptimizeError::Config(format!("parameter `{}`: {e}", param.key))
        };
        let model = match &param.domain {
            Domain::Values(values) => TpeOptimizer::new(
                tpe::histogram_estimator(),
                tpe::categorical_range(values.len()).map_err(bad)?,
            ),
            // Integers are modelled on the reals around them and rounded.
            Domain::Int { low, high } => TpeOptimizer::new(
                tpe::parzen_estimator(),
                tpe::range(*low as f64 - 0.5, *high as f64 + 0.5).map_err(bad)?,
            ),
            Domain::Float { low, high } => TpeOptimizer::new(
                tpe::parzen_estimator(),
                tpe::range(*low, *high).map_err(bad)?,
            ),
        };
        Ok(Sampler {
            domain: param.domain.clone(),
            model,
        })
    }

    /// A point of the domain, as the model's number: a value's index, an
    /// integer, a float.
    fn uniform(&self, rng: &mut ChaCha8Rng) -> f64 {
        match &self.domain {
            Domain::Values(values) => rng.random_range(0..values.len()) as f64,
            Domain::Int { low, high } => rng.random_range(*low..=*high) as f64,
            Domain::Float { low, high } => round(rng.random_range(*low..*high), *low, *high),
        }
    }

    /// The model's next point, snapped to the domain.
    fn ask(&mut self, rng: &mut ChaCha8Rng) -> f64 {
        let Ok(raw) = self.model.ask(rng);
        match &self.domain {
            Domain::Values(values) => raw.floor().clamp(0.0, (values.len() - 1) as f64),
            Domain::Int { low, high } => raw.round().clamp(*low as f64, *high as f64),
            Domain::Float { low, high } => round(raw, *low, *high),
        }
    }

    /// The config value of a point.
    fn value(&self, point: f64) -> Value {
        match &self.domain {
            Domain::Values(values) => values[(point as usize).min(values.len() - 1)].clone(),
            Domain::Int { .. } => Value::from(point as i64),
            Domain::Float { .. } => Value::from(point),
        }
    }
}

/// `x` in `low..high` to about 5 significant digits of the range's width
/// (`29.169` in `15..45`): configs a reader can copy, and no difference a
/// strategy can trade on. Unrounded if rounding would leave the range.
fn round(x: f64, low: f64, high: f64) -> f64 {
    let decimals = (5 - (high - low).log10().ceil() as i32).clamp(0, 12) as usize;
    match format!("{x:.decimals$}").parse::<f64>() {
        Ok(rounded) if (low..high).contains(&rounded) => rounded,
        _ => x,
    }
}

/// A TPE or random search: `(trials, proposals)`.
fn model_search<E: Evaluator + ?Sized>(
    space: &Space,
    config: &SearchConfig,
    evaluator: &E,
    candles: &Range<usize>,
) -> Result<(Vec<Trial>, usize), OptimizeError> {
    if config.batch == 0 {
        return Err(OptimizeError::Config(
            "the batch of a TPE search must be at least 1".into(),
        ));
    }
    let mut samplers = space
        .params()
        .iter()
        .map(Sampler::new)
        .collect::<Result<Vec<_>, _>>()?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut trials: Vec<Trial> = Vec::new();
    // Config text -> index in `trials`.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut proposed = 0;
    while proposed < config.trials {
        let size = config.batch.min(config.trials - proposed);
        let mut points = Vec::with_capacity(size);
        for offset in 0..size {
            let random = config.method == Method::Random || proposed + offset < config.startup;
            let point: Vec<f64> = samplers
                .iter_mut()
                .map(|s| {
                    if random {
                        s.uniform(&mut rng)
                    } else {
                        s.ask(&mut rng)
                    }
                })
                .collect();
            let values: Vec<Value> = samplers
                .iter()
                .zip(&point)
                .map(|(s, p)| s.value(*p))
                .collect();
            points.push((point, space.config(&values), proposed + offset + 1));
        }
        let mut fresh: Vec<(Value, usize)> = Vec::new();
        for (_, config, number) in &points {
            let key = config.to_string();
            if !seen.contains_key(&key) && !fresh.iter().any(|(c, _)| c == config) {
                fresh.push((config.clone(), *number));
            }
        }
        let configs: Vec<Value> = fresh.iter().map(|(c, _)| c.clone()).collect();
        for (trial, (_, number)) in evaluate_all(evaluator, &configs, candles, config.jobs)?
            .into_iter()
            .zip(&fresh)
        {
            seen.insert(trial.config.to_string(), trials.len());
            trials.push(Trial {
                trial: Some(*number),
                ..trial
            });
        }
        for (point, config_value, _) in &points {
            let Some(&index) = seen.get(&config_value.to_string()) else {
                continue;
            };
            let loss = trials[index].loss(config.objective);
            for (sampler, value) in samplers.iter_mut().zip(point) {
                // A point is always in its model's range and a loss never
                // NaN, so this cannot fail; a point it refused would only be
                // one observation fewer.
                let _ = sampler.model.tell(*value, loss);
            }
        }
        proposed += size;
    }
    Ok((trials, proposed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trial(sharpe: f64, failed: bool) -> Trial {
        let mut metrics = Metrics::compute(&stratbox_backtest::MetricsInput::default());
        metrics.sharpe = sharpe;
        let failures = if failed {
            let cause = stratbox_backtest::report::TickError::GuestError {
                message: "no".into(),
            };
            vec![FailureRecord {
                sequence: 1,
                timestamp_ms: 0,
                count: 1,
                message: cause.to_string(),
                cause,
                paused: false,
                logs: Vec::new(),
            }]
        } else {
            Vec::new()
        };
        Trial {
            config: Value::from(sharpe),
            rank: None,
            fill_model: FillModel::Close,
            metrics,
            stopped: false,
            failures,
            trial: None,
            benchmark: None,
        }
    }

    #[test]
    fn combinations_with_failed_ticks_are_not_ranked_as_if_clean() {
        let mut trials = vec![
            trial(1.0, false),
            trial(9.0, true),
            trial(2.0, false),
            trial(5.0, true),
        ];
        rank(&mut trials, Objective::Sharpe);
        let order: Vec<(f64, Option<usize>)> =
            trials.iter().map(|t| (t.metrics.sharpe, t.rank)).collect();
        assert_eq!(
            order,
            vec![(2.0, Some(1)), (1.0, Some(2)), (9.0, None), (5.0, None)]
        );
        assert_eq!(trials[2].loss(Objective::Sharpe), f64::INFINITY);
        assert_eq!(trials[0].loss(Objective::Sharpe), -2.0);
    }

    #[test]
    fn float_proposals_are_rounded_within_their_range() {
        assert_eq!(round(29.168_659_038_909_9, 15.0, 45.0), 29.169);
        assert_eq!(round(0.123_456_789, 0.0, 1.0), 0.12346);
        assert_eq!(round(0.999_999_9, 0.0, 1.0), 0.999_999_9);
        assert_eq!(round(1234.567, 0.0, 1e6), 1235.0);
    }

    #[test]
    fn a_grid_trial_serializes_as_the_sweep_rows_did() {
        let text = serde_json::to_string(&trial(1.0, false)).unwrap();
        let at = |key: &str| text.find(&format!("\"{key}\":")).unwrap();
        let keys = [
            "config",
            "rank",
            "fill_model",
            "metrics",
            "stopped",
            "failures",
        ];
        assert!(keys.windows(2).all(|w| at(w[0]) < at(w[1])), "{text}");
        assert!(!text.contains("\"trial\"") && !text.contains("\"benchmark\":\""));
    }
}
