//! LP actions on the real NonfungiblePositionManager: open a range, see it
//! among the account's positions, collect, close.

use stratbox_evm::{AccountMode, ChainView};
use stratbox_journal::RunPolicy;
use stratbox_runtime::DeploymentSpec;
use stratbox_runtime::types::{Action, ActionOutcome, Amount, LpClose, LpCollect, LpOpen, LpRange};

use crate::support::{Net, deployment_address, rsi_config, sealed_rsi};

const ONE: u128 = 1_000_000_000_000_000_000;

#[test]
fn open_collect_and_close_a_position() {
    let net = Net::start();
    let account = deployment_address();
    net.fund(account, 2, 5_000);
    let component = sealed_rsi(net.dir.path());
    let spec = DeploymentSpec::new("lp", rsi_config("1"));
    let (_recorder, mut executor) =
        net.recorder_and_executor(&spec, &component, RunPolicy::AllowAll, AccountMode::Eoa);
    let chain = net.chain(AccountMode::Eoa);
    let view = net.tokio.block_on(ChainView::fetch(&chain)).unwrap();
    let pool = &view.pools["WETH/DAI"];
    let centre = pool.tick.div_euclid(60) * 60;
    let weth_is_token0 = net.devnet.weth < net.devnet.dai;
    let (amount0, amount1) = if weth_is_token0 {
        (ONE, 2_000 * ONE)
    } else {
        (2_000 * ONE, ONE)
    };
    let open = Action::LpOpen(LpOpen {
        pool: "WETH/DAI".into(),
        range: LpRange::Ticks((centre - 6_000, centre + 6_000)),
        amount0: Amount::from_u128(amount0),
        amount1: Amount::from_u128(amount1),
    });
    let ActionOutcome::Filled(fill) = net.tokio.block_on(executor.execute(1, &open)) else {
        panic!("lp-open failed");
    };
    let position = fill.position.clone().expect("the fill names the position");
    assert_eq!(fill.spent.len(), 2, "both tokens went in: {fill:?}");

    let view = net.tokio.block_on(ChainView::fetch(&chain)).unwrap();
    assert_eq!(view.positions.len(), 1);
    assert_eq!(view.positions[0].token_id.to_string(), position);
    assert!(view.positions[0].liquidity > 0);

    let collect = Action::LpCollect(LpCollect {
        position: position.clone(),
    });
    let outcome = net.tokio.block_on(executor.execute(2, &collect));
    assert!(matches!(outcome, ActionOutcome::Filled(_)), "{outcome:?}");

    let close = Action::LpClose(LpClose {
        position: position.clone(),
    });
    let ActionOutcome::Filled(fill) = net.tokio.block_on(executor.execute(3, &close)) else {
        panic!("lp-close failed");
    };
    assert_eq!(fill.received.len(), 2, "both tokens came back: {fill:?}");
    assert_eq!(fill.position.as_deref(), Some(position.as_str()));
    let view = net.tokio.block_on(ChainView::fetch(&chain)).unwrap();
    assert!(view.positions.is_empty(), "the NFT was burned");
}
