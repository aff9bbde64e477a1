//! A policy engine driven by hand: emit actions into a tick, end or drop
//! the tick, report fills and failures, move the clock; an oracle whose
//! prices, candles, balances, pools, vaults, positions and lending markets a
//! test sets.

use std::collections::BTreeMap;
use std::sync::Arc;

use stratbox_runtime::policy::{AssetCatalog, CompiledPolicy, PolicyConfig, PolicyEngine};
use stratbox_runtime::types::{
    Action, ActionId, ActionOutcome, Amount, AssetAmount, BlockInfo, Candle, Denial, Failure, Fill,
    LendingOp, LendingState, LpClose, LpCollect, LpOpen, LpRange, OracleError, PoolState, Position,
    PositionKind, Swap, SwapAmount, VaultOp, VaultState,
};
use stratbox_runtime::{
    AcceptedAction, Oracle, OracleRead, Policy, PolicyContext, PolicyOracle, Verdict,
};

/// The assets every test deployment holds.
pub fn assets() -> AssetCatalog {
    AssetCatalog::new()
        .with("ETH", 18)
        .with("USDC", 6)
        .with("BTC", 8)
        .with("PEPE", 18)
}

/// `amount` whole tokens of `asset` in base units.
pub fn units(asset: &str, amount: &str) -> Amount {
    let decimals = assets().decimals(asset).expect("test asset");
    let value: stratbox_runtime::policy::Decimal = amount.parse().expect("decimal");
    Amount::from_u128(value.to_units(decimals).expect("fits"))
}

pub fn swap_in(sell: &str, buy: &str, amount: &str) -> Action {
    Action::Swap(Swap {
        sell: sell.into(),
        buy: buy.into(),
        amount: SwapAmount::ExactIn(units(sell, amount)),
        max_slippage_bps: 50,
        venue: None,
    })
}

pub fn swap_out(sell: &str, buy: &str, amount: &str) -> Action {
    Action::Swap(Swap {
        sell: sell.into(),
        buy: buy.into(),
        amount: SwapAmount::ExactOut(units(buy, amount)),
        max_slippage_bps: 50,
        venue: None,
    })
}

pub fn with_venue(action: Action, venue: &str) -> Action {
    match action {
        Action::Swap(swap) => Action::Swap(Swap {
            venue: Some(venue.into()),
            ..swap
        }),
        other => other,
    }
}

pub fn with_slippage(action: Action, bps: u32) -> Action {
    match action {
        Action::Swap(swap) => Action::Swap(Swap {
            max_slippage_bps: bps,
            ..swap
        }),
        other => other,
    }
}

pub fn lending(kind: &str, market: &str, asset: &str, amount: &str) -> Action {
    let op = LendingOp {
        market: market.into(),
        asset: asset.into(),
        amount: units(asset, amount),
    };
    match kind {
        "supply" => Action::Supply(op),
        "withdraw" => Action::Withdraw(op),
        "borrow" => Action::Borrow(op),
        "repay" => Action::Repay(op),
        other => panic!("not a lending kind: {other}"),
    }
}

pub fn lp_open(pool: &str, amount0: Amount, amount1: Amount) -> Action {
    Action::LpOpen(LpOpen {
        pool: pool.into(),
        range: LpRange::Ticks((-600, 600)),
        amount0,
        amount1,
    })
}

pub fn lp_close(position: &str) -> Action {
    Action::LpClose(LpClose {
        position: position.into(),
    })
}

pub fn lp_collect(position: &str) -> Action {
    Action::LpCollect(LpCollect {
        position: position.into(),
    })
}

pub fn vault_request_redeem(vault: &str, shares: Amount) -> Action {
    Action::VaultRequestRedeem(VaultOp {
        vault: vault.into(),
        amount: shares,
    })
}

pub fn vault_deposit(vault: &str, amount: Amount) -> Action {
    Action::VaultDeposit(VaultOp {
        vault: vault.into(),
        amount,
    })
}

