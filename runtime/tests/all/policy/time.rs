//! Policy time never goes back: a block time that moves backwards, or
//! jumps back and forth, restarts no per-day counter and no cooldown, and
//! the clock survives a restart with the journaled state.

use std::sync::Arc;

use stratbox_runtime::Policy;
use stratbox_runtime::policy::{DenialCode, PolicyEngine};

use super::harness::{Desk, Seen, compile, swap_in};

const HOUR: u64 = 3_600_000;
const DAY: u64 = 24 * HOUR;

const TWO_PER_DAY: &str = "version = 1\nchains = [1]\n[swap]\nmax_per_day = 2\n";

fn fill_the_day(desk: &mut Desk) {
    for _ in 0..2 {
        desk.accept(&swap_in("USDC", "ETH", "1"));
        desk.end_tick();
    }
}

fn assert_day_full(desk: &mut Desk, why: &str) {
    let denial = desk.deny(&swap_in("USDC", "ETH", "1"));
    assert_eq!(
        (denial.code.as_str(), denial.detail.as_str()),
        (
            DenialCode::TooManyPerDay.as_str(),
            "TOO_MANY_PER_DAY: kind=swap count=2 max=2"
        ),
        "{why}"
    );
}

#[test]
fn per_day_counters_do_not_reset_when_the_block_time_goes_back() {
    let mut desk = Desk::new(TWO_PER_DAY);
    let start = desk.now_ms;
    fill_the_day(&mut desk);
    assert_day_full(&mut desk, "the day is full");
    desk.now_ms = start - DAY;
    assert_day_full(&mut desk, "a block from yesterday is still today");
    desk.now_ms = start - 30 * DAY;
    assert_day_full(&mut desk, "a block from last month too");
    desk.now_ms = start;
    assert_day_full(&mut desk, "and back again");
    assert_eq!(desk.engine.state().actions_today(), 2);
}

#[test]
fn back_and_forth_block_times_give_no_extra_actions() {
    let mut desk = Desk::new(TWO_PER_DAY);
    // 22:13 UTC: two hours later is the next UTC day.
    let today = desk.now_ms;
    let tomorrow = today + 2 * HOUR;
    let mut accepted = 0;
    for step in 0..20 {
        desk.now_ms = if step % 2 == 0 { today } else { tomorrow };
        if let Seen::Accepted(_) = desk.emit(&swap_in("USDC", "ETH", "1")) {
            accepted += 1;
        }
        desk.end_tick();
    }
    assert_eq!(
        accepted, 3,
        "one today before the clock first flipped, then two for tomorrow, however often it flips back"
    );
    assert_eq!(desk.engine.state().now_ms(), tomorrow);
}

#[test]
fn cooldowns_do_not_restart_when_the_block_time_goes_back() {
    let mut desk = Desk::new("version = 1\nchains = [1]\n[swap]\ncooldown = \"1h\"\n");
    let start = desk.now_ms;
    desk.accept(&swap_in("USDC", "ETH", "1"));
    desk.end_tick();
    desk.now_ms = start - 10 * HOUR;
    assert_eq!(
        desk.deny(&swap_in("USDC", "ETH", "1")).detail,
        "COOLDOWN_ACTIVE: kind=swap remaining_ms=3600000 cooldown_ms=3600000"
    );
    desk.now_ms = start + HOUR / 2;
    assert_eq!(
        desk.deny(&swap_in("USDC", "ETH", "1")).detail,
        "COOLDOWN_ACTIVE: kind=swap remaining_ms=1800000 cooldown_ms=3600000"
    );
    // A jump ahead, an action, and a jump back: the cooldown runs from the
    // latest time seen.
    desk.now_ms = start + 5 * HOUR;
    desk.accept(&swap_in("USDC", "ETH", "1"));
    desk.end_tick();
    desk.now_ms = start + 2 * HOUR;
    assert_eq!(
        desk.deny(&swap_in("USDC", "ETH", "1")).detail,
        "COOLDOWN_ACTIVE: kind=swap remaining_ms=3600000 cooldown_ms=3600000"
    );
    desk.now_ms = start + 6 * HOUR;
    desk.accept(&swap_in("USDC", "ETH", "1"));
}

#[test]
fn policy_time_survives_a_restart() {
    let mut desk = Desk::new(TWO_PER_DAY);
    let start = desk.now_ms;
    fill_the_day(&mut desk);
    let journaled = desk.engine.persistent_state().expect("state");
    let engine = PolicyEngine::with_state(Arc::new(compile(TWO_PER_DAY)), &journaled).unwrap();
    assert_eq!(engine.state().now_ms(), start);
    let mut restarted = Desk::with_engine(engine);
    restarted.now_ms = start - DAY;
    assert_day_full(&mut restarted, "after a restart, yesterday's block");
}
