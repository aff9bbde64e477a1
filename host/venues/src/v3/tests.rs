//! Reference cases for the v3 pool. Expected values were computed with an
//! independent big-integer evaluation of the whitepaper formulas (Python,
//! exact integers), step by step, not by running this code.

use alloy_primitives::U256;

use super::*;

const E18: u128 = 1_000_000_000_000_000_000;
const L: u128 = 100_000_000_000_000_000_000; // 1e20

fn pool_at_tick_zero() -> Pool {
    Pool::new(q96(), 3_000, 60).unwrap()
}

#[test]
fn minting_in_range_deposits_both_tokens_rounded_up() {
    let mut pool = pool_at_tick_zero();
    let (_, amount0, amount1) = pool.mint(-600, 600, L).unwrap();
    // L * (1/sqrt(p_0) - 1/sqrt(p_600)) and L * (sqrt(p_0) - sqrt(p_-600)):
    // symmetric around tick 0, both 2.955301087913716969e18.
    assert_eq!(amount0, 2_955_301_087_913_716_969);
    assert_eq!(amount1, 2_955_301_087_913_716_969);
    assert_eq!(pool.liquidity(), L);
}

#[test]
fn swap_across_a_tick_boundary_matches_the_reference() {
    let mut pool = pool_at_tick_zero();
    pool.mint(-600, 600, L).unwrap();
    pool.mint(-60, 60, L).unwrap();
    assert_eq!(pool.liquidity(), 2 * L);
    // Sell exactly 1 token0: the first 0.6 moves the price to tick -60 with
    // liquidity 2e20, the narrow position leaves, the rest trades against
    // 1e20.
    let outcome = pool.swap(true, true, E18, None).unwrap();
    assert_eq!(outcome.amount_in, E18);
    assert_eq!(outcome.amount_out, 991_281_630_661_518_140);
    assert_eq!(outcome.fee, 3_000_000_000_000_001);
    assert_eq!(outcome.ticks_crossed, 1);
    assert!(outcome.complete);
    assert_eq!(pool.liquidity(), L);
    assert_eq!(
        pool.sqrt_price_x96(),
        U256::from(78_680_104_762_184_586_859_210_198_929u128)
    );
    assert_eq!(pool.tick(), -139);
}

#[test]
fn fees_accrue_only_while_in_range() {
    let mut pool = pool_at_tick_zero();
    let (wide, ..) = pool.mint(-6_000, 6_000, L).unwrap();
    let (above, ..) = pool.mint(600, 1_200, L).unwrap();
    // Trade back and forth around tick 0: never reaches tick 600.
    for _ in 0..5 {
        pool.swap(true, true, E18 / 10, None).unwrap();
        pool.swap(false, true, E18 / 10, None).unwrap();
    }
    let (wide0, wide1) = pool.uncollected_fees(wide).unwrap();
    let (above0, above1) = pool.uncollected_fees(above).unwrap();
    assert!(
        wide0 > 0 && wide1 > 0,
        "the in-range position earns both tokens"
    );
    assert_eq!(
        (above0, above1),
        (0, 0),
        "the out-of-range position earns nothing"
    );
    // All fees paid went to the only in-range position (up to rounding).
    let paid = 5 * (E18 / 10 * 3 / 1_000);
    assert!(paid.abs_diff(wide0) <= 5, "{paid} vs {wide0}");
}

#[test]
fn burn_and_collect_return_no_more_than_deposited() {
    let mut pool = pool_at_tick_zero();
    let (id, deposited0, deposited1) = pool.mint(-600, 600, L).unwrap();
    let principal = pool.burn(id).unwrap();
    assert!(principal.0 <= deposited0 && principal.1 <= deposited1);
    assert!(deposited0 - principal.0 <= 1 && deposited1 - principal.1 <= 1);
    assert_eq!(pool.liquidity(), 0);
    assert_eq!(pool.collect(id).unwrap(), principal);
    assert!(
        pool.position(id).is_none(),
        "a burned and collected position is gone"
    );
    assert!(
        pool.tick_info(-600).is_none(),
        "ticks without liquidity are cleared"
    );
}

#[test]
fn exact_out_pays_at_least_the_exact_in_equivalent() {
    let mut a = pool_at_tick_zero();
    a.mint(-6_000, 6_000, L).unwrap();
    let mut b = a.clone();
    let by_in = a.swap(false, true, E18, None).unwrap();
    let by_out = b.swap(false, false, by_in.amount_out, None).unwrap();
    assert_eq!(by_out.amount_out, by_in.amount_out);
    assert!(by_out.amount_in <= by_in.amount_in);
    assert!(by_in.amount_in - by_out.amount_in <= 2);
}

#[test]
fn liquidity_for_amounts_fits_the_budget() {
    let pool = pool_at_tick_zero();
    let (lower, upper) = (
        sqrt_ratio_at_tick(-600).unwrap(),
        sqrt_ratio_at_tick(600).unwrap(),
    );
    let liquidity =
        liquidity_for_amounts(pool.sqrt_price_x96(), lower, upper, 3 * E18, 3 * E18).unwrap();
    let (need0, need1) = pool
        .amounts_for_liquidity(-600, 600, liquidity, true)
        .unwrap();
    assert!(need0 <= 3 * E18 && need1 <= 3 * E18);
    assert!(need0 > 3 * E18 - E18 / 1_000);
    assert_eq!(tick_for_price(1.0, 60).unwrap(), 0);
    assert_eq!(tick_for_price(0.99, 60).unwrap(), -120);
    assert_eq!(tick_for_price(2.0, 1).unwrap(), 6_931);
}

#[test]
fn limits_and_ranges_are_validated() {
    let mut pool = pool_at_tick_zero();
    assert!(matches!(
        pool.mint(-61, 60, L),
        Err(crate::VenueError::InvalidRange { .. })
    ));
    assert!(matches!(
        pool.mint(60, -60, L),
        Err(crate::VenueError::InvalidRange { .. })
    ));
    assert!(matches!(
        pool.swap(true, true, E18, Some(q96() + U256::from(1u8))),
        Err(crate::VenueError::InvalidRange { .. })
    ));
    // No liquidity at all: nothing fills.
    let outcome = pool.swap(true, true, E18, None).unwrap();
    assert!(!outcome.complete);
    assert_eq!(outcome.amount_out, 0);
}
