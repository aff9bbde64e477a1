//! What `sweep` and `walk-forward` share: the search flags, and the
//! backtest of one config over a range of candles that the optimiser
//! (`stratbox-optimize`) calls.

use std::ops::Range;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde_json::Value;
use stratbox_backtest::report::BacktestReport;
use stratbox_backtest::sim::SimMarket;
use stratbox_backtest::{BacktestError, NoJournal};
use stratbox_optimize::{Method, Objective, Param, SearchConfig, Space};
use stratbox_runtime::{
    DeploymentSpec, LimitClass, Limits, Runtime, RuntimeConfig, StrategyComponent,
};

use crate::backtest::{ExecutionArgs, FailureArgs};
use crate::market::{MarketArgs, MarketSetup};
use crate::session::{LimitArgs, RunPolicyChoice, StrategySource, policy};

/// What "best" means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RankBy {
    /// Annualized Sharpe ratio.
    Sharpe,
    /// Annualized Sortino ratio.
    Sortino,
    /// Total return.
    Return,
    /// Smallest maximum drawdown.
    Drawdown,
    /// Share of winning closed trades.
    WinRate,
}

impl From<RankBy> for Objective {
    fn from(rank: RankBy) -> Objective {
        match rank {
            RankBy::Sharpe => Objective::Sharpe,
            RankBy::Sortino => Objective::Sortino,
            RankBy::Return => Objective::Return,
            RankBy::Drawdown => Objective::Drawdown,
            RankBy::WinRate => Objective::WinRate,
        }
    }
}

/// How configs are picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SearchKind {
    /// Every combination of --grid values and integer --range values.
    Grid,
    /// Tree-structured Parzen Estimator: after 10 random trials, each
    /// parameter's next value is the one most likely among the best trials
    /// so far relative to the rest; for spaces too large for a grid.
    Tpe,
    /// Uniformly random configs.
    Random,
}

impl From<SearchKind> for Method {
    fn from(kind: SearchKind) -> Method {
        match kind {
            SearchKind::Grid => Method::Grid,
            SearchKind::Tpe => Method::Tpe,
            SearchKind::Random => Method::Random,
        }
    }
}

/// The flags of a search: the parameters, the method, the ranking.
#[derive(Debug, Clone, Args)]
pub struct SearchArgs {
    /// A config key and the values to try, `key=v1,v2,...`; each value is
    /// JSON (numbers, `true`, `"text"`) or else taken as a string. Repeat
    /// for more keys; every combination runs.
    #[arg(long, required_unless_present = "range", value_name = "KEY=VALUES")]
    pub grid: Vec<String>,
    /// A config key and a range to search: `key=lo..hi` (floats, hi
    /// excluded: --search tpe or random), `key=lo..=hi` (integers; a grid
    /// tries each), or `key=v1,v2,...` (a categorical list). Repeat for
    /// more keys.
    #[arg(long, value_name = "KEY=RANGE")]
    pub range: Vec<String>,
    /// Config shared by every combination, JSON; grid values override it.
    #[arg(long, default_value = "{}")]
    pub config: String,
    /// How configs are picked.
    #[arg(long, value_enum, default_value_t = SearchKind::Grid)]
    pub search: SearchKind,
    /// Configs a TPE or random search proposes (each distinct one runs
    /// once).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub trials: u64,
    /// Seed of a TPE or random search: the same seed, parameters and
    /// --batch give the same trials on any machine.
    #[arg(long, default_value_t = 1)]
    pub search_seed: u64,
    /// Configs a TPE search proposes at once and runs in parallel before
    /// learning from them.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch: u64,
    /// Rank combinations by this metric (best first).
    #[arg(long, value_enum, default_value_t = RankBy::Sharpe)]
    pub metric: RankBy,
    /// Parallel runs (default: the number of cores).
    #[arg(long)]
    pub jobs: Option<usize>,
}

impl SearchArgs {
    /// The search space: `--config` with the `--grid` and `--range`
    /// parameters (in that order).
    pub fn space(&self) -> anyhow::Result<Space> {
        let base: serde_json::Map<String, Value> = serde_json::from_str(&self.config)
            .map_err(|e| anyhow::anyhow!("--config must be a JSON object: {e}"))?;
        let mut params = Vec::new();
        for text in &self.grid {
            params.push(Param::parse_values(text).map_err(|e| anyhow::anyhow!("--grid {e}"))?);
        }
        for text in &self.range {
            params.push(Param::parse_range(text).map_err(|e| anyhow::anyhow!("--range {e}"))?);
        }
        Ok(Space::new(base, params)?)
    }

    /// The search settings, running at most `runs` backtests at once.
    pub fn settings(&self, runs: usize) -> SearchConfig {
        let jobs = self
            .jobs
            .unwrap_or_else(stratbox_optimize::default_jobs)
            .clamp(1, runs.max(1));
        SearchConfig {
            method: self.search.into(),
            objective: self.metric.into(),
            trials: usize::try_from(self.trials).unwrap_or(usize::MAX),
            seed: self.search_seed,
            batch: usize::try_from(self.batch).unwrap_or(usize::MAX),
            jobs,
            ..SearchConfig::default()
        }
    }

