//! Every rule kind, allowed and denied, with the exact denial the guest
//! gets; and policies refused when they are compiled.

use stratbox_runtime::policy::{
    AssetCatalog, CompiledPolicy, DecimalError, PolicyConfig, PolicyError,
};
use stratbox_runtime::types::{Action, Amount};

use super::harness::{
    Case, Desk, Expect, assets, lending, lp_close, lp_collect, lp_open, run_cases, swap_in,
    swap_out, units, vault_deposit, vault_request_redeem, with_slippage, with_venue,
};

/// A policy for chain 1 with USDC as the quote asset.
macro_rules! policy {
    ($body:expr) => {
        concat!("version = 1\nquote = \"USDC\"\nchains = [1]\n", $body)
    };
}

fn deny(code: &'static str, rule: &'static str, detail: &'static str) -> Expect {
    Expect::Deny { code, rule, detail }
}

#[test]
fn kinds_chains_and_assets() {
    run_cases(vec![
        Case {
            name: "a kind with a table is allowed",
            policy: policy!("[swap]\n"),
            action: swap_in("USDC", "ETH", "100"),
            expect: Expect::Accept,
        },
        Case {
            name: "a kind without a table is denied",
            policy: policy!("[swap]\n"),
            action: lending("supply", "aave", "USDC", "100"),
            expect: deny(
                "KIND_NOT_ALLOWED",
                "supply",
                "KIND_NOT_ALLOWED: kind=supply",
            ),
        },
        Case {
            name: "hold needs its table too",
            policy: policy!("[swap]\n"),
            action: Action::Hold("waiting".into()),
            expect: deny("KIND_NOT_ALLOWED", "hold", "KIND_NOT_ALLOWED: kind=hold"),
        },
        Case {
            name: "hold with its table",
            policy: policy!("[hold]\n"),
            action: Action::Hold("waiting".into()),
            expect: Expect::Accept,
        },
        Case {
            name: "a chain not listed",
            policy: "version = 1\nchains = [10, 8453]\n[swap]\n",
            action: swap_in("USDC", "ETH", "100"),
            expect: deny(
                "CHAIN_NOT_ALLOWED",
                "chains",
                "CHAIN_NOT_ALLOWED: chain=1 kind=swap",
            ),
        },
        Case {
            name: "an asset the deployment does not hold is invalid",
            policy: policy!("[swap]\n"),
            action: Action::Swap(stratbox_runtime::types::Swap {
                sell: "USDC".into(),
                buy: "DOGE".into(),
                amount: stratbox_runtime::types::SwapAmount::ExactIn(Amount::from_u128(1)),
                max_slippage_bps: 50,
                venue: None,
            }),
            expect: Expect::Invalid {
                code: "UNKNOWN_ASSET",
            },
        },
    ]);
}

#[test]
fn deny_all_is_the_default() {
    let policy = CompiledPolicy::compile(&PolicyConfig::deny_all(), &assets()).unwrap();
    assert_eq!(policy.rule_count(), 1, "just the (empty) chain list");
    let mut desk = Desk::with_engine(stratbox_runtime::policy::PolicyEngine::new(
        std::sync::Arc::new(policy),
    ));
    let denial = desk.deny(&Action::Hold("anything".into()));
    assert_eq!(denial.detail, "KIND_NOT_ALLOWED: kind=hold");
}

