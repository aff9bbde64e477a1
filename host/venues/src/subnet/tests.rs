use std::collections::BTreeMap;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::synthetic::{SubnetScenario, SyntheticSubnetsConfig, TapeRecorder, generate};
use super::*;

const TAO: u128 = RAO_PER_TAO;
const ALPHA: u128 = ALPHA_UNIT;

/// One subnet, 1_000 TAO against 250_000 alpha (price 0.004), no alpha
/// emission, the rest default.
fn one_subnet(fee_pips: u32) -> SubnetNetwork {
    let mut subnet = SubnetConfig::new(1, "apex", 1_000 * TAO, 250_000 * ALPHA);
    subnet.fee_pips = fee_pips;
    subnet.alpha_per_block = 0;
    SubnetNetwork::new(NetworkConfig::new(vec![subnet])).unwrap()
}

#[test]
fn stake_gives_the_hand_computed_alpha() {
    let mut net = one_subnet(0);
    // out = floor(10e9 * 250_000e9 / (1_000e9 + 10e9))
    //     = floor(2.5e24 / 1.01e12) = floor(2_475_247_524_752.47...)
    let quote = net.quote_stake(1, 10 * TAO).unwrap();
    assert_eq!(quote.alpha_out, 2_475_247_524_752);
    assert_eq!(quote.fee_tao, 0);
    assert_eq!(
        net.reserves(1).unwrap().tao,
        1_000 * TAO,
        "a quote changes nothing"
    );
    let staked = net.stake("strategy", 1, 10 * TAO, quote.alpha_out).unwrap();
    assert_eq!(staked, quote);
    assert_eq!(
        staked.after,
        Reserves {
            tao: 1_010 * TAO,
            // 250_000e9 - 2_475_247_524_752
            alpha: 247_524_752_475_248,
        }
    );
    assert_eq!(net.stake_of("strategy", 1), 2_475_247_524_752);
    assert_eq!(net.reserves(1), Some(staked.after));
    assert!((staked.before.price() - 0.004).abs() < 1e-15);
}

#[test]
fn stake_with_a_fee_gives_the_hand_computed_alpha() {
    let net = one_subnet(3_000);
    // out = floor(10e9 * 997_000 * 250_000e9 / (1_000e9 * 1e6 + 10e9 * 997_000))
    //     = floor(2.4925e30 / 1.00997e18) = floor(2_467_895_085_992.65...)
    let quote = net.quote_stake(1, 10 * TAO).unwrap();
    assert_eq!(quote.alpha_out, 2_467_895_085_992);
    // fee = 10e9 * 3_000 / 1e6
    assert_eq!(quote.fee_tao, 30_000_000);
}

#[test]
fn unstake_round_trip_loses_exactly_rounding_and_fee() {
    // No fee: back = floor(2_475_247_524_752 * 1_010e9
    //                      / (247_524_752_475_248 + 2_475_247_524_752))
    //              = floor(2_475_247_524_752 * 1.01e12 / 2.5e14)
    //              = floor(9_999_999_999.998...) = 9_999_999_999: 1 rao lost
    //                to the two roundings down.
    let mut net = one_subnet(0);
    let staked = net.stake("s", 1, 10 * TAO, 0).unwrap();
    let back = net.unstake("s", 1, staked.alpha_out, 0).unwrap();
    assert_eq!(back.tao_out, 9_999_999_999);
    assert_eq!(10 * TAO - back.tao_out, 1);
    assert_eq!(net.stake_of("s", 1), 0);
    assert!(net.subnet(1).unwrap().stakes.is_empty());
    assert_eq!(
        net.reserves(1).unwrap(),
        Reserves {
            tao: 1_000 * TAO + 1,
            alpha: 250_000 * ALPHA,
        },
        "the lost rao stays in the pool"
    );

    // 0.30% fee: a = 2_467_895_085_992 (above), then
    // back = floor(a * 997_000 * 1_010e9 / ((250_000e9 - a) * 1e6 + a * 997_000))
    //      = 9_940_679_649: 59_320_351 rao lost, about 0.3% each way
    //        (fees of 30_000_000 rao in and 7_403_685_257 alpha out) plus
    //        the two roundings.
    let mut net = one_subnet(3_000);
    let staked = net.stake("s", 1, 10 * TAO, 0).unwrap();
    let back = net.unstake("s", 1, staked.alpha_out, 0).unwrap();
    assert_eq!(back.tao_out, 9_940_679_649);
    assert_eq!(back.fee_alpha, 7_403_685_257);
    assert_eq!(10 * TAO - back.tao_out, 59_320_351);
}

