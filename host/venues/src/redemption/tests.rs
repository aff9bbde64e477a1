//! Hand-computed cases of the staked vault, its queue and its auctions.
//!
//! Most cases use a rate of 36.5% a year, 0.1% a day:
//! `total_assets * RATE * d days / (RAY * YEAR_MS) = total_assets * d / 1000`.

use super::*;
use crate::lending::YEAR_MS;
use crate::vault::Vault4626;

/// 36.5% a year (RAY): 0.1% of the assets a day.
const RATE: u128 = RAY / 1_000 * 365;

fn day(days: u64) -> u64 {
    days * DAY_MS
}

fn vault(period_liquidity: u128) -> RedemptionVault {
    let config = RedemptionConfig {
        period_liquidity,
        ..RedemptionConfig::default()
    };
    RedemptionVault::new(config, RATE, 0).unwrap()
}

fn assert_books(vault: &RedemptionVault) {
    let books = vault.accounting();
    assert!(books.is_conserved(), "{books:?}");
    let owed: u128 = vault
        .requests
        .values()
        .map(|r| r.assets + r.served_assets)
        .sum();
    assert_eq!(
        owed, books.locked_assets,
        "locked assets match the requests"
    );
    let shares: u128 = vault.holders.values().map(|h| h.shares).sum();
    assert_eq!(shares, vault.total_shares(), "shares match the holders");
}

#[test]
fn deposits_mint_shares_rounded_down_at_the_grown_rate() {
    let mut vault = vault(0);
    assert_eq!(vault.deposit("alice", 1_000_000, 0).unwrap(), 1_000_000);
    // Day 30: 1_000_000 + 1_000_000 * 30 / 1000 = 1_030_000 assets for
    // 1_000_000 shares. 103_000 mint 103_000 * 1_000_000 / 1_030_000 =
    // 100_000 shares exactly.
    assert_eq!(vault.deposit("bob", 103_000, day(30)).unwrap(), 100_000);
    assert_eq!(vault.total_assets(), 1_133_000);
    assert_eq!(vault.total_shares(), 1_100_000);
    // 1_133_000 / 1_100_000 = 1.03 exactly.
    assert_eq!(vault.share_price_ray().unwrap(), 1_030 * (RAY / 1_000));
    // 1_000 * 1_100_000 / 1_133_000 = 970.87 -> 970 shares.
    assert_eq!(vault.deposit("carol", 1_000, day(30)).unwrap(), 970);
    // Now 1_134_000 assets, 1_100_970 shares: 1 asset mints
    // 1_100_970 / 1_134_000 = 0.97 -> 0 shares, refused.
    assert_eq!(
        vault.deposit("dave", 1, day(30)),
        Err(VenueError::ZeroAmount)
    );
    assert_eq!(
        vault.deposit("dave", 0, day(30)),
        Err(VenueError::ZeroAmount)
    );
    // Carol's 970 shares are worth 970 * 1_134_000 / 1_100_970 = 999.10
    // -> 999: the rounding stays with the vault.
    assert_eq!(vault.assets_of("carol").unwrap(), 999);
    assert_eq!(vault.shares_of("carol"), 970);
    assert_eq!(vault.holder("carol").unwrap().cost_basis, 1_000);
    assert_eq!(vault.shares_of("nobody"), 0);
    assert_books(&vault);
}

#[test]
fn yield_accrues_as_in_vault4626() {
    // Awkward numbers: the ledger's yield compounds exactly as
    // `Vault4626`'s. (Its share conversions are the plain ones, without
    // OpenZeppelin's virtual share and asset that `Vault4626` now has.)
    let rate = RAY / 7;
    let mut reference = Vault4626::new(rate, 0);
    // No auction in between: each one accrues (compounds) the yield.
    let config = RedemptionConfig {
        auction_period_ms: YEAR_MS,
        ..RedemptionConfig::default()
    };
    let mut vault = RedemptionVault::new(config, rate, 0).unwrap();
    let steps: [(u64, u128); 4] = [
        (0, 1_234_567),
        (day(17) + 3_600_000, 987_654_321),
        (day(29) + 1, 3),
        (day(29) + 2, 55_555),
    ];
    for (now, assets) in steps {
        vault.deposit("a", assets, now).unwrap();
        reference.deposit(assets, now).unwrap();
        assert_eq!(vault.total_assets(), reference.total_assets());
    }
    let later = YEAR_MS / 3;
    vault.advance_to(later).unwrap();
    reference.accrue(later).unwrap();
    assert_eq!(vault.total_assets(), reference.total_assets());
}

