//! Python strategies load, tick, emit, get denials back as values (or as
//! exceptions when they ask), read every kind of oracle data, and resume
//! from a checkpoint in a fresh runtime as if nothing had happened.

use serde_json::json;
use stratbox_runtime::types::{
    Action, Amount, AssetAmount, BlockInfo, Candle, LendingState, OracleError, PoolState, Position,
    PositionKind, Uint256, VaultState,
};
use stratbox_runtime::{
    AllowAll, DenyAll, DeployError, Deployment, DeploymentHost, Oracle, Runtime, RuntimeConfig,
    TickError, TickInput,
};
use stratbox_test_artifacts::Guest;

use crate::support::{Clock, block, load, load_in, messages, runtime, spec};

fn probe(config: serde_json::Value, host: DeploymentHost) -> Deployment {
    Deployment::new(
        runtime(),
        &load(Guest::PyProbe),
        spec("probe", &config),
        host,
    )
    .unwrap_or_else(|e| panic!("probe starts: {e}"))
    .0
}

#[test]
fn accepted_actions_come_back_with_their_id() {
    let mut deployment = probe(
        json!({"mode": "denials"}),
        DeploymentHost::new(Clock, AllowAll),
    );
    let report = deployment.tick(TickInput::at(block(0))).unwrap();
    let [accepted] = report.actions.as_slice() else {
        panic!("{:?}", report.actions);
    };
    assert!(
        matches!(&accepted.action, Action::Swap(s) if s.sell == "BTC" && s.amount == stratbox_runtime::types::SwapAmount::ExactIn(Amount::from_u128(1_000)))
    );
    let logs = messages(&report.trace);
    assert!(
        logs.contains(&format!("accepted id={}", accepted.id).as_str()),
        "{logs:?}"
    );
}

#[test]
fn denials_reach_python_as_values() {
    let mut deployment = probe(
        json!({"mode": "denials"}),
        DeploymentHost::new(Clock, DenyAll),
    );
    let report = deployment.tick(TickInput::at(block(0))).unwrap();
    assert!(report.actions.is_empty());
    let logs = messages(&report.trace);
    assert!(
        logs.contains(&"rejected kind=denied code=DENY_ALL rule=default"),
        "{logs:?}"
    );
    assert!(
        logs.contains(&"expect raised ActionRejected: DENY_ALL"),
        "{logs:?}"
    );
}

#[test]
fn malformed_actions_are_rejected_as_invalid() {
    let config = json!({"mode": "denials", "amount": 0});
    let mut deployment = probe(config, DeploymentHost::new(Clock, AllowAll));
    let report = deployment.tick(TickInput::at(block(0))).unwrap();
    assert!(report.actions.is_empty());
    let logs = messages(&report.trace);
    assert!(
        logs.iter().any(|l| l.starts_with("rejected kind=invalid")),
        "{logs:?}"
    );
}

#[test]
fn an_expected_denial_becomes_a_failed_tick() {
    let config = json!({"mode": "denials", "expect": true});
    let mut deployment = probe(config, DeploymentHost::new(Clock, DenyAll));
    let failure = deployment.tick(TickInput::at(block(0))).unwrap_err();
    assert!(
        matches!(&failure.error, TickError::GuestError { message } if message.starts_with("ActionRejected: denied: DENY_ALL")),
        "{:?}",
        failure.error
    );
    // The traceback went to the log.
    assert!(
        messages(&failure.trace)
            .iter()
            .any(|l| l.starts_with("on_tick failed: ActionRejected")),
        "{:?}",
        failure.trace.logs
    );
}

#[test]
fn a_config_the_strategy_refuses_fails_init_with_its_message() {
    let error = Deployment::new(
        runtime(),
        &load(Guest::PyProbe),
        spec("no-mode", &json!({})),
        DeploymentHost::new(Clock, AllowAll),
    )
    .unwrap_err();
    let DeployError::Init(failure) = error else {
        panic!("{error:?}");
    };
    assert!(
        matches!(&failure.error, TickError::GuestError { message } if message.starts_with("KeyError: 'mode' (at strategy.py:")),
        "{:?}",
        failure.error
    );
}

/// Log lines of `ticks` ticks of the counter probe.
fn counter_logs(deployment: &mut Deployment, ticks: std::ops::Range<u64>) -> Vec<String> {
    ticks
        .map(|n| {
            let report = deployment.tick(TickInput::at(block(n))).unwrap();
            messages(&report.trace).join(" | ")
        })
        .collect()
}

