//! Composed conditions: all-of, any-of, none-of, and tables of tests, each
//! failure naming the test by its path.

use super::harness::{Case, Expect, lending, run_cases, swap_in, swap_out};

fn deny(rule: &'static str, detail: &'static str) -> Expect {
    Expect::Deny {
        code: "CONDITION_FAILED",
        rule,
        detail,
    }
}

const ANY_OF: &str = r#"
version = 1
quote = "USDC"
chains = [1]
[swap.require]
any_of = [
    { sell = ["ETH"] },
    { buy = ["ETH"], max_value = "1000" },
]
"#;

const NONE_OF: &str = r#"
version = 1
quote = "USDC"
chains = [1]
[require]
none_of = [
    { kind = ["borrow"], token = ["ETH"] },
    { any_of = [{ sell = ["PEPE"] }, { buy = ["PEPE"] }] },
]
[swap]
[borrow]
"#;

const ALL_OF: &str = r#"
version = 1
chains = [1]
[require]
all_of = [{ chain = [1] }, { hours_utc = [8, 20] }]
[swap]
"#;

#[test]
fn any_of_holds_when_one_branch_does() {
    run_cases(vec![
        Case {
            name: "first branch",
            policy: ANY_OF,
            action: swap_in("ETH", "USDC", "10"),
            expect: Expect::Accept,
        },
        Case {
            name: "second branch: buying ETH with little value",
            policy: ANY_OF,
            action: swap_in("USDC", "ETH", "999"),
            expect: Expect::Accept,
        },
        Case {
            name: "no branch",
            policy: ANY_OF,
            action: swap_in("USDC", "ETH", "1001"),
            expect: deny(
                "swap.require.any_of",
                "CONDITION_FAILED: field=any_of alternatives=2",
            ),
        },
    ]);
}

#[test]
fn none_of_names_the_branch_that_matched() {
    run_cases(vec![
        Case {
            name: "borrowing USDC",
            policy: NONE_OF,
            action: lending("borrow", "aave", "USDC", "10"),
            expect: Expect::Accept,
        },
        Case {
            name: "borrowing ETH",
            policy: NONE_OF,
            action: lending("borrow", "aave", "ETH", "1"),
            expect: deny(
                "require.none_of[0]",
                "CONDITION_FAILED: field=none_of matched=0",
            ),
        },
        Case {
            name: "buying PEPE, through a nested any_of",
            policy: NONE_OF,
            action: swap_out("USDC", "PEPE", "10"),
            expect: deny(
                "require.none_of[1]",
                "CONDITION_FAILED: field=none_of matched=1",
            ),
        },
        Case {
            name: "a plain swap",
            policy: NONE_OF,
            action: swap_in("USDC", "ETH", "10"),
            expect: Expect::Accept,
        },
    ]);
}

#[test]
fn all_of_names_the_failing_test() {
    // The desk's clock starts at 22:13 UTC.
    run_cases(vec![Case {
        name: "outside trading hours",
        policy: ALL_OF,
        action: swap_in("USDC", "ETH", "10"),
        expect: deny(
            "require.all_of[1].hours_utc",
            "CONDITION_FAILED: field=hours_utc hour=22 from=8 to=20",
        ),
    }]);
    let mut desk = super::harness::Desk::new(ALL_OF);
    desk.advance(11 * 3_600_000); // 09:13 the next day
    desk.accept(&swap_in("USDC", "ETH", "10"));
}

#[test]
fn a_table_of_tests_must_all_hold_and_hours_wrap_around_midnight() {
    let policy = r#"
version = 1
chains = [1]
[swap.require]
sell = ["USDC"]
max_amount = { USDC = "100" }
hours_utc = [22, 6]
"#;
    run_cases(vec![
        Case {
            name: "all hold",
            policy,
            action: swap_in("USDC", "ETH", "100"),
            expect: Expect::Accept,
        },
        Case {
            name: "wrong side",
            policy,
            action: swap_in("ETH", "USDC", "1"),
            expect: deny(
                "swap.require.sell",
                "CONDITION_FAILED: field=sell value=ETH",
            ),
        },
        Case {
            name: "too much",
            policy,
            action: swap_in("USDC", "ETH", "200"),
            expect: deny(
                "swap.require.max_amount.USDC",
                "CONDITION_FAILED: field=max_amount amount=200 max=100 token=USDC",
            ),
        },
    ]);
}

#[test]
fn conditions_count_as_rules() {
    let policy = super::harness::compile(NONE_OF);
    // chains, swap, borrow, kind, token, sell, buy.
    assert_eq!(policy.rule_count(), 7);
}

const VENUE_SLIPPAGE_CHAIN: &str = r#"
version = 1
quote = "USDC"
chains = [1, 10]
[swap.require]
venue = ["uniswap-v3", "curve"]
max_slippage_bps = 40
[vault_request_redeem.require]
venue = ["usdc-vault"]
[supply.require]
chain = [10]
max_slippage_bps = 0
"#;

#[test]
fn venue_slippage_and_chain_conditions() {
    use super::harness::{units, vault_request_redeem, with_slippage, with_venue};
    let swap =
        |venue: &str, bps: u32| with_slippage(with_venue(swap_in("USDC", "ETH", "10"), venue), bps);
    run_cases(vec![
        Case {
            name: "listed venue, slippage at the limit",
            policy: VENUE_SLIPPAGE_CHAIN,
            action: swap("uniswap-v3", 40),
            expect: Expect::Accept,
        },
        Case {
            name: "unlisted venue",
            policy: VENUE_SLIPPAGE_CHAIN,
            action: swap("sushi", 10),
            expect: deny(
                "swap.require.venue",
                "CONDITION_FAILED: field=venue value=sushi",
            ),
        },
        Case {
            name: "no venue named",
            policy: VENUE_SLIPPAGE_CHAIN,
            action: swap_in("USDC", "ETH", "10"),
            expect: deny(
                "swap.require.venue",
                "CONDITION_FAILED: field=venue value=none",
            ),
        },
        Case {
            name: "slippage above the condition's limit",
            policy: VENUE_SLIPPAGE_CHAIN,
            action: swap("curve", 41),
            expect: deny(
                "swap.require.max_slippage_bps",
                "CONDITION_FAILED: field=max_slippage_bps bps=41 max=40",
            ),
        },
        Case {
            name: "a vault is the venue of a redemption",
            policy: VENUE_SLIPPAGE_CHAIN,
            action: vault_request_redeem("usdc-vault", units("USDC", "5")),
            expect: Expect::Accept,
        },
        Case {
            name: "redeeming from a vault outside the venue list",
            policy: VENUE_SLIPPAGE_CHAIN,
            action: vault_request_redeem("eth-vault", units("ETH", "1")),
            expect: deny(
                "vault_request_redeem.require.venue",
                "CONDITION_FAILED: field=venue value=eth-vault",
            ),
        },
        Case {
            name: "a chain the condition does not list (the desk is on chain 1)",
            policy: VENUE_SLIPPAGE_CHAIN,
            action: lending("supply", "aave", "USDC", "10"),
            expect: deny(
                "supply.require.chain",
                "CONDITION_FAILED: field=chain value=1",
            ),
        },
    ]);
    // On chain 10 the chain condition holds, and a slippage condition does
    // not concern a supply.
    let mut desk = super::harness::Desk::new(VENUE_SLIPPAGE_CHAIN);
    desk.chain_id = 10;
    desk.accept(&lending("supply", "aave", "USDC", "10"));
    // A swap on chain 10 with a listed venue passes too.
    desk.accept(&swap("curve", 5));
}
