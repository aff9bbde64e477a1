//! An allowance on a token bounds every way the token can leave the
//! account: each action is charged the most it can spend (an exact-out
//! swap its maximum input, an LP deposit both maxima, supplies, repayments
//! and vault deposits their amounts), and an action whose most cannot be
//! worked out is denied.

use stratbox_runtime::policy::{DenialCode, ExactOutBound};
use stratbox_runtime::types::{Action, Amount, AssetAmount, PoolState, VaultState};

use super::harness::{
    Desk, Seen, lending, lp_open, swap_in, swap_out, units, vault_deposit, with_slippage,
};

/// BTC has 8 decimals.
const BTC: u128 = 100_000_000;

/// Swaps, LP deposits, lending and vault deposits, all charged to one BTC
/// allowance (and an ETH one).
const POLICY: &str = r#"
version = 1
chains = [1]

[swap]
[lp_open]
[supply]
[repay]
[vault_deposit]

[allowances.btc]
token = "BTC"
balance = "1"

[allowances.eth]
token = "ETH"
balance = "100"
"#;

/// The standard oracle plus ETH at 0.0625 BTC (exact in binary), an ETH/BTC
/// pool and a BTC vault.
fn new_desk(policy: &str) -> Desk {
    let mut desk = Desk::new(policy);
    desk.oracle.set_price("ETH", "BTC", 0.0625);
    desk.oracle.pools.insert(
        "ETH/BTC-0.3".into(),
        PoolState {
            pool: "ETH/BTC-0.3".into(),
            token0: "ETH".into(),
            token1: "BTC".into(),
            reserve0: Amount::ZERO,
            reserve1: Amount::ZERO,
            sqrt_price_x96: None,
            tick: None,
            liquidity: None,
            fee_pips: 3000,
            price: 0.0625,
        },
    );
    desk.oracle.vaults.insert(
        "btc-vault".into(),
        VaultState {
            vault: "btc-vault".into(),
            asset: "BTC".into(),
            share_price: 1.0,
            apy: None,
            shares: Amount::ZERO,
            pending_redemption: Amount::ZERO,
            claimable_at_ms: None,
        },
    );
    desk
}

/// The issue's attack: an allowance of 0.2 BTC, then exact-out swaps that
/// name only the bought amount. Before the fix 40 of 40 were accepted and
/// nothing was charged; now each is charged its maximum input and the sum
/// charged never exceeds the allowance.
#[test]
fn exact_out_swaps_are_charged_their_maximum_input() {
    let policy =
        "version = 1\nchains = [1]\n[swap]\n[allowances.btc]\ntoken = \"BTC\"\nbalance = \"0.2\"\n";
    let mut desk = new_desk(policy);
    // 1 ETH at 0.0625 BTC plus 50 bps: at most 0.0628125 BTC.
    let per_swap = 6_281_250;
    let mut accepted = 0u128;
    for _ in 0..40 {
        match desk.emit(&swap_out("BTC", "ETH", "1")) {
            Seen::Accepted(id) => {
                accepted += 1;
                desk.end_tick();
                // The venue pays the price and the fee, within the bound.
                desk.fill_spending(id, vec![btc(6_268_750)]);
            }
            Seen::Denied(denial) => {
                assert_eq!(denial.code, DenialCode::AllowanceExceeded.as_str());
                assert_eq!(denial.rule, "allowances.btc");
                assert_eq!(
                    denial.detail,
                    "ALLOWANCE_EXCEEDED: allowance=btc amount=0.0628125 available=0.0115625 token=BTC"
                );
                desk.end_tick();
            }
            Seen::Invalid(denial) => panic!("{denial:?}"),
        }
    }
    assert_eq!(
        accepted, 3,
        "three maxima fit in 0.2 BTC, a fourth does not"
    );
    assert!(accepted * per_swap <= BTC / 5);
    assert_eq!(desk.allowance("btc"), (BTC / 5 - 3 * per_swap, 0));
}

/// The amount reserved is exactly the bound the simulated venue enforces
/// and the EVM compiler writes into `amountInMaximum`.
#[test]
fn the_charge_is_the_shared_exact_out_bound() {
    let mut desk = new_desk(POLICY);
    let action = with_slippage(swap_out("BTC", "ETH", "3.3"), 75);
    desk.accept(&action);
    let bound = ExactOutBound {
        amount_out: units("ETH", "3.3").to_u128(),
        price: 0.0625,
        sell_decimals: 8,
        buy_decimals: 18,
        max_slippage_bps: 75,
    }
    .max_input()
    .unwrap();
    assert_eq!(desk.allowance("btc").1, bound);
    assert_eq!(bound, 20_779_688, "0.20625 BTC + 75 bps, rounded up");
    // The bought token is not spent: nothing is reserved from ETH.
    let eth = desk.engine.state().allowance("eth");
    assert!(eth.is_none_or(|a| a.reserved == 0), "{eth:?}");
}

