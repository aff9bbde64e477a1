//! A paper deployment of the service: the deployment loop against a paper
//! market on a tape, journaled, its snapshots sealed into the tenant's
//! store, resumed from both after a restart. The service's scheduler
//! creates and ticks it on the worker thread that holds it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use stratbox_backtest::{MarketOracle, PaperMarket, PaperMarketConfig};
use stratbox_engine::{RunError, Runner, TickRecord};
use stratbox_evm::durable::{self, Durable};
use stratbox_evm::live::LiveError;
use stratbox_journal::{Durability, Journal, JournalError, NewRun, Recorder, RunId, RunPolicy};
use stratbox_policy::PolicyFile;
use stratbox_runtime::policy::{AssetCatalog, CompiledPolicy, PolicyEngine};
use stratbox_runtime::types::ActionOutcome;
use stratbox_runtime::{AllowAll, DeploymentSpec, Policy, Runtime, StrategyComponent};
use stratbox_tape::{SyntheticConfig, Tape};

use crate::error::{ApiError, ErrorCode};
use crate::request::Feed;

/// Largest synthetic tape a deployment may ask for (48 MB of candles).
pub const MAX_SYNTHETIC_CANDLES: usize = 1_000_000;

/// Decimals of a paper market's base asset.
pub const BASE_DECIMALS: u8 = 18;
/// Decimals of a paper market's quote asset.
pub const QUOTE_DECIMALS: u8 = 8;

/// The real exchange candles shipped inside the service: `(name, market,
/// CSV)`.
const BUNDLED: [(&str, &str, &str); 3] = [
    (
        "ETH_BTC-5m",
        "ETH/BTC",
        include_str!("../../../data/ETH_BTC-5m.csv"),
    ),
    (
        "ADA_BTC-5m",
        "ADA/BTC",
        include_str!("../../../data/ADA_BTC-5m.csv"),
    ),
    (
        "DASH_BTC-5m",
        "DASH/BTC",
        include_str!("../../../data/DASH_BTC-5m.csv"),
    ),
];

/// Tapes by feed, built once and shared by every deployment on them
/// (cloning a tape shares its candles).
#[derive(Debug)]
pub struct Feeds {
    tapes: Mutex<HashMap<(Feed, String), Tape>>,
    max_candles: usize,
}

impl Feeds {
    /// No tapes yet; at most `max_candles` candles across distinct tapes
    /// ([`crate::ServiceConfig::max_feed_candles`]).
    pub fn new(max_candles: usize) -> Feeds {
        Feeds {
            tapes: Mutex::new(HashMap::new()),
            max_candles,
        }
    }

    /// The tape of `feed`, priced as `base/quote`.
    pub fn tape(&self, feed: &Feed, base: &str, quote: &str) -> Result<Tape, ApiError> {
        let key = (feed.clone(), format!("{base}/{quote}"));
        let mut tapes = self.tapes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tape) = tapes.get(&key) {
            return Ok(tape.clone());
        }
        let invalid = |message: String| ApiError::new(ErrorCode::DeploymentInvalid, message);
        let tape = match feed {
            Feed::Bundled(name) => {
                let (_, market, csv) = BUNDLED
                    .iter()
                    .find(|(known, _, _)| known == name)
                    .ok_or_else(|| {
                        let names: Vec<&str> = BUNDLED.iter().map(|(n, _, _)| *n).collect();
                        invalid(format!(
                            "no bundled feed `{name}`: one of {}",
                            names.join(", ")
                        ))
                    })?;
                stratbox_tape::read_csv(csv.as_bytes(), market).map_err(ApiError::internal)?
            }
            Feed::Synthetic { candles, seed } => {
                if *candles == 0 || *candles > MAX_SYNTHETIC_CANDLES {
                    return Err(invalid(format!(
                        "a synthetic feed has 1 to {MAX_SYNTHETIC_CANDLES} candles, not {candles}"
                    )));
                }
                let market = format!("{base}/{quote}");
                stratbox_tape::generate(&SyntheticConfig::new(&market, *candles, *seed))
                    .map_err(|e| invalid(format!("synthetic feed: {e}")))?
            }
        };
        let held: usize = tapes.values().map(Tape::len).sum();
        if held + tape.len() > self.max_candles {
            return Err(ApiError::new(
                ErrorCode::QuotaExceeded,
                format!(
                    "the service holds {held} candles of distinct tapes, at most {}: use a feed \
                     other deployments use",
                    self.max_candles
                ),
            ));
        }
        let market = tape.market();
        if market != key.1 {
            return Err(invalid(format!(
                "the feed prices {market}, not {base}/{quote}: name its assets as base and quote"
            )));
        }
        tapes.insert(key, tape.clone());
        Ok(tape)
    }
}

/// The assets of a paper market of `base` and `quote`.
pub fn paper_assets(base: &str, quote: &str) -> AssetCatalog {
    AssetCatalog::new()
        .with(base.to_owned(), BASE_DECIMALS)
        .with(quote.to_owned(), QUOTE_DECIMALS)
}

/// Everything a worker needs to create (or resume) a paper deployment on
/// its own thread.
pub struct PaperPlan {
    /// The tenant.
    pub tenant: String,
    /// The deployment's id (also its journal's deployment name).
    pub id: String,
    /// The runtime.
    pub runtime: Arc<Runtime>,
    /// The compiled strategy.
    pub component: StrategyComponent,
    /// The deployment (config, limits).
    pub spec: DeploymentSpec,
    /// The candles, one per tick.
    pub tape: Tape,
    /// The paper account.
    pub market: PaperMarketConfig,
    /// The checked policy; `None`: accept every well-formed action.
    pub policy: Option<PolicyFile>,
    /// The market's assets, as the journal records them.
    pub assets: AssetCatalog,
    /// The deployment's journal file.
    pub journal_path: PathBuf,
    /// The tenant's store (sealed snapshots) and the journal chain key.
    pub durable: Durable,
}

