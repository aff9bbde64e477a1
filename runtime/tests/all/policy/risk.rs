//! `risk.max_var`: the post-trade portfolio's value-at-risk, from the
//! oracle's balances, prices and candles, against a limit; figures checked
//! against `stratbox_risk::portfolio_var` called directly.

use std::sync::Arc;

use stratbox_risk::{DAY_MS, HOUR_MS, RiskMethod, log_returns, portfolio_var};
use stratbox_runtime::policy::{CompiledPolicy, PolicyConfig, PolicyEngine, PolicyError};
use stratbox_runtime::types::{Action, BlockInfo};
use stratbox_runtime::{OracleRead, Policy, PolicyContext, PolicyOracle, ReplayOracle, Verdict};

use super::harness::{Desk, assets, lending, read_names, swap_in, swap_out};

/// Policy time of a fresh desk: candles close up to it.
const NOW_MS: u64 = 1_700_000_000_000;

/// A policy with USDC as quote, swaps, supplies and holds allowed, and
/// `rule` as the body of `[risk.max_var]`.
fn policy(rule: &str) -> String {
    format!(
        "version = 1\nquote = \"USDC\"\nchains = [1]\n[swap]\n[supply]\n[hold]\n[risk.max_var]\n{rule}"
    )
}

/// `count` closes from `start`, each step a uniform log return with
/// standard deviation `sd` (xorshift64, seeded).
fn closes(seed: u64, count: usize, start: f64, sd: f64) -> Vec<f64> {
    let mut state = seed;
    let mut price = start;
    (0..count)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let uniform = (state >> 11) as f64 / (1u64 << 53) as f64;
            price *= (sd * 3f64.sqrt() * (2.0 * uniform - 1.0)).exp();
            price
        })
        .collect()
}

/// 600 hourly ETH closes, about 2% per hour.
fn eth() -> Vec<f64> {
    closes(0x5eed, 600, 3000.0, 0.02)
}

/// 300 hourly BTC closes, about 1.5% per hour.
fn btc() -> Vec<f64> {
    closes(0xb7c, 300, 60000.0, 0.015)
}

/// Log returns of the last `lookback` closes.
fn returns(closes: &[f64], lookback: usize) -> Vec<f64> {
    log_returns(&closes[closes.len().saturating_sub(lookback)..]).unwrap()
}

/// A desk with `rule`, hourly ETH candles and these balances.
fn desk(rule: &str, balances: &[(&str, &str)]) -> Desk {
    let mut desk = Desk::new(&policy(rule));
    desk.oracle.set_closes("ETH/USDC", &eth(), HOUR_MS, NOW_MS);
    for (asset, amount) in balances {
        desk.oracle.hold(asset, amount);
    }
    desk
}