/// Every kind that can move BTC out of the account is charged the most it
/// can spend, so a second action of 0.6 BTC or more never fits in 1 BTC.
#[test]
fn every_kind_that_can_move_a_token_out_is_charged_what_it_can_spend() {
    let cases: Vec<(&str, Action, u128)> = vec![
        ("exact-in swap", swap_in("BTC", "ETH", "0.6"), 60_000_000),
        // 10 ETH at 0.0625 BTC plus 50 bps.
        ("exact-out swap", swap_out("BTC", "ETH", "10"), 62_812_500),
        (
            "LP deposit",
            lp_open("ETH/BTC-0.3", units("ETH", "1"), units("BTC", "0.6")),
            60_000_000,
        ),
        (
            "supply",
            lending("supply", "aave", "BTC", "0.6"),
            60_000_000,
        ),
        ("repay", lending("repay", "aave", "BTC", "0.6"), 60_000_000),
        (
            "vault deposit",
            vault_deposit("btc-vault", units("BTC", "0.6")),
            60_000_000,
        ),
    ];
    for (name, action, charged) in cases {
        let mut desk = new_desk(POLICY);
        desk.accept(&action);
        assert_eq!(desk.allowance("btc"), (BTC, charged), "{name}");
        let denial = desk.deny(&action);
        assert_eq!(
            (denial.code.as_str(), denial.rule.as_str()),
            (DenialCode::AllowanceExceeded.as_str(), "allowances.btc"),
            "{name}"
        );
        desk.drop_tick();
        assert_eq!(desk.allowance("btc"), (BTC, 0), "{name}: given back");
    }
    // Both maxima of an LP deposit are charged.
    let mut desk = new_desk(POLICY);
    desk.accept(&lp_open(
        "ETH/BTC-0.3",
        units("ETH", "2"),
        units("BTC", "0.1"),
    ));
    assert_eq!(desk.allowance("eth").1, units("ETH", "2").to_u128());
    assert_eq!(desk.allowance("btc").1, 10_000_000);
}

/// Without a price of the bought token in the sold one, an exact-out
/// swap's most cannot be worked out: denied with a typed code, and nothing
/// is reserved.
#[test]
fn an_exact_out_swap_without_a_price_is_denied_not_accepted() {
    let mut desk = new_desk(POLICY);
    let denial = desk.deny(&swap_out("BTC", "PEPE", "1000"));
    assert_eq!(
        DenialCode::parse(&denial.code),
        Some(DenialCode::MaxSpendUnknown)
    );
    assert_eq!(denial.rule, "allowances.btc");
    assert_eq!(
        denial.detail,
        "MAX_SPEND_UNKNOWN: token=BTC price=PEPE/BTC reason=no_price"
    );
    assert!(desk.engine.state().allowance("btc").is_none(), "untouched");

    // A price the bound cannot use is no better than none.
    desk.oracle.set_price("PEPE", "BTC", 0.0);
    let denial = desk.deny(&swap_out("BTC", "PEPE", "1000"));
    assert_eq!(
        denial.detail,
        "MAX_SPEND_UNKNOWN: token=BTC price=PEPE/BTC reason=bad_price"
    );
}

/// `max_amount` on the sold token limits what an exact-out swap can pay,
/// not only the amount it names; and a value limit values that maximum.
#[test]
fn amount_and_value_limits_see_the_maximum_input() {
    let policy = "version = 1\nchains = [1]\n[swap]\nmax_amount = { BTC = \"0.5\" }\n";
    let mut desk = new_desk(policy);
    let denial = desk.deny(&swap_out("BTC", "ETH", "10"));
    assert_eq!(denial.rule, "swap.max_amount.BTC");
    assert_eq!(
        denial.detail,
        "AMOUNT_ABOVE_MAX: amount=0.628125 max=0.5 token=BTC"
    );
    desk.accept(&swap_out("BTC", "ETH", "7"));

    let policy = "version = 1\nquote = \"USDC\"\nchains = [1]\n[swap]\nmax_value = \"3015\"\n";
    let mut desk = new_desk(policy);
    // 1 ETH for USDC at 3000, plus 50 bps: 3015 USDC can be paid.
    desk.accept(&swap_out("USDC", "ETH", "1"));
    let denial = desk.deny(&with_slippage(swap_out("USDC", "ETH", "1"), 51));
    assert_eq!(
        denial.detail,
        "VALUE_ABOVE_MAX: value=3015.3 max=3015 quote=USDC"
    );
}

/// A venue that reports spending more than was reserved is charged what it
/// spent: the balance never claims more than is left.
#[test]
fn a_fill_above_the_reservation_is_charged_in_full() {
    let mut desk = new_desk(POLICY);
    let id = desk.accept(&swap_out("BTC", "ETH", "10"));
    desk.end_tick();
    desk.fill_spending(id, vec![btc(70_000_000)]);
    assert_eq!(desk.allowance("btc"), (30_000_000, 0));
    // Within the reservation, the reservation is charged.
    let id = desk.accept(&swap_in("BTC", "ETH", "0.1"));
    desk.end_tick();
    desk.fill_spending(id, vec![btc(5_000_000)]);
    assert_eq!(desk.allowance("btc"), (20_000_000, 0));
}

fn btc(units: u128) -> AssetAmount {
    AssetAmount {
        asset: "BTC".into(),
        amount: Amount::from_u128(units),
    }
}