#[test]
fn venues_tokens_and_slippage() {
    run_cases(vec![
        Case {
            name: "listed venue",
            policy: policy!("[swap]\nvenues = [\"uniswap-v3\"]\n"),
            action: with_venue(swap_in("USDC", "ETH", "100"), "uniswap-v3"),
            expect: Expect::Accept,
        },
        Case {
            name: "unlisted venue",
            policy: policy!("[swap]\nvenues = [\"uniswap-v3\"]\n"),
            action: with_venue(swap_in("USDC", "ETH", "100"), "sushi"),
            expect: deny(
                "VENUE_NOT_ALLOWED",
                "swap.venues",
                "VENUE_NOT_ALLOWED: kind=swap venue=sushi",
            ),
        },
        Case {
            name: "no venue while venues are listed",
            policy: policy!("[swap]\nvenues = [\"uniswap-v3\"]\n"),
            action: swap_in("USDC", "ETH", "100"),
            expect: deny(
                "VENUE_NOT_ALLOWED",
                "swap.venues",
                "VENUE_NOT_ALLOWED: kind=swap venue=none",
            ),
        },
        Case {
            name: "both tokens listed",
            policy: policy!("[swap]\ntokens = [\"ETH\", \"USDC\"]\n"),
            action: swap_in("USDC", "ETH", "100"),
            expect: Expect::Accept,
        },
        Case {
            name: "bought token not listed",
            policy: policy!("[swap]\ntokens = [\"ETH\", \"USDC\"]\n"),
            action: swap_in("USDC", "PEPE", "100"),
            expect: deny(
                "TOKEN_NOT_ALLOWED",
                "swap.tokens",
                "TOKEN_NOT_ALLOWED: token=PEPE kind=swap",
            ),
        },
        Case {
            name: "slippage at the limit",
            policy: policy!("[swap]\nmax_slippage_bps = 30\n"),
            action: with_slippage(swap_in("USDC", "ETH", "100"), 30),
            expect: Expect::Accept,
        },
        Case {
            name: "slippage above the limit",
            policy: policy!("[swap]\nmax_slippage_bps = 30\n"),
            action: with_slippage(swap_in("USDC", "ETH", "100"), 31),
            expect: deny(
                "SLIPPAGE_ABOVE_MAX",
                "swap.max_slippage_bps",
                "SLIPPAGE_ABOVE_MAX: bps=31 max=30",
            ),
        },
    ]);
}

#[test]
fn amounts_and_values() {
    run_cases(vec![
        Case {
            name: "amount at the limit",
            policy: policy!("[swap]\nmax_amount = { USDC = \"1000\" }\n"),
            action: swap_in("USDC", "ETH", "1000"),
            expect: Expect::Accept,
        },
        Case {
            name: "amount above the limit (the issue's example)",
            policy: policy!("[swap]\nmax_amount = { USDC = \"1000\" }\n"),
            action: swap_in("USDC", "ETH", "1500"),
            expect: deny(
                "AMOUNT_ABOVE_MAX",
                "swap.max_amount.USDC",
                "AMOUNT_ABOVE_MAX: amount=1500 max=1000 token=USDC",
            ),
        },
        Case {
            name: "fractional amounts stay exact",
            policy: policy!("[swap]\nmax_amount = { ETH = \"0.5\" }\n"),
            action: swap_in("ETH", "USDC", "0.500000000000000001"),
            expect: deny(
                "AMOUNT_ABOVE_MAX",
                "swap.max_amount.ETH",
                "AMOUNT_ABOVE_MAX: amount=0.500000000000000001 max=0.5 token=ETH",
            ),
        },
        Case {
            name: "exact-out limits the bought amount",
            policy: policy!("[swap]\nmax_amount = { ETH = \"1\" }\n"),
            action: swap_out("USDC", "ETH", "2"),
            expect: deny(
                "AMOUNT_ABOVE_MAX",
                "swap.max_amount.ETH",
                "AMOUNT_ABOVE_MAX: amount=2 max=1 token=ETH",
            ),
        },
        Case {
            name: "a token without a limit is not limited",
            policy: policy!("[swap]\nmax_amount = { ETH = \"1\" }\n"),
            action: swap_in("USDC", "ETH", "1000000"),
            expect: Expect::Accept,
        },
        Case {
            name: "value below the limit",
            policy: policy!("[swap]\nmax_value = \"5000\"\n"),
            action: swap_in("ETH", "USDC", "1"),
            expect: Expect::Accept,
        },
        Case {
            name: "value above the limit, priced by the oracle",
            policy: policy!("[swap]\nmax_value = \"2500\"\n"),
            action: swap_in("ETH", "USDC", "1"),
            expect: deny(
                "VALUE_ABOVE_MAX",
                "swap.max_value",
                "VALUE_ABOVE_MAX: value=3000 max=2500 quote=USDC",
            ),
        },
        Case {
            name: "the quote asset is worth its amount",
            policy: policy!("[swap]\nmax_value = \"2500\"\n"),
            action: swap_in("USDC", "ETH", "2500.000001"),
            expect: deny(
                "VALUE_ABOVE_MAX",
                "swap.max_value",
                "VALUE_ABOVE_MAX: value=2500.000001 max=2500 quote=USDC",
            ),
        },
        Case {
            name: "no price: fail closed",
            policy: policy!("[swap]\nmax_value = \"2500\"\n"),
            action: swap_in("PEPE", "USDC", "1"),
            expect: deny(
                "PRICE_UNAVAILABLE",
                "swap.max_value",
                "PRICE_UNAVAILABLE: token=PEPE quote=USDC",
            ),
        },
    ]);
}

