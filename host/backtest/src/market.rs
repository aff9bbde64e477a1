use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use stratbox_runtime::Oracle;
use stratbox_runtime::types::{
    Action, ActionId, ActionOutcome, Amount, AssetAmount, BlockInfo, Candle, Failure, Fill,
    MarketCandle, OracleError, SwapAmount,
};
use stratbox_tape::Tape;

use crate::fill::{FillModel, FillQueue};

/// Assets and starting balances of a paper market.
#[derive(Debug, Clone, PartialEq)]
pub struct PaperMarketConfig {
    /// Asset priced by the tape (e.g. `ETH`).
    pub base: String,
    /// Asset the tape's prices are in (e.g. `BTC`).
    pub quote: String,
    /// Decimals of `base`.
    pub base_decimals: u8,
    /// Decimals of `quote`.
    pub quote_decimals: u8,
    /// Starting balances, in base units.
    pub balances: Vec<(String, u128)>,
    /// Fee charged on the sold amount, in basis points.
    pub fee_bps: u32,
}

impl PaperMarketConfig {
    /// An ETH/BTC-style market (18 and 8 decimals) starting with
    /// `quote_balance` whole units of the quote asset and a 0.30% fee.
    pub fn new(base: &str, quote: &str, quote_balance: u128) -> Self {
        PaperMarketConfig {
            base: base.to_owned(),
            quote: quote.to_owned(),
            base_decimals: 18,
            quote_decimals: 8,
            balances: vec![(quote.to_owned(), quote_balance * 10u128.pow(8))],
            fee_bps: 30,
        }
    }
}

/// A tape replayed one candle at a time, with an account that trades
/// against it at the candle close (or, with another [`FillModel`], at the
/// next candle's open or a later close).
#[derive(Debug)]
pub struct PaperMarket {
    tape: Tape,
    config: PaperMarketConfig,
    cursor: usize,
    balances: BTreeMap<String, u128>,
    /// How many times `balances` changed.
    balance_changes: u64,
    /// Actions a journal lists as released with no outcome: executed by a
    /// process that stopped before recording their fills, so this account
    /// never held them. Reported failed at the next settlement.
    lost: Vec<ActionId>,
    /// The fill model and the released actions waiting for their fill
    /// point.
    queue: FillQueue,
}

impl PaperMarket {
    /// A market at the first candle of `tape`, filling at the close of
    /// the candle the strategy saw ([`FillModel::Close`]).
    pub fn new(tape: Tape, config: PaperMarketConfig) -> Self {
        let balances = config.balances.iter().cloned().collect();
        PaperMarket {
            tape,
            config,
            cursor: 0,
            balances,
            balance_changes: 0,
            lost: Vec::new(),
            queue: FillQueue::default(),
        }
    }

    /// The market executing the actions it is handed as `fill` says.
    pub fn with_fill(mut self, fill: FillModel) -> Self {
        self.queue.set_model(fill);
        self
    }

    /// When it executes the actions it is handed.
    pub fn fill_model(&self) -> FillModel {
        self.queue.model()
    }

    /// Take an accepted action released at the current candle: executed
    /// now ([`FillModel::Close`], and holds, which move nothing), or held
    /// until its fill point ([`PaperMarket::settle_due`]).
    pub fn release(&mut self, id: ActionId, action: &Action) -> Option<ActionOutcome> {
        if self.queue.hold(id, action, self.cursor) {
            return None;
        }
        self.execute(action)
    }

    /// Execute the held actions whose fill point is the next candle (its
    /// open, or its close), before that candle's tick; their outcomes.
    pub fn settle_due(&mut self) -> Vec<(ActionId, ActionOutcome)> {
        let next = self.cursor + 1;
        if !self.queue.any_due(next) {
            return Vec::new();
        }
        let Some(candle) = self.tape.candles().get(next) else {
            return Vec::new();
        };
        let price = match self.queue.model() {
            FillModel::NextOpen => candle.open,
            FillModel::Close | FillModel::Latency(_) => candle.close,
        };
        self.queue
            .take_due(next)
            .into_iter()
            .filter_map(|(id, action)| Some((id, self.execute_at(&action, Some(price))?)))
            .collect()
    }

    /// The actions still held (the tape ended before their fill point),
    /// failed with [`NOT_FILLED_BEFORE_END`](crate::NOT_FILLED_BEFORE_END),
    /// once.
    pub fn unfilled(&mut self) -> Vec<(ActionId, ActionOutcome)> {
        self.queue.expire(self.tape.len())
    }

    /// The tape.
    pub fn tape(&self) -> &Tape {
        &self.tape
    }

    /// Move to candle `index`.
    pub fn seek(&mut self, index: usize) {
        self.cursor = index.min(self.tape.len().saturating_sub(1));
    }