#[test]
fn refuses_zero_amounts_unknown_subnets_and_overdrafts() {
    let mut net = one_subnet(0);
    let before = net.clone();
    assert_eq!(net.stake("s", 1, 0, 0), Err(VenueError::ZeroAmount));
    assert_eq!(net.unstake("s", 1, 0, 0), Err(VenueError::ZeroAmount));
    assert_eq!(net.quote_stake(1, 0), Err(VenueError::ZeroAmount));
    assert_eq!(net.quote_unstake(1, 0), Err(VenueError::ZeroAmount));
    assert!(matches!(
        net.stake("s", 9, TAO, 0),
        Err(VenueError::Unknown { what: "subnet", .. })
    ));
    assert_eq!(
        net.unstake("s", 1, 5, 0),
        Err(VenueError::InsufficientBalance {
            needed: 5,
            available: 0
        })
    );
    // 1 rao buys floor(1 * 250_000e9 / (1_000e9 + 1)) = 249 alpha; on a
    // pool with the price the other way round it buys nothing.
    let mut cheap = SubnetNetwork::new(NetworkConfig::new(vec![SubnetConfig::new(
        2,
        "dear",
        250_000 * TAO,
        1_000 * ALPHA,
    )]))
    .unwrap();
    assert!(matches!(
        cheap.stake("s", 2, 1, 0),
        Err(VenueError::InsufficientLiquidity { .. })
    ));
    assert_eq!(net.quote_stake(1, 1).unwrap().alpha_out, 249);
    assert_eq!(net, before);
}

#[test]
fn slippage_bounds_refuse_and_change_nothing() {
    let mut net = one_subnet(0);
    let quote = net.quote_stake(1, 10 * TAO).unwrap();
    let before = net.clone();
    let refused = net.stake("s", 1, 10 * TAO, quote.alpha_out + 1);
    assert!(
        matches!(&refused, Err(VenueError::InsufficientLiquidity { detail }) if detail.contains("slippage")),
        "{refused:?}"
    );
    assert_eq!(net, before);
    net.stake("s", 1, 10 * TAO, quote.alpha_out).unwrap();

    let alpha = net.stake_of("s", 1);
    let quote = net.quote_unstake(1, alpha).unwrap();
    let before = net.clone();
    assert!(matches!(
        net.unstake("s", 1, alpha, quote.tao_out + 1),
        Err(VenueError::InsufficientLiquidity { .. })
    ));
    assert_eq!(net, before);
    assert_eq!(net.unstake("s", 1, alpha, quote.tao_out).unwrap(), quote);
}

/// Subnet A: 100 TAO / 400 alpha (price 0.25); B: 300 TAO / 200 alpha
/// (price 1.5); no alpha emission.
fn two_subnets(weighting: EmissionWeighting) -> SubnetNetwork {
    let mut a = SubnetConfig::new(1, "a", 100 * TAO, 400 * ALPHA);
    let mut b = SubnetConfig::new(2, "b", 300 * TAO, 200 * ALPHA);
    a.alpha_per_block = 0;
    b.alpha_per_block = 0;
    let mut config = NetworkConfig::new(vec![a, b]);
    config.weighting = weighting;
    SubnetNetwork::new(config).unwrap()
}

