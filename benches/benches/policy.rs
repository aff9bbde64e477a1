//! Policy checks per second on one core, for a 20-rule policy (target: at
//! least 1 million).

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use stratbox_runtime::policy::{AssetCatalog, CompiledPolicy, PolicyConfig, PolicyEngine};
use stratbox_runtime::types::{
    Action, ActionOutcome, Amount, BlockInfo, Fill, OracleError, Swap, SwapAmount,
};
use stratbox_runtime::{
    AcceptedAction, Oracle, OracleRead, Policy, PolicyContext, PolicyOracle, Verdict,
};

/// Twenty rules: the chain list, two global limits, a global none-of
/// (kind, token), the swap table with venues, tokens, two max amounts,
/// max value, slippage, cooldown, per-tick and per-day counts, a swap
/// any-of (sell; buy with max value), the supply table and an allowance.
const POLICY: &str = r#"
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

struct Prices;

impl Oracle for Prices {
    fn block(&mut self) -> BlockInfo {
        BlockInfo {
            chain_id: 1,
            number: 0,
            timestamp_ms: 0,
        }
    }

    fn price(&mut self, base: &str, quote: &str) -> Result<f64, OracleError> {
        match (base, quote) {
            ("ETH", "USDC") => Ok(3000.0),
            _ => Err(OracleError::Unknown(format!("{base}/{quote}"))),
        }
    }
}

fn engine(policy: &str) -> PolicyEngine {
    let config: PolicyConfig = toml::from_str(policy).expect("policy");
    let assets = AssetCatalog::new()
        .with("ETH", 18)
        .with("USDC", 6)
        .with("BTC", 8)
        .with("PEPE", 18);
    let compiled = CompiledPolicy::compile(&config, &assets).expect("compiles");
    assert_eq!(compiled.rule_count(), 20);
    PolicyEngine::new(Arc::new(compiled))
}

fn swap(sell: &str, buy: &str, units: u128) -> Action {
    Action::Swap(Swap {
        sell: sell.into(),
        buy: buy.into(),
        amount: SwapAmount::ExactIn(Amount::from_u128(units)),
        max_slippage_bps: 50,
        venue: Some("uniswap-v3".into()),
    })
}

fn filled() -> ActionOutcome {
    ActionOutcome::Filled(Fill {
        spent: vec![],
        received: vec![],
        fees: vec![],
        gas: None,
        tx_hash: None,
        position: None,
    })
}

/// What every iteration of a bench must see.
#[derive(Clone, Copy)]
enum Expect {
    /// Accepted; the action is then released and filled, so the policy
    /// state stays the same size.
    Accept,
    /// Denied with this code (nothing is reserved).
    Deny(&'static str),
}

/// One check per iteration, a second apart. Every verdict is checked, and
/// after the run nothing may be left in flight: a bench that drifted onto
/// another path, or kept reservations, fails instead of measuring it.
fn bench(c: &mut Criterion, name: &str, policy: &str, action: &Action, expect: Expect) {
    let mut engine = engine(policy);
    let mut oracle = Prices;
    let mut reads: Vec<OracleRead> = Vec::with_capacity(4);
    let fill = filled();
    let mut id = 1;
    let mut now = 1_700_000_000_000u64;
    let mut group = c.benchmark_group("policy");
    group.throughput(Throughput::Elements(1));
    group.bench_function(name, |b| {
        b.iter(|| {
            now += 1_000;
            id += 1;
            reads.clear();
            let block = BlockInfo {
                chain_id: 1,
                number: id,
                timestamp_ms: now,
            };
            let policy_oracle = PolicyOracle::new(&mut oracle, &mut reads);
            let ctx = PolicyContext {
                deployment_id: "bench",
                sequence: id,
                block: &block,
                accepted_in_tick: &[],
                action_id: id,
                oracle: &policy_oracle,
            };
            let verdict = engine.check(black_box(action), &ctx);
            match (expect, &verdict) {
                (Expect::Accept, Verdict::Accept) => {
                    let released = [AcceptedAction {
                        id,
                        action: action.clone(),
                    }];
                    engine.on_released(&released);
                    engine.on_outcome(id, &fill);
                }
                (Expect::Deny(code), Verdict::Deny(denial)) if denial.code == code => {}
                (_, other) => panic!("{name}: unexpected verdict at iteration {id}: {other:?}"),
            }
            black_box(verdict)
        })
    });
    group.finish();
    let in_flight = engine.state().in_flight().count();
    assert_eq!(
        in_flight, 0,
        "{name} left {in_flight} reservations in flight"
    );
}

fn checks(c: &mut Criterion) {
    // Buy ETH with 1000 USDC: every rule evaluated, no price needed.
    bench(
        c,
        "check/20-rules/accept",
        POLICY,
        &swap("USDC", "ETH", 1_000_000_000),
        Expect::Accept,
    );
    // Sell 1 ETH: valued through the (recorded) oracle.
    bench(
        c,
        "check/20-rules/accept-priced",
        POLICY,
        &swap("ETH", "USDC", 1_000_000_000_000_000_000),
        Expect::Accept,
    );
    // Denied by the last rule (the allowance), after all others passed: a
    // one-off allowance of 1 unit without a refill, so it stays exhausted
    // however far the simulated clock runs.
    let drained = POLICY
        .replace(
            "balance = \"100000000000000000000\"",
            "balance = \"0.000001\"",
        )
        .replace("refill = \"100000000000000000000\"\n", "")
        .replace("period = \"1d\"\n", "");
    assert!(!drained.contains("refill") && !drained.contains("period"));
    bench(
        c,
        "check/20-rules/deny-at-last-rule",
        &drained,
        &swap("USDC", "ETH", 1_000_000_000),
        Expect::Deny("ALLOWANCE_EXCEEDED"),
    );
}

criterion_group!(benches, checks);
criterion_main!(benches);