#[test]
fn standard_redemption_pays_the_fixed_assets_after_thirty_days() {
    let mut vault = vault(0);
    vault.deposit("alice", 1_000_000, 0).unwrap();
    // Day 10: 1_010_000 assets; 500_000 shares are worth 505_000, of
    // which 505_000 - 500_000 (cost basis) = 5_000 is yield.
    let id = vault.request_redeem("alice", 500_000, day(10)).unwrap();
    let request = vault.request(id).unwrap().clone();
    assert_eq!(request.assets, 505_000);
    assert_eq!(request.yield_assets, 5_000);
    assert_eq!(request.claimable_at_ms, day(40));
    assert_eq!(vault.claimable_at(id), Some(day(40)));
    assert_eq!(vault.request_status(id), Some(RequestStatus::Queued));
    assert_eq!(vault.shares_of("alice"), 500_000);
    assert_eq!(vault.holder("alice").unwrap().cost_basis, 500_000);
    assert_eq!(vault.total_assets(), 505_000);
    assert_eq!(vault.locked_assets(), 505_000);
    // Locked shares are gone: only the other 500_000 can be redeemed.
    assert_eq!(
        vault.request_redeem("alice", 500_001, day(10)),
        Err(VenueError::InsufficientBalance {
            needed: 500_001,
            available: 500_000
        })
    );
    assert_eq!(
        vault.claim("alice", id, day(40) - 1),
        Err(VenueError::NotYetClaimable {
            claimable_at_ms: day(40),
            now_ms: day(40) - 1
        })
    );
    // Paid exactly the value fixed at request: the 30 days in the queue
    // earned nothing.
    assert_eq!(vault.claim("alice", id, day(40)).unwrap(), 505_000);
    assert_eq!(vault.request_status(id), Some(RequestStatus::Claimed));
    // The unlocked half grew instead. Yield is added (compounded) at every
    // operation and auction: the auction at day 30 added 505_000 * 20 /
    // 1000 = 10_100 (515_100); the refused claim 10 days - 1 ms later
    // floor(515_100 * (10 days - 1 ms) / 1000 days) = floor(5_150.99999)
    // = 5_150 (520_250); the last 1 ms floor(0.006) = 0.
    assert_eq!(vault.total_assets(), 520_250);
    assert!(matches!(
        vault.claim("alice", id, day(41)),
        Err(VenueError::InvalidRange { .. })
    ));
    assert_eq!(vault.holder("alice").unwrap().claimed, 505_000);
    assert_books(&vault);
}