#[test]
fn pools_markets_and_vaults() {
    run_cases(vec![
        Case {
            name: "listed pool, tokens read from the pool",
            policy: policy!(
                "[lp_open]\npools = [\"ETH/USDC-0.05\"]\ntokens = [\"ETH\", \"USDC\"]\nmax_amount = { USDC = \"1000\" }\n"
            ),
            action: lp_open("ETH/USDC-0.05", units("ETH", "0.1"), units("USDC", "300")),
            expect: Expect::Accept,
        },
        Case {
            name: "pool deposit above the limit",
            policy: policy!("[lp_open]\nmax_amount = { USDC = \"1000\" }\n"),
            action: lp_open("ETH/USDC-0.05", units("ETH", "1"), units("USDC", "2000")),
            expect: deny(
                "AMOUNT_ABOVE_MAX",
                "lp_open.max_amount.USDC",
                "AMOUNT_ABOVE_MAX: amount=2000 max=1000 token=USDC",
            ),
        },
        Case {
            name: "pool token not allowed",
            policy: policy!("[lp_open]\ntokens = [\"BTC\", \"USDC\"]\n"),
            action: lp_open("ETH/USDC-0.05", units("ETH", "1"), Amount::ZERO),
            expect: deny(
                "TOKEN_NOT_ALLOWED",
                "lp_open.tokens",
                "TOKEN_NOT_ALLOWED: token=ETH kind=lp_open",
            ),
        },
        Case {
            name: "unlisted pool",
            policy: policy!("[lp_open]\npools = [\"ETH/USDC-0.05\"]\n"),
            action: lp_open("PEPE/ETH-1", units("ETH", "1"), Amount::ZERO),
            expect: deny(
                "POOL_NOT_ALLOWED",
                "lp_open.pools",
                "POOL_NOT_ALLOWED: kind=lp_open venue=PEPE/ETH-1",
            ),
        },
        Case {
            name: "a pool the oracle does not know: fail closed",
            policy: policy!("[lp_open]\ntokens = [\"ETH\"]\n"),
            action: lp_open("nowhere", units("ETH", "1"), Amount::ZERO),
            expect: deny(
                "ORACLE_UNAVAILABLE",
                "lp_open.tokens",
                "ORACLE_UNAVAILABLE: read=pool id=nowhere",
            ),
        },
        Case {
            name: "listed lending market",
            policy: policy!("[supply]\nmarkets = [\"aave\"]\ntokens = [\"USDC\"]\n"),
            action: lending("supply", "aave", "USDC", "100"),
            expect: Expect::Accept,
        },
        Case {
            name: "unlisted lending market",
            policy: policy!("[supply]\nmarkets = [\"aave\"]\n"),
            action: lending("supply", "compound", "USDC", "100"),
            expect: deny(
                "MARKET_NOT_ALLOWED",
                "supply.markets",
                "MARKET_NOT_ALLOWED: kind=supply venue=compound",
            ),
        },
        Case {
            name: "vault deposit within value",
            policy: policy!("[vault_deposit]\nvaults = [\"usdc-vault\"]\nmax_value = \"500\"\n"),
            action: vault_deposit("usdc-vault", units("USDC", "500")),
            expect: Expect::Accept,
        },
        Case {
            name: "vault deposit above value (asset read from the vault)",
            policy: policy!("[vault_deposit]\nmax_value = \"500\"\n"),
            action: vault_deposit("usdc-vault", units("USDC", "600")),
            expect: deny(
                "VALUE_ABOVE_MAX",
                "vault_deposit.max_value",
                "VALUE_ABOVE_MAX: value=600 max=500 quote=USDC",
            ),
        },
        Case {
            name: "unlisted vault",
            policy: policy!("[vault_deposit]\nvaults = [\"usdc-vault\"]\n"),
            action: vault_deposit("eth-vault", units("ETH", "1")),
            expect: deny(
                "VAULT_NOT_ALLOWED",
                "vault_deposit.vaults",
                "VAULT_NOT_ALLOWED: kind=vault_deposit venue=eth-vault",
            ),
        },
    ]);
}

