//! The strategy's oracle on the chain: block, balances of the account (EOA
//! or Safe), Uniswap v3 pool state and the Chainlink feed, all from one
//! read at one block.

use std::future::IntoFuture;

use alloy::providers::Provider;
use stratbox_backtest::Venue;
use stratbox_evm::{AccountMode, CandleFeed, EvmVenue};
use stratbox_journal::RunPolicy;
use stratbox_runtime::types::OracleError;
use stratbox_runtime::{DeploymentSpec, Oracle};

use crate::support::{Net, deployment_address, down_then_up, rsi_config, sealed_rsi};

const ONE: u128 = 1_000_000_000_000_000_000;

#[test]
fn oracle_reads_come_from_the_chain() {
    let net = Net::start();
    net.fund(net.devnet.safe, 1, 500);
    net.tokio
        .block_on(net.devnet.set_feed(2_100 * 100_000_000))
        .unwrap();
    let component = sealed_rsi(net.dir.path());
    let spec = DeploymentSpec::new("reads", rsi_config("1"));
    let (_recorder, executor) = net.recorder_and_executor(
        &spec,
        &component,
        RunPolicy::AllowAll,
        AccountMode::Safe {
            safe: net.devnet.safe,
        },
    );
    let (mut venue, mut oracle) = EvmVenue::new(
        net.tokio.handle().clone(),
        executor,
        CandleFeed::Tape {
            market: "WETH/DAI".into(),
            candles: down_then_up(2),
        },
    );
    assert!(matches!(
        oracle.balance("DAI"),
        Err(OracleError::Unavailable(_))
    ));

    let start = venue.begin_tick(0).unwrap();
    let chain = net.chain(AccountMode::Eoa);
    let head = net
        .tokio
        .block_on(chain.provider().get_block_number())
        .unwrap();
    assert_eq!(start.block.number, head);
    assert_eq!(start.block.chain_id, 31337);
    assert_eq!(oracle.block(), start.block);
    assert_eq!(start.candles.len(), 1);

    // The Safe's balances, not the key's.
    assert_eq!(oracle.balance("DAI").unwrap().to_u128(), 500 * ONE);
    assert_eq!(oracle.balance("WETH").unwrap().to_u128(), ONE);
    assert!(matches!(
        oracle.balance("DOGE"),
        Err(OracleError::Unknown(_))
    ));
    let deployment_key_eth = net
        .tokio
        .block_on(
            chain
                .provider()
                .get_balance(deployment_address())
                .into_future(),
        )
        .unwrap();
    assert!(deployment_key_eth > alloy::primitives::U256::ZERO);
    assert_eq!(
        oracle.balance("ETH").unwrap().to_u128(),
        0,
        "the Safe holds no ETH"
    );

    let pool = oracle.pool("WETH/DAI").unwrap();
    assert!(pool.sqrt_price_x96.is_some() && pool.tick.is_some());
    assert!(pool.liquidity.unwrap().to_u128() > 0);
    assert_eq!(pool.fee_pips, 3000);
    let weth_in_dai = oracle.price("WETH", "DAI").unwrap();
    assert!((weth_in_dai - 2000.0).abs() < 1.0, "{weth_in_dai}");
    assert_eq!(
        oracle.price("ETH", "USD").unwrap(),
        2100.0,
        "from the aggregator"
    );
    assert!(matches!(
        oracle.pool("WETH/LINK"),
        Err(OracleError::Unknown(_))
    ));
    assert_eq!(oracle.candles("WETH/DAI", 10).unwrap().len(), 1);
}

/// Move the devnet's clock `secs` forward and mine a block at the new time.
fn advance_time(net: &Net, secs: u64) {
    let chain = net.chain(AccountMode::Eoa);
    net.tokio.block_on(async {
        chain
            .provider()
            .raw_request::<_, serde_json::Value>("evm_increaseTime".into(), (secs,))
            .await
            .unwrap();
        chain
            .provider()
            .raw_request::<_, serde_json::Value>("evm_mine".into(), Vec::<u64>::new())
            .await
            .unwrap();
    });
}

fn unavailable_reason(result: Result<f64, OracleError>) -> String {
    match result {
        Err(OracleError::Unavailable(reason)) => reason,
        other => panic!("expected the feed to be unavailable, got {other:?}"),
    }
}

#[test]
fn a_feed_answer_older_than_its_max_age_is_unavailable() {
    let net = Net::start();
    let config = net.devnet.chain_config(AccountMode::Eoa);
    let max_age = config.feeds["ETH/USD"].max_age_secs;
    assert_eq!(max_age, 3600, "the default");
    net.tokio
        .block_on(net.devnet.set_feed(2_100 * 100_000_000))
        .unwrap();
    let component = sealed_rsi(net.dir.path());
    let spec = DeploymentSpec::new("stale", rsi_config("1"));
    let (_recorder, executor) =
        net.recorder_and_executor(&spec, &component, RunPolicy::AllowAll, AccountMode::Eoa);
    let (mut venue, mut oracle) = EvmVenue::new(
        net.tokio.handle().clone(),
        executor,
        CandleFeed::Tape {
            market: "WETH/DAI".into(),
            candles: down_then_up(3),
        },
    );

    // Fresh, and still fresh half-way through its max age.
    venue.begin_tick(0).unwrap();
    assert_eq!(oracle.price("ETH", "USD").unwrap(), 2100.0);
    assert!((oracle.price("USD", "ETH").unwrap() - 1.0 / 2100.0).abs() < 1e-12);
    advance_time(&net, max_age / 2);
    venue.begin_tick(1).unwrap();
    assert_eq!(oracle.price("ETH", "USD").unwrap(), 2100.0);

    // Past its max age: unavailable both ways, not priced from elsewhere.
    advance_time(&net, max_age / 2 + 60);
    venue.begin_tick(2).unwrap();
    let reason = unavailable_reason(oracle.price("ETH", "USD"));
    assert!(
        reason.contains("ETH/USD") && reason.contains("max_age_secs 3600"),
        "{reason}"
    );
    unavailable_reason(oracle.price("USD", "ETH"));
    // The rest of the view is served as usual.
    assert!(oracle.price("WETH", "DAI").is_ok());
    assert!(oracle.balance("DAI").is_ok());

    // A new answer is fresh again.
    net.tokio
        .block_on(net.devnet.set_feed(2_200 * 100_000_000))
        .unwrap();
    venue.begin_tick(3).unwrap();
    assert_eq!(oracle.price("ETH", "USD").unwrap(), 2200.0);

    // A fresh answer that is not positive is not a price.
    net.tokio.block_on(net.devnet.set_feed(0)).unwrap();
    venue.begin_tick(4).unwrap();
    let reason = unavailable_reason(oracle.price("ETH", "USD"));
    assert!(reason.contains("not positive"), "{reason}");
}