    fn current(&self) -> Option<&stratbox_tape::Candle> {
        self.tape.candles().get(self.cursor)
    }

    /// The block of the current candle: its number is the candle index and
    /// its time the candle's close.
    pub fn block(&self) -> BlockInfo {
        let interval = self.tape.interval_ms().unwrap_or(0);
        BlockInfo {
            chain_id: 0,
            number: self.cursor as u64,
            timestamp_ms: self.current().map_or(0, |c| c.timestamp_ms + interval),
        }
    }

    /// The current candle, as the guest sees it.
    pub fn market_candle(&self) -> Option<MarketCandle> {
        self.current().map(|c| MarketCandle {
            market: self.tape.market().to_owned(),
            candle: wit_candle(c),
        })
    }

    /// Every balance, in base units, by asset.
    pub fn balances(&self) -> &BTreeMap<String, u128> {
        &self.balances
    }

    /// How many fills have changed the balances so far: a caller that
    /// mirrors [`PaperMarket::balances`] copies them again only when this
    /// moved.
    pub fn balance_changes(&self) -> u64 {
        self.balance_changes
    }

    /// Balance of `asset`, in base units.
    pub fn balance(&self, asset: &str) -> u128 {
        self.balances.get(asset).copied().unwrap_or(0)
    }

    /// Execute an accepted action at the current close. Holds produce no
    /// outcome.
    pub fn execute(&mut self, action: &Action) -> Option<ActionOutcome> {
        let close = self.current().map(|c| c.close);
        self.execute_at(action, close)
    }

    /// Execute an accepted action at `price` (of the base asset in the
    /// quote asset; `None`: no candle).
    fn execute_at(&mut self, action: &Action, price: Option<f64>) -> Option<ActionOutcome> {
        match action {
            Action::Hold(_) => None,
            Action::Swap(swap) => Some(self.swap(price, &swap.sell, &swap.buy, swap.amount)),
            other => Some(failed(
                "UNSUPPORTED",
                &format!("the paper venue executes swaps only, not {}", other.kind()),
            )),
        }
    }

    fn swap(
        &mut self,
        price: Option<f64>,
        sell: &str,
        buy: &str,
        amount: SwapAmount,
    ) -> ActionOutcome {
        let Some(price) = price else {
            return failed("NO_PRICE", "the tape has no candle");
        };
        let config = &self.config;
        let (base, quote) = (config.base.as_str(), config.quote.as_str());
        // Value of one whole unit of `sell` in whole units of `buy`.
        let (rate, sell_decimals, buy_decimals) = if sell == quote && buy == base {
            (1.0 / price, config.quote_decimals, config.base_decimals)
        } else if sell == base && buy == quote {
            (price, config.base_decimals, config.quote_decimals)
        } else {
            return failed("UNKNOWN_PAIR", &format!("no market for {sell}/{buy}"));
        };
        let keep = 1.0 - f64::from(config.fee_bps) / 10_000.0;
        let scale = |decimals: u8| 10f64.powi(i32::from(decimals));
        let (spent, received) = match amount {
            SwapAmount::ExactIn(a) => {
                let spent = a.to_u128();
                let whole = spent as f64 / scale(sell_decimals);
                (
                    spent,
                    (whole * rate * keep * scale(buy_decimals)).floor() as u128,
                )
            }
            SwapAmount::ExactOut(a) => {
                let received = a.to_u128();
                let whole = received as f64 / scale(buy_decimals);
                (
                    (whole / rate / keep * scale(sell_decimals)).ceil() as u128,
                    received,
                )
            }
        };
        let available = self.balance(sell);
        if spent > available {
            return failed(
                "INSUFFICIENT_BALANCE",
                &format!("need {spent} {sell}, have {available}"),
            );
        }
        let fee = spent * u128::from(config.fee_bps) / 10_000;
        *self.balances.entry(sell.to_owned()).or_default() -= spent;
        *self.balances.entry(buy.to_owned()).or_default() += received;
        self.balance_changes += 1;
        ActionOutcome::Filled(Fill {
            spent: vec![asset_amount(sell, spent)],
            received: vec![asset_amount(buy, received)],
            fees: vec![asset_amount(sell, fee)],
            gas: None,
            tx_hash: None,
            position: None,
        })
    }

    /// Apply a fill this market made earlier (read back from a journal):
    /// a paper account resumed after a restart holds what its fills left.
    pub fn apply_fill(&mut self, fill: &Fill) {
        for spent in &fill.spent {
            let balance = self.balances.entry(spent.asset.clone()).or_default();
            *balance = balance.saturating_sub(spent.amount.to_u128());
        }
        for received in &fill.received {
            let balance = self.balances.entry(received.asset.clone()).or_default();
            *balance = balance.saturating_add(received.amount.to_u128());
        }
        self.balance_changes += 1;
    }

