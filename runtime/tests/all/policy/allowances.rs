//! Zodiac-style allowances: refills across periods capped at `max_refill`,
//! reservation at acceptance, consumption only on a fill, exact give-back
//! on a dropped tick or a venue failure, and survival across a restart.

use std::sync::Arc;

use stratbox_runtime::Policy;
use stratbox_runtime::policy::PolicyEngine;

use super::harness::{Desk, compile, swap_in};

const DAY: u64 = 86_400_000;
/// USDC has 6 decimals.
const USDC: u128 = 1_000_000;

const POLICY: &str = r#"
version = 1
quote = "USDC"
chains = [1]

[swap]

[allowances.usdc]
token = "USDC"
balance = "1000"
refill = "500"
max_refill = "1500"
period = "1d"
"#;

#[test]
fn refills_for_whole_elapsed_periods_up_to_the_cap() {
    let mut desk = Desk::new(POLICY);
    let id = desk.accept(&swap_in("USDC", "ETH", "800"));
    desk.end_tick();
    desk.fill(id);
    assert_eq!(desk.allowance("usdc"), (200 * USDC, 0));

    let denial = desk.deny(&swap_in("USDC", "ETH", "300"));
    assert_eq!(denial.code, "ALLOWANCE_EXCEEDED");
    assert_eq!(denial.rule, "allowances.usdc");
    assert_eq!(
        denial.detail,
        "ALLOWANCE_EXCEEDED: allowance=usdc amount=300 available=200 token=USDC"
    );

    desk.advance(DAY / 2);
    desk.deny(&swap_in("USDC", "ETH", "300"));
    assert_eq!(
        desk.allowance("usdc").0,
        200 * USDC,
        "half a period adds nothing"
    );

    desk.advance(DAY / 2);
    let id = desk.accept(&swap_in("USDC", "ETH", "300"));
    desk.end_tick();
    desk.fill(id);
    assert_eq!(
        desk.allowance("usdc").0,
        400 * USDC,
        "200 + one refill of 500 - 300"
    );

    desk.advance(5 * DAY);
    desk.accept(&swap_in("USDC", "ETH", "1"));
    assert_eq!(
        desk.allowance("usdc").0,
        1500 * USDC,
        "five refills, capped at max_refill"
    );
}

#[test]
fn reservations_stop_in_flight_overspending_and_only_fills_consume() {
    let mut desk = Desk::new(POLICY);
    desk.accept(&swap_in("USDC", "ETH", "600"));
    assert_eq!(desk.allowance("usdc"), (1000 * USDC, 600 * USDC));
    let denial = desk.deny(&swap_in("USDC", "ETH", "500"));
    assert_eq!(
        denial.detail,
        "ALLOWANCE_EXCEEDED: allowance=usdc amount=500 available=400 token=USDC"
    );

    // The tick fails: its actions are dropped and give back what they took.
    desk.drop_tick();
    assert_eq!(desk.allowance("usdc"), (1000 * USDC, 0));

    // Released, then refused by the venue: given back too.
    let id = desk.accept(&swap_in("USDC", "ETH", "1000"));
    desk.end_tick();
    assert_eq!(desk.allowance("usdc"), (1000 * USDC, 1000 * USDC));
    desk.fail(id);
    assert_eq!(desk.allowance("usdc"), (1000 * USDC, 0));

    // Released and filled: consumed.
    let id = desk.accept(&swap_in("USDC", "ETH", "700"));
    desk.end_tick();
    desk.fill(id);
    assert_eq!(desk.allowance("usdc"), (300 * USDC, 0));
    assert_eq!(desk.engine.state().in_flight().count(), 0);
}

#[test]
fn a_refused_action_takes_nothing_and_a_dropped_one_gives_back_only_what_it_took() {
    let policy = r#"
version = 1
quote = "USDC"
chains = [1]
[swap]
[allowances.usdc]
token = "USDC"
balance = "1000"
[allowances.value]
quote_value = true
balance = "500"
[allowances.eth]
token = "ETH"
balance = "1"
"#;
    let mut desk = Desk::new(policy);
    // Passes `usdc` (600 <= 1000) but not `value` (600 > 500): reserves nothing.
    let denial = desk.deny(&swap_in("USDC", "ETH", "600"));
    assert_eq!(denial.rule, "allowances.value");
    assert_eq!(
        denial.detail,
        "ALLOWANCE_EXCEEDED: allowance=value amount=600 available=500 quote=USDC"
    );
    assert_eq!(desk.allowance("usdc"), (1000 * USDC, 0));

    // Takes from `usdc` and `value`, not from `eth` (it names no ETH amount).
    desk.accept(&swap_in("USDC", "ETH", "400"));
    assert_eq!(desk.allowance("usdc").1, 400 * USDC);
    assert_eq!(desk.allowance("value").1, 400 * USDC);
    desk.accept(&swap_in("ETH", "USDC", "0.01"));
    assert_eq!(desk.allowance("eth").1, 10_000_000_000_000_000);
    assert_eq!(
        desk.allowance("value").1,
        430 * USDC,
        "0.01 ETH is worth 30 USDC"
    );
    desk.drop_tick();
    for name in ["usdc", "value", "eth"] {
        assert_eq!(
            desk.allowance(name).1,
            0,
            "{name} got back exactly what it lent"
        );
    }
}

#[test]
fn allowance_state_survives_a_restart() {
    let mut desk = Desk::new(POLICY);
    let spent = desk.accept(&swap_in("USDC", "ETH", "800"));
    desk.end_tick();
    desk.fill(spent);
    let in_flight = desk.accept(&swap_in("USDC", "ETH", "100"));
    desk.end_tick();
    let journaled = desk
        .engine
        .persistent_state()
        .expect("the engine has state");

    // A new process: the same policy, the journaled state.
    let engine = PolicyEngine::with_state(Arc::new(compile(POLICY)), &journaled).unwrap();
    let mut restarted = Desk::with_engine(engine);
    assert_eq!(restarted.allowance("usdc"), (200 * USDC, 100 * USDC));
    restarted.deny(&swap_in("USDC", "ETH", "150"));
    restarted.fill(in_flight);
    assert_eq!(restarted.allowance("usdc"), (100 * USDC, 0));
    assert_eq!(
        restarted.engine.persistent_state().map(|s| s.len() > 10),
        Some(true)
    );
}
