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