#[test]
fn tao_emission_is_split_by_price() {
    let mut net = two_subnets(EmissionWeighting::Price);
    // Weights: 100e9 * 1e18 / 400e9 = 2.5e17 and 300e9 * 1e18 / 200e9 = 1.5e18,
    // sum 1.75e18: shares 1/7 and 6/7.
    let a = net.subnet(1).unwrap();
    assert_eq!(a.price_scaled, 250_000_000_000_000_000);
    assert_eq!(a.emission_weight, 250_000_000_000_000_000);
    assert_eq!(a.emission_weight_total, 1_750_000_000_000_000_000);
    assert!((a.emission_share - 1.0 / 7.0).abs() < 1e-15);
    assert!((a.price - 0.25).abs() < 1e-15);

    // Block 1: pot 1e9; A floor(1e9 / 7) = 142_857_142,
    // B floor(6e9 / 7) = 857_142_857; 1 rao of dust.
    let e = net.step_block().unwrap();
    assert_eq!(e.block, 1);
    assert_eq!(e.tao_pot, 1_000_000_000);
    assert_eq!(e.subnets[0].tao_in, 142_857_142);
    assert_eq!(e.subnets[1].tao_in, 857_142_857);
    assert_eq!(e.tao_dust, 1);
    assert_eq!(net.tao_dust(), 1);
    assert_eq!(net.reserves(1).unwrap().tao, 100 * TAO + 142_857_142);
    assert_eq!(net.reserves(2).unwrap().tao, 300 * TAO + 857_142_857);

    // Block 2: pot 1e9 + 1; weights of the new prices:
    // A 100_142_857_142e18 / 400e9 = 250_357_142_855_000_000,
    // B 300_857_142_857e18 / 200e9 = 1_504_285_714_285_000_000,
    // sum 1_754_642_857_140_000_000;
    // A floor(1_000_000_001 * 250_357_142_855 / 1_754_642_857_140) = 142_682_678,
    // B floor(1_000_000_001 * 1_504_285_714_285 / 1_754_642_857_140) = 857_317_322.
    let e = net.step_block().unwrap();
    assert_eq!(e.tao_pot, 1_000_000_001);
    assert_eq!(e.subnets[0].weight, 250_357_142_855_000_000);
    assert_eq!(e.subnets[1].weight, 1_504_285_714_285_000_000);
    assert_eq!(e.subnets[0].weight_total, 1_754_642_857_140_000_000);
    assert_eq!(e.subnets[0].tao_in, 142_682_678);
    assert_eq!(e.subnets[1].tao_in, 857_317_322);
    assert_eq!(e.tao_dust, 1);
    assert_eq!(net.tao_emitted() + net.tao_dust(), 2 * TAO);
}

#[test]
fn fixed_weights_carry_the_tao_dust() {
    let mut net = two_subnets(EmissionWeighting::Fixed(vec![1, 2]));
    // 1e9 / 3 = 333_333_333, 2e9 / 3 = 666_666_666, dust 1.
    let e = net.step_block().unwrap();
    assert_eq!(
        (e.subnets[0].tao_in, e.subnets[1].tao_in, e.tao_dust),
        (333_333_333, 666_666_666, 1)
    );
    // (1e9 + 1) / 3 = 333_333_333, 2 (1e9 + 1) / 3 = 666_666_667, dust 1.
    let e = net.step_block().unwrap();
    assert_eq!(
        (e.subnets[0].tao_in, e.subnets[1].tao_in, e.tao_dust),
        (333_333_333, 666_666_667, 1)
    );
    assert_eq!(net.subnet(2).unwrap().tao_emitted, 1_333_333_333);
}

#[test]
fn alpha_emission_splits_half_to_the_pool_and_18_41_41_with_remainders() {
    let mut subnet = SubnetConfig::new(1, "odd", 1_000 * TAO, 1_000 * ALPHA);
    subnet.alpha_per_block = 1_000_000_001;
    subnet.other_stake = 4 * ALPHA;
    subnet.stakes = BTreeMap::from([("a".to_owned(), ALPHA), ("b".to_owned(), 2 * ALPHA)]);
    let mut net = SubnetNetwork::new(NetworkConfig::new(vec![subnet])).unwrap();

    // Block 1: pool floor(1_000_000_001 / 2) = 500_000_000; participants
    // 500_000_001: owner floor(* 0.18) = 90_000_000, miners and stakers
    // floor(* 0.41) = 205_000_000 each, remainder 1.
    // Stakers, 7e9 staked: a floor(205e6 * 1/7) = 29_285_714,
    // b floor(205e6 * 2/7) = 58_571_428, others floor(205e6 * 4/7)
    // = 117_142_857; remainder 1. Dust 2.
    let e = net.step_block().unwrap();
    let s = &e.subnets[0];
    assert_eq!(s.alpha_minted, 1_000_000_001);
    assert_eq!(s.alpha_to_pool, 500_000_000);
    assert_eq!(s.alpha_owner, 90_000_000);
    assert_eq!(s.alpha_miners, 205_000_000);
    assert_eq!(s.dividends["a"], 29_285_714);
    assert_eq!(s.dividends["b"], 58_571_428);
    assert_eq!(s.alpha_others, 117_142_857);
    assert_eq!(s.alpha_stakers(), 204_999_999);
    assert_eq!(s.alpha_dust, 2);
    assert_eq!(net.reserves(1).unwrap().alpha, 1_000 * ALPHA + 500_000_000);
    assert_eq!(net.stake_of("a", 1), 1_029_285_714);
    assert_eq!(net.stake_of("b", 1), 2_058_571_428);

    // Block 2: participants 500_000_001 + 2 dust = 500_000_003: owner
    // 90_000_000, miners and stakers 205_000_001 (floor of
    // 205_000_001.23), remainder 1. Staked now 7_204_999_999: a
    // floor(205_000_001 * 1_029_285_714 / 7_204_999_999) = 29_285_714,
    // b 58_571_428, others 117_142_857, remainder 2. Dust 3.
    let e = net.step_block().unwrap();
    let s = &e.subnets[0];
    assert_eq!(
        (s.alpha_owner, s.alpha_miners, s.alpha_stakers()),
        (90_000_000, 205_000_001, 204_999_999)
    );
    assert_eq!(
        (s.dividends["a"], s.dividends["b"], s.alpha_others),
        (29_285_714, 58_571_428, 117_142_857)
    );
    assert_eq!(s.alpha_dust, 3);
    let view = net.subnet(1).unwrap();
    assert_eq!(view.owner_alpha, 180_000_000);
    assert_eq!(view.miner_alpha, 410_000_001);
    let books = net.alpha_accounting(1).unwrap();
    assert!(books.is_balanced(), "{books:?}");
    assert_eq!(books.minted, 2_000_000_002);
}