/// Alice, bob and carol each lock 1_000_000 shares at day 20 (1_020_000
/// assets, 20_000 of yield each); dave stays. Bids: alice 500 bps (day
/// 20), bob 2_000 (day 21), carol 1_000 (day 22); 1_500_000 of liquidity.
#[test]
fn auction_serves_highest_bids_and_fills_the_marginal_one_partially() {
    let mut vault = vault(1_500_000);
    for who in ["alice", "bob", "carol", "dave"] {
        vault.deposit(who, 1_000_000, 0).unwrap();
    }
    // Day 20: 4_000_000 * 1.02 = 4_080_000 assets, 1.02 a share.
    let alice = vault.request_redeem("alice", 1_000_000, day(20)).unwrap();
    let bob = vault.request_redeem("bob", 1_000_000, day(20)).unwrap();
    let carol = vault.request_redeem("carol", 1_000_000, day(20)).unwrap();
    for id in [alice, bob, carol] {
        assert_eq!(vault.request(id).unwrap().assets, 1_020_000);
        assert_eq!(vault.request(id).unwrap().yield_assets, 20_000);
    }
    assert_eq!(vault.total_assets(), 1_020_000);
    vault.place_bid("alice", alice, 500, day(20)).unwrap();
    vault.place_bid("bob", bob, 2_000, day(21)).unwrap();
    vault.place_bid("carol", carol, 1_000, day(22)).unwrap();
    assert_eq!(vault.request_status(bob), Some(RequestStatus::BidPlaced));
    assert_eq!(vault.own_bid("bob", bob).unwrap().unwrap().bid_bps, 2_000);
    // 20_000 * 2_000 / 10_000 = 4_000 if served in full.
    assert_eq!(vault.bid_cost(bob, 2_000).unwrap(), 4_000);
    assert_eq!(vault.next_auction_ms(), day(30));
    assert_eq!(vault.period_liquidity(), 1_500_000);

    let results = vault.advance_to(day(30)).unwrap();
    assert_eq!(results.len(), 1);
    let auction = &results[0];
    // Bob (2_000 bps) in full: 1_020_000, forfeits 4_000, gets 1_016_000;
    // 480_000 left. Carol (1_000 bps), the marginal bid: 480_000 of
    // 1_020_000; the yield in it floor(20_000 * 480_000 / 1_020_000) =
    // floor(9_411.76) = 9_411; forfeit ceil(9_411 * 1_000 / 10_000) =
    // ceil(941.1) = 942; gets 479_058. Alice (500 bps): nothing.
    let served: Vec<(u64, u128, u128, u128)> = auction
        .fills
        .iter()
        .map(|f| {
            (
                f.request_id,
                f.served_assets,
                f.forfeited_assets,
                f.paid_assets,
            )
        })
        .collect();
    assert_eq!(
        served,
        vec![
            (bob, 1_020_000, 4_000, 1_016_000),
            (carol, 480_000, 942, 479_058),
            (alice, 0, 0, 0),
        ]
    );
    assert_eq!(auction.time_ms, day(30));
    assert_eq!(auction.liquidity, 1_500_000);
    assert_eq!(auction.bid_count, 3);
    assert_eq!(auction.bid_assets, 3_060_000);
    assert_eq!(auction.clearing_bid_bps, Some(1_000));
    assert_eq!(auction.served_assets, 1_500_000);
    assert_eq!(auction.paid_assets, 1_495_058);
    assert_eq!(auction.forfeited_assets, 4_942);
    assert_eq!(vault.auction_history(), std::slice::from_ref(auction));
    assert_eq!(vault.next_auction_ms(), day(60));

    // Carol's rest stays queued: 540_000 assets, 20_000 - 9_411 = 10_589
    // of yield, 1_000_000 - floor(1_000_000 * 480_000 / 1_020_000) =
    // 1_000_000 - 470_588 = 529_412 shares.
    let rest = vault.request(carol).unwrap();
    assert_eq!(
        (rest.assets, rest.yield_assets, rest.shares),
        (540_000, 10_589, 529_412)
    );
    // Dave's vault: 1_020_000 at day 20, compounded at each bid: day 21
    // + 1_020 = 1_021_020, day 22 + floor(1_021.02) = 1_022_041, day 30
    // + floor(1_022_041 * 8 / 1000) = floor(8_176.328) = 8_176, so
    // 1_030_217; plus the 4_942 forfeited = 1_035_159, all his.
    assert_eq!(vault.total_assets(), 1_035_159);
    assert_eq!(vault.assets_of("dave").unwrap(), 1_035_159);
    assert_eq!(vault.accounting().forfeited_to_holders, 4_942);

    assert_eq!(vault.request_status(bob), Some(RequestStatus::Served));
    assert_eq!(vault.request_status(carol), Some(RequestStatus::Served));
    assert_eq!(vault.request_status(alice), Some(RequestStatus::Queued));
    assert_eq!(vault.claim("bob", bob, day(30)).unwrap(), 1_016_000);
    assert_eq!(vault.claim("carol", carol, day(30)).unwrap(), 479_058);
    assert_eq!(vault.request_status(carol), Some(RequestStatus::Queued));
    assert_eq!(
        vault.claim("carol", carol, day(30)),
        Err(VenueError::NotYetClaimable {
            claimable_at_ms: day(50),
            now_ms: day(30)
        })
    );
    assert_eq!(
        vault.claim("alice", alice, day(30)),
        Err(VenueError::NotYetClaimable {
            claimable_at_ms: day(50),
            now_ms: day(30)
        })
    );
    assert_eq!(vault.yield_forfeited("bob"), 4_000);
    assert_eq!(vault.yield_forfeited("carol"), 942);
    assert_eq!(vault.yield_forfeited("alice"), 0);
    assert_books(&vault);

    assert_eq!(vault.claim("alice", alice, day(50)).unwrap(), 1_020_000);
    assert_eq!(vault.claim("carol", carol, day(50)).unwrap(), 540_000);
    let carol_request = vault.request(carol).unwrap();
    assert_eq!(carol_request.paid, 479_058 + 540_000);
    assert_eq!(carol_request.forfeited, 942);
    assert_eq!(vault.locked_assets(), 0);
    assert_books(&vault);
}