#[test]
fn closing_and_collecting_positions_and_requesting_redemptions() {
    run_cases(vec![
        Case {
            name: "lp_close with its table",
            policy: policy!("[lp_close]\n"),
            action: lp_close("lp-1"),
            expect: Expect::Accept,
        },
        Case {
            name: "lp_close without its table",
            policy: policy!("[lp_open]\n[lp_collect]\n"),
            action: lp_close("lp-1"),
            expect: deny(
                "KIND_NOT_ALLOWED",
                "lp_close",
                "KIND_NOT_ALLOWED: kind=lp_close",
            ),
        },
        Case {
            name: "lp_close outside the hours its condition allows (22:13 UTC)",
            policy: policy!("[lp_close.require]\nhours_utc = [8, 20]\n"),
            action: lp_close("lp-1"),
            expect: deny(
                "CONDITION_FAILED",
                "lp_close.require.hours_utc",
                "CONDITION_FAILED: field=hours_utc hour=22 from=8 to=20",
            ),
        },
        Case {
            name: "lp_close names no token, so a token condition cannot hold",
            policy: policy!("[lp_close.require]\ntoken = [\"ETH\"]\n"),
            action: lp_close("lp-1"),
            expect: deny(
                "CONDITION_FAILED",
                "lp_close.require.token",
                "CONDITION_FAILED: field=token value=none",
            ),
        },
        Case {
            name: "lp_collect with its table",
            policy: policy!("[lp_collect]\n"),
            action: lp_collect("lp-2"),
            expect: Expect::Accept,
        },
        Case {
            name: "lp_collect without its table",
            policy: policy!("[lp_close]\n"),
            action: lp_collect("lp-2"),
            expect: deny(
                "KIND_NOT_ALLOWED",
                "lp_collect",
                "KIND_NOT_ALLOWED: kind=lp_collect",
            ),
        },
        Case {
            name: "lp_collect on a chain not listed",
            policy: "version = 1\nchains = [10]\n[lp_collect]\n",
            action: lp_collect("lp-2"),
            expect: deny(
                "CHAIN_NOT_ALLOWED",
                "chains",
                "CHAIN_NOT_ALLOWED: chain=1 kind=lp_collect",
            ),
        },
        Case {
            name: "redemption from a listed vault",
            policy: policy!("[vault_request_redeem]\nvaults = [\"usdc-vault\"]\n"),
            action: vault_request_redeem("usdc-vault", units("USDC", "100")),
            expect: Expect::Accept,
        },
        Case {
            name: "redemption from an unlisted vault",
            policy: policy!("[vault_request_redeem]\nvaults = [\"usdc-vault\"]\n"),
            action: vault_request_redeem("eth-vault", units("ETH", "1")),
            expect: deny(
                "VAULT_NOT_ALLOWED",
                "vault_request_redeem.vaults",
                "VAULT_NOT_ALLOWED: kind=vault_request_redeem venue=eth-vault",
            ),
        },
        Case {
            name: "redemption without its table (deposits allowed)",
            policy: policy!("[vault_deposit]\n"),
            action: vault_request_redeem("usdc-vault", units("USDC", "100")),
            expect: deny(
                "KIND_NOT_ALLOWED",
                "vault_request_redeem",
                "KIND_NOT_ALLOWED: kind=vault_request_redeem",
            ),
        },
    ]);
}