/// What a test oracle knows.
#[derive(Debug, Clone, Default)]
pub struct TestOracle {
    pub prices: BTreeMap<(String, String), f64>,
    pub pools: BTreeMap<String, PoolState>,
    pub vaults: BTreeMap<String, VaultState>,
    pub lending: BTreeMap<String, LendingState>,
    pub positions: Vec<Position>,
    /// What `balances()` answers.
    pub balances: Vec<AssetAmount>,
    /// Candles by market (`ETH/USDC`), oldest first.
    pub candles: BTreeMap<String, Vec<Candle>>,
}

impl TestOracle {
    /// ETH at 3000 USDC, BTC at 60000 USDC, PEPE unpriced; an ETH/USDC pool;
    /// a USDC vault; an `aave` market with an 0.8 liquidation threshold in
    /// which the deployment supplied 2 ETH.
    pub fn standard() -> Self {
        let mut oracle = TestOracle::default();
        oracle.set_price("ETH", "USDC", 3000.0);
        oracle.set_price("BTC", "USDC", 60000.0);
        oracle.pools.insert(
            "ETH/USDC-0.05".into(),
            PoolState {
                pool: "ETH/USDC-0.05".into(),
                token0: "ETH".into(),
                token1: "USDC".into(),
                reserve0: Amount::ZERO,
                reserve1: Amount::ZERO,
                sqrt_price_x96: None,
                tick: None,
                liquidity: None,
                fee_pips: 500,
                price: 3000.0,
            },
        );
        oracle.vaults.insert(
            "usdc-vault".into(),
            VaultState {
                vault: "usdc-vault".into(),
                asset: "USDC".into(),
                share_price: 1.05,
                apy: Some(0.05),
                shares: Amount::ZERO,
                pending_redemption: Amount::ZERO,
                claimable_at_ms: None,
            },
        );
        oracle.lending.insert(
            "aave".into(),
            LendingState {
                market: "aave".into(),
                asset: "USDC".into(),
                supply_rate: 0.03,
                borrow_rate: 0.05,
                utilization: 0.7,
                max_ltv: 0.75,
                liquidation_threshold: 0.8,
                health_factor: None,
            },
        );
        oracle.position(PositionKind::Supplied, "aave", "ETH", "2");
        oracle
    }

    pub fn set_price(&mut self, base: &str, quote: &str, price: f64) {
        self.prices.insert((base.into(), quote.into()), price);
    }

    /// The deployment holds `amount` whole tokens of `asset`.
    pub fn hold(&mut self, asset: &str, amount: &str) {
        self.balances.retain(|b| b.asset != asset);
        self.balances.push(AssetAmount {
            asset: asset.into(),
            amount: units(asset, amount),
        });
    }

    /// Candles of `market` with these closes, `interval_ms` apart, the last
    /// one closing at `end_ms`.
    pub fn set_closes(&mut self, market: &str, closes: &[f64], interval_ms: u64, end_ms: u64) {
        let first_ms = end_ms - interval_ms * closes.len() as u64;
        let candles = closes
            .iter()
            .enumerate()
            .map(|(i, &close)| Candle {
                timestamp_ms: first_ms + interval_ms * i as u64,
                open: close,
                high: close,
                low: close,
                close,
                volume: 1.0,
            })
            .collect();
        self.candles.insert(market.into(), candles);
    }

    /// A supplied or borrowed position in `market`.
    pub fn position(&mut self, kind: PositionKind, market: &str, asset: &str, amount: &str) {
        self.positions.push(Position {
            id: format!("{market}-{asset}-{}", self.positions.len()),
            kind,
            venue: market.into(),
            amounts: vec![AssetAmount {
                asset: asset.into(),
                amount: units(asset, amount),
            }],
            tick_range: None,
            liquidity: None,
        });
    }
}

impl Oracle for TestOracle {
    fn block(&mut self) -> BlockInfo {
        BlockInfo {
            chain_id: 1,
            number: 0,
            timestamp_ms: 0,
        }
    }