/// Two 1_000_000 requests with equal bids and liquidity for one; rate 0.
fn tie(bids: &[(&str, u64)]) -> u64 {
    let config = RedemptionConfig {
        period_liquidity: 1_000_000,
        ..RedemptionConfig::default()
    };
    let mut vault = RedemptionVault::new(config, 0, 0).unwrap();
    for who in ["alice", "bob"] {
        vault.deposit(who, 1_000_000, 0).unwrap();
    }
    for who in ["alice", "bob"] {
        vault.request_redeem(who, 1_000_000, day(1)).unwrap();
    }
    for &(who, at) in bids {
        let id = vault.requests_of(who).next().unwrap().id;
        vault.place_bid(who, id, 300, at).unwrap();
    }
    let result = vault.advance_to(day(30)).unwrap().remove(0);
    assert_eq!(result.fills[0].served_assets, 1_000_000);
    assert_eq!(result.fills[1].served_assets, 0);
    result.fills[0].request_id
}

#[test]
fn equal_bids_are_served_in_bid_order() {
    let (alice, bob) = (1, 2);
    // Earlier bid first, whatever the request order.
    assert_eq!(tie(&[("bob", day(2)), ("alice", day(3))]), bob);
    // The same millisecond: the order they were placed in.
    assert_eq!(tie(&[("alice", day(2)), ("bob", day(2))]), alice);
    // Replacing a bid (even with the same bps) takes a new place.
    assert_eq!(
        tie(&[("bob", day(2)), ("alice", day(3)), ("bob", day(4))]),
        alice
    );
}

#[test]
fn bids_can_be_cancelled_until_clearing_only() {
    let mut vault = vault(10_000_000);
    vault.deposit("alice", 1_000_000, 0).unwrap();
    vault.deposit("bob", 1_000_000, 0).unwrap();
    let alice = vault.request_redeem("alice", 1_000_000, day(5)).unwrap();
    let bob = vault.request_redeem("bob", 1_000_000, day(5)).unwrap();
    vault.place_bid("alice", alice, 9_000, day(6)).unwrap();
    vault.place_bid("bob", bob, 100, day(6)).unwrap();
    vault.cancel_bid("alice", alice, day(29)).unwrap();
    assert_eq!(vault.own_bid("alice", alice).unwrap(), None);
    assert_eq!(vault.request_status(alice), Some(RequestStatus::Queued));
    assert!(matches!(
        vault.cancel_bid("alice", alice, day(29)),
        Err(VenueError::InvalidRange { .. })
    ));
    let result = vault.advance_to(day(30)).unwrap().remove(0);
    assert_eq!(result.bid_count, 1, "the cancelled bid is not in it");
    assert_eq!(result.fills[0].request_id, bob);
    assert_eq!(result.clearing_bid_bps, Some(100));
    // Unused liquidity (10_000_000 - 1_005_000) does not carry over.
    assert_eq!(vault.period_liquidity(), 10_000_000);
    // After clearing, the bid is closed.
    assert!(matches!(
        vault.cancel_bid("bob", bob, day(30)),
        Err(VenueError::InvalidRange { .. })
    ));
    // Day 5: 1.005 a share, yield 5_000; 100 bps of it is 50.
    assert_eq!(vault.claim("bob", bob, day(30)).unwrap(), 1_005_000 - 50);
    assert_books(&vault);
}

