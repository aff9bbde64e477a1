//! LP actions on the real NonfungiblePositionManager: open a range, see it
//! among the account's positions, collect, close. The `mint` and
//! `decreaseLiquidity` calls carry minimum amounts: the fresh quote less
//! the chain file's `lp_slippage_bps` (see `sandwich.rs` for a pool moved
//! past them).

use alloy::eips::Decodable2718;
use alloy::primitives::U256;
use alloy::sol_types::SolCall;
use stratbox_evm::{AccountMode, ChainView};
use stratbox_journal::{Journal, RunPolicy};
use stratbox_runtime::DeploymentSpec;
use stratbox_runtime::types::{Action, ActionOutcome, Amount, LpClose, LpCollect, LpOpen, LpRange};

use crate::support::{Net, deployment_address, rsi_config, sealed_rsi};

const ONE: u128 = 1_000_000_000_000_000_000;

mod abi {
    alloy::sol! {
        struct MintParams {
            address token0;
            address token1;
            uint24 fee;
            int24 tickLower;
            int24 tickUpper;
            uint256 amount0Desired;
            uint256 amount1Desired;
            uint256 amount0Min;
            uint256 amount1Min;
            address recipient;
            uint256 deadline;
        }
        struct DecreaseLiquidityParams {
            uint256 tokenId;
            uint128 liquidity;
            uint256 amount0Min;
            uint256 amount1Min;
            uint256 deadline;
        }
        function mint(MintParams calldata params) external payable returns (uint256 tokenId, uint128 liquidity, uint256 amount0, uint256 amount1);
        function decreaseLiquidity(DecreaseLiquidityParams calldata params) external payable returns (uint256 amount0, uint256 amount1);
        function multicall(bytes[] calldata data) external payable returns (bytes[] memory results);
    }
}

/// The calldata of the journaled transaction of `deployment` whose purpose
/// is `purpose`, exactly as signed and broadcast.
fn sent_calldata(net: &Net, deployment: &str, purpose: &str) -> Vec<u8> {
    let journal = Journal::open(&net.journal_path()).unwrap();
    let intents = journal.tx_intents(deployment).unwrap();
    let stored = intents
        .iter()
        .find(|stored| stored.intent.purpose == purpose)
        .unwrap_or_else(|| panic!("no `{purpose}` transaction in {intents:?}"));
    let envelope =
        alloy::consensus::TxEnvelope::decode_2718(&mut stored.intent.raw_tx.as_slice()).unwrap();
    alloy::consensus::Transaction::input(&envelope).to_vec()
}

/// `min` is what was moved less the bound, rounded down: the quote was the
/// amount the pool actually moved, to the unit.
fn assert_minimum(min: U256, moved: u128, bps: u32, what: &str) {
    let moved = U256::from(moved);
    assert!(!min.is_zero(), "{what}: a zero minimum");
    assert!(
        min <= moved,
        "{what}: minimum {min} above the {moved} moved"
    );
    let floor = moved * U256::from(10_000 - bps) / U256::from(10_000);
    assert_eq!(min, floor, "{what}: {moved} moved less {bps} bps");
}

fn amount_of(amounts: &[stratbox_runtime::types::AssetAmount], asset: &str) -> u128 {
    amounts
        .iter()
        .find(|a| a.asset == asset)
        .map_or(0, |a| a.amount.to_u128())
}

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
    let ActionOutcome::Filled(fill) = net
        .tokio
        .block_on(executor.execute(1, &open))
        .expect("a known outcome")
    else {
        panic!("lp-open failed");
    };
    let position = fill.position.clone().expect("the fill names the position");
    assert_eq!(fill.spent.len(), 2, "both tokens went in: {fill:?}");
    let bps = chain.config().lp_slippage_bps;
    assert_eq!(bps, 50, "the default bound");
    let (symbol0, symbol1) = if weth_is_token0 {
        ("WETH", "DAI")
    } else {
        ("DAI", "WETH")
    };
    let mint = abi::mintCall::abi_decode(&sent_calldata(&net, "lp", "lp-open"))
        .unwrap()
        .params;
    assert_minimum(
        mint.amount0Min,
        amount_of(&fill.spent, symbol0),
        bps,
        "mint amount0Min",
    );
    assert_minimum(
        mint.amount1Min,
        amount_of(&fill.spent, symbol1),
        bps,
        "mint amount1Min",
    );

    let view = net.tokio.block_on(ChainView::fetch(&chain)).unwrap();
    assert_eq!(view.positions.len(), 1);
    assert_eq!(view.positions[0].token_id.to_string(), position);
    assert!(view.positions[0].liquidity > 0);

    let collect = Action::LpCollect(LpCollect {
        position: position.clone(),
    });
    let outcome = net
        .tokio
        .block_on(executor.execute(2, &collect))
        .expect("a known outcome");
    assert!(matches!(outcome, ActionOutcome::Filled(_)), "{outcome:?}");

    let close = Action::LpClose(LpClose {
        position: position.clone(),
    });
    let ActionOutcome::Filled(fill) = net
        .tokio
        .block_on(executor.execute(3, &close))
        .expect("a known outcome")
    else {
        panic!("lp-close failed");
    };
    assert_eq!(fill.received.len(), 2, "both tokens came back: {fill:?}");
    // Nothing traded in the pool since the open: no fees, so what came back
    // is what decreaseLiquidity returned.
    let close_steps = abi::multicallCall::abi_decode(&sent_calldata(&net, "lp", "lp-close"))
        .unwrap()
        .data;
    let decrease = abi::decreaseLiquidityCall::abi_decode(&close_steps[0])
        .unwrap()
        .params;
    assert_minimum(
        decrease.amount0Min,
        amount_of(&fill.received, symbol0),
        bps,
        "decreaseLiquidity amount0Min",
    );
    assert_minimum(
        decrease.amount1Min,
        amount_of(&fill.received, symbol1),
        bps,
        "decreaseLiquidity amount1Min",
    );
    assert_eq!(fill.position.as_deref(), Some(position.as_str()));
    let view = net.tokio.block_on(ChainView::fetch(&chain)).unwrap();
    assert!(view.positions.is_empty(), "the NFT was burned");
}