    fn price(&mut self, base: &str, quote: &str) -> Result<f64, OracleError> {
        self.prices
            .get(&(base.to_owned(), quote.to_owned()))
            .copied()
            .ok_or_else(|| OracleError::Unknown(format!("{base}/{quote}")))
    }

    fn candles(&mut self, market: &str, count: u32) -> Result<Vec<Candle>, OracleError> {
        let candles = self
            .candles
            .get(market)
            .ok_or_else(|| OracleError::Unknown(market.into()))?;
        let start = candles.len().saturating_sub(count as usize);
        Ok(candles[start..].to_vec())
    }

    fn balances(&mut self) -> Vec<AssetAmount> {
        self.balances.clone()
    }

    fn positions(&mut self) -> Vec<Position> {
        self.positions.clone()
    }

    fn pool(&mut self, pool: &str) -> Result<PoolState, OracleError> {
        self.pools
            .get(pool)
            .cloned()
            .ok_or_else(|| OracleError::Unknown(pool.into()))
    }

    fn lending_market(&mut self, market: &str) -> Result<LendingState, OracleError> {
        self.lending
            .get(market)
            .cloned()
            .ok_or_else(|| OracleError::Unknown(market.into()))
    }

    fn vault(&mut self, vault: &str) -> Result<VaultState, OracleError> {
        self.vaults
            .get(vault)
            .cloned()
            .ok_or_else(|| OracleError::Unknown(vault.into()))
    }
}

/// Parse a TOML policy against [`assets`].
pub fn compile(policy: &str) -> CompiledPolicy {
    let config: PolicyConfig = toml::from_str(policy).unwrap_or_else(|e| panic!("{e}\n{policy}"));
    CompiledPolicy::compile(&config, &assets()).unwrap_or_else(|e| panic!("{e}\n{policy}"))
}

/// The result of one emission, as the guest would see it.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    Accepted(ActionId),
    Denied(Denial),
    Invalid(Denial),
}

/// A policy engine, a clock, a chain and the current tick's accepted
/// actions.
pub struct Desk {
    pub engine: PolicyEngine,
    pub oracle: TestOracle,
    pub reads: Vec<OracleRead>,
    pub now_ms: u64,
    pub chain_id: u64,
    pub sequence: u64,
    accepted: Vec<AcceptedAction>,
    next_id: ActionId,
}

impl Desk {
    pub fn new(policy: &str) -> Self {
        Desk::with_engine(PolicyEngine::new(Arc::new(compile(policy))))
    }

    pub fn with_engine(engine: PolicyEngine) -> Self {
        Desk {
            engine,
            oracle: TestOracle::standard(),
            reads: Vec::new(),
            // 2023-11-14 22:13:20 UTC.
            now_ms: 1_700_000_000_000,
            chain_id: 1,
            sequence: 0,
            accepted: Vec::new(),
            next_id: 1,
        }
    }

    /// Emit `action` in the current tick.
    pub fn emit(&mut self, action: &Action) -> Seen {
        let block = BlockInfo {
            chain_id: self.chain_id,
            number: self.sequence,
            timestamp_ms: self.now_ms,
        };
        let oracle = PolicyOracle::new(&mut self.oracle, &mut self.reads);
        let ctx = PolicyContext {
            deployment_id: "desk",
            sequence: self.sequence,
            block: &block,
            accepted_in_tick: &self.accepted,
            action_id: self.next_id,
            oracle: &oracle,
        };
        let verdict = self.engine.check(action, &ctx);
        match verdict {
            Verdict::Accept => {
                let id = self.next_id;
                self.next_id += 1;
                self.accepted.push(AcceptedAction {
                    id,
                    action: action.clone(),
                });
                Seen::Accepted(id)
            }
            Verdict::Deny(denial) => Seen::Denied(denial),
            Verdict::Invalid(denial) => Seen::Invalid(denial),
        }
    }