#[test]
fn snapshot_and_restore_survive_a_process_restart() {
    let config = json!({"mode": "counter"});
    let component = load(Guest::PyProbe);
    let (mut straight, _) = Deployment::new(
        runtime(),
        &component,
        spec("restart", &config),
        DeploymentHost::new(Clock, AllowAll),
    )
    .unwrap();
    let expected = counter_logs(&mut straight, 0..8);

    let (mut first, _) = Deployment::new(
        runtime(),
        &component,
        spec("restart", &config),
        DeploymentHost::new(Clock, AllowAll),
    )
    .unwrap();
    let mut logs = counter_logs(&mut first, 0..4);
    let checkpoint = first.checkpoint().clone();
    drop(first);

    // A new process: a fresh engine and a freshly loaded component.
    let fresh = Runtime::new(RuntimeConfig::pooled()).unwrap();
    let component = load_in(&fresh, Guest::PyProbe);
    let (mut resumed, restore) = Deployment::resume_from(
        &fresh,
        &component,
        spec("restart", &config),
        DeploymentHost::new(Clock, AllowAll),
        checkpoint,
    )
    .unwrap();
    assert!(restore.fuel_used > 0);
    assert_eq!(resumed.sequence(), 4);
    logs.extend(counter_logs(&mut resumed, 4..8));
    assert_eq!(logs, expected);
    assert!(
        expected[7].starts_with("count=8 sma=7.0 spent="),
        "{expected:?}"
    );
}

/// Answers every kind of read.
struct Everything;

impl Oracle for Everything {
    fn block(&mut self) -> BlockInfo {
        block(7)
    }
    fn price(&mut self, base: &str, quote: &str) -> Result<f64, OracleError> {
        match (base, quote) {
            ("ETH", "BTC") => Ok(0.0525),
            _ => Err(OracleError::Unknown(format!("{base}/{quote}"))),
        }
    }
    fn candles(&mut self, _market: &str, count: u32) -> Result<Vec<Candle>, OracleError> {
        Ok((0..count)
            .map(|i| Candle {
                timestamp_ms: u64::from(i),
                open: 1.0,
                high: 2.0,
                low: 0.5,
                close: 1.5 + f64::from(i),
                volume: 10.0,
            })
            .collect())
    }
    fn balance(&mut self, _asset: &str) -> Result<Amount, OracleError> {
        Ok(Amount::from_u128(u128::MAX))
    }
    fn balances(&mut self) -> Vec<AssetAmount> {
        vec![AssetAmount {
            asset: "ETH".into(),
            amount: Amount::from_u128(1 << 70),
        }]
    }
    fn positions(&mut self) -> Vec<Position> {
        vec![Position {
            id: "lp-1".into(),
            kind: PositionKind::Liquidity,
            venue: "ETH-USDC".into(),
            amounts: vec![],
            tick_range: Some((-600, 600)),
            liquidity: Some(Amount::from_u128(12_345)),
        }]
    }
    fn pool(&mut self, pool: &str) -> Result<PoolState, OracleError> {
        Ok(PoolState {
            pool: pool.to_owned(),
            token0: "ETH".into(),
            token1: "USDC".into(),
            reserve0: Amount::from_u128(5),
            reserve1: Amount::from_u128(6),
            sqrt_price_x96: Some(Uint256 {
                hi: Amount::from_u128(1),
                lo: Amount::from_u128(2),
            }),
            tick: Some(-12),
            liquidity: None,
            fee_pips: 3_000,
            price: 2_500.5,
        })
    }
    fn lending_market(&mut self, market: &str) -> Result<LendingState, OracleError> {
        Err(OracleError::Unavailable(format!("{market} is paused")))
    }
    fn vault(&mut self, vault: &str) -> Result<VaultState, OracleError> {
        Ok(VaultState {
            vault: vault.to_owned(),
            asset: "USDC".into(),
            share_price: 1.02,
            apy: None,
            shares: Amount::from_u128(7),
            pending_redemption: Amount::ZERO,
            claimable_at_ms: Some(99),
        })
    }
}