#[test]
fn strategy_gets_its_pro_rata_dividend() {
    let mut subnet = SubnetConfig::new(1, "apex", 1_000 * TAO, 250_000 * ALPHA);
    subnet.other_stake = 100_000 * ALPHA;
    let mut net = SubnetNetwork::new(NetworkConfig::new(vec![subnet])).unwrap();
    // Buys 2_475_247_524_752 alpha (as in the first test).
    net.stake("strategy", 1, 10 * TAO, 0).unwrap();
    let e = net.step_block().unwrap();
    // Stakers' part: 1e9 alpha minted, 5e8 to participants, 41% = 205_000_000;
    // staked 100_000e9 + 2_475_247_524_752 = 102_475_247_524_752;
    // strategy floor(205_000_000 * 2_475_247_524_752 / 102_475_247_524_752)
    //   = floor(4_951_690.7...) = 4_951_690.
    assert_eq!(e.subnets[0].dividends["strategy"], 4_951_690);
    assert_eq!(net.stake_of("strategy", 1), 2_475_247_524_752 + 4_951_690);
    // The rest of the stakers' part to the others, remainder to dust.
    let others = e.subnets[0].alpha_others;
    assert_eq!(others, 205_000_000 * 100_000 * ALPHA / 102_475_247_524_752);
    assert_eq!(e.subnets[0].alpha_dust, 205_000_000 - 4_951_690 - others);
}

#[test]
fn no_stakers_sends_the_stakers_part_to_dust_and_then_pays_it() {
    let mut subnet = SubnetConfig::new(1, "empty", 1_000 * TAO, 1_000 * ALPHA);
    subnet.alpha_per_block = 10_000;
    let mut net = SubnetNetwork::new(NetworkConfig::new(vec![subnet])).unwrap();
    // participants 5_000: owner 900, miners 2_050, stakers 2_050 -> dust.
    let e = net.step_block().unwrap();
    assert_eq!(e.subnets[0].alpha_dust, 2_050);
    net.stake("s", 1, TAO, 0).unwrap();
    // participants 5_000 + 2_050: owner 1_269, miners and stakers 2_890
    // (floors of 1_269, 2_890.5), remainder 1; the one staker takes all
    // 2_890.
    let e = net.step_block().unwrap();
    assert_eq!(e.subnets[0].alpha_owner, 1_269);
    assert_eq!(e.subnets[0].dividends["s"], 2_890);
    assert_eq!(e.subnets[0].alpha_dust, 1);
    assert!(net.alpha_accounting(1).unwrap().is_balanced());
}