/// A figure as denials show it: at most `places` decimals, no trailing
/// zeros.
fn show(value: f64, places: usize) -> String {
    let text = format!("{value:.places$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

const HISTORICAL_5PCT: &str = "method = \"historical\"\nhorizon = \"1d\"\nconfidence = 0.99\nmax_fraction = 0.05\nlookback = 500\n";

/// 1-day 99% historical VaR of `eth_value` USDC of ETH, from the last 500
/// hourly closes.
fn eth_var(eth_value: f64) -> f64 {
    let r = returns(&eth(), 500);
    portfolio_var(
        &[eth_value],
        &[&r],
        RiskMethod::Historical,
        DAY_MS,
        HOUR_MS,
        0.99,
    )
    .unwrap()
}

#[test]
fn a_swap_that_pushes_var_above_max_fraction_is_denied_naming_the_figure() {
    let (big, small) = (eth_var(5000.0), eth_var(1000.0));
    assert!(
        big / 10_000.0 > 0.05 && small / 10_000.0 < 0.05,
        "{big} {small}"
    );

    let mut desk = desk(HISTORICAL_5PCT, &[("USDC", "10000")]);
    let denial = desk.deny(&swap_in("USDC", "ETH", "5000"));
    assert_eq!(denial.code, "VAR_ABOVE_MAX");
    assert_eq!(denial.rule, "risk.max_var");
    assert_eq!(
        denial.detail,
        format!(
            "VAR_ABOVE_MAX: method=historical horizon=1d confidence=0.99 var={} var_fraction={} max_fraction=0.05 quote=USDC",
            show(big, 6),
            show(big / 10_000.0, 4),
        )
    );
    desk.accept(&swap_in("USDC", "ETH", "1000"));
}

#[test]
fn an_exact_out_swap_is_charged_its_maximum_input() {
    // Buying 1 ETH at 3000 with 50 bps of slippage can spend 3015 USDC:
    // USDC falls by 3015, ETH rises by 3000.
    let mut desk = desk(
        "method = \"historical\"\nmax_value = \"1\"\nlookback = 500\n",
        &[("USDC", "10000")],
    );
    let denial = desk.deny(&swap_out("USDC", "ETH", "1"));
    let var = eth_var(3000.0);
    assert_eq!(
        denial.detail,
        format!(
            "VAR_ABOVE_MAX: method=historical horizon=1d confidence=0.99 var={} max=1 quote=USDC",
            show(var, 6)
        )
    );
}

#[test]
fn a_trade_that_does_not_raise_var_is_accepted_even_above_the_limit() {
    // 10 ETH (30000 USDC) is far above 5% already.
    assert!(eth_var(30_000.0) / 31_000.0 > 0.05);
    let mut desk = desk(HISTORICAL_5PCT, &[("ETH", "10"), ("USDC", "1000")]);
    desk.accept(&swap_in("ETH", "USDC", "2"));
    // Buying ETH back raises VaR again: denied.
    let denial = desk.deny(&swap_in("USDC", "ETH", "500"));
    assert!(denial.detail.starts_with("VAR_ABOVE_MAX: "), "{denial:?}");
    desk.accept(&Action::Hold("waiting".into()));
}

#[test]
fn swaps_accepted_earlier_in_the_tick_count() {
    assert!(eth_var(2000.0) / 10_000.0 < 0.05 && eth_var(4000.0) / 10_000.0 > 0.05);
    let mut desk = desk(HISTORICAL_5PCT, &[("USDC", "10000")]);
    desk.accept(&swap_in("USDC", "ETH", "2000"));
    let denial = desk.deny(&swap_in("USDC", "ETH", "2000"));
    assert!(
        denial
            .detail
            .contains(&format!("var={} ", show(eth_var(4000.0), 6))),
        "{denial:?}"
    );
    // A new tick: the oracle's balances did not change, the same swap
    // alone is within the limit.
    desk.end_tick();
    desk.accept(&swap_in("USDC", "ETH", "2000"));
}

#[test]
fn parametric_var_of_two_assets_matches_the_risk_crate() {
    // 10000 USDC and 0.1 BTC (6000 USDC); buy 3000 USDC of ETH. BTC has
    // 300 candles: both series are cut to its 299 most recent returns.
    let btc_value = 10_000_000f64 / 1e8 * 60000.0;
    let (eth_r, btc_r) = (returns(&eth(), 500), returns(&btc(), 500));
    assert_eq!((eth_r.len(), btc_r.len()), (499, 299));
    let aligned = &eth_r[eth_r.len() - btc_r.len()..];
    let var = |values: &[f64], series: &[&[f64]]| {
        portfolio_var(
            values,
            series,
            RiskMethod::Parametric,
            DAY_MS,
            HOUR_MS,
            0.95,
        )
        .unwrap()
    };
    let after = var(&[btc_value, 3000.0], &[&btc_r, aligned]);
    let before = var(&[btc_value], &[&btc_r]);
    assert!(after > before, "{after} {before}");
    let limit = (after * 0.99).floor();
    assert!(before < limit, "{before} {limit}");

    let rule = format!(
        "method = \"parametric\"\nhorizon = \"1d\"\nconfidence = 0.95\nmax_value = \"{limit}\"\nlookback = 500\n"
    );
    let mut desk = desk(&rule, &[("USDC", "10000"), ("BTC", "0.1")]);
    desk.oracle.set_closes("BTC/USDC", &btc(), HOUR_MS, NOW_MS);
    let denial = desk.deny(&swap_in("USDC", "ETH", "3000"));
    assert_eq!(denial.rule, "risk.max_var");
    assert_eq!(
        denial.detail,
        format!(
            "VAR_ABOVE_MAX: method=parametric horizon=1d confidence=0.95 var={} max={limit} quote=USDC",
            show(after, 6)
        )
    );
    // A smaller purchase keeps VaR within the limit.
    desk.accept(&swap_in("USDC", "ETH", "100"));
}

#[test]
fn historical_and_parametric_both_accept_a_portfolio_within_limits() {
    for method in ["historical", "parametric"] {
        let rule = format!("method = \"{method}\"\nmax_fraction = 0.5\nlookback = 500\n");
        let mut desk = desk(&rule, &[("USDC", "10000")]);
        desk.accept(&swap_in("USDC", "ETH", "5000"));
    }
}

#[test]
fn the_rule_fails_closed_when_it_cannot_compute_var() {
    // No candles for the market at all.
    let mut desk = Desk::new(&policy(HISTORICAL_5PCT));
    desk.oracle.hold("USDC", "10000");
    let denial = desk.deny(&swap_in("USDC", "ETH", "100"));
    assert_eq!(
        (
            denial.code.as_str(),
            denial.rule.as_str(),
            denial.detail.as_str()
        ),
        (
            "ORACLE_UNAVAILABLE",
            "risk.max_var",
            "ORACLE_UNAVAILABLE: read=candles id=ETH/USDC"
        )
    );

    // Too few candles for 1 day at 99%: 100 windows of 24 returns.
    desk.oracle
        .set_closes("ETH/USDC", &eth()[..50], HOUR_MS, NOW_MS);
    let denial = desk.deny(&swap_in("USDC", "ETH", "100"));
    assert_eq!(
        denial.detail,
        "VAR_UNAVAILABLE: reason=not_enough_data needed=123 have=49"
    );

    // No price for the bought token.
    let denial = desk.deny(&swap_in("USDC", "PEPE", "100"));
    assert_eq!(denial.detail, "PRICE_UNAVAILABLE: token=PEPE quote=USDC");

    // A historical horizon that is not a whole number of candle intervals.
    let mut desk = desk_with(
        "method = \"historical\"\nhorizon = \"90m\"\nmax_fraction = 0.05\nlookback = 500\n",
    );
    let denial = desk.deny(&swap_in("USDC", "ETH", "100"));
    assert_eq!(denial.code, "VAR_UNAVAILABLE");
    assert!(
        denial
            .detail
            .starts_with("VAR_UNAVAILABLE: reason=invalid_horizon"),
        "{denial:?}"
    );

    // Markets whose candles are spaced differently cannot be aligned.
    let mut desk = desk_with(HISTORICAL_5PCT);
    desk.oracle.hold("BTC", "0.1");
    desk.oracle
        .set_closes("BTC/USDC", &btc(), 2 * HOUR_MS, NOW_MS);
    let denial = desk.deny(&swap_in("USDC", "ETH", "100"));
    assert_eq!(
        denial.detail,
        "VAR_UNAVAILABLE: reason=mixed_intervals market=ETH/USDC interval_ms=3600000 expected_ms=7200000"
    );
}

fn desk_with(rule: &str) -> Desk {
    desk(rule, &[("USDC", "10000")])
}

#[test]
fn only_swaps_are_judged() {
    // No candles anywhere: a supply and a hold read nothing for the rule.
    let mut desk = Desk::new(&policy(HISTORICAL_5PCT));
    desk.oracle.hold("USDC", "10000");
    desk.accept(&lending("supply", "aave", "USDC", "100"));
    desk.accept(&Action::Hold("waiting".into()));
    assert!(desk.reads.is_empty(), "{:?}", desk.reads);
}

#[test]
fn selling_everything_for_the_quote_asset_leaves_nothing_at_risk() {
    // 10 ETH is far above the limit; selling all of it is accepted, and so
    // is selling more than is held (the venue will fail it).
    let mut desk = desk(HISTORICAL_5PCT, &[("ETH", "10")]);
    desk.accept(&swap_in("ETH", "USDC", "10"));
    desk.accept(&swap_in("ETH", "USDC", "1"));
}

#[test]
fn var_reads_are_recorded_and_replay_to_the_same_verdict() {
    let mut desk = desk(HISTORICAL_5PCT, &[("USDC", "10000"), ("ETH", "0.5")]);
    let action = swap_in("USDC", "ETH", "5000");
    let denial = desk.deny(&action);
    assert_eq!(read_names(&desk.reads), ["balances", "price", "candles"]);
    match &desk.reads[2] {
        OracleRead::Candles {
            market,
            count,
            response: Ok(candles),
        } => assert_eq!((&**market, *count, candles.len()), ("ETH/USDC", 500, 500)),
        other => panic!("{other:?}"),
    }

    // A fresh engine served only the recorded reads reaches the same verdict
    // and asks for exactly those reads.
    let compiled = CompiledPolicy::compile(
        &toml::from_str::<PolicyConfig>(&policy(HISTORICAL_5PCT)).unwrap(),
        &assets(),
    )
    .unwrap();
    let mut engine = PolicyEngine::new(Arc::new(compiled));
    let block = BlockInfo {
        chain_id: 1,
        number: 0,
        timestamp_ms: NOW_MS,
    };
    let (mut replay, feed) = ReplayOracle::new();
    feed.load(block, desk.reads.clone());
    let mut reads = Vec::new();
    let oracle = PolicyOracle::new(&mut replay, &mut reads);
    let ctx = PolicyContext {
        deployment_id: "replay",
        sequence: 0,
        block: &block,
        accepted_in_tick: &[],
        action_id: 1,
        oracle: &oracle,
    };
    assert_eq!(engine.check(&action, &ctx), Verdict::Deny(denial));
    feed.finish().unwrap();
}

fn refused(rule: &str) -> PolicyError {
    let config: PolicyConfig = toml::from_str(&policy(rule)).unwrap();
    CompiledPolicy::compile(&config, &assets()).unwrap_err()
}

fn path_of(error: &PolicyError) -> String {
    error.path().to_string()
}

#[test]
fn unusable_var_rules_are_refused_naming_the_path() {
    let config: PolicyConfig =
        toml::from_str("version = 1\nchains = [1]\n[risk.max_var]\nmax_fraction = 0.05\n").unwrap();
    let error = CompiledPolicy::compile(&config, &assets()).unwrap_err();
    assert!(
        matches!(&error, PolicyError::MissingQuote { .. }),
        "{error:?}"
    );
    assert_eq!(path_of(&error), "risk.max_var");

    for (rule, path) in [
        (
            "confidence = 1.5\nmax_fraction = 0.05\n",
            "risk.max_var.confidence",
        ),
        (
            "confidence = 0.0\nmax_fraction = 0.05\n",
            "risk.max_var.confidence",
        ),
        (
            "method = \"monte_carlo\"\nmax_fraction = 0.05\n",
            "risk.max_var.method",
        ),
        ("method = \"historical\"\n", "risk.max_var"),
        (
            "lookback = 0\nmax_fraction = 0.05\n",
            "risk.max_var.lookback",
        ),
        (
            "lookback = 10001\nmax_fraction = 0.05\n",
            "risk.max_var.lookback",
        ),
        ("max_fraction = 1.5\n", "risk.max_var.max_fraction"),
        ("max_fraction = 0.0\n", "risk.max_var.max_fraction"),
        (
            "horizon = \"0s\"\nmax_fraction = 0.05\n",
            "risk.max_var.horizon",
        ),
    ] {
        let error = refused(rule);
        assert!(
            matches!(&error, PolicyError::Invalid { .. }),
            "{rule}: {error:?}"
        );
        assert_eq!(path_of(&error), path, "{rule}: {error}");
    }

    let error =
        toml::from_str::<PolicyConfig>(&policy("method = \"garch\"\nmax_fraction = 0.05\n"))
            .unwrap_err();
    assert!(error.message().contains("garch"), "{error}");
    let error = toml::from_str::<PolicyConfig>(&policy("max_fractoin = 0.05\n")).unwrap_err();
    assert!(error.message().contains("max_fractoin"), "{error}");
}

#[test]
fn a_var_rule_counts_its_limits() {
    let base = CompiledPolicy::compile(
        &toml::from_str::<PolicyConfig>(
            "version = 1\nquote = \"USDC\"\nchains = [1]\n[swap]\n[supply]\n[hold]\n",
        )
        .unwrap(),
        &assets(),
    )
    .unwrap()
    .rule_count();
    let both = CompiledPolicy::compile(
        &toml::from_str::<PolicyConfig>(&policy("max_fraction = 0.05\nmax_value = \"500\"\n"))
            .unwrap(),
        &assets(),
    )
    .unwrap()
    .rule_count();
    assert_eq!(both, base + 2);
}
