//! The simulated market on small hand-built tapes.

use std::collections::BTreeMap;

use stratbox_runtime::types::{
    Action, ActionOutcome, LendingOp, LpClose, LpOpen, LpRange, Swap, SwapAmount, VaultOp,
};
use stratbox_tape::{Candle, Tape};
use stratbox_venues::gas::GasModel;

use super::market::AmmPool;
use super::*;

const E18: u128 = 1_000_000_000_000_000_000;
const USDC: u128 = 1_000_000;
const DAY: u64 = 86_400_000;

fn tape(market: &str, closes: &[f64], interval_ms: u64) -> Tape {
    let candles = closes
        .iter()
        .enumerate()
        .map(|(i, &c)| Candle {
            timestamp_ms: i as u64 * interval_ms,
            open: c,
            high: c,
            low: c,
            close: c,
            volume: 1.0,
        })
        .collect();
    Tape::new(market, candles).unwrap()
}

fn config() -> SimConfig {
    let asset = |decimals| AssetConfig { decimals };
    SimConfig {
        chain_id: 1,
        quote: "USDC".into(),
        native: Some("ETH".into()),
        assets: BTreeMap::from([("ETH".into(), asset(18)), ("USDC".into(), asset(6))]),
        balances: BTreeMap::from([("ETH".into(), "10".into()), ("USDC".into(), "20000".into())]),
        pools: BTreeMap::from([(
            "ETH/USDC-0.3".into(),
            PoolConfig {
                kind: PoolKind::Concentrated,
                token0: "ETH".into(),
                token1: "USDC".into(),
                fee_pips: 3_000,
                market: "ETH/USDC".into(),
                depth: 10_000_000.0,
                range: 0.5,
            },
        )]),
        lending: BTreeMap::from([(
            "aave".into(),
            BTreeMap::from([
                ("ETH".into(), lending_asset(8_000, 8_250, 1_000.0, 100.0)),
                ("USDC".into(), lending_asset(0, 0, 5_000_000.0, 2_500_000.0)),
            ]),
        )]),
        vaults: BTreeMap::from([(
            "susd".into(),
            VaultConfig {
                asset: "USDC".into(),
                apy: 0.10,
                redemption_days: Some(30),
                tvl: 1_000_000.0,
            },
        )]),
        gas: GasModel::free(),
    }
}

fn lending_asset(ltv: u32, threshold: u32, supplied: f64, borrowed: f64) -> LendingAssetConfig {
    LendingAssetConfig {
        ltv_bps: ltv,
        liquidation_threshold_bps: threshold,
        liquidation_bonus_bps: 500,
        reserve_factor_bps: 1_000,
        base_rate: 0.0,
        slope1: 0.04,
        slope2: 0.6,
        optimal_utilization: 0.8,
        supplied,
        borrowed,
    }
}

fn swap(sell: &str, buy: &str, amount: u128, bps: u32) -> Action {
    Action::Swap(Swap {
        sell: sell.into(),
        buy: buy.into(),
        amount: SwapAmount::ExactIn(amount.into()),
        max_slippage_bps: bps,
        venue: None,
    })
}

fn filled(outcome: Option<ActionOutcome>) -> stratbox_runtime::types::Fill {
    match outcome {
        Some(ActionOutcome::Filled(fill)) => fill,
        other => panic!("expected a fill, got {other:?}"),
    }
}