    /// Emit and expect acceptance.
    pub fn accept(&mut self, action: &Action) -> ActionId {
        match self.emit(action) {
            Seen::Accepted(id) => id,
            other => panic!("expected {action:?} to be accepted, got {other:?}"),
        }
    }

    /// Emit and expect a denial; returns its detail.
    pub fn deny(&mut self, action: &Action) -> Denial {
        match self.emit(action) {
            Seen::Denied(denial) => denial,
            other => panic!("expected {action:?} to be denied, got {other:?}"),
        }
    }

    /// The tick succeeded: its actions are released.
    pub fn end_tick(&mut self) -> Vec<ActionId> {
        let released = std::mem::take(&mut self.accepted);
        self.engine.on_released(&released);
        self.sequence += 1;
        released.iter().map(|a| a.id).collect()
    }

    /// The tick failed: its actions are dropped.
    pub fn drop_tick(&mut self) {
        let dropped = std::mem::take(&mut self.accepted);
        self.engine.on_dropped(&dropped);
        self.sequence += 1;
    }

    pub fn fill(&mut self, id: ActionId) {
        let fill = ActionOutcome::Filled(Fill {
            spent: vec![],
            received: vec![],
            fees: vec![],
            gas: None,
            tx_hash: Some("0xabc".into()),
            position: None,
        });
        self.engine.on_outcome(id, &fill);
    }

    /// The venue filled `id`, spending `spent`.
    pub fn fill_spending(&mut self, id: ActionId, spent: Vec<AssetAmount>) {
        let fill = ActionOutcome::Filled(Fill {
            spent,
            received: vec![],
            fees: vec![],
            gas: None,
            tx_hash: Some("0xabc".into()),
            position: None,
        });
        self.engine.on_outcome(id, &fill);
    }

    pub fn fail(&mut self, id: ActionId) {
        let failure = ActionOutcome::Failed(Failure {
            code: "REVERTED".into(),
            reason: "test".into(),
            tx_hash: None,
        });
        self.engine.on_outcome(id, &failure);
    }

    pub fn advance(&mut self, ms: u64) {
        self.now_ms += ms;
    }

    /// Balance and reservation of an allowance, in base units.
    pub fn allowance(&self, name: &str) -> (u128, u128) {
        let state = self
            .engine
            .state()
            .allowance(name)
            .unwrap_or_else(|| panic!("allowance {name} never consulted"));
        (state.balance, state.reserved)
    }
}

/// A table case: a policy, an action and what must come back.
pub struct Case {
    pub name: &'static str,
    pub policy: &'static str,
    pub action: Action,
    pub expect: Expect,
}

/// The expected verdict: accepted, or the exact denial.
pub enum Expect {
    Accept,
    Deny {
        code: &'static str,
        rule: &'static str,
        detail: &'static str,
    },
    Invalid {
        code: &'static str,
    },
}

/// Run every case on a fresh desk with the standard oracle.
pub fn run_cases(cases: Vec<Case>) {
    for case in cases {
        let mut desk = Desk::new(case.policy);
        let seen = desk.emit(&case.action);
        match (&case.expect, &seen) {
            (Expect::Accept, Seen::Accepted(_)) => {}
            (Expect::Deny { code, rule, detail }, Seen::Denied(denial)) => {
                assert_eq!(
                    (
                        denial.code.as_str(),
                        denial.rule.as_str(),
                        denial.detail.as_str()
                    ),
                    (*code, *rule, *detail),
                    "case `{}`",
                    case.name
                );
            }
            (Expect::Invalid { code }, Seen::Invalid(denial)) => {
                assert_eq!(denial.code, *code, "case `{}`", case.name)
            }
            (_, seen) => panic!("case `{}`: got {seen:?}", case.name),
        }
    }
}

/// The names of `reads` (`price`, `candles`...), in order.
pub fn read_names(reads: &[OracleRead]) -> Vec<String> {
    reads
        .iter()
        .map(|r| {
            serde_json::to_value(r).unwrap()["read"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}