#[test]
fn alpha_and_tao_are_conserved_over_random_blocks() {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let subnets = (1..=4u16)
        .map(|netuid| {
            let mut s = SubnetConfig::new(
                netuid,
                &format!("sn{netuid}"),
                rng.random_range(100..10_000u128) * TAO,
                rng.random_range(1_000..1_000_000u128) * ALPHA,
            );
            s.alpha_per_block = rng.random_range(0..3 * ALPHA);
            s.fee_pips = rng.random_range(0..5_000u32);
            s.other_stake = rng.random_range(0..100_000u128) * ALPHA;
            s
        })
        .collect();
    let mut config = NetworkConfig::new(subnets);
    config.tao_per_block = 999_999_937;
    config.shares = ParticipantShares {
        owner_bps: 1_777,
        miners_bps: 4_111,
        stakers_bps: 4_112,
    };
    let mut net = SubnetNetwork::new(config).unwrap();
    let genesis_tao: BTreeMap<u16, u128> = net
        .subnets()
        .iter()
        .map(|s| (s.netuid, s.tao_reserve))
        .collect();
    let mut tao_in: BTreeMap<u16, u128> = BTreeMap::new();
    let mut tao_out: BTreeMap<u16, u128> = BTreeMap::new();
    let holders = [
        Holder::Account("strategy".into()),
        Holder::Account("whale".into()),
        Holder::Others,
        Holder::Miners,
        Holder::Owner,
    ];
    for _ in 0..500 {
        for _ in 0..rng.random_range(0..6) {
            let netuid = rng.random_range(1..=4u16);
            let holder = &holders[rng.random_range(0..holders.len())];
            if rng.random_bool(0.5) {
                let tao = rng.random_range(1..50 * TAO);
                if let Ok(r) = net.stake_as(holder, netuid, tao, 0) {
                    *tao_in.entry(netuid).or_default() += r.tao_in;
                }
            } else {
                let held = net.balance_of(holder, netuid);
                let alpha = rng.random_range(0..=held);
                if let Ok(r) = net.unstake_as(holder, netuid, alpha, 0) {
                    *tao_out.entry(netuid).or_default() += r.tao_out;
                }
            }
        }
        let before: Vec<AlphaAccounting> = net
            .netuids()
            .iter()
            .map(|n| net.alpha_accounting(*n).unwrap())
            .collect();
        let e = net.step_block().unwrap();
        for (s, b) in e.subnets.iter().zip(&before) {
            let after = net.alpha_accounting(s.netuid).unwrap();
            assert!(after.is_balanced(), "{after:?}");
            // minted == pool increase + distributed + dust change
            assert_eq!(
                s.alpha_minted + b.dust,
                (after.pool - b.pool) + s.alpha_distributed() + after.dust
            );
            assert_eq!(after.pool - b.pool, s.alpha_to_pool);
        }
        let paid: u128 = e.subnets.iter().map(|s| s.tao_in).sum();
        assert_eq!(paid + e.tao_dust, e.tao_pot);
    }
    assert_eq!(
        net.tao_emitted() + net.tao_dust(),
        500 * 999_999_937,
        "TAO: emitted plus dust is what the blocks minted"
    );
    for view in net.subnets() {
        let n = view.netuid;
        assert_eq!(
            view.tao_reserve,
            genesis_tao[&n] + tao_in.get(&n).copied().unwrap_or(0) + view.tao_emitted
                - tao_out.get(&n).copied().unwrap_or(0)
        );
    }
}

#[test]
fn advance_to_runs_whole_blocks() {
    let mut config = NetworkConfig::new(vec![SubnetConfig::new(1, "a", TAO, ALPHA)]);
    config.start_ms = 1_000;
    let mut net = SubnetNetwork::new(config).unwrap();
    assert!(net.advance_to(12_999).unwrap().is_empty());
    let blocks = net.advance_to(37_000).unwrap();
    assert_eq!(
        blocks
            .iter()
            .map(|b| (b.block, b.time_ms))
            .collect::<Vec<_>>(),
        vec![(1, 13_000), (2, 25_000), (3, 37_000)]
    );
    assert!(net.advance_to(48_999).unwrap().is_empty());
    assert_eq!((net.block(), net.now_ms()), (3, 37_000));
    assert!(net.advance_to(0).unwrap().is_empty());
}

