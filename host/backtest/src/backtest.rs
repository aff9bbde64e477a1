//! A backtest: [`run`] against a [`SimMarket`], turned into a
//! [`BacktestReport`] (equity curve, trades, denials, metrics).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use stratbox_runtime::types::{Action, ActionOutcome, Rejection, SwapAmount};
use stratbox_runtime::{
    DeploymentSpec, JournalSink, Policy, Runtime, StrategyComponent, TickReport,
};

use crate::metrics::{Metrics, MetricsInput};
use crate::report::{BacktestReport, DenialRecord, EquityPoint, Side, TradeRecord};
use crate::run::{RunError, TickRecord, run};
use crate::sim::{SimMarket, SimOracle};

/// What a backtest runs and how it names it in the report.
#[derive(Debug, Clone)]
pub struct Backtest<'a> {
    /// The runtime.
    pub runtime: &'a Runtime,
    /// The strategy.
    pub component: &'a StrategyComponent,
    /// Strategy name for the report.
    pub strategy: String,
    /// Deployment (id, config, limits).
    pub spec: DeploymentSpec,
}

impl Backtest<'_> {
    /// Run over every candle of `market`, judging actions with `policy` and
    /// journaling to `journal`; `progress` is called after each tick with
    /// the number of ticks done.
    pub fn run(
        &self,
        market: SimMarket,
        policy: impl Policy + 'static,
        journal: &mut dyn JournalSink,
        mut progress: impl FnMut(usize),
    ) -> Result<BacktestReport, RunError> {
        let driving = market.tape().market().to_owned();
        let priced = driving.split('/').next().unwrap_or_default().to_owned();
        let quote = market.quote().to_owned();
        let market = Arc::new(Mutex::new(market));
        let oracle = SimOracle::new(Arc::clone(&market));
        let mut collector = Collector::new(priced);
        let started = Instant::now();
        let finished = run(
            self.runtime,
            self.component,
            self.spec.clone(),
            market,
            oracle,
            policy,
            journal,
            |index, record, market| {
                collector.record(record, market, &driving);
                progress(index + 1);
            },
        )?;
        let seconds = started.elapsed().as_secs_f64();
        let market = finished.venue();
        let curve: Vec<(u64, f64)> = collector
            .equity
            .iter()
            .map(|p| (p.timestamp_ms, p.equity))
            .collect();
        let denial_rules: Vec<String> = collector.denials.iter().map(|d| d.rule.clone()).collect();
        let metrics = Metrics::compute(&MetricsInput {
            equity: &curve,
            trades: market.closed_trades(),
            fees_paid: market.fees_paid(),
            gas_paid: market.gas_paid(),
            actions: collector.trades.len(),
            denials: &denial_rules,
            fuel: &collector.fuel,
            failed_ticks: collector.failed_ticks,
            seconds,
        });
        Ok(BacktestReport {
            strategy: self.strategy.clone(),
            component_sha256: self.component.info().sha256.clone(),
            config: self.spec.config.clone(),
            market: driving,
            quote,
            metrics,
            equity: collector.equity,
            trades: collector.trades,
            denials: collector.denials,
            liquidations: market.liquidations(),
        })
    }
}

/// Gathers the report's series tick by tick.
struct Collector {
    priced: String,
    peak: f64,
    equity: Vec<EquityPoint>,
    trades: Vec<TradeRecord>,
    denials: Vec<DenialRecord>,
    fuel: Vec<u64>,
    failed_ticks: usize,
}

impl Collector {
    fn new(priced: String) -> Self {
        Collector {
            priced,
            peak: f64::MIN,
            equity: Vec::new(),
            trades: Vec::new(),
            denials: Vec::new(),
            fuel: Vec::new(),
            failed_ticks: 0,
        }
    }

    fn record(&mut self, record: &TickRecord, market: &SimMarket, driving: &str) {
        let timestamp_ms = market.now_ms();
        let equity = market.equity();
        self.peak = self.peak.max(equity);
        self.equity.push(EquityPoint {
            timestamp_ms,
            equity,
            drawdown: if self.peak > 0.0 {
                (self.peak - equity) / self.peak
            } else {
                0.0
            },
            price: market.market_price(driving).unwrap_or(0.0),
        });
        match &record.result {
            Ok(report) => self.record_report(report, record, market, timestamp_ms),
            Err(_) => self.failed_ticks += 1,
        }
    }

    fn record_report(
        &mut self,
        report: &TickReport,
        record: &TickRecord,
        market: &SimMarket,
        timestamp_ms: u64,
    ) {
        self.fuel.push(report.trace.fuel_used);
        for emission in &report.trace.emissions {
            match &emission.verdict {
                Ok(id) => {
                    let outcome = record
                        .outcomes
                        .iter()
                        .find(|(done, _)| done == id)
                        .map_or_else(
                            || "none".to_owned(),
                            |(_, outcome)| match outcome {
                                ActionOutcome::Filled(_) => "filled".to_owned(),
                                ActionOutcome::Failed(failure) => failure.code.clone(),
                            },
                        );
                    self.trades.push(TradeRecord {
                        sequence: report.sequence,
                        timestamp_ms,
                        id: *id,
                        kind: emission.action.kind().to_owned(),
                        side: self.side(&emission.action),
                        summary: describe(&emission.action, market),
                        outcome,
                    });
                }
                Err(Rejection::Denied(denial) | Rejection::Invalid(denial)) => {
                    self.denials.push(DenialRecord {
                        sequence: report.sequence,
                        timestamp_ms,
                        code: denial.code.clone(),
                        rule: denial.rule.clone(),
                        detail: denial.detail.clone(),
                    });
                }
            }
        }
    }

    fn side(&self, action: &Action) -> Side {
        match action {
            Action::Swap(swap) if swap.buy == self.priced => Side::Buy,
            Action::Swap(swap) if swap.sell == self.priced => Side::Sell,
            _ => Side::Other,
        }
    }
}

/// One line for the trade list: the kind, and a swap's amounts in whole
/// units.
fn describe(action: &Action, market: &SimMarket) -> String {
    let units = |amount: stratbox_runtime::types::Amount, asset: &str| {
        let decimals = market.decimals(asset);
        format!("{} {asset}", amount.to_decimal_string(decimals))
    };
    match action {
        Action::Swap(swap) => match swap.amount {
            SwapAmount::ExactIn(a) => format!("swap {} for {}", units(a, &swap.sell), swap.buy),
            SwapAmount::ExactOut(a) => format!("swap {} for {}", swap.sell, units(a, &swap.buy)),
        },
        other => other.kind().replace('_', " "),
    }
}
