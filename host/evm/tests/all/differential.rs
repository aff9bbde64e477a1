//! Backtests agree with the chain to the wei: the simulator's Uniswap v3
//! pool (`stratbox_venues::v3::Pool`), started from the devnet pool's state,
//! gives exactly the amounts and the price the real pool contract gives
//! for the same swaps, exact in and exact out, in both directions.

use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use stratbox_evm::AccountMode;
use stratbox_journal::RunPolicy;
use stratbox_runtime::DeploymentSpec;
use stratbox_runtime::types::{Action, ActionOutcome, Amount, LpOpen, LpRange, Swap, SwapAmount};
use stratbox_venues::v3::Pool;

use crate::support::{Net, deployment_address, rsi_config, sealed_rsi};

mod pool_abi {
    alloy::sol! {
        function slot0() external view returns (
            uint160 sqrtPriceX96, int24 tick, uint16 observationIndex,
            uint16 observationCardinality, uint16 observationCardinalityNext,
            uint8 feeProtocol, bool unlocked
        );
        function liquidity() external view returns (uint128);
        function positions(uint256 tokenId) external view returns (
            uint96 nonce, address operator, address token0, address token1, uint24 fee,
            int24 tickLower, int24 tickUpper, uint128 liquidity,
            uint256 feeGrowthInside0LastX128, uint256 feeGrowthInside1LastX128,
            uint128 tokensOwed0, uint128 tokensOwed1
        );
    }
}

const ONE: u128 = 1_000_000_000_000_000_000;

/// `slot0.sqrtPriceX96` and `liquidity()` of the pool at the latest block.
fn pool_state(net: &Net, pool: Address) -> (U256, u128) {
    let chain = net.chain(AccountMode::Eoa);
    let call = |data: Vec<u8>| {
        let request = TransactionRequest::default().to(pool).input(data.into());
        net.tokio
            .block_on(async { chain.provider().call(request).await })
            .unwrap()
    };
    let slot0 = pool_abi::slot0Call::abi_decode_returns(&call(pool_abi::slot0Call {}.abi_encode()))
        .unwrap();
    let liquidity =
        pool_abi::liquidityCall::abi_decode_returns(&call(pool_abi::liquidityCall {}.abi_encode()))
            .unwrap();
    (U256::from(slot0.sqrtPriceX96), liquidity)
}

fn swap(sell: &str, buy: &str, amount: SwapAmount) -> Action {
    Action::Swap(Swap {
        sell: sell.into(),
        buy: buy.into(),
        amount,
        // Price impact counts as slippage: the big swaps move the price far.
        max_slippage_bps: 5_000,
        venue: None,
    })
}

fn moved(amounts: &[stratbox_runtime::types::AssetAmount], asset: &str) -> u128 {
    amounts
        .iter()
        .filter(|a| a.asset == asset)
        .map(|a| a.amount.to_u128())
        .sum()
}

