//! The Python example strategies: Bollinger mean reversion over real
//! candles, and the stable-yield rotator's "only move when the gain pays
//! the cost" rule with its cooldown.

use std::sync::{Arc, Mutex};

use serde_json::json;
use stratbox_runtime::types::{
    Action, ActionId, ActionOutcome, Amount, AssetAmount, BlockInfo, Fill, LendingState,
    OracleError, VaultState,
};
use stratbox_runtime::{AllowAll, Deployment, DeploymentHost, Oracle, TickInput};
use stratbox_test_artifacts::Guest;

use crate::support::{eth_tape, load, messages, paper_run, runtime, spec};

#[test]
fn bollinger_mean_reversion_trades_real_eth_btc_candles() {
    let config = json!({"cooldown_ms": 0});
    let run = paper_run(
        runtime(),
        &load(Guest::PyBollinger),
        "bollinger",
        &config,
        eth_tape(3_000),
    );
    assert_eq!(run.failures().count(), 0, "no tick may fail");
    let (mut buys, mut sells) = (0, 0);
    for report in run.reports() {
        for accepted in &report.actions {
            match &accepted.action {
                Action::Swap(swap) if swap.sell == "BTC" => buys += 1,
                Action::Swap(swap) if swap.sell == "ETH" => sells += 1,
                other => panic!("unexpected action {other:?}"),
            }
        }
    }
    assert!(buys >= 3 && sells >= 3, "{buys} buys, {sells} sells");
    assert!(buys - sells <= 1, "every sell follows a filled buy");
    let fills = run
        .ticks
        .iter()
        .flat_map(|t| &t.outcomes)
        .filter(|(_, o)| matches!(o, ActionOutcome::Filled(_)))
        .count();
    assert_eq!(fills, buys + sells, "the paper venue fills every swap");
    let equity = run.venue().equity_in_quote();
    assert!(
        equity > 0.5 && equity < 2.0,
        "equity {equity} BTC from 1 BTC"
    );
}

const USDC: u128 = 1_000_000;
const DAY_MS: u64 = 86_400_000;

/// Lending and vault rates that a test changes between ticks.
#[derive(Debug, Clone)]
struct Rates {
    now_ms: u64,
    aave: f64,
    morpho: f64,
    idle: u128,
    shares: u128,
}

#[derive(Debug, Clone)]
struct RatesOracle(Arc<Mutex<Rates>>);

impl Oracle for RatesOracle {
    fn block(&mut self) -> BlockInfo {
        let now = self.0.lock().unwrap().now_ms;
        BlockInfo {
            chain_id: 1,
            number: now / 12_000,
            timestamp_ms: now,
        }
    }
    fn balance(&mut self, asset: &str) -> Result<Amount, OracleError> {
        match asset {
            "USDC" => Ok(Amount::from_u128(self.0.lock().unwrap().idle)),
            other => Err(OracleError::Unknown(other.to_owned())),
        }
    }
    fn lending_market(&mut self, market: &str) -> Result<LendingState, OracleError> {
        if market != "aave-usdc" {
            return Err(OracleError::Unknown(market.to_owned()));
        }
        Ok(LendingState {
            market: market.to_owned(),
            asset: "USDC".into(),
            supply_rate: self.0.lock().unwrap().aave,
            borrow_rate: 0.08,
            utilization: 0.8,
            max_ltv: 0.8,
            liquidation_threshold: 0.85,
            health_factor: None,
        })
    }
    fn vault(&mut self, vault: &str) -> Result<VaultState, OracleError> {
        if vault != "morpho-usdc" {
            return Err(OracleError::Unknown(vault.to_owned()));
        }
        let rates = self.0.lock().unwrap();
        Ok(VaultState {
            vault: vault.to_owned(),
            asset: "USDC".into(),
            share_price: 1.02,
            apy: Some(rates.morpho),
            shares: Amount::from_u128(rates.shares),
            pending_redemption: Amount::ZERO,
            claimable_at_ms: None,
        })
    }
}

fn fill(spent: u128, received: u128) -> ActionOutcome {
    let usdc = |units| AssetAmount {
        asset: "USDC".into(),
        amount: Amount::from_u128(units),
    };
    ActionOutcome::Filled(Fill {
        spent: if spent > 0 { vec![usdc(spent)] } else { vec![] },
        received: if received > 0 {
            vec![usdc(received)]
        } else {
            vec![]
        },
        fees: vec![],
        gas: None,
        tx_hash: None,
        position: None,
    })
}