#[test]
fn bids_are_refused_on_others_requests_and_out_of_range() {
    let mut vault = vault(0);
    vault.deposit("alice", 1_000_000, 0).unwrap();
    let id = vault.request_redeem("alice", 1_000_000, day(1)).unwrap();
    let unknown = VenueError::Unknown {
        what: "redemption request",
        name: id.to_string(),
    };
    assert_eq!(
        vault.place_bid("mallory", id, 100, day(2)),
        Err(unknown.clone())
    );
    assert_eq!(
        vault.cancel_bid("mallory", id, day(2)),
        Err(unknown.clone())
    );
    assert_eq!(vault.claim("mallory", id, day(2)), Err(unknown.clone()));
    assert_eq!(vault.own_bid("mallory", id), Err(unknown));
    assert!(matches!(
        vault.place_bid("alice", 99, 100, day(2)),
        Err(VenueError::Unknown { .. })
    ));
    assert!(matches!(
        vault.place_bid("alice", id, 10_001, day(2)),
        Err(VenueError::InvalidRange { .. })
    ));
    vault.place_bid("alice", id, 10_000, day(2)).unwrap();
    assert_eq!(vault.own_bid("alice", id).unwrap().unwrap().bid_bps, 10_000);

    // A request claimable by the next auction has nothing to bid for: made
    // at day 30 after the first auction ran, it is claimable at day 60, when
    // the second auction runs.
    vault.deposit("bob", 1_000_000, day(30)).unwrap();
    let late = vault.request_redeem("bob", 1_000_000, day(30)).unwrap();
    assert_eq!(vault.next_auction_ms(), day(60));
    assert!(matches!(
        vault.place_bid("bob", late, 100, day(30)),
        Err(VenueError::InvalidRange { .. })
    ));
    assert!(matches!(
        vault.advance_to(day(29)),
        Err(VenueError::InvalidRange { .. })
    ));
}

#[test]
fn an_unserved_bid_falls_back_to_the_queue() {
    let mut vault = vault(0);
    vault.deposit("alice", 1_000_000, 0).unwrap();
    // Day 20: 1_020_000, yield 20_000.
    let id = vault.request_redeem("alice", 1_000_000, day(20)).unwrap();
    vault.place_bid("alice", id, 5_000, day(20)).unwrap();
    let result = vault.advance_to(day(30)).unwrap().remove(0);
    assert_eq!(result.bid_count, 1);
    assert_eq!(result.clearing_bid_bps, None);
    assert_eq!(result.served_assets, 0);
    assert_eq!(result.fills[0].served_assets, 0);
    assert_eq!(vault.request_status(id), Some(RequestStatus::Queued));
    assert_eq!(vault.own_bid("alice", id).unwrap(), None, "bid dropped");
    assert_eq!(vault.queue_position(id).unwrap().requests_ahead, 0);
    assert_eq!(vault.yield_forfeited("alice"), 0);
    assert_eq!(
        vault.claim("alice", id, day(49)),
        Err(VenueError::NotYetClaimable {
            claimable_at_ms: day(50),
            now_ms: day(49)
        })
    );
    assert_eq!(vault.request_status(id), Some(RequestStatus::Queued));
    vault.advance_to(day(50)).unwrap();
    assert_eq!(vault.request_status(id), Some(RequestStatus::Claimable));
    assert_eq!(vault.claim("alice", id, day(50)).unwrap(), 1_020_000);
    assert_books(&vault);
}