#[test]
fn configuration_is_validated() {
    let ok = || SubnetConfig::new(1, "a", TAO, ALPHA);
    let refuse = |config: NetworkConfig| {
        assert!(
            matches!(
                SubnetNetwork::new(config),
                Err(VenueError::InvalidRange { .. })
            ),
            "accepted"
        );
    };
    refuse(NetworkConfig::new(vec![]));
    refuse(NetworkConfig::new(vec![ok(), ok()]));
    refuse(NetworkConfig::new(vec![SubnetConfig::new(
        1, "a", 0, ALPHA,
    )]));
    refuse(NetworkConfig::new(vec![SubnetConfig {
        fee_pips: PIPS,
        ..ok()
    }]));
    refuse(NetworkConfig {
        shares: ParticipantShares {
            owner_bps: 1_800,
            miners_bps: 4_100,
            stakers_bps: 4_000,
        },
        ..NetworkConfig::new(vec![ok()])
    });
    refuse(NetworkConfig {
        weighting: EmissionWeighting::Fixed(vec![1, 2]),
        ..NetworkConfig::new(vec![ok()])
    });
    refuse(NetworkConfig {
        weighting: EmissionWeighting::Fixed(vec![0]),
        ..NetworkConfig::new(vec![ok()])
    });
    refuse(NetworkConfig {
        block_ms: 0,
        ..NetworkConfig::new(vec![ok()])
    });
    refuse(NetworkConfig {
        alpha_to_pool_bps: 10_001,
        ..NetworkConfig::new(vec![ok()])
    });
}

#[test]
fn external_flows_apply_or_are_refused_without_effect() {
    let mut net = one_subnet(0);
    let flows = [
        ExternalFlow {
            netuid: 1,
            holder: Holder::Others,
            action: FlowAction::Stake { tao_in: 10 * TAO },
        },
        ExternalFlow {
            netuid: 1,
            holder: Holder::Others,
            action: FlowAction::UnstakeFraction { ppm: 500_000 },
        },
        ExternalFlow {
            netuid: 1,
            holder: Holder::Miners,
            action: FlowAction::Unstake { alpha_in: 1 },
        },
        ExternalFlow {
            netuid: 7,
            holder: Holder::Others,
            action: FlowAction::Stake { tao_in: TAO },
        },
    ];
    let report = net.run_block(&flows).unwrap();
    assert!(matches!(&report.flows[0], FlowOutcome::Staked(s) if s.alpha_out == 2_475_247_524_752));
    // Half of 2_475_247_524_752 is 1_237_623_762_376.
    assert!(
        matches!(&report.flows[1], FlowOutcome::Unstaked(u) if u.alpha_in == 1_237_623_762_376)
    );
    assert!(matches!(
        &report.flows[2],
        FlowOutcome::Refused { netuid: 1, .. }
    ));
    assert!(matches!(
        &report.flows[3],
        FlowOutcome::Refused { netuid: 7, .. }
    ));
    assert_eq!(report.emission.block, 1);
    assert_eq!(
        net.balance_of(&Holder::Others, 1),
        2_475_247_524_752 - 1_237_623_762_376
    );
}

#[test]
fn a_cloned_snapshot_continues_identically() {
    let mut a = one_subnet(0);
    a.stake("s", 1, TAO, 0).unwrap();
    let mut b = a.clone();
    a.step_block().unwrap();
    b.step_block().unwrap();
    assert_eq!(a, b);
}

fn small_config(seed: u64) -> SyntheticSubnetsConfig {
    SyntheticSubnetsConfig {
        candle_blocks: 10,
        ..SyntheticSubnetsConfig::new(5, 300, seed)
    }
}

#[test]
fn generator_is_deterministic_from_its_seed() {
    let one = generate(small_config(7)).unwrap();
    let two = generate(small_config(7)).unwrap();
    assert_eq!(one, two);
    let other = generate(small_config(8)).unwrap();
    assert_ne!(one.tape, other.tape);
    assert_ne!(one.initial, other.initial);

    let tape = &one.tape;
    assert_eq!(tape.subnets.len(), 5);
    assert_eq!(tape.interval_ms, 120_000);
    assert_eq!(tape.start_ms, 1_700_000_000_000);
    for series in &tape.subnets {
        assert_eq!(series.candles.len(), 30);
        for (i, c) in series.candles.iter().enumerate() {
            assert_eq!(c.open_ms, tape.start_ms + i as u64 * 120_000);
            assert!(c.low <= c.open.min(c.close) && c.high >= c.open.max(c.close));
            assert!(c.low > 0.0);
        }
        for pair in series.candles.windows(2) {
            assert_eq!(pair[0].close, pair[1].open);
        }
        let last = series.candles.last().unwrap();
        let end = one.final_network.reserves(series.netuid).unwrap();
        assert_eq!((last.tao_reserve, last.alpha_reserve), (end.tao, end.alpha));
    }
    // Emission shares of a candle sum to one.
    let total: f64 = tape
        .subnets
        .iter()
        .map(|s| s.candles[0].emission_share)
        .sum();
    assert!((total - 1.0).abs() < 1e-9);
    // Something traded, and the books still balance.
    assert!(
        tape.subnets
            .iter()
            .any(|s| s.candles.iter().any(|c| c.tao_staked > 0))
    );
    assert!(
        tape.subnets
            .iter()
            .any(|s| s.candles.iter().any(|c| c.tao_unstaked > 0))
    );
    for netuid in one.final_network.netuids() {
        assert!(
            one.final_network
                .alpha_accounting(netuid)
                .unwrap()
                .is_balanced()
        );
    }
    assert_eq!(one.final_network.block(), 300);
}