#[test]
fn position_and_redemption_counts_and_cooldowns() {
    let mut desk = Desk::new(policy!(
        "[lp_close]\ncooldown = \"1h\"\n[lp_collect]\nmax_per_tick = 1\n[vault_request_redeem]\nmax_per_day = 1\n"
    ));
    desk.accept(&lp_collect("lp-1"));
    let denial = desk.deny(&lp_collect("lp-2"));
    assert_eq!(
        (denial.rule.as_str(), denial.detail.as_str()),
        (
            "lp_collect.max_per_tick",
            "TOO_MANY_PER_TICK: kind=lp_collect count=1 max=1"
        )
    );
    desk.accept(&lp_close("lp-1"));
    desk.accept(&vault_request_redeem("usdc-vault", units("USDC", "1")));
    desk.end_tick();
    desk.advance(60_000);
    desk.accept(&lp_collect("lp-2"));
    let denial = desk.deny(&lp_close("lp-2"));
    assert_eq!(
        (denial.rule.as_str(), denial.detail.as_str()),
        (
            "lp_close.cooldown",
            "COOLDOWN_ACTIVE: kind=lp_close remaining_ms=3540000 cooldown_ms=3600000"
        )
    );
    let denial = desk.deny(&vault_request_redeem("usdc-vault", units("USDC", "1")));
    assert_eq!(
        (denial.rule.as_str(), denial.detail.as_str()),
        (
            "vault_request_redeem.max_per_day",
            "TOO_MANY_PER_DAY: kind=vault_request_redeem count=1 max=1"
        )
    );
    desk.advance(3_600_000);
    desk.accept(&lp_close("lp-2"));
}

#[test]
fn health_factor_and_ltv_after_the_action() {
    // The standard oracle: 2 ETH (6000 USDC) supplied to aave, threshold 0.8.
    run_cases(vec![
        Case {
            name: "borrow keeping health above the minimum (4800 / 3000 = 1.6)",
            policy: policy!("[borrow]\nmin_health_factor = 1.5\n"),
            action: lending("borrow", "aave", "USDC", "3000"),
            expect: Expect::Accept,
        },
        Case {
            name: "borrow taking health below the minimum (4800 / 3500)",
            policy: policy!("[borrow]\nmin_health_factor = 1.5\n"),
            action: lending("borrow", "aave", "USDC", "3500"),
            expect: deny(
                "HEALTH_FACTOR_BELOW_MIN",
                "borrow.min_health_factor",
                "HEALTH_FACTOR_BELOW_MIN: health_factor=1.3714 min=1.5 market=aave",
            ),
        },
        Case {
            name: "borrow within the LTV (3500 / 6000)",
            policy: policy!("[borrow]\nmax_ltv = 0.6\n"),
            action: lending("borrow", "aave", "USDC", "3500"),
            expect: Expect::Accept,
        },
        Case {
            name: "borrow above the LTV (4000 / 6000)",
            policy: policy!("[borrow]\nmax_ltv = 0.6\n"),
            action: lending("borrow", "aave", "USDC", "4000"),
            expect: deny(
                "LTV_ABOVE_MAX",
                "borrow.max_ltv",
                "LTV_ABOVE_MAX: ltv=0.6667 max=0.6 market=aave",
            ),
        },
        Case {
            name: "a market the oracle does not know: fail closed",
            policy: policy!("[borrow]\nmin_health_factor = 1.5\n"),
            action: lending("borrow", "morpho", "USDC", "1"),
            expect: deny(
                "ORACLE_UNAVAILABLE",
                "borrow.min_health_factor",
                "ORACLE_UNAVAILABLE: read=lending_market id=morpho",
            ),
        },
    ]);
}

#[test]
fn withdrawing_collateral_is_judged_on_health_too() {
    use stratbox_runtime::types::PositionKind;
    let mut desk = Desk::new(policy!("[withdraw]\nmin_health_factor = 1.5\n"));
    desk.oracle
        .position(PositionKind::Borrowed, "aave", "USDC", "2000");
    // Collateral 2 ETH = 6000 USDC, weighted 0.8, against 2000 of debt.
    // Withdrawing 0.5 ETH leaves 4500 x 0.8 / 2000 = 1.8.
    desk.accept(&lending("withdraw", "aave", "ETH", "0.5"));
    // Withdrawing 1.5 ETH leaves 1500 x 0.8 / 2000 = 0.6.
    let denial = desk.deny(&lending("withdraw", "aave", "ETH", "1.5"));
    assert_eq!(
        denial.detail,
        "HEALTH_FACTOR_BELOW_MIN: health_factor=0.6 min=1.5 market=aave"
    );
}