    /// Backtests one search runs: the grid's combinations, or the trials.
    pub fn runs(&self, space: &Space) -> anyhow::Result<usize> {
        Ok(match self.search {
            SearchKind::Grid => space.grid()?.len(),
            _ => usize::try_from(self.trials).unwrap_or(usize::MAX),
        })
    }

    /// `grid over N combinations` or `tpe, N trials`.
    pub fn describe(&self, space: &Space) -> String {
        match self.search {
            SearchKind::Grid => format!(
                "grid over {} combinations",
                space.combinations().unwrap_or(0)
            ),
            kind => format!(
                "{}, {} trials (seed {}, batches of {})",
                Method::from(kind).name(),
                self.trials,
                self.search_seed,
                self.batch
            ),
        }
    }
}

/// What every optimisation command (`sweep`, `walk-forward`) backtests:
/// the strategy, and how each of its runs is set up.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Strategy: a directory to build, or a component file.
    pub strategy: PathBuf,
    #[command(flatten)]
    pub market: MarketArgs,
    #[command(flatten)]
    pub execution: ExecutionArgs,
    /// Judge every action with this policy file.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub failures: FailureArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// The strategy, market, policy and limits every backtest of a search
/// shares; each [`evaluate`](Bench::evaluate) is one fresh backtest.
pub struct Bench {
    /// The tapes and venues.
    pub setup: MarketSetup,
    choice: RunPolicyChoice,
    /// The strategy.
    pub strategy: StrategySource,
    runtime: Runtime,
    component: StrategyComponent,
    class: LimitClass,
    limits: Limits,
    execution: ExecutionArgs,
    failures: FailureArgs,
    limit_args: LimitArgs,
}

impl Bench {
    /// Load the market, the policy (refused here if broken, before any run
    /// starts) and the strategy.
    pub fn load(args: &BenchArgs) -> anyhow::Result<Bench> {
        let setup = MarketSetup::load(&args.market)?;
        let assets = setup.assets();
        let choice = policy(args.policy.as_deref(), &assets)?;
        let strategy = StrategySource::load(&args.strategy)?;
        let runtime = crate::runtime::isolated(RuntimeConfig::default())?;
        let component = crate::cache::load(&runtime, &strategy.bytes)?;
        let class = args.limits.class(Some(&strategy));
        Ok(Bench {
            setup,
            choice,
            strategy,
            runtime,
            component,
            class,
            limits: Limits::of_class(class),
            execution: args.execution.clone(),
            failures: args.failures.clone(),
            limit_args: args.limits.clone(),
        })
    }

    /// Candles of the driving tape.
    pub fn candles(&self) -> usize {
        self.setup.tapes[0].len()
    }

    /// Open times of the driving tape's candles.
    pub fn timestamps(&self) -> Vec<u64> {
        self.setup.tapes[0]
            .candles()
            .iter()
            .map(|c| c.timestamp_ms)
            .collect()
    }

    /// Backtest `config` over the driving tape's `candles` (the other
    /// tapes follow by time): the report, that of a run stopped at a failed
    /// tick included.
    pub fn evaluate(
        &self,
        config: &Value,
        candles: Range<usize>,
    ) -> anyhow::Result<BacktestReport> {
        let spec = self.failures.spec(
            DeploymentSpec::new(self.strategy.name.clone(), config.to_string())
                .with_limits(self.limits.clone()),
        );
        let mut backtest =
            self.failures
                .backtest(&self.runtime, &self.component, &self.strategy.name, spec);
        // Runs are ranked by their metrics: the risk tables would only cost
        // time (the chosen configuration's own backtest has them).
        backtest.risk_figures = false;
        let market = if candles == (0..self.candles()) {
            self.execution.market(&self.setup)?
        } else {
            let mut tapes = self.setup.tapes.clone();
            tapes[0] = tapes[0].slice(candles);
            SimMarket::new(self.setup.config.clone(), tapes)?.with_fill(self.execution.fill)
        };
        match backtest.run(market, self.choice.engine(), &mut NoJournal, |_| {}) {
            Ok(report) => Ok(report),
            Err(BacktestError::TickFailed(stopped)) => Ok(stopped.report),
            Err(error) => Err(self
                .limit_args
                .explain(anyhow::Error::from(error), self.class)),
        }
    }
}

/// `X,Y` (or `X`) of `--heatmap`.
pub fn heatmap_axes(text: Option<&str>) -> (Option<String>, Option<String>) {
    match text {
        None => (None, None),
        Some(text) => match text.split_once(',') {
            Some((x, y)) => (Some(x.trim().to_owned()), Some(y.trim().to_owned())),
            None => (Some(text.trim().to_owned()), None),
        },
    }
}
