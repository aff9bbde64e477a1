//! The one loop that replays candles through a strategy, sandboxed or
//! native: one candle per tick, accepted swaps filled on paper at the
//! candle's close and delivered at the start of the next tick.

use std::time::{Duration, Instant};

use stratbox_runtime::types::{Action, ActionOutcome, Candle, SwapAmount};
use stratbox_runtime::{
    AllowAll, Deployment, DeploymentHost, DeploymentSpec, Runtime, StrategyComponent, TickInput,
};

use crate::BenchError;
use crate::market::{Order, tick_input};
use crate::oracles::TapeClock;

/// Something that runs ticks: a sandboxed deployment or a native strategy.
pub trait Driver {
    /// Run one tick; the swaps the policy accepted, in order.
    fn tick(&mut self, input: TickInput) -> Result<Vec<Order>, BenchError>;
}

/// A deployment of a component in the sandbox, accepting every action.
#[derive(Debug)]
pub struct SandboxDriver {
    deployment: Deployment,
    clock: TapeClock,
}

impl SandboxDriver {
    /// Deploy `component` with `config`, committing a snapshot every
    /// `commit_every` ticks.
    pub fn new(
        runtime: &Runtime,
        component: &StrategyComponent,
        config: &str,
        commit_every: u32,
    ) -> Result<Self, BenchError> {
        let clock = TapeClock::new();
        let mut spec = DeploymentSpec::new("bench", config);
        spec.commit_every = commit_every.max(1);
        let (deployment, _) = Deployment::new(
            runtime,
            component,
            spec,
            DeploymentHost::new(clock.clone(), AllowAll),
        )?;
        Ok(SandboxDriver { deployment, clock })
    }
}

impl Driver for SandboxDriver {
    fn tick(&mut self, input: TickInput) -> Result<Vec<Order>, BenchError> {
        self.clock.set(&input.block);
        let report = self.deployment.tick(input).map_err(Box::new)?;
        Ok(report
            .actions
            .iter()
            .map(|accepted| order(accepted.id, &accepted.action))
            .collect())
    }
}

fn order(id: u64, action: &Action) -> Order {
    match action {
        Action::Swap(swap) => Order::swap(
            id,
            &swap.sell,
            &swap.buy,
            match swap.amount {
                SwapAmount::ExactIn(amount) => Some(amount.to_u128()),
                SwapAmount::ExactOut(_) => None,
            },
        ),
        _ => Order::other(id),
    }
}

/// What a replay did and how long its ticks took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replay {
    /// Ticks run.
    pub ticks: usize,
    /// Time spent inside [`Driver::tick`] and filling orders (building the
    /// inputs is not timed).
    pub elapsed: Duration,
    /// Orders accepted.
    pub orders: usize,
    /// Sum of the ids and amounts of every order: two drivers running the
    /// same strategy over the same candles must agree on it.
    pub checksum: u128,
}

impl Replay {
    /// Ticks per second.
    pub fn ticks_per_second(&self) -> f64 {
        self.ticks as f64 / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }
}

/// Inputs prepared ahead of each timed stretch of ticks.
const CHUNK: usize = 4096;

/// Replay `candles` through `driver`, one per tick.
pub fn replay(driver: &mut dyn Driver, candles: &[Candle]) -> Result<Replay, BenchError> {
    let mut run = Replay {
        ticks: 0,
        elapsed: Duration::ZERO,
        orders: 0,
        checksum: 0,
    };
    let mut pending: Vec<(u64, ActionOutcome)> = Vec::new();
    for chunk in candles.chunks(CHUNK) {
        let first = run.ticks as u64;
        let inputs: Vec<TickInput> = (first..)
            .zip(chunk)
            .map(|(sequence, candle)| tick_input(sequence, *candle))
            .collect();
        let started = Instant::now();
        for (mut input, candle) in inputs.into_iter().zip(chunk) {
            if !pending.is_empty() {
                input.results = std::mem::take(&mut pending);
            }
            for order in driver.tick(input)? {
                run.orders += 1;
                run.checksum = run
                    .checksum
                    .wrapping_add(u128::from(order.id))
                    .wrapping_add(order.amount_in.unwrap_or(0));
                pending.push((order.id, order.fill(candle.close)));
            }
        }
        run.elapsed += started.elapsed();
        run.ticks += chunk.len();
    }
    Ok(run)
}