#[test]
fn every_kind_of_oracle_read_reaches_python_exactly() {
    let mut deployment = probe(
        json!({"mode": "oracle"}),
        DeploymentHost::new(Everything, AllowAll),
    );
    let report = deployment.tick(TickInput::at(block(7))).unwrap();
    let logs = messages(&report.trace);
    let expect = |line: &str| assert!(logs.contains(&line), "missing {line:?} in {logs:?}");
    expect("deployment probe probe block 7");
    expect("price: 0.0525");
    expect("candles: [1.5, 2.5]");
    expect(&format!("balance: {}", u128::MAX));
    expect(&format!(
        "balances: [AssetAmount(asset='ETH', amount={})]",
        1u128 << 70
    ));
    expect(
        "positions: [Position(id='lp-1', kind=<PositionKind.LIQUIDITY: 'liquidity'>, venue='ETH-USDC', amounts=[], tick_range=(-600, 600), liquidity=12345)]",
    );
    expect(&format!(
        "pool: PoolState(pool='ETH-USDC', token0='ETH', token1='USDC', reserve0=5, reserve1=6, sqrt_price_x96={}, tick=-12, liquidity=None, fee_pips=3000, price=2500.5)",
        sqrt_price()
    ));
    expect("lending: OracleUnavailable: unavailable from the oracle: aave-usdc is paused");
    expect(
        "vault: VaultState(vault='morpho-usdc', asset='USDC', share_price=1.02, apy=None, shares=7, pending_redemption=0, claimable_at_ms=99)",
    );
    expect("unknown: OracleUnknown: unknown to the oracle: DOGE/BTC");
}

/// `Uint256 { hi: 1, lo: 2 }` = 2^128 + 2, too large for u128: as decimal
/// text.
fn sqrt_price() -> String {
    // 2^128 = 340282366920938463463374607431768211456
    "340282366920938463463374607431768211458".to_owned()
}

#[test]
fn every_action_helper_reaches_the_host_exactly() {
    use stratbox_runtime::types::{
        LendingOp, LpClose, LpCollect, LpOpen, LpRange, Swap, SwapAmount, VaultOp,
    };

    let mut deployment = probe(
        json!({"mode": "actions"}),
        DeploymentHost::new(Clock, AllowAll),
    );
    let report = deployment.tick(TickInput::at(block(0))).unwrap();
    let units = Amount::from_u128;
    let lending = |market: &str, amount: u128| LendingOp {
        market: market.into(),
        asset: "USDC".into(),
        amount: units(amount),
    };
    let vault = |amount: u128| VaultOp {
        vault: "morpho-usdc".into(),
        amount: units(amount),
    };
    let expected = [
        (
            "swap_exact_in",
            Action::Swap(Swap {
                sell: "ETH".into(),
                buy: "USDC".into(),
                amount: SwapAmount::ExactIn(units(10u128.pow(18))),
                max_slippage_bps: 25,
                venue: None,
            }),
        ),
        (
            "swap_exact_out",
            Action::Swap(Swap {
                sell: "USDC".into(),
                buy: "ETH".into(),
                amount: SwapAmount::ExactOut(units(2 * 10u128.pow(18) + 1)),
                max_slippage_bps: 30,
                venue: Some("uniswap-v3".into()),
            }),
        ),
        (
            "lp_open price",
            Action::LpOpen(LpOpen {
                pool: "ETH-USDC".into(),
                range: LpRange::Price((1500.25, 4500.5)),
                amount0: units(10u128.pow(18)),
                amount1: units(3_000_000_000),
            }),
        ),
        (
            "lp_open ticks",
            Action::LpOpen(LpOpen {
                pool: "ETH-USDC".into(),
                range: LpRange::Ticks((-887_220, 600)),
                amount0: Amount::ZERO,
                amount1: units(5),
            }),
        ),
        (
            "lp_close",
            Action::LpClose(LpClose {
                position: "lp-1".into(),
            }),
        ),
        (
            "lp_collect",
            Action::LpCollect(LpCollect {
                position: "lp-2".into(),
            }),
        ),
        ("supply", Action::Supply(lending("aave-usdc", 7_000_000))),
        (
            "withdraw",
            Action::Withdraw(lending("aave-usdc", 6_000_000)),
        ),
        (
            "borrow",
            Action::Borrow(lending("aave-usdc", (1 << 100) + 7)),
        ),
        ("repay", Action::Repay(lending("aave-usdc", (1 << 64) + 3))),
        ("vault_deposit", Action::VaultDeposit(vault(9_000_000))),
        (
            "vault_request_redeem",
            Action::VaultRequestRedeem(vault(8_000_000)),
        ),
        ("hold", Action::Hold("nothing else to do".into())),
    ];
    let got: Vec<&Action> = report.actions.iter().map(|a| &a.action).collect();
    let want: Vec<&Action> = expected.iter().map(|(_, action)| action).collect();
    assert_eq!(got, want);
    // Each helper got its own verdict back, with the id the host assigned.
    let logs = messages(&report.trace);
    let lines: Vec<String> = expected
        .iter()
        .zip(&report.actions)
        .map(|((name, _), accepted)| format!("{name}: accepted id={}", accepted.id))
        .collect();
    assert_eq!(logs, lines);
}