fn failure_code(outcome: Option<ActionOutcome>) -> String {
    match outcome {
        Some(ActionOutcome::Failed(f)) => f.code,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn pools_follow_the_tape_through_arbitrage() {
    let mut market = SimMarket::new(
        config(),
        vec![tape("ETH/USDC", &[2_000.0, 2_100.0, 1_900.0], DAY)],
    )
    .unwrap();
    for (i, expected) in [2_000.0, 2_100.0, 1_900.0].into_iter().enumerate() {
        market.advance(i).unwrap();
        let price = market.pool_price("ETH/USDC-0.3").unwrap();
        assert!(
            (price / expected - 1.0).abs() < 2e-4,
            "candle {i}: {price} vs {expected}"
        );
    }
}

#[test]
fn swaps_pay_fee_and_impact_and_respect_the_slippage_bound() {
    let mut market = SimMarket::new(config(), vec![tape("ETH/USDC", &[2_000.0], DAY)]).unwrap();
    market.advance(0).unwrap();
    // 0.30% fee alone exceeds a 10 bps tolerance: refused, nothing moves.
    assert_eq!(
        failure_code(market.execute(&swap("ETH", "USDC", E18, 10))),
        "SLIPPAGE_EXCEEDED"
    );
    assert_eq!(market.balance("ETH"), 10 * E18);
    let fill = filled(market.execute(&swap("ETH", "USDC", E18, 50)));
    let got = fill.received[0].amount.to_u128();
    // ~2000 USDC less 0.30% fee and a little impact.
    assert!(got < 1_994 * USDC && got > 1_990 * USDC, "{got}");
    assert_eq!(fill.fees[0].amount.to_u128(), 3 * E18 / 1_000);
    assert_eq!(market.balance("ETH"), 9 * E18);
    assert_eq!(market.balance("USDC"), 20_000 * USDC + got);
    assert!((market.fees_paid() - 6.0).abs() < 0.01);
    assert_eq!(
        failure_code(market.execute(&swap("ETH", "DOGE", E18, 50))),
        "NO_ROUTE"
    );
}

#[test]
fn an_exact_out_swap_never_pays_more_than_the_maximum_input_the_policy_charges() {
    use stratbox_runtime::policy::ExactOutBound;

    let buy_eth = |amount: u128, bps: u32| {
        Action::Swap(Swap {
            sell: "USDC".into(),
            buy: "ETH".into(),
            amount: SwapAmount::ExactOut(amount.into()),
            max_slippage_bps: bps,
            venue: None,
        })
    };
    let mut market = SimMarket::new(config(), vec![tape("ETH/USDC", &[2_000.0], DAY)]).unwrap();
    market.advance(0).unwrap();
    // The 0.30% fee alone is more than 10 bps above the price: the router
    // would revert past `amountInMaximum`, so nothing moves.
    assert_eq!(
        failure_code(market.execute(&buy_eth(E18, 10))),
        "SLIPPAGE_EXCEEDED"
    );
    assert_eq!(market.balance("USDC"), 20_000 * USDC);
    // The bound the policy charges: the oracle's price of ETH in USDC.
    let price = market.price("ETH", "USDC").unwrap();
    let max_input = ExactOutBound {
        amount_out: E18,
        price,
        sell_decimals: 6,
        buy_decimals: 18,
        max_slippage_bps: 50,
    }
    .max_input()
    .unwrap();
    assert_eq!(max_input, 2_010 * USDC);
    let fill = filled(market.execute(&buy_eth(E18, 50)));
    let paid = fill.spent[0].amount.to_u128();
    assert_eq!(fill.received[0].amount.to_u128(), E18);
    assert!(paid > 2_000 * USDC && paid <= max_input, "{paid}");
    // Buying far more than the pool holds near the price is refused, never
    // filled above the bound.
    let before = market.balance("USDC");
    let outcome = market.execute(&buy_eth(8 * E18, 50));
    if let Some(ActionOutcome::Filled(fill)) = &outcome {
        let bound = ExactOutBound {
            amount_out: 8 * E18,
            price: market.price("ETH", "USDC").unwrap(),
            sell_decimals: 6,
            buy_decimals: 18,
            max_slippage_bps: 50,
        }
        .max_input()
        .unwrap();
        assert!(fill.spent[0].amount.to_u128() <= bound);
    } else {
        assert_eq!(market.balance("USDC"), before, "{outcome:?}");
    }
}

#[test]
fn lp_position_earns_fees_only_while_in_range() {
    let closes = [
        2_000.0, 2_010.0, 1_990.0, 2_010.0, 1_990.0, 3_000.0, 3_100.0, 2_900.0,
    ];
    let mut market = SimMarket::new(config(), vec![tape("ETH/USDC", &closes, DAY)]).unwrap();
    market.advance(0).unwrap();
    let open = Action::LpOpen(LpOpen {
        pool: "ETH/USDC-0.3".into(),
        range: LpRange::Price((1_900.0, 2_100.0)),
        amount0: E18.into(),
        amount1: (2_000 * USDC).into(),
    });
    let position = filled(market.execute(&open)).position.unwrap();
    for i in 1..=4 {
        market.advance(i).unwrap();
    }
    // Oscillating inside the range: arbitrage volume paid fees.
    market.advance(5).unwrap();
    let (pool, inner) = market.lp_positions[&position].clone();
    let AmmPool::Concentrated(p) = &market.pools[&pool] else {
        unreachable!()
    };
    let fees_when_left = p.uncollected_fees(inner).unwrap();
    for i in 6..closes.len() {
        market.advance(i).unwrap();
    }
    let AmmPool::Concentrated(p) = &market.pools[&pool] else {
        unreachable!()
    };
    assert_eq!(
        p.uncollected_fees(inner).unwrap(),
        fees_when_left,
        "no fees above the range"
    );
    assert!(fees_when_left.0 > 0 && fees_when_left.1 > 0);
    let closed = filled(market.execute(&Action::LpClose(LpClose {
        position: position.clone(),
    })));
    assert_eq!(closed.received.len(), 2);
    assert!(market.lp_positions.is_empty());
}

#[test]
fn borrowing_then_a_crash_liquidates() {
    let mut market = SimMarket::new(
        config(),
        vec![tape("ETH/USDC", &[2_000.0, 2_000.0, 1_500.0], DAY)],
    )
    .unwrap();
    market.advance(0).unwrap();
    let op = |asset: &str, amount: u128| LendingOp {
        market: "aave".into(),
        asset: asset.into(),
        amount: amount.into(),
    };
    filled(market.execute(&Action::Supply(op("ETH", 5 * E18))));
    // 5 ETH at 2000 with 80% LTV: 8000 USDC at most.
    assert_eq!(
        failure_code(market.execute(&Action::Borrow(op("USDC", 8_001 * USDC)))),
        "UNDERCOLLATERALIZED"
    );
    filled(market.execute(&Action::Borrow(op("USDC", 7_500 * USDC))));
    market.advance(1).unwrap();
    assert_eq!(market.liquidations(), 0);
    // ETH -25%: HF = 5*1500*0.825/7500 = 0.825 < 1.
    market.advance(2).unwrap();
    assert_eq!(market.liquidations(), 1);
    let repay = market.execute(&Action::Repay(op("USDC", 100 * USDC)));
    filled(repay);
}

#[test]
fn thirty_day_redemption_queue_pays_out_after_the_wait() {
    let closes = vec![2_000.0; 40];
    let mut market = SimMarket::new(config(), vec![tape("ETH/USDC", &closes, DAY)]).unwrap();
    market.advance(0).unwrap();
    let deposit = filled(market.execute(&Action::VaultDeposit(VaultOp {
        vault: "susd".into(),
        amount: (10_000 * USDC).into(),
    })));
    let shares = deposit.received[0].amount.to_u128();
    market.advance(10).unwrap();
    let request = filled(market.execute(&Action::VaultRequestRedeem(VaultOp {
        vault: "susd".into(),
        amount: shares.into(),
    })));
    assert!(request.received.is_empty(), "queued: nothing paid yet");
    let before = market.balance("USDC");
    market.advance(39).unwrap();
    assert_eq!(
        market.balance("USDC"),
        before,
        "29 days later: still waiting"
    );
    let mut longer = closes;
    longer.push(2_000.0);
    // Ten days of 10% APY, then paid out 30 days after the request.
    let mut market2 = SimMarket::new(config(), vec![tape("ETH/USDC", &longer, DAY)]).unwrap();
    market2.advance(0).unwrap();
    let deposit = filled(market2.execute(&Action::VaultDeposit(VaultOp {
        vault: "susd".into(),
        amount: (10_000 * USDC).into(),
    })));
    market2.advance(10).unwrap();
    market2.execute(&Action::VaultRequestRedeem(VaultOp {
        vault: "susd".into(),
        amount: deposit.received[0].amount,
    }));
    let before = market2.balance("USDC");
    market2.advance(40).unwrap();
    let paid = market2.balance("USDC") - before;
    // 10,000 * (1 + 0.10 * 10/365) ~ 10,027.39 (accrued daily, compounding).
    assert!(paid > 10_027 * USDC && paid < 10_028 * USDC, "{paid}");
}

#[test]
fn unknown_assets_in_the_config_are_named() {
    let mut bad = config();
    bad.balances.insert("DOGE".into(), "1".into());
    assert!(matches!(
        SimMarket::new(bad, vec![tape("ETH/USDC", &[1.0], DAY)]),
        Err(SimError::UnknownAsset { asset, place }) if asset == "DOGE" && place == "balances.DOGE"
    ));
}

/// ETH/USDC daily candles, (open, close), opening away from the previous
/// close.
fn gapping_tape() -> Tape {
    let candles = [
        (2_000.0, 2_000.0),
        (2_500.0, 2_400.0),
        (2_200.0, 2_300.0),
        (2_300.0, 2_300.0),
    ]
    .iter()
    .enumerate()
    .map(|(i, &(open, close))| Candle {
        timestamp_ms: i as u64 * DAY,
        open,
        high: open.max(close),
        low: open.min(close),
        close,
        volume: 1.0,
    })
    .collect();
    Tape::new("ETH/USDC", candles).unwrap()
}

/// USDC paid per ETH received, fee and impact removed (0.30% fee).
fn price_paid(outcome: &ActionOutcome) -> f64 {
    let ActionOutcome::Filled(fill) = outcome else {
        panic!("expected a fill: {outcome:?}");
    };
    let usdc = fill.spent[0].amount.to_u128() as f64 / USDC as f64;
    let eth = fill.received[0].amount.to_u128() as f64 / E18 as f64;
    usdc / eth * 0.997
}

#[test]
fn next_open_swaps_in_a_pool_moved_to_the_next_open_then_to_its_close() {
    use crate::{FillModel, Venue};

    let mut market = SimMarket::new(config(), vec![gapping_tape()])
        .unwrap()
        .with_fill(FillModel::NextOpen);
    Venue::begin_tick(&mut market, 0).unwrap();
    let buy = swap("USDC", "ETH", 1_000 * USDC, 100);
    assert_eq!(Venue::execute(&mut market, 1, &buy), None);
    assert_eq!(market.balance("USDC"), 20_000 * USDC, "nothing moved yet");
    let settled = Venue::settle(&mut market);
    assert_eq!(settled.len(), 1);
    // At candle 1's open (2,500), not candle 0's close (2,000).
    let price = price_paid(&settled[0].1);
    assert!((price / 2_500.0 - 1.0).abs() < 1e-3, "{price}");
    assert_eq!(market.balance("USDC"), 19_000 * USDC);
    let tick = Venue::begin_tick(&mut market, 1).unwrap();
    assert_eq!(tick.block.number, 1);
    let pool = market.pool_price("ETH/USDC-0.3").unwrap();
    assert!(
        (pool / 2_400.0 - 1.0).abs() < 2e-4,
        "then the close: {pool}"
    );
    assert_eq!(market.price("ETH", "USDC"), Some(2_400.0));
    assert!(Venue::settle(&mut market).is_empty(), "settled once");
}

#[test]
fn latency_swaps_at_the_close_n_ticks_later_and_unfilled_ones_fail_at_the_end() {
    use crate::{FillModel, NOT_FILLED_BEFORE_END, Venue};

    let mut market = SimMarket::new(config(), vec![gapping_tape()])
        .unwrap()
        .with_fill(FillModel::Latency(2));
    let buy = swap("USDC", "ETH", 1_000 * USDC, 100);
    let mut settled = Vec::new();
    for index in 0..4 {
        settled.push(Venue::settle(&mut market));
        let tick = Venue::begin_tick(&mut market, index).unwrap();
        assert_eq!(tick.block.number, index as u64);
        assert_eq!(Venue::execute(&mut market, index as u64, &buy), None);
    }
    assert!(settled[0].is_empty() && settled[1].is_empty());
    // Emitted at candle 0, filled at the close of candle 2 (2,300), before
    // the tick of candle 2 runs.
    assert_eq!(settled[2].len(), 1);
    assert_eq!(settled[2][0].0, 0);
    let price = price_paid(&settled[2][0].1);
    assert!((price / 2_300.0 - 1.0).abs() < 1e-3, "{price}");
    assert_eq!(settled[3][0].0, 1);
    let unfilled = market.unfilled();
    assert_eq!(unfilled.len(), 2);
    for (id, outcome) in unfilled {
        assert!(id == 2 || id == 3);
        assert_eq!(failure_code(Some(outcome)), NOT_FILLED_BEFORE_END);
    }
    assert_eq!(market.balance("USDC"), 18_000 * USDC);
}

#[test]
fn next_open_moves_the_pools_to_the_open_only_where_actions_fill() {
    use crate::{FillModel, Venue};

    // With nothing queued, the pools follow the closes exactly as with
    // `close`: no extra arbitrage through the opens, and so no extra fees
    // for an LP position.
    let mut close = SimMarket::new(config(), vec![gapping_tape()]).unwrap();
    let mut open = SimMarket::new(config(), vec![gapping_tape()])
        .unwrap()
        .with_fill(FillModel::NextOpen);
    let lp = Action::LpOpen(LpOpen {
        pool: "ETH/USDC-0.3".into(),
        range: LpRange::Price((1_500.0, 3_000.0)),
        amount0: E18.into(),
        amount1: (2_000 * USDC).into(),
    });
    for index in 0..4 {
        for market in [&mut close, &mut open] {
            assert!(Venue::settle(market).is_empty());
            Venue::begin_tick(market, index).unwrap();
            if index == 0 {
                // At once, whatever the fill model.
                filled(market.execute(&lp));
            }
        }
        assert_eq!(
            open.pool_price("ETH/USDC-0.3"),
            close.pool_price("ETH/USDC-0.3")
        );
        assert_eq!(open.equity(), close.equity(), "candle {index}");
    }
}