#[test]
fn yield_rotator_moves_only_when_the_gain_pays_the_cost_and_after_the_cooldown() {
    let funds = 1_000_000 * USDC;
    let rates = Arc::new(Mutex::new(Rates {
        now_ms: 1_700_000_000_000,
        aave: 0.040,
        morpho: 0.030,
        idle: funds,
        shares: 0,
    }));
    let config = json!({
        "asset": "USDC", "decimals": 6,
        "venues": [{"kind": "lending", "id": "aave-usdc"}, {"kind": "vault", "id": "morpho-usdc"}],
        "horizon_days": 30, "move_cost": "5", "move_cost_bps": 5, "cooldown_ms": DAY_MS,
    });
    let host = DeploymentHost::new(RatesOracle(Arc::clone(&rates)), AllowAll);
    let (mut rotator, _) = Deployment::new(
        runtime(),
        &load(Guest::PyYieldRotator),
        spec("rotator", &config),
        host,
    )
    .expect("rotator starts");
    let mut tick = |minutes: u64, results: Vec<(ActionId, ActionOutcome)>| {
        let block = {
            let mut r = rates.lock().unwrap();
            r.now_ms += minutes * 60_000;
            BlockInfo {
                chain_id: 1,
                number: r.now_ms / 12_000,
                timestamp_ms: r.now_ms,
            }
        };
        let report = rotator
            .tick(TickInput {
                block,
                candles: Vec::new(),
                results,
            })
            .unwrap_or_else(|f| panic!("{f}: {:?}", f.trace.logs));
        let actions: Vec<(ActionId, Action)> = report
            .actions
            .iter()
            .map(|a| (a.id, a.action.clone()))
            .collect();
        let logs: Vec<String> = messages(&report.trace)
            .into_iter()
            .map(str::to_owned)
            .collect();
        (actions, logs)
    };

    // Idle funds go to the best venue, without a cost test.
    let (actions, _) = tick(1, vec![]);
    let [(supply, Action::Supply(op))] = actions.as_slice() else {
        panic!("expected one supply, got {actions:?}");
    };
    assert_eq!(
        (op.market.as_str(), op.amount.to_u128()),
        ("aave-usdc", funds)
    );
    rates.lock().unwrap().idle = 0;
    let (actions, _) = tick(1, vec![(*supply, fill(funds, 0))]);
    assert!(actions.is_empty(), "{actions:?}");

    // 0.05% more for 30 days on 1M is ~41 USDC: less than the 505 USDC a move
    // costs (5 USDC + 5 bps).
    rates.lock().unwrap().morpho = 0.0405;
    let (actions, logs) = tick(1, vec![]);
    assert!(actions.is_empty(), "{actions:?}");
    assert!(
        logs.iter().any(|l| l.starts_with("stay in aave-usdc")),
        "{logs:?}"
    );

    // 5% more is ~4,110 USDC over 30 days: the move pays.
    rates.lock().unwrap().morpho = 0.090;
    let (actions, logs) = tick(1, vec![]);
    let [(withdraw, Action::Withdraw(op))] = actions.as_slice() else {
        panic!("expected one withdraw, got {actions:?} ({logs:?})");
    };
    assert_eq!(
        (op.market.as_str(), op.amount.to_u128()),
        ("aave-usdc", funds)
    );
    rates.lock().unwrap().idle = funds;
    let (actions, _) = tick(1, vec![(*withdraw, fill(0, funds))]);
    let [(deposit, Action::VaultDeposit(op))] = actions.as_slice() else {
        panic!("expected one vault deposit, got {actions:?}");
    };
    assert_eq!(
        (op.vault.as_str(), op.amount.to_u128()),
        ("morpho-usdc", funds)
    );
    {
        let mut r = rates.lock().unwrap();
        r.idle = 0;
        r.shares = 980_392 * USDC;
    }
    let (actions, _) = tick(1, vec![(*deposit, fill(funds, 0))]);
    assert!(actions.is_empty(), "{actions:?}");

    // Aave now pays far more, but the last move was minutes ago.
    rates.lock().unwrap().aave = 0.200;
    let (actions, _) = tick(60, vec![]);
    assert!(actions.is_empty(), "cooling down: {actions:?}");

    // A day after the move, it rotates back.
    let (actions, _) = tick(DAY_MS / 60_000, vec![]);
    let [(_, Action::VaultRequestRedeem(op))] = actions.as_slice() else {
        panic!("expected one redemption request, got {actions:?}");
    };
    assert_eq!(
        (op.vault.as_str(), op.amount.to_u128()),
        ("morpho-usdc", 980_392 * USDC)
    );
}