#[test]
fn simulated_v3_swaps_match_the_pool_contract_to_the_wei() {
    let net = Net::start();
    net.fund(deployment_address(), 40, 90_000);
    let component = sealed_rsi(net.dir.path());
    let spec = DeploymentSpec::new("differential", rsi_config("1"));
    let (_recorder, mut executor) =
        net.recorder_and_executor(&spec, &component, RunPolicy::AllowAll, AccountMode::Eoa);

    // The simulator's pool, from the contract's state: one full-range
    // position holds all the liquidity (the devnet's), WETH is token0.
    let (sqrt_price, liquidity) = pool_state(&net, net.devnet.pool);
    assert!(net.devnet.weth < net.devnet.dai, "WETH is token0");
    let mut pool = Pool::new(sqrt_price, 3_000, 60).unwrap();
    pool.mint(-887_220, 887_220, liquidity).unwrap();
    assert_eq!(pool.liquidity(), liquidity);

    // A concentrated position on both sides: the swaps below cross its
    // ticks, stepping the pool's tick bitmap, in both directions.
    let centre = pool.tick().div_euclid(60) * 60;
    let (lower, upper) = (centre - 1_200, centre + 1_200);
    let open = Action::LpOpen(LpOpen {
        pool: "WETH/DAI".into(),
        range: LpRange::Ticks((lower, upper)),
        amount0: Amount::from_u128(2 * ONE),
        amount1: Amount::from_u128(4_000 * ONE),
    });
    let ActionOutcome::Filled(fill) = net
        .tokio
        .block_on(executor.execute(100, &open))
        .expect("a known outcome")
    else {
        panic!("lp-open failed");
    };
    let token_id: U256 = fill.position.expect("a position").parse().unwrap();
    let chain = net.chain(AccountMode::Eoa);
    let request = TransactionRequest::default()
        .to(net.devnet.position_manager)
        .input(
            pool_abi::positionsCall { tokenId: token_id }
                .abi_encode()
                .into(),
        );
    let position = pool_abi::positionsCall::abi_decode_returns(
        &net.tokio
            .block_on(async { chain.provider().call(request).await })
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (position.tickLower.as_i32(), position.tickUpper.as_i32()),
        (lower, upper)
    );
    let (_, deposited0, deposited1) = pool.mint(lower, upper, position.liquidity).unwrap();
    assert_eq!(
        (deposited0, deposited1),
        (moved(&fill.spent, "WETH"), moved(&fill.spent, "DAI")),
        "the simulated mint takes what the contract took"
    );

    let exact_in = |a: u128| SwapAmount::ExactIn(Amount::from_u128(a));
    let exact_out = |a: u128| SwapAmount::ExactOut(Amount::from_u128(a));
    let cases = [
        ("WETH", "DAI", exact_in(ONE)),
        ("DAI", "WETH", exact_in(1_500 * ONE)),
        ("DAI", "WETH", exact_out(ONE / 4)),
        ("WETH", "DAI", exact_out(700 * ONE)),
        ("WETH", "DAI", exact_in(3 * ONE + 12_345)),
        ("DAI", "WETH", exact_out(2 * ONE + 1)),
        // Far enough to leave the concentrated range, then back across it.
        ("WETH", "DAI", exact_in(12 * ONE)),
        ("DAI", "WETH", exact_in(45_000 * ONE)),
    ];
    let mut crossed = 0;
    for (id, (sell, buy, amount)) in cases.into_iter().enumerate() {
        let outcome = net
            .tokio
            .block_on(executor.execute(id as u64 + 1, &swap(sell, buy, amount)))
            .expect("a known outcome");
        let ActionOutcome::Filled(fill) = outcome else {
            panic!("swap {id} failed: {outcome:?}");
        };
        let (chain_in, chain_out) = (moved(&fill.spent, sell), moved(&fill.received, buy));
        let (exact_in, value) = match amount {
            SwapAmount::ExactIn(a) => (true, a.to_u128()),
            SwapAmount::ExactOut(a) => (false, a.to_u128()),
        };
        let simulated = pool.swap(sell == "WETH", exact_in, value, None).unwrap();
        assert_eq!(
            (simulated.amount_in, simulated.amount_out),
            (chain_in, chain_out),
            "swap {id}: {sell} -> {buy} {amount:?}: simulated (in, out) vs the pool contract's"
        );
        crossed += simulated.ticks_crossed;
        let (chain_price, chain_liquidity) = pool_state(&net, net.devnet.pool);
        assert_eq!(pool.sqrt_price_x96(), chain_price, "swap {id}: price after");
        assert_eq!(
            pool.liquidity(),
            chain_liquidity,
            "swap {id}: liquidity after"
        );
    }
    assert!(
        crossed >= 2,
        "the swaps crossed the position's ticks ({crossed})"
    );
}

mod v2_abi {
    alloy::sol! {
        function createPair(address tokenA, address tokenB) external returns (address pair);
        function getPair(address tokenA, address tokenB) external view returns (address pair);
        function mint(address to) external returns (uint liquidity);
        function swap(uint amount0Out, uint amount1Out, address to, bytes calldata data) external;
        function getReserves() external view returns (uint112 reserve0, uint112 reserve1, uint32 blockTimestampLast);
        function transfer(address to, uint256 amount) external returns (bool);
    }
}

