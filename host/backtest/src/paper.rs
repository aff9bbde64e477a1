//! The simulated markets as venues of the engine's loop, and paper runs:
//! the loop over every candle of a [`PaperMarket`].

use std::sync::{Arc, Mutex};

use stratbox_engine::{NoJournal, Run, RunError, TickRecord, TickStart, Venue, run};
use stratbox_runtime::types::{Action, ActionId, ActionOutcome};
use stratbox_runtime::{
    DeployError, DeploymentSpec, JournalSink, Policy, Runtime, StrategyComponent,
};

use crate::market::{MarketOracle, PaperMarket};
use crate::sim::{SimError, SimMarket};

impl Venue for PaperMarket {
    type Error = std::convert::Infallible;

    fn candle_count(&self) -> Option<usize> {
        Some(self.tape().len())
    }

    fn begin_tick(&mut self, index: usize) -> Result<TickStart, Self::Error> {
        self.seek(index);
        Ok(TickStart {
            block: self.block(),
            candles: self.market_candle().into_iter().collect(),
        })
    }

    fn execute(&mut self, id: ActionId, action: &Action) -> Option<ActionOutcome> {
        self.release(id, action)
    }

    fn settle(&mut self) -> Vec<(ActionId, ActionOutcome)> {
        let mut settled = self.settle_lost();
        settled.extend(self.settle_due());
        settled
    }
}

impl Venue for SimMarket {
    type Error = SimError;

    fn candle_count(&self) -> Option<usize> {
        Some(self.len())
    }

    fn begin_tick(&mut self, index: usize) -> Result<TickStart, SimError> {
        self.enter(index)?;
        Ok(TickStart {
            block: self.block(),
            candles: self.closed_candles(),
        })
    }

    fn execute(&mut self, id: ActionId, action: &Action) -> Option<ActionOutcome> {
        self.release(id, action)
    }

    fn settle(&mut self) -> Vec<(ActionId, ActionOutcome)> {
        self.settle_due()
    }
}

/// A finished run against a [`PaperMarket`].
pub type PaperRun = Run<PaperMarket>;

/// The error of a paper run (the paper venue itself never fails).
pub type PaperRunError = RunError;

/// [`run`] against a paper venue, journaling nothing.
pub fn run_paper(
    runtime: &Runtime,
    component: &StrategyComponent,
    spec: DeploymentSpec,
    market: PaperMarket,
    policy: impl Policy + 'static,
    on_tick: impl FnMut(usize, &TickRecord),
) -> Result<PaperRun, DeployError> {
    match run_paper_journaled(
        runtime,
        component,
        spec,
        market,
        policy,
        &mut NoJournal,
        on_tick,
    ) {
        Ok(run) => Ok(run),
        Err(RunError::Deploy(error)) => Err(error),
        Err(RunError::Journal { .. } | RunError::Halted { .. } | RunError::Venue { .. }) => {
            unreachable!("NoJournal and the paper venue never fail")
        }
    }
}

/// [`run`] against a paper venue, its oracle reading the same market.
pub fn run_paper_journaled(
    runtime: &Runtime,
    component: &StrategyComponent,
    spec: DeploymentSpec,
    market: PaperMarket,
    policy: impl Policy + 'static,
    journal: &mut dyn JournalSink,
    mut on_tick: impl FnMut(usize, &TickRecord),
) -> Result<PaperRun, RunError> {
    let market = Arc::new(Mutex::new(market));
    let oracle = MarketOracle::new(Arc::clone(&market));
    run(
        runtime,
        component,
        spec,
        market,
        oracle,
        policy,
        journal,
        |index, record, _| on_tick(index, record),
    )
}
