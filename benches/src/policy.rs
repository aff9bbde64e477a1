//! Policy checks of one action against a 20-rule policy, each verdict
//! verified: a check that drifted onto another path, or kept reservations,
//! fails instead of being measured.

use std::sync::Arc;

use stratbox_runtime::policy::{AssetCatalog, CompiledPolicy, PolicyConfig, PolicyEngine};
use stratbox_runtime::types::{Action, ActionOutcome, Amount, BlockInfo, Fill, Swap, SwapAmount};
use stratbox_runtime::{AcceptedAction, OracleRead, Policy, PolicyContext, PolicyOracle, Verdict};

use crate::BenchError;
use crate::oracles::FixedPrices;

/// Twenty rules: the chain list, two global limits, a global none-of
/// (kind, token), the swap table with venues, tokens, two max amounts,
/// max value, slippage, cooldown, per-tick and per-day counts, a swap
/// any-of (sell; buy with max value), the supply table and an allowance.
pub const POLICY_20_RULES: &str = r#"
version = 1
quote = "USDC"
chains = [1]

[limits]
max_actions_per_tick = 8
max_actions_per_day = 1000000

[require]
none_of = [{ kind = ["borrow"], token = ["PEPE"] }]

[swap]
venues = ["uniswap-v3", "paper"]
tokens = ["ETH", "USDC", "BTC"]
max_amount = { USDC = "100000", ETH = "50" }
max_value = "150000"
max_slippage_bps = 100
cooldown = "1s"
max_per_tick = 4
max_per_day = 1000000

[swap.require]
any_of = [{ sell = ["ETH"] }, { buy = ["ETH"], max_value = "100000" }]

[supply]

[allowances.usdc]
token = "USDC"
balance = "100000000000000000000"
refill = "100000000000000000000"
period = "1d"
"#;

/// [`POLICY_20_RULES`] with a one-off USDC allowance of one base unit and
/// no refill: every rule passes, then the allowance denies, however far the
/// clock runs.
pub fn drained_policy() -> String {
    POLICY_20_RULES
        .replace(
            "balance = \"100000000000000000000\"",
            "balance = \"0.000001\"",
        )
        .replace("refill = \"100000000000000000000\"\n", "")
        .replace("period = \"1d\"\n", "")
}

/// A swap on `uniswap-v3` with 50 bps of slippage.
pub fn swap(sell: &str, buy: &str, units: u128) -> Action {
    Action::Swap(Swap {
        sell: sell.into(),
        buy: buy.into(),
        amount: SwapAmount::ExactIn(Amount::from_u128(units)),
        max_slippage_bps: 50,
        venue: Some("uniswap-v3".into()),
    })
}

/// What every check must return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Accepted; the action is then released and filled, so the policy
    /// state stays the same size.
    Accept,
    /// Denied with this code (nothing is reserved).
    Deny(&'static str),
}

/// One action checked again and again, a simulated second apart.
pub struct PolicyBench {
    engine: PolicyEngine,
    oracle: FixedPrices,
    reads: Vec<OracleRead>,
    fill: ActionOutcome,
    action: Action,
    expect: Expect,
    id: u64,
    now_ms: u64,
}

impl std::fmt::Debug for PolicyBench {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyBench")
            .field("action", &self.action)
            .field("expect", &self.expect)
            .finish_non_exhaustive()
    }
}

impl PolicyBench {
    /// Compile `policy` (it must have 20 rules) for ETH, USDC, BTC and PEPE.
    pub fn new(policy: &str, action: Action, expect: Expect) -> Result<Self, BenchError> {
        let config: PolicyConfig = toml::from_str(policy).map_err(|e| BenchError::Setup {
            reason: format!("policy: {e}"),
        })?;
        let assets = AssetCatalog::new()
            .with("ETH", 18)
            .with("USDC", 6)
            .with("BTC", 8)
            .with("PEPE", 18);
        let compiled =
            CompiledPolicy::compile(&config, &assets).map_err(|e| BenchError::Setup {
                reason: format!("policy: {e}"),
            })?;
        if compiled.rule_count() != 20 {
            return Err(BenchError::Setup {
                reason: format!("the policy has {} rules, not 20", compiled.rule_count()),
            });
        }
        Ok(PolicyBench {
            engine: PolicyEngine::new(Arc::new(compiled)),
            oracle: FixedPrices,
            reads: Vec::with_capacity(4),
            fill: ActionOutcome::Filled(Fill {
                spent: vec![],
                received: vec![],
                fees: vec![],
                gas: None,
                tx_hash: None,
                position: None,
            }),
            action,
            expect,
            id: 1,
            now_ms: 1_700_000_000_000,
        })
    }

    /// One check, a second after the previous one; an accepted action is
    /// released and filled at once.
    pub fn check(&mut self) -> Result<Verdict, BenchError> {
        self.now_ms += 1_000;
        self.id += 1;
        self.reads.clear();
        let block = BlockInfo {
            chain_id: 1,
            number: self.id,
            timestamp_ms: self.now_ms,
        };
        let oracle = PolicyOracle::new(&mut self.oracle, &mut self.reads);
        let ctx = PolicyContext {
            deployment_id: "bench",
            sequence: self.id,
            block: &block,
            accepted_in_tick: &[],
            action_id: self.id,
            oracle: &oracle,
        };
        let verdict = self.engine.check(std::hint::black_box(&self.action), &ctx);
        match (self.expect, &verdict) {
            (Expect::Accept, Verdict::Accept) => {
                let released = [AcceptedAction {
                    id: self.id,
                    action: self.action.clone(),
                }];
                self.engine.on_released(&released);
                self.engine.on_outcome(self.id, &self.fill);
            }
            (Expect::Deny(code), Verdict::Deny(denial)) if denial.code == code => {}
            (_, other) => {
                return Err(BenchError::Unexpected {
                    reason: format!("check {}: verdict {other:?}", self.id),
                });
            }
        }
        Ok(verdict)
    }

    /// Checks that nothing is left in flight.
    pub fn finish(self) -> Result<(), BenchError> {
        match self.engine.state().in_flight().count() {
            0 => Ok(()),
            n => Err(BenchError::Unexpected {
                reason: format!("{n} reservations left in flight"),
            }),
        }
    }
}