/// The simulator's constant-product pool (`stratbox_venues::v2`) quotes
/// exactly what a real Uniswap v2 pair accepts: the largest output for an
/// input (one wei more breaks the pair's invariant check) and the smallest
/// input for an output (one wei less breaks it), both directions.
#[test]
fn simulated_v2_quotes_are_the_pair_contracts_bounds_to_the_wei() {
    use stratbox_evm::devnet::{Artifacts, DEPLOYMENT_KEY, deploy, signer_provider, transact};
    use stratbox_venues::v2::ConstantProductPool;

    let net = Net::start();
    let account = deployment_address();
    net.fund(account, 40, 90_000);
    let provider = signer_provider(&net.devnet.url, DEPLOYMENT_KEY).unwrap();
    let artifacts = Artifacts::locate(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
    let (weth, dai) = (net.devnet.weth, net.devnet.dai);
    let pair = net.tokio.block_on(async {
        let factory = deploy(
            &provider,
            &artifacts,
            "UniswapV2Factory",
            "@uniswap/v2-core/build/UniswapV2Factory.json",
            alloy::sol_types::SolValue::abi_encode(&account),
        )
        .await
        .unwrap();
        let create = v2_abi::createPairCall {
            tokenA: weth,
            tokenB: dai,
        };
        transact(&provider, "createPair", factory, create, U256::ZERO)
            .await
            .unwrap();
        let get = v2_abi::getPairCall {
            tokenA: weth,
            tokenB: dai,
        };
        let out = provider
            .call(
                TransactionRequest::default()
                    .to(factory)
                    .input(get.abi_encode().into()),
            )
            .await
            .unwrap();
        v2_abi::getPairCall::abi_decode_returns(&out).unwrap()
    });
    let (token0, token1) = if weth < dai { (weth, dai) } else { (dai, weth) };
    let send = |token: Address, amount: u128| {
        let call = v2_abi::transferCall {
            to: pair,
            amount: U256::from(amount),
        };
        net.tokio
            .block_on(transact(&provider, "transfer", token, call, U256::ZERO))
            .unwrap();
    };
    send(token0, 10 * ONE);
    send(token1, 20_000 * ONE);
    net.tokio
        .block_on(transact(
            &provider,
            "mint",
            pair,
            v2_abi::mintCall { to: account },
            U256::ZERO,
        ))
        .unwrap();
    // Whether `swap(out0, out1)` would go through now (nothing sent).
    let swap_ok = |out0: u128, out1: u128| {
        let call = v2_abi::swapCall {
            amount0Out: U256::from(out0),
            amount1Out: U256::from(out1),
            to: account,
            data: Default::default(),
        };
        let request = TransactionRequest::default()
            .from(account)
            .to(pair)
            .input(call.abi_encode().into());
        net.tokio
            .block_on(async { provider.call(request).await })
            .is_ok()
    };
    let swap = |out0: u128, out1: u128| {
        let call = v2_abi::swapCall {
            amount0Out: U256::from(out0),
            amount1Out: U256::from(out1),
            to: account,
            data: Default::default(),
        };
        net.tokio
            .block_on(transact(&provider, "swap", pair, call, U256::ZERO))
            .unwrap();
    };
    let reserves = || {
        let request = TransactionRequest::default()
            .to(pair)
            .input(v2_abi::getReservesCall {}.abi_encode().into());
        let out = net
            .tokio
            .block_on(async { provider.call(request).await })
            .unwrap();
        let r = v2_abi::getReservesCall::abi_decode_returns(&out).unwrap();
        (r.reserve0.to::<u128>(), r.reserve1.to::<u128>())
    };
    let cases: [(bool, bool, u128); 6] = [
        (true, true, ONE),
        (false, true, 1_234 * ONE + 7),
        (true, false, 333 * ONE),
        (false, false, ONE / 3),
        (true, true, 5 * ONE + 1),
        (false, false, 2 * ONE),
    ];
    for (id, (zero_for_one, exact_in, amount)) in cases.into_iter().enumerate() {
        let (reserve0, reserve1) = reserves();
        let pool = ConstantProductPool::new(reserve0, reserve1, 3_000);
        let input = if zero_for_one { token0 } else { token1 };
        let outs = |out: u128| if zero_for_one { (0, out) } else { (out, 0) };
        let (paid, received) = if exact_in {
            (amount, pool.quote_exact_in(amount, zero_for_one).unwrap())
        } else {
            (pool.quote_exact_out(amount, zero_for_one).unwrap(), amount)
        };
        if exact_in {
            send(input, paid);
            let (o0, o1) = outs(received + 1);
            assert!(
                !swap_ok(o0, o1),
                "case {id}: one wei more than quoted went through"
            );
        } else {
            send(input, paid - 1);
            let (o0, o1) = outs(received);
            assert!(
                !swap_ok(o0, o1),
                "case {id}: one wei less than quoted was enough"
            );
            send(input, 1);
        }
        let (o0, o1) = outs(received);
        assert!(swap_ok(o0, o1), "case {id}: the quote was refused");
        swap(o0, o1);
    }
}
