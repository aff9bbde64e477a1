//! A strategy crate compiled for the host and driven through the SDK's
//! [`Host`] trait: the native baseline of the sandboxed runs. The host
//! accepts every action (like [`stratbox_runtime::AllowAll`]) and serves the
//! current block, as the sandboxed runs' oracle does.

use stratbox_runtime::TickInput;
use stratbox_runtime::types as rt;
use stratbox_sdk::types::{
    Action, ActionId, ActionOutcome, Amount, AssetAmount, BlockInfo, Candle, DeploymentInfo,
    Failure, Fill, Level, MarketCandle, OracleError, Rejection, SwapAmount, TickContext,
};
use stratbox_sdk::{Context, Host, Strategy};

use crate::BenchError;
use crate::drive::Driver;
use crate::market::Order;

/// The host of a natively compiled strategy.
#[derive(Debug)]
pub struct NativeHost {
    block: BlockInfo,
    next_id: ActionId,
    emitted: Vec<(ActionId, Action)>,
    logs: Vec<(Level, String)>,
}

impl Default for NativeHost {
    fn default() -> Self {
        NativeHost {
            block: BlockInfo {
                chain_id: 0,
                number: 0,
                timestamp_ms: 0,
            },
            next_id: 1,
            emitted: Vec::new(),
            logs: Vec::new(),
        }
    }
}

impl Host for NativeHost {
    fn deployment(&mut self) -> DeploymentInfo {
        DeploymentInfo {
            id: "native".into(),
            account: "native".into(),
        }
    }
    fn block(&mut self) -> BlockInfo {
        self.block
    }
    fn price(&mut self, base: &str, quote: &str) -> Result<f64, OracleError> {
        match (base, quote) {
            ("ETH", "USDC") => Ok(crate::oracles::ETH_USDC),
            _ => Err(OracleError::Unknown(format!("{base}/{quote}"))),
        }
    }
    fn emit(&mut self, action: &Action) -> Result<ActionId, Rejection> {
        let id = self.next_id;
        self.next_id += 1;
        self.emitted.push((id, action.clone()));
        Ok(id)
    }
    fn log(&mut self, level: Level, message: &str) {
        self.logs.push((level, message.to_owned()));
    }
}

/// A strategy of type `S` running natively, ticked like a deployment:
/// outcomes first, then `on_tick`, then a snapshot every `commit_every`
/// ticks.
#[derive(Debug)]
pub struct NativeDriver<S> {
    strategy: S,
    host: NativeHost,
    commit_every: u32,
    since_commit: u32,
    snapshot: Vec<u8>,
    markets: MarketNames,
}

/// Market names as the SDK hands them to strategies (`&'static str`, each
/// kept once, as inside a component).
#[derive(Debug, Default)]
struct MarketNames(Vec<&'static str>);

impl MarketNames {
    fn intern(&mut self, name: &str) -> &'static str {
        if let Some(known) = self.0.iter().find(|known| **known == name) {
            return known;
        }
        let name: &'static str = String::from(name).leak();
        self.0.push(name);
        name
    }
}

impl<S: Strategy> NativeDriver<S> {
    /// `init` with `config`, then the first snapshot (as a deployment does).
    pub fn new(config: &str, commit_every: u32) -> Result<Self, BenchError> {
        let mut host = NativeHost::default();
        let strategy = S::init(config, &mut Context::new(&mut host)).map_err(native)?;
        let snapshot = strategy.snapshot().map_err(native)?;
        Ok(NativeDriver {
            strategy,
            host,
            commit_every: commit_every.max(1),
            since_commit: 0,
            snapshot,
            markets: MarketNames::default(),
        })
    }

    /// The last snapshot taken.
    pub fn snapshot(&self) -> &[u8] {
        &self.snapshot
    }
}

impl<S: Strategy> Driver for NativeDriver<S> {
    fn tick(&mut self, input: TickInput) -> Result<Vec<Order>, BenchError> {
        let block = sdk_block(input.block);
        self.host.block = block;
        for (id, outcome) in &input.results {
            let outcome = sdk_outcome(outcome);
            self.strategy
                .on_action_result(&mut Context::new(&mut self.host), *id, &outcome)
                .map_err(native)?;
        }
        let tick = TickContext {
            sequence: input.block.number,
            block,
            candles: input
                .candles
                .into_iter()
                .map(|c| MarketCandle {
                    market: self.markets.intern(&c.market),
                    candle: sdk_candle(c.candle),
                })
                .collect(),
        };
        self.strategy
            .on_tick(&mut Context::new(&mut self.host), &tick)
            .map_err(native)?;
        self.since_commit += 1;
        if self.since_commit >= self.commit_every {
            self.snapshot = self.strategy.snapshot().map_err(native)?;
            self.since_commit = 0;
        }
        self.host.logs.clear();
        Ok(self
            .host
            .emitted
            .drain(..)
            .map(|(id, action)| order(id, &action))
            .collect())
    }
}

fn native(error: stratbox_sdk::Error) -> BenchError {
    BenchError::Native {
        reason: error.to_string(),
    }
}

fn order(id: ActionId, action: &Action) -> Order {
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

fn sdk_block(block: rt::BlockInfo) -> BlockInfo {
    BlockInfo {
        chain_id: block.chain_id,
        number: block.number,
        timestamp_ms: block.timestamp_ms,
    }
}

fn sdk_candle(c: rt::Candle) -> Candle {
    Candle {
        timestamp_ms: c.timestamp_ms,
        open: c.open,
        high: c.high,
        low: c.low,
        close: c.close,
        volume: c.volume,
    }
}

fn sdk_amounts(amounts: &[rt::AssetAmount]) -> Vec<AssetAmount> {
    amounts.iter().map(sdk_amount).collect()
}

fn sdk_amount(a: &rt::AssetAmount) -> AssetAmount {
    AssetAmount {
        asset: a.asset.clone(),
        amount: Amount {
            hi: a.amount.hi,
            lo: a.amount.lo,
        },
    }
}

fn sdk_outcome(outcome: &rt::ActionOutcome) -> ActionOutcome {
    match outcome {
        rt::ActionOutcome::Filled(fill) => ActionOutcome::Filled(Fill {
            spent: sdk_amounts(&fill.spent),
            received: sdk_amounts(&fill.received),
            fees: sdk_amounts(&fill.fees),
            gas: fill.gas.as_ref().map(sdk_amount),
            tx_hash: fill.tx_hash.clone(),
            position: fill.position.clone(),
        }),
        rt::ActionOutcome::Failed(failure) => ActionOutcome::Failed(Failure {
            code: failure.code.clone(),
            reason: failure.reason.clone(),
            tx_hash: failure.tx_hash.clone(),
        }),
    }
}
