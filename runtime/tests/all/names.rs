//! World 0.2's boundary: names cross as interned ids, a tick's first
//! candle inline and the others on request, a failed tick's message through
//! `last-error`; journals and policies still see names.

use serde_json::json;
use stratbox_runtime::types::{MarketCandle, OracleError};
use stratbox_runtime::{
    DenyAll, Deployment, DeploymentHost, DeploymentSpec, OracleRead, TickError, TickInput,
};
use stratbox_test_artifacts::Guest;

use crate::support::{Clock, block, eth_tape, hostile_spec, load, runtime};

/// A deployment of `guest` under deny-all with the clock oracle.
fn deny_all(guest: Guest, spec: DeploymentSpec) -> Deployment {
    let runtime = runtime();
    let component = load(runtime, guest);
    Deployment::new(
        runtime,
        &component,
        spec,
        DeploymentHost::new(Clock, DenyAll),
    )
    .expect("starts")
    .0
}

/// The verdicts an RSI deployment under deny-all gets, one tick per entry
/// of `ticks`.
fn rsi_emissions(ticks: Vec<Vec<MarketCandle>>) -> Vec<String> {
    let config = json!({"period": 2, "oversold": 99.0, "overbought": 99.5, "cooldown_ms": 0});
    let mut deployment = deny_all(
        Guest::RsiMomentum,
        DeploymentSpec::new("several-candles", config.to_string()),
    );
    let mut emissions = Vec::new();
    for (i, candles) in ticks.into_iter().enumerate() {
        let report = deployment
            .tick(TickInput {
                block: block(i as u64),
                candles,
                results: Vec::new(),
            })
            .expect("ticks");
        emissions.extend(report.trace.emissions.iter().map(|e| format!("{e:?}")));
    }
    emissions
}

#[test]
fn several_candles_in_one_tick_all_reach_the_strategy() {
    let eth = stratbox_backtest::market_candles(&eth_tape(30));
    let alone: Vec<Vec<MarketCandle>> = eth.iter().map(|c| vec![c.clone()]).collect();
    // Each ETH/BTC candle second, behind a decoy of another market: only
    // `tick-candles` can deliver it, and the strategy must ignore the decoy.
    let behind_a_decoy: Vec<Vec<MarketCandle>> = eth
        .iter()
        .map(|c| {
            let mut decoy = c.clone();
            decoy.market = "ADA/BTC".into();
            decoy.candle.close *= 3.0;
            vec![decoy, c.clone()]
        })
        .collect();
    let expected = rsi_emissions(alone);
    assert!(!expected.is_empty(), "the RSI must attempt something");
    assert_eq!(rsi_emissions(behind_a_decoy), expected);
}

#[test]
fn reads_are_recorded_by_name_and_a_failed_tick_says_why() {
    let mut deployment = deny_all(
        Guest::OracleRead,
        DeploymentSpec::new("read-by-id", r#"{"reads": 2}"#),
    );
    // The clock oracle knows no prices: the guest turns the first `unknown`
    // into its error, which comes back through `last-error`.
    let failure = deployment
        .tick(TickInput::at(block(0)))
        .expect_err("no price");
    match &failure.error {
        TickError::GuestError { message } => {
            assert!(
                message.starts_with("price: OracleError::Unknown"),
                "{message}"
            );
        }
        other => panic!("expected the guest's error, got {other:?}"),
    }
    assert_eq!(
        failure.trace.oracle_reads,
        vec![OracleRead::Price {
            base: "ETH".into(),
            quote: "USDC".into(),
            response: Err(OracleError::Unknown("ETH/USDC".into())),
        }]
    );
}

#[test]
fn an_id_never_given_out_reads_as_unknown_and_is_not_recorded() {
    let mut deployment = deny_all(Guest::Hostile, hostile_spec("unknown-name-id", Some(0)));
    let report = deployment
        .tick(TickInput::at(block(0)))
        .expect("an unknown id is an answer, not a failure");
    assert!(
        report.trace.logs.iter().any(|l| l.message
            == "unknown name id answer: \
                Err(OracleError::Unknown(\"name id 4294967295 was never interned\"))"),
        "{:?}",
        report.trace.logs
    );
    assert!(report.trace.oracle_reads.is_empty());
}