#[test]
fn queue_position_counts_what_is_still_queued_ahead() {
    let config = RedemptionConfig {
        period_liquidity: 150,
        ..RedemptionConfig::default()
    };
    // Rate 0: a share is worth one asset.
    let mut vault = RedemptionVault::new(config, 0, 0).unwrap();
    for who in ["alice", "bob", "carol"] {
        vault.deposit(who, 1_000, 0).unwrap();
    }
    let alice = vault.request_redeem("alice", 100, day(1)).unwrap();
    let bob = vault.request_redeem("bob", 200, day(2)).unwrap();
    let carol = vault.request_redeem("carol", 300, day(3)).unwrap();
    let position = |requests_ahead, ahead| QueuePosition {
        requests_ahead,
        shares_ahead: ahead,
        assets_ahead: ahead,
    };
    assert_eq!(vault.queue_position(alice), Some(position(0, 0)));
    assert_eq!(vault.queue_position(bob), Some(position(1, 100)));
    assert_eq!(vault.queue_position(carol), Some(position(2, 300)));
    // Bob's bid gets 150 of his 200 at day 30: 50 of his stay ahead.
    vault.place_bid("bob", bob, 0, day(4)).unwrap();
    vault.advance_to(day(30)).unwrap();
    assert_eq!(vault.queue_position(carol), Some(position(2, 150)));
    assert_eq!(vault.claim("bob", bob, day(30)).unwrap(), 150);
    // Alice's request is claimable at day 31 and ahead until claimed.
    vault.advance_to(day(31)).unwrap();
    assert_eq!(vault.queue_position(carol), Some(position(2, 150)));
    assert_eq!(vault.claim("alice", alice, day(31)).unwrap(), 100);
    assert_eq!(vault.queue_position(carol), Some(position(1, 50)));
    assert_eq!(vault.queue_position(alice), None, "claimed");
    assert_eq!(vault.queue_position(99), None);
    assert_books(&vault);
}

#[test]
fn a_rate_change_mid_period_applies_from_then_on() {
    let mut vault = vault(0);
    vault.deposit("alice", 1_000_000, 0).unwrap();
    // Day 10: 1_010_000; half is locked at 505_000.
    let id = vault.request_redeem("alice", 500_000, day(10)).unwrap();
    assert_eq!(vault.total_assets(), 505_000);
    // Day 15: 505_000 + 505_000 * 5 / 1000 = 507_525, then 3.65% a year.
    vault.set_rate(RATE / 10, day(15)).unwrap();
    assert_eq!(vault.total_assets(), 507_525);
    assert_eq!(vault.rate(), RATE / 10);
    // Day 30: 507_525 * 0.0365 * 15 / 365 = 761.2875 -> 761.
    vault.advance_to(day(30)).unwrap();
    assert_eq!(vault.total_assets(), 508_286);
    // Rate 0 from day 30: nothing more.
    vault.set_rate(0, day(30)).unwrap();
    vault.advance_to(day(39)).unwrap();
    assert_eq!(vault.total_assets(), 508_286);
    // The request kept its value fixed at day 10.
    assert_eq!(vault.claim("alice", id, day(40)).unwrap(), 505_000);
    assert_eq!(vault.accounting().yield_accrued, 10_000 + 2_525 + 761);
    assert_books(&vault);
}

#[test]
fn forfeits_go_to_holders_or_the_protocol() {
    // Alice locks 1_000_000 shares at day 20: 1_020_000, yield 20_000; she
    // bids all of it (10_000 bps) and gets her principal back.
    for (recipient, dave, to_holders, to_protocol, dave_assets) in [
        // Dave's 1_020_000 grow 1% to 1_030_200, plus the forfeit.
        (ForfeitRecipient::Holders, true, 20_000, 0, 1_050_200),
        (ForfeitRecipient::Protocol, true, 0, 20_000, 1_030_200),
        // No holder left: the protocol.
        (ForfeitRecipient::Holders, false, 0, 20_000, 0),
    ] {
        let config = RedemptionConfig {
            period_liquidity: 2_000_000,
            forfeit_to: recipient,
            ..RedemptionConfig::default()
        };
        let mut vault = RedemptionVault::new(config, RATE, 0).unwrap();
        vault.deposit("alice", 1_000_000, 0).unwrap();
        if dave {
            vault.deposit("dave", 1_000_000, 0).unwrap();
        }
        let id = vault.request_redeem("alice", 1_000_000, day(20)).unwrap();
        vault.place_bid("alice", id, MAX_BID_BPS, day(20)).unwrap();
        assert_eq!(vault.claim("alice", id, day(30)).unwrap(), 1_000_000);
        let books = vault.accounting();
        assert_eq!(books.forfeited_to_holders, to_holders);
        assert_eq!(books.forfeited_to_protocol, to_protocol);
        assert_eq!(vault.assets_of("dave").unwrap(), dave_assets);
        assert_eq!(vault.yield_forfeited("alice"), 20_000);
        assert_books(&vault);
    }
}

