use std::sync::{Arc, Mutex, PoisonError};

use stratbox_runtime::types::{ActionId, ActionOutcome};
use stratbox_runtime::{
    CallTrace, DeployError, Deployment, DeploymentHost, DeploymentSpec, JournalSink,
    JournalSinkError, Policy, Runtime, StrategyComponent, TickFailure, TickInput, TickReport,
};

use crate::market::{MarketOracle, PaperMarket};

/// What one tick of a run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct TickRecord {
    /// The tick's report, or why it failed.
    pub result: Result<TickReport, TickFailure>,
    /// Outcomes of the tick's actions at the venue, by action id.
    pub outcomes: Vec<(ActionId, ActionOutcome)>,
}

/// A finished paper run.
#[derive(Debug)]
pub struct PaperRun {
    /// What `init` did.
    pub init: CallTrace,
    /// One record per candle.
    pub ticks: Vec<TickRecord>,
    /// The market at the end (balances).
    pub market: Arc<Mutex<PaperMarket>>,
}

impl PaperRun {
    /// Successful ticks.
    pub fn reports(&self) -> impl Iterator<Item = &TickReport> {
        self.ticks.iter().filter_map(|t| t.result.as_ref().ok())
    }

    /// Failed ticks.
    pub fn failures(&self) -> impl Iterator<Item = &TickFailure> {
        self.ticks.iter().filter_map(|t| t.result.as_ref().err())
    }

    /// Final equity in the quote asset.
    pub fn equity_in_quote(&self) -> f64 {
        self.market
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .equity_in_quote()
    }
}

/// Run `component` over every candle of `market`'s tape: one tick per
/// candle, accepted actions executed at that candle's close, outcomes
/// delivered at the next tick. `on_tick` sees each record as it happens
/// (progress output).
pub fn run_paper(
    runtime: &Runtime,
    component: &StrategyComponent,
    spec: DeploymentSpec,
    market: PaperMarket,
    policy: impl Policy + 'static,
    on_tick: impl FnMut(usize, &TickRecord),
) -> Result<PaperRun, DeployError> {
    let journaled = run_paper_journaled(
        runtime,
        component,
        spec,
        market,
        policy,
        &mut NoJournal,
        on_tick,
    );
    match journaled {
        Ok(run) => Ok(run),
        Err(PaperRunError::Deploy(error)) => Err(error),
        Err(PaperRunError::Journal { .. }) => unreachable!("NoJournal never fails"),
    }
}

/// Journals nothing.
struct NoJournal;

impl JournalSink for NoJournal {
    fn init(&mut self, _: &Deployment, _: &CallTrace) -> Result<(), JournalSinkError> {
        Ok(())
    }

    fn tick(
        &mut self,
        _: &Deployment,
        _: &TickInput,
        _: &Result<TickReport, TickFailure>,
    ) -> Result<(), JournalSinkError> {
        Ok(())
    }

    fn outcomes(
        &mut self,
        _: u64,
        _: &[(ActionId, ActionOutcome)],
    ) -> Result<(), JournalSinkError> {
        Ok(())
    }
}

/// A journaled paper run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum PaperRunError {
    /// The deployment could not be created.
    #[error(transparent)]
    Deploy(#[from] DeployError),
    /// The journal failed; the run stopped before releasing anything the
    /// journal does not hold.
    #[error("journaling {what} failed: {source}")]
    Journal {
        /// `init`, `tick N` or `results of tick N`.
        what: String,
        /// The sink's error.
        #[source]
        source: JournalSinkError,
    },
}

/// [`run_paper`], with every call journaled to `journal` as it happens:
/// each tick is journaled before its actions reach the venue, and the
/// venue's results after. The run stops at the first journal failure.
pub fn run_paper_journaled(
    runtime: &Runtime,
    component: &StrategyComponent,
    spec: DeploymentSpec,
    market: PaperMarket,
    policy: impl Policy + 'static,
    journal: &mut dyn JournalSink,
    mut on_tick: impl FnMut(usize, &TickRecord),
) -> Result<PaperRun, PaperRunError> {
    let candles = market.tape().len();
    let market = Arc::new(Mutex::new(market));
    let host = DeploymentHost::new(MarketOracle::new(Arc::clone(&market)), policy);
    let (mut deployment, init) = Deployment::new(runtime, component, spec, host)?;
    let journal_error = |what: String| move |source| PaperRunError::Journal { what, source };
    journal
        .init(&deployment, &init)
        .map_err(journal_error("init".into()))?;
    let mut ticks = Vec::with_capacity(candles);
    let mut pending: Vec<(ActionId, ActionOutcome)> = Vec::new();
    for index in 0..candles {
        let input = {
            let mut m = market.lock().unwrap_or_else(PoisonError::into_inner);
            m.seek(index);
            TickInput {
                block: m.block(),
                candles: m.market_candle().into_iter().collect(),
                results: std::mem::take(&mut pending),
            }
        };
        let result = deployment.tick(input.clone());
        let sequence = match &result {
            Ok(report) => report.sequence,
            Err(failure) => failure.sequence,
        };
        journal
            .tick(&deployment, &input, &result)
            .map_err(journal_error(format!("tick {sequence}")))?;
        let mut outcomes = Vec::new();
        if let Ok(report) = &result {
            let mut m = market.lock().unwrap_or_else(PoisonError::into_inner);
            for accepted in &report.actions {
                if let Some(outcome) = m.execute(&accepted.action) {
                    outcomes.push((accepted.id, outcome));
                }
            }
        }
        journal
            .outcomes(sequence, &outcomes)
            .map_err(journal_error(format!("results of tick {sequence}")))?;
        pending.extend(outcomes.iter().cloned());
        let record = TickRecord { result, outcomes };
        on_tick(index, &record);
        ticks.push(record);
    }
    Ok(PaperRun {
        init,
        ticks,
        market,
    })
}