#[test]
fn policy_reads_are_recorded_in_order() {
    let mut desk = Desk::new(policy!("[borrow]\nmax_ltv = 0.6\n"));
    desk.accept(&lending("borrow", "aave", "USDC", "100"));
    let reads = super::harness::read_names(&desk.reads);
    assert_eq!(reads, ["positions", "lending_market", "price"]);
}

fn refused(policy: &str, catalog: &AssetCatalog) -> PolicyError {
    let config: PolicyConfig = toml::from_str(policy).unwrap();
    CompiledPolicy::compile(&config, catalog).unwrap_err()
}

#[test]
fn unusable_policies_are_refused_naming_the_rule() {
    let catalog = assets();
    match refused(policy!("[swap]\nmax_amount = { DOGE = \"1\" }\n"), &catalog) {
        PolicyError::UnknownToken { path, token, .. } => {
            assert_eq!(
                (path.to_string().as_str(), token.as_str()),
                ("swap.max_amount.DOGE", "DOGE")
            );
        }
        other => panic!("{other:?}"),
    }
    match refused(policy!("[swap]\ntokens = [\"ETH\", \"DOGE\"]\n"), &catalog) {
        PolicyError::UnknownToken { path, .. } => assert_eq!(path.to_string(), "swap.tokens[1]"),
        other => panic!("{other:?}"),
    }
    match refused(
        policy!("[swap]\nmax_amount = { USDC = \"0.0000001\" }\n"),
        &catalog,
    ) {
        PolicyError::Amount {
            source: DecimalError::TooPrecise { decimals: 6, .. },
            ..
        } => {}
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        refused(
            "version = 1\nchains = [1]\n[swap]\nmax_value = \"1\"\n",
            &catalog
        ),
        PolicyError::MissingQuote { .. }
    ));
    assert!(matches!(
        refused("version = 2\nchains = [1]\n", &catalog),
        PolicyError::UnsupportedVersion {
            found: 2,
            supported: 1
        }
    ));
    assert!(matches!(
        refused(policy!("[swap.require]\n"), &catalog),
        PolicyError::Invalid { .. }
    ));
    assert!(matches!(
        refused(policy!("[borrow]\nmax_ltv = 1.5\n"), &catalog),
        PolicyError::Invalid { .. }
    ));
    assert!(matches!(
        refused(
            policy!("[allowances.a]\ntoken = \"USDC\"\nbalance = \"1\"\nrefill = \"1\"\n"),
            &catalog
        ),
        PolicyError::Invalid { .. }
    ));
    assert!(matches!(
        refused(
            policy!("[allowances.a]\ntoken = \"USDC\"\nquote_value = true\nbalance = \"1\"\n"),
            &catalog
        ),
        PolicyError::Invalid { .. }
    ));
    match refused(
        policy!("[allowances.a]\ntoken = \"USDC\"\nkinds = [\"hold\"]\nbalance = \"1\"\n"),
        &catalog,
    ) {
        PolicyError::Invalid { path, .. } => assert_eq!(path.to_string(), "allowances.a.kinds[0]"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_fields_are_refused_by_the_format() {
    let error = toml::from_str::<PolicyConfig>(policy!("[swap]\nmax_amout = {}\n")).unwrap_err();
    assert!(error.message().contains("max_amout"), "{error}");
    let error =
        toml::from_str::<PolicyConfig>(policy!("[supply]\nmax_slippage_bps = 5\n")).unwrap_err();
    assert!(error.message().contains("max_slippage_bps"), "{error}");
    let error = toml::from_str::<PolicyConfig>(policy!("[swap]\nmax_value = 0.5\n")).unwrap_err();
    assert!(error.message().contains("as a string"), "{error}");
}