#[test]
fn advance_runs_every_due_auction_in_order() {
    let config = RedemptionConfig {
        auction_period_ms: day(10),
        first_auction_ms: Some(day(5)),
        period_liquidity: 100,
        ..RedemptionConfig::default()
    };
    let mut vault = RedemptionVault::new(config.clone(), RATE, 0).unwrap();
    assert_eq!(vault.next_auction_ms(), day(5));
    vault.set_period_liquidity(700, day(1)).unwrap();
    let results = vault.advance_to(day(26)).unwrap();
    let runs: Vec<(u64, u128)> = results.iter().map(|r| (r.time_ms, r.liquidity)).collect();
    assert_eq!(runs, vec![(day(5), 700), (day(15), 100), (day(25), 100)]);
    assert_eq!(vault.auction_history().len(), 3);
    assert_eq!(vault.next_auction_ms(), day(35));
    assert_eq!(vault.period_liquidity(), 100);
    // An auction at exactly `now` runs before the operation.
    assert_eq!(vault.advance_to(day(35)).unwrap().len(), 1);
    assert_eq!(vault.advance_to(day(35)).unwrap().len(), 0);

    let bad = |config: RedemptionConfig| {
        matches!(
            RedemptionVault::new(config, RATE, day(1)),
            Err(VenueError::InvalidRange { .. })
        )
    };
    assert!(bad(RedemptionConfig {
        auction_period_ms: 0,
        ..RedemptionConfig::default()
    }));
    assert!(bad(RedemptionConfig {
        first_auction_ms: Some(0),
        ..RedemptionConfig::default()
    }));
    // Default: one period after creation.
    let later = RedemptionVault::new(RedemptionConfig::default(), RATE, day(1)).unwrap();
    assert_eq!(later.next_auction_ms(), day(31));
}

#[test]
fn transfers_carry_the_cost_basis() {
    let mut vault = vault(0);
    vault.deposit("alice", 1_000_000, 0).unwrap();
    // Day 10: 1.01 a share. Alice locks 400_000 (404_000, 4_000 of yield).
    let locked = vault.request_redeem("alice", 400_000, day(10)).unwrap();
    assert_eq!(vault.request(locked).unwrap().yield_assets, 4_000);
    assert_eq!(
        vault.transfer_shares("alice", "bob", 600_001, day(10)),
        Err(VenueError::InsufficientBalance {
            needed: 600_001,
            available: 600_000
        })
    );
    // Half her remaining 600_000 shares and half her 600_000 basis.
    vault
        .transfer_shares("alice", "bob", 300_000, day(10))
        .unwrap();
    assert_eq!(vault.holder("bob").unwrap().cost_basis, 300_000);
    assert_eq!(vault.holder("alice").unwrap().cost_basis, 300_000);
    // Bob's 300_000 shares: 303_000, of which 3_000 is yield since deposit.
    let id = vault.request_redeem("bob", 300_000, day(10)).unwrap();
    assert_eq!(vault.request(id).unwrap().yield_assets, 3_000);
    assert_eq!(vault.bid_cost(id, 5_000).unwrap(), 1_500);
    assert_books(&vault);
}

#[test]
fn config_defaults_and_unknown_fields() {
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error, MapDeserializer};

    let parse = |fields: Vec<(&'static str, u64)>| {
        let map = MapDeserializer::<_, Error>::new(
            fields
                .into_iter()
                .map(|(k, v)| (k.into_deserializer(), v.into_deserializer())),
        );
        RedemptionConfig::deserialize(map)
    };
    assert_eq!(parse(vec![]).unwrap(), RedemptionConfig::default());
    let config = parse(vec![("auction_period_ms", 5), ("period_liquidity", 7)]).unwrap();
    assert_eq!(config.auction_period_ms, 5);
    assert_eq!(config.period_liquidity, 7);
    assert_eq!(config.redemption_period_ms, DEFAULT_REDEMPTION_PERIOD_MS);
    assert!(parse(vec![("auction_period", 5)]).is_err());
}