    /// Report `actions` (released by an earlier process, their fills never
    /// recorded) as failed at the next settlement: a resumed paper account
    /// holds only what its journal recorded.
    pub fn set_lost(&mut self, actions: impl IntoIterator<Item = ActionId>) {
        self.lost.extend(actions);
    }

    /// The lost actions' outcomes, once.
    pub fn settle_lost(&mut self) -> Vec<(ActionId, ActionOutcome)> {
        self.lost
            .drain(..)
            .map(|id| {
                let outcome = failed(
                    "NOT_EXECUTED",
                    "the process that released this action stopped before recording its fill; \
                     the paper account does not hold it",
                );
                (id, outcome)
            })
            .collect()
    }

    /// Value of all balances in the quote asset at the current close.
    pub fn equity_in_quote(&self) -> f64 {
        let price = self.current().map_or(0.0, |c| c.close);
        let scale = |decimals: u8| 10f64.powi(i32::from(decimals));
        self.balance(&self.config.quote) as f64 / scale(self.config.quote_decimals)
            + self.balance(&self.config.base) as f64 / scale(self.config.base_decimals) * price
    }
}

/// A tape candle as the guest sees it.
pub fn wit_candle(c: &stratbox_tape::Candle) -> Candle {
    Candle {
        timestamp_ms: c.timestamp_ms,
        open: c.open,
        high: c.high,
        low: c.low,
        close: c.close,
        volume: c.volume,
    }
}

/// A candle as the guest saw it, back as a tape candle (e.g. read from a
/// journal).
pub fn tape_candle(c: &Candle) -> stratbox_tape::Candle {
    stratbox_tape::Candle {
        timestamp_ms: c.timestamp_ms,
        open: c.open,
        high: c.high,
        low: c.low,
        close: c.close,
        volume: c.volume,
    }
}

/// Every candle of `tape`, as the guest sees it in a tick context.
pub fn market_candles(tape: &Tape) -> Vec<MarketCandle> {
    tape.candles()
        .iter()
        .map(|c| MarketCandle {
            market: tape.market().to_owned(),
            candle: wit_candle(c),
        })
        .collect()
}

fn asset_amount(asset: &str, units: u128) -> AssetAmount {
    AssetAmount {
        asset: asset.to_owned(),
        amount: Amount::from_u128(units),
    }
}

fn failed(code: &str, reason: &str) -> ActionOutcome {
    ActionOutcome::Failed(Failure {
        code: code.to_owned(),
        reason: reason.to_owned(),
        tx_hash: None,
    })
}

/// The oracle view of a shared [`PaperMarket`]: history up to the current
/// candle, its close as the price, the account's balances.
#[derive(Debug, Clone)]
pub struct MarketOracle(Arc<Mutex<PaperMarket>>);

impl MarketOracle {
    /// An oracle over `market`.
    pub fn new(market: Arc<Mutex<PaperMarket>>) -> Self {
        MarketOracle(market)
    }

    fn market(&self) -> MutexGuard<'_, PaperMarket> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Oracle for MarketOracle {
    fn block(&mut self) -> BlockInfo {
        self.market().block()
    }

    fn candles(&mut self, market: &str, count: u32) -> Result<Vec<Candle>, OracleError> {
        let m = self.market();
        if market != m.tape.market() {
            return Err(OracleError::Unknown(market.to_owned()));
        }
        let end = m.cursor + 1;
        let start = end.saturating_sub(count as usize);
        Ok(m.tape.candles()[start..end]
            .iter()
            .map(wit_candle)
            .collect())
    }

    fn price(&mut self, base: &str, quote: &str) -> Result<f64, OracleError> {
        let m = self.market();
        let close = m
            .current()
            .map(|c| c.close)
            .ok_or_else(|| OracleError::Unavailable("no candle yet".into()))?;
        if base == m.config.base && quote == m.config.quote {
            Ok(close)
        } else if base == m.config.quote && quote == m.config.base {
            Ok(1.0 / close)
        } else {
            Err(OracleError::Unknown(format!("{base}/{quote}")))
        }
    }

    fn balance(&mut self, asset: &str) -> Result<Amount, OracleError> {
        let m = self.market();
        if asset != m.config.base && asset != m.config.quote {
            return Err(OracleError::Unknown(asset.to_owned()));
        }
        Ok(Amount::from_u128(m.balance(asset)))
    }

    fn balances(&mut self) -> Vec<AssetAmount> {
        self.market()
            .balances
            .iter()
            .filter(|(_, units)| **units > 0)
            .map(|(asset, units)| asset_amount(asset, *units))
            .collect()
    }
}
