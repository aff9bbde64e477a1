//! A real strategy under a policy file: the exact denial text reaches the
//! guest, and the reads the policy needed are in the tick's trace.

use std::sync::Arc;

use serde_json::json;
use stratbox_backtest::{PaperMarket, PaperMarketConfig, run_paper};
use stratbox_runtime::policy::{AssetCatalog, CompiledPolicy, PolicyConfig, PolicyEngine};
use stratbox_runtime::types::Rejection;
use stratbox_runtime::{DeploymentSpec, OracleRead};
use stratbox_test_artifacts::Guest;

use crate::support::{eth_tape, load, runtime};

fn engine(policy: &str) -> PolicyEngine {
    let config: PolicyConfig = toml::from_str(policy).unwrap();
    let assets = AssetCatalog::new().with("ETH", 18).with("BTC", 8);
    PolicyEngine::new(Arc::new(CompiledPolicy::compile(&config, &assets).unwrap()))
}

/// An RSI config that tries to trade within a few candles.
fn eager() -> String {
    json!({"period": 2, "oversold": 99.0, "overbought": 99.5, "cooldown_ms": 0}).to_string()
}

#[test]
fn the_guest_receives_and_logs_the_exact_denial() {
    let policy = "version = 1\nchains = [0]\n[swap]\nmax_amount = { BTC = \"0.05\" }\n";
    let component = load(runtime(), Guest::RsiMomentum);
    let market = PaperMarket::new(eth_tape(40), PaperMarketConfig::new("ETH", "BTC", 1));
    let run = run_paper(
        runtime(),
        &component,
        DeploymentSpec::new("denied-amount", eager()),
        market,
        engine(policy),
        |_, _| {},
    )
    .unwrap();
    let expected = "AMOUNT_ABOVE_MAX: amount=0.1 max=0.05 token=BTC";
    let mut denied = 0;
    for report in run.reports() {
        for emission in &report.trace.emissions {
            match &emission.verdict {
                Err(Rejection::Denied(denial)) => {
                    assert_eq!(denial.code, "AMOUNT_ABOVE_MAX");
                    assert_eq!(denial.rule, "swap.max_amount.BTC");
                    assert_eq!(denial.detail, expected);
                    denied += 1;
                    assert!(
                        report
                            .trace
                            .logs
                            .iter()
                            .any(|l| l.message.ends_with(&format!("rejected: {expected}"))),
                        "the strategy logs what it received: {:?}",
                        report.trace.logs
                    );
                }
                other => panic!("expected a denial, got {other:?}"),
            }
        }
    }
    assert!(denied > 0, "the strategy must have tried to trade");
}

#[test]
fn value_rules_read_prices_through_the_recorded_oracle() {
    // Selling ETH is valued at the ETH/BTC close: a policy read, journaled
    // with the tick like the strategy's own.
    let policy = "version = 1\nquote = \"BTC\"\nchains = [0]\n[swap]\nmax_value = \"10\"\n";
    let component = load(runtime(), Guest::RsiMomentum);
    let market = PaperMarket::new(eth_tape(300), PaperMarketConfig::new("ETH", "BTC", 1));
    let config = json!({"period": 2, "oversold": 40.0, "overbought": 60.0, "cooldown_ms": 0});
    let run = run_paper(
        runtime(),
        &component,
        DeploymentSpec::new("valued", config.to_string()),
        market,
        engine(policy),
        |_, _| {},
    )
    .unwrap();
    let sells = run
        .reports()
        .filter(|r| {
            r.trace.emissions.iter().any(|e| {
                matches!(&e.action, stratbox_runtime::types::Action::Swap(s) if s.sell == "ETH")
            })
        })
        .collect::<Vec<_>>();
    assert!(!sells.is_empty(), "the strategy must have sold");
    for report in sells {
        assert!(
            report.trace.oracle_reads.iter().any(|r| matches!(
                r,
                OracleRead::Price { base, quote, response: Ok(_) } if &**base == "ETH" && &**quote == "BTC"
            )),
            "{:?}",
            report.trace.oracle_reads
        );
        assert!(report.trace.emissions.iter().all(|e| e.verdict.is_ok()));
    }
}