/// Deterministic pseudo-random numbers (Knuth's MMIX LCG).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn assets_are_conserved_over_random_operations() {
    const ACCOUNTS: [&str; 5] = ["a", "b", "c", "d", "e"];
    for (seed, recipient) in [
        (1, ForfeitRecipient::Holders),
        (2, ForfeitRecipient::Protocol),
        (3, ForfeitRecipient::Holders),
    ] {
        let mut rng = Lcg(seed);
        let config = RedemptionConfig {
            auction_period_ms: day(7),
            redemption_period_ms: day(28),
            period_liquidity: 3_000_000,
            forfeit_to: recipient,
            ..RedemptionConfig::default()
        };
        let mut vault = RedemptionVault::new(config, RATE, 0).unwrap();
        let mut now = 0;
        let mut served = 0;
        for _ in 0..3_000 {
            now += rng.below(DAY_MS / 2);
            let who = ACCOUNTS[rng.below(5) as usize];
            let own: Vec<u64> = vault
                .requests_of(who)
                .filter(|r| r.assets + r.served_assets > 0)
                .map(|r| r.id)
                .collect();
            let pick = |rng: &mut Lcg| {
                if own.is_empty() || rng.below(10) == 0 {
                    rng.below(40) + 1 // sometimes unknown or someone else's
                } else {
                    own[rng.below(own.len() as u64) as usize]
                }
            };
            // Refusals are part of the test: the books must hold anyway.
            let _ = match rng.below(9) {
                0 | 1 => vault
                    .deposit(who, u128::from(rng.below(2_000_000)), now)
                    .map(drop),
                2 => {
                    let held = vault.shares_of(who);
                    let shares = u128::from(rng.below(u64::try_from(held).unwrap() + 2));
                    vault.request_redeem(who, shares, now).map(drop)
                }
                3 | 4 => {
                    let id = pick(&mut rng);
                    let bps = rng.below(10_500) as u16;
                    vault.place_bid(who, id, bps, now)
                }
                5 => {
                    let id = pick(&mut rng);
                    vault.cancel_bid(who, id, now)
                }
                6 => {
                    let id = pick(&mut rng);
                    vault.claim(who, id, now).map(drop)
                }
                7 => {
                    let to = ACCOUNTS[rng.below(5) as usize];
                    let shares = u128::from(rng.below(300_000));
                    vault.transfer_shares(who, to, shares, now)
                }
                _ => match rng.below(3) {
                    0 => vault.set_rate(u128::from(rng.below(200)) * (RAY / 1_000), now),
                    1 => vault.set_period_liquidity(u128::from(rng.below(5_000_000)), now),
                    _ => vault.advance_to(now).map(drop),
                },
            };
            assert_books(&vault);
        }
        for auction in vault.auction_history() {
            assert!(auction.served_assets <= auction.liquidity);
            assert_eq!(
                auction.paid_assets + auction.forfeited_assets,
                auction.served_assets
            );
            served += auction.served_assets;
        }
        assert!(served > 0, "some auctions served bids");
        // Everyone leaves: every request is claimed, every share redeemed.
        now += day(60);
        for who in ACCOUNTS {
            let shares = vault.shares_of(who);
            if shares > 0 {
                vault.request_redeem(who, shares, now).unwrap();
            }
        }
        now += day(60);
        let ids: Vec<(u64, String)> = vault
            .requests
            .values()
            .filter(|r| r.assets + r.served_assets > 0)
            .map(|r| (r.id, r.owner.clone()))
            .collect();
        for (id, who) in ids {
            vault.claim(&who, id, now).unwrap();
        }
        let books = vault.accounting();
        assert_eq!(books.locked_assets, 0);
        assert_eq!(vault.total_shares(), 0);
        assert!(books.is_conserved(), "{books:?}");
        let forfeited: u128 = ACCOUNTS.iter().map(|a| vault.yield_forfeited(a)).sum();
        assert_eq!(
            forfeited,
            books.forfeited_to_holders + books.forfeited_to_protocol
        );
        let claimed: u128 = vault.holders.values().map(|h| h.claimed).sum();
        assert_eq!(claimed, books.paid_out);
    }
}