impl std::fmt::Debug for PaperPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaperPlan")
            .field("tenant", &self.tenant)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl PaperPlan {
    /// The shared market, the oracle reading it, and the recorder of
    /// `run` into `journal` (snapshots sealed into its rows or the store).
    fn wire(
        &self,
        market: PaperMarket,
        journal: Journal,
        run: RunId,
    ) -> (Arc<Mutex<PaperMarket>>, MarketOracle, Recorder) {
        let market = Arc::new(Mutex::new(market));
        let oracle = MarketOracle::new(Arc::clone(&market));
        let recorder = self.durable.recorder(&self.id, journal, run);
        (market, oracle, recorder)
    }

    /// The deployment's policy: the engine `engine` makes of its policy
    /// file (fresh, or with a journal's state), or allow-all without one.
    fn policy(
        &self,
        engine: impl FnOnce(Arc<CompiledPolicy>) -> Result<PolicyEngine, LiveError>,
    ) -> Result<Box<dyn Policy>, LiveError> {
        Ok(match &self.policy {
            Some(file) => Box::new(engine(Arc::clone(&file.compiled))?),
            None => Box::new(AllowAll),
        })
    }
}

/// Why a paper deployment could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Its journal.
    #[error("journal: {0}")]
    Journal(#[from] JournalError),
    /// Resuming its last run (sealed checkpoint, policy state).
    #[error("resuming: {0}")]
    Resume(#[from] LiveError),
    /// Creating or resuming the deployment (`init` failed, limits).
    #[error(transparent)]
    Run(#[from] RunError),
}

/// What a tick of a paper deployment came to.
#[derive(Debug)]
pub enum Ticked {
    /// The tick ran (committed or failed); its record.
    Ran(Box<TickRecord>),
    /// The tape has no candle left: the deployment is finished.
    Finished,
}

/// A paper deployment on its worker.
pub struct PaperDeployment {
    runner: Runner<PaperMarket, Recorder>,
    candles: usize,
}

impl PaperDeployment {
    /// Resume the journal's last run of the deployment where it stopped,
    /// or start a new one when there is none.
    pub fn start(plan: &PaperPlan) -> Result<PaperDeployment, StartError> {
        let mut journal = Journal::open_with(&plan.journal_path, Durability::Normal)?
            .with_chain_key(plan.durable.chain_key.clone());
        let resume = journal.resumable_run(&plan.id)?;
        let mut market = PaperMarket::new(plan.tape.clone(), plan.market.clone());
        let runner = match resume {
            Some(resume) => {
                // The account holds what the journal says it filled.
                for result in journal.run_results(resume.run)? {
                    if let ActionOutcome::Filled(fill) = &result.outcome {
                        market.apply_fill(fill);
                    }
                }
                let resumed = durable::resume(&plan.durable, &plan.id, &mut journal, resume)?;
                market.set_lost(resumed.unsettled.iter().map(|(id, _)| *id));
                let policy = plan.policy(|compiled| resumed.policy(compiled))?;
                let (market, oracle, recorder) = plan.wire(market, journal, resumed.run);
                Runner::resume(
                    &plan.runtime,
                    &plan.component,
                    plan.spec.clone(),
                    market,
                    oracle,
                    policy,
                    recorder,
                    resumed.at,
                    resumed.undelivered,
                )?
            }
            None => {
                let run = journal.begin_run(&NewRun {
                    spec: plan.spec.clone(),
                    component_sha256: plan.component.info().sha256.clone(),
                    component_path: None,
                    policy: match &plan.policy {
                        Some(file) => RunPolicy::File {
                            source: file.source.clone(),
                            sha256: file.sha256.clone(),
                            origin: None,
                        },
                        None => RunPolicy::AllowAll,
                    },
                    initial_policy_state: None,
                    assets: plan.assets.clone(),
                    label: Some(format!("stratbox serve {}/{}", plan.tenant, plan.id)),
                })?;
                let policy = plan.policy(|compiled| Ok(PolicyEngine::new(compiled)))?;
                let (market, oracle, recorder) = plan.wire(market, journal, run);
                Runner::start(
                    &plan.runtime,
                    &plan.component,
                    plan.spec.clone(),
                    market,
                    oracle,
                    policy,
                    recorder,
                )?
            }
        };
        Ok(PaperDeployment {
            runner,
            candles: plan.tape.len(),
        })
    }

    /// Sequence of the next tick (also the candle it reads).
    pub fn next_sequence(&self) -> u64 {
        self.runner.deployment().sequence()
    }

    /// The paper account's balances, in base units, by asset.
    pub fn balances(&self) -> std::collections::BTreeMap<String, u128> {
        stratbox_engine::lock(self.runner.venue())
            .balances()
            .clone()
    }

    /// How many times the paper account's balances changed (see
    /// [`PaperMarket::balance_changes`]).
    pub fn balance_changes(&self) -> u64 {
        stratbox_engine::lock(self.runner.venue()).balance_changes()
    }

    /// Run the next tick on the next candle.
    pub fn tick(&mut self) -> Result<Ticked, RunError> {
        let index = usize::try_from(self.next_sequence()).unwrap_or(usize::MAX);
        if index >= self.candles {
            return Ok(Ticked::Finished);
        }
        let record = self.runner.step(index, |_, _| {})?;
        Ok(Ticked::Ran(Box::new(record)))
    }
}