#[test]
fn a_partial_last_candle_is_kept() {
    let run = generate(SyntheticSubnetsConfig {
        candle_blocks: 7,
        ..SyntheticSubnetsConfig::new(2, 20, 1)
    })
    .unwrap();
    assert_eq!(run.tape.subnets[0].candles.len(), 3);
}

#[test]
fn a_backtest_replays_the_same_flows_while_the_strategy_trades() {
    let scenario = SubnetScenario::new(small_config(3)).unwrap();
    let flows: Vec<_> = scenario.flows().collect();
    assert_eq!(flows.len(), 300);
    assert_eq!(flows, scenario.flows().collect::<Vec<_>>());
    assert_eq!(flows[0].block, 1);
    assert_eq!(flows[0].time_ms, 1_700_000_000_000 + 12_000);

    // Replaying the flows by hand reproduces the scenario's tape.
    let mut net = scenario.initial_network().clone();
    let mut recorder = TapeRecorder::new(&net, 10).unwrap();
    for block in &flows {
        let report = net.run_block(&block.flows).unwrap();
        recorder.record_block(&report, &net);
    }
    let run = scenario.run().unwrap();
    assert_eq!(recorder.finish(), run.tape);
    assert_eq!(net, run.final_network);

    // With a strategy trading, the same flows are applied and all the
    // external ones still go through (unstakes are fractions of holdings).
    let mut net = scenario.initial_network().clone();
    let mut recorder = TapeRecorder::new(&net, 10).unwrap();
    let mut refused_with = 0;
    for block in scenario.flows() {
        if block.block % 50 == 1 {
            net.stake("strategy", 1, 100 * TAO, 0).unwrap();
        }
        recorder.observe(&net);
        let report = net.run_block(&block.flows).unwrap();
        refused_with += report
            .flows
            .iter()
            .filter(|f| matches!(f, FlowOutcome::Refused { .. }))
            .count();
        recorder.record_block(&report, &net);
    }
    let mut refused_without = 0;
    let mut replay = scenario.initial_network().clone();
    for block in &flows {
        let report = replay.run_block(&block.flows).unwrap();
        refused_without += report
            .flows
            .iter()
            .filter(|f| matches!(f, FlowOutcome::Refused { .. }))
            .count();
    }
    assert_eq!(refused_with, refused_without);
    let tape = recorder.finish();
    assert!(
        tape.subnets[0].candles.last().unwrap().close
            > run.tape.subnets[0].candles.last().unwrap().close
    );
    assert!(net.stake_of("strategy", 1) > 0);
    assert!(net.alpha_accounting(1).unwrap().is_balanced());
}

#[test]
fn synthetic_configuration_is_validated() {
    for config in [
        SyntheticSubnetsConfig::new(0, 10, 1),
        SyntheticSubnetsConfig {
            candle_blocks: 0,
            ..SyntheticSubnetsConfig::default()
        },
        SyntheticSubnetsConfig {
            median_price: 0.0,
            ..SyntheticSubnetsConfig::default()
        },
        SyntheticSubnetsConfig {
            size_sigma: f64::NAN,
            ..SyntheticSubnetsConfig::default()
        },
        SyntheticSubnetsConfig {
            regime_tilt: 1.5,
            ..SyntheticSubnetsConfig::default()
        },
    ] {
        assert!(matches!(
            SubnetScenario::new(config),
            Err(VenueError::InvalidRange { .. })
        ));
    }
}
