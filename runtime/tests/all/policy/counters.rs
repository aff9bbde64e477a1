//! Cooldowns and counts per tick and per UTC day; a dropped tick gives back
//! the clock and the counts its actions took.

use stratbox_runtime::types::Action;

use super::harness::{Desk, lending, swap_in};

const HOUR: u64 = 3_600_000;

#[test]
fn cooldown_between_actions_of_a_kind() {
    let mut desk = Desk::new("version = 1\nchains = [1]\n[swap]\ncooldown = \"1h\"\n[supply]\n");
    desk.accept(&swap_in("USDC", "ETH", "1"));
    desk.end_tick();
    let denial = desk.deny(&swap_in("USDC", "ETH", "1"));
    assert_eq!(denial.rule, "swap.cooldown");
    assert_eq!(
        denial.detail,
        "COOLDOWN_ACTIVE: kind=swap remaining_ms=3600000 cooldown_ms=3600000"
    );
    desk.accept(&lending("supply", "aave", "USDC", "1"));
    desk.advance(HOUR - 60_000);
    assert_eq!(
        desk.deny(&swap_in("USDC", "ETH", "1")).detail,
        "COOLDOWN_ACTIVE: kind=swap remaining_ms=60000 cooldown_ms=3600000"
    );
    desk.advance(60_000);
    desk.accept(&swap_in("USDC", "ETH", "1"));
}

#[test]
fn a_dropped_tick_does_not_start_a_cooldown() {
    let mut desk = Desk::new("version = 1\nchains = [1]\n[swap]\ncooldown = \"1h\"\n");
    desk.accept(&swap_in("USDC", "ETH", "1"));
    desk.drop_tick();
    desk.accept(&swap_in("USDC", "ETH", "1"));
}

#[test]
fn counts_per_tick_by_kind_and_overall() {
    let policy = "version = 1\nchains = [1]\n[limits]\nmax_actions_per_tick = 2\n[swap]\nmax_per_tick = 1\n[supply]\n[hold]\n";
    let mut desk = Desk::new(policy);
    desk.accept(&swap_in("USDC", "ETH", "1"));
    let denial = desk.deny(&swap_in("USDC", "ETH", "1"));
    assert_eq!(
        (denial.rule.as_str(), denial.detail.as_str()),
        (
            "swap.max_per_tick",
            "TOO_MANY_PER_TICK: kind=swap count=1 max=1"
        )
    );
    desk.accept(&Action::Hold("holds are not counted".into()));
    desk.accept(&lending("supply", "aave", "USDC", "1"));
    let denial = desk.deny(&lending("supply", "aave", "USDC", "1"));
    assert_eq!(
        (denial.rule.as_str(), denial.detail.as_str()),
        (
            "limits.max_actions_per_tick",
            "TOO_MANY_PER_TICK: kind=any count=2 max=2"
        )
    );
    desk.end_tick();
    desk.accept(&swap_in("USDC", "ETH", "1"));
}

#[test]
fn counts_per_utc_day() {
    let policy = "version = 1\nchains = [1]\n[limits]\nmax_actions_per_day = 3\n[swap]\nmax_per_day = 2\n[repay]\n";
    let mut desk = Desk::new(policy);
    // 22:13 UTC: the day ends in under two hours.
    for _ in 0..2 {
        desk.accept(&swap_in("USDC", "ETH", "1"));
        desk.end_tick();
    }
    assert_eq!(
        desk.deny(&swap_in("USDC", "ETH", "1")).detail,
        "TOO_MANY_PER_DAY: kind=swap count=2 max=2"
    );
    desk.accept(&lending("repay", "aave", "USDC", "1"));
    desk.end_tick();
    let denial = desk.deny(&lending("repay", "aave", "USDC", "1"));
    assert_eq!(
        (denial.rule.as_str(), denial.detail.as_str()),
        (
            "limits.max_actions_per_day",
            "TOO_MANY_PER_DAY: kind=any count=3 max=3"
        )
    );
    // A dropped tick gives its count back.
    desk.advance(2 * HOUR);
    desk.accept(&swap_in("USDC", "ETH", "1"));
    desk.accept(&lending("repay", "aave", "USDC", "1"));
    desk.drop_tick();
    assert_eq!(
        desk.engine.state().actions_today(),
        0,
        "a new day, and the drop"
    );
    desk.accept(&swap_in("USDC", "ETH", "1"));
    desk.accept(&swap_in("USDC", "ETH", "1"));
}
