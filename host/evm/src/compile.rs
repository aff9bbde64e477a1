//! Action compilation: a strategy's action becomes the contract calls that
//! execute it, approvals first and only where the allowance is short.
//! Swaps go to the SwapRouter with the slippage bound turned into
//! `amountOutMinimum` / `amountInMaximum` from a fresh spot quote (the
//! maximum input of an exact-out swap is the runtime's
//! [`ExactOutBound`], the same bound the policy charged against
//! allowances); LP actions go to the NonfungiblePositionManager, with
//! `amount0Min` / `amount1Min` of `mint` and `decreaseLiquidity` from a
//! fresh quote of the pool (the amounts the position takes or returns at
//! `slot0` of the latest block, by the pool's own integer math) less the
//! chain file's `lp_slippage_bps`.

use alloy::eips::BlockId;
use alloy::primitives::{Address, Bytes, U256, aliases::I24, aliases::U24, aliases::U160};
use alloy::sol_types::SolCall;
use stratbox_runtime::policy::ExactOutBound;
use stratbox_runtime::types::{Action, LpRange, Swap, SwapAmount};

use crate::chain::Chain;
use crate::config::PoolConfig;
use crate::contracts::{IERC20, INonfungiblePositionManager, ISwapRouter, IUniswapV3Pool};
use crate::quote::{SpotPrice, minimum_out, price_to_tick, spot_price};
use liquidity::{amounts_for_liquidity, liquidity_for_amounts, sqrt_ratio_at_tick};

/// One contract call of an action, made by the deployment's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractCall {
    /// What it does, for the journal (`approve USDC`, `swap`).
    pub purpose: String,
    /// Contract.
    pub to: Address,
    /// Calldata.
    pub data: Bytes,
}

/// An action as calls, and what filling it means.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledAction {
    /// Calls in order (approvals first).
    pub calls: Vec<ContractCall>,
    /// The pool fee it pays, in the asset paid (swaps).
    pub fee: Option<(String, U256)>,
    /// The LP position it acts on, if known before execution.
    pub position: Option<String>,
}

impl CompiledAction {
    /// No calls, no fee, no position.
    pub(crate) fn empty() -> CompiledAction {
        CompiledAction {
            calls: Vec::new(),
            fee: None,
            position: None,
        }
    }
}

/// Why an action cannot be executed on this chain (reported back to the
/// strategy as a failed action; nothing is sent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {reason}")]
pub struct CompileError {
    /// Stable code, e.g. `UNKNOWN_ASSET`.
    pub code: &'static str,
    /// What is wrong.
    pub reason: String,
}

fn refuse(code: &'static str, reason: impl Into<String>) -> CompileError {
    CompileError {
        code,
        reason: reason.into(),
    }
}

impl From<crate::error::ChainError> for CompileError {
    fn from(error: crate::error::ChainError) -> Self {
        refuse("CHAIN_UNAVAILABLE", error.to_string())
    }
}

/// Compile `action` against the chain's latest state.
pub async fn compile(chain: &Chain, action: &Action) -> Result<CompiledAction, CompileError> {
    match action {
        Action::Swap(swap) => compile_swap(chain, swap).await,
        Action::LpOpen(open) => {
            let pool = chain.config().pools.get(&open.pool).ok_or_else(|| {
                refuse(
                    "UNKNOWN_POOL",
                    format!("no pool `{}` on this chain", open.pool),
                )
            })?;
            let spacing = chain
                .read(
                    pool_address(chain, &open.pool)?,
                    IUniswapV3Pool::tickSpacingCall {},
                    BlockId::latest(),
                )
                .await?
                .as_i32();
            let (lower, upper) = match open.range {
                LpRange::Ticks((lower, upper)) => (lower, upper),
                LpRange::Price((low, high)) => {
                    let decimals = |s: &str| chain.config().assets[s].decimals;
                    let (d0, d1) = (decimals(&pool.token0), decimals(&pool.token1));
                    let lower = price_to_tick(low, d0, d1, spacing, false);
                    let upper = price_to_tick(high, d0, d1, spacing, true);
                    lower.zip(upper).ok_or_else(|| {
                        refuse("INVALID_RANGE", format!("price range {low}..{high}"))
                    })?
                }
            };
            if lower >= upper || lower % spacing != 0 || upper % spacing != 0 {
                return Err(refuse(
                    "INVALID_RANGE",
                    format!(
                        "ticks {lower}..{upper} are not an increasing range on spacing {spacing}"
                    ),
                ));
            }
            let manager = chain.config().contracts.position_manager;
            let amount0 = U256::from(open.amount0.to_u128());
            let amount1 = U256::from(open.amount1.to_u128());
            // What the position takes at the pool's price now: the
            // liquidity the desired amounts buy (as the position manager
            // computes it), priced as the pool charges it (rounded up).
            let price = fresh_sqrt_price(chain, pool.address).await?;
            let (sqrt_lower, sqrt_upper) = range_sqrt_ratios(lower, upper)?;
            let expected = liquidity_for_amounts(price, sqrt_lower, sqrt_upper, amount0, amount1)
                .and_then(|liquidity| {
                    amounts_for_liquidity(price, sqrt_lower, sqrt_upper, liquidity, true)
                })
                .ok_or_else(|| {
                    refuse(
                        "INVALID_AMOUNT",
                        format!("no liquidity quote for {amount0} / {amount1} in {lower}..{upper}"),
                    )
                })?;
            let (amount0_min, amount1_min) = lp_minimums(chain, expected);
            let mut calls = Vec::new();
            approve_if_short(chain, &pool.token0, manager, amount0, &mut calls).await?;
            approve_if_short(chain, &pool.token1, manager, amount1, &mut calls).await?;
            let mint = INonfungiblePositionManager::mintCall {
                params: INonfungiblePositionManager::MintParams {
                    token0: token(chain, &pool.token0)?,
                    token1: token(chain, &pool.token1)?,
                    fee: U24::from(pool.fee),
                    tickLower: I24::try_from(lower).map_err(|_| refuse("INVALID_RANGE", "tick"))?,
                    tickUpper: I24::try_from(upper).map_err(|_| refuse("INVALID_RANGE", "tick"))?,
                    amount0Desired: amount0,
                    amount1Desired: amount1,
                    amount0Min: amount0_min,
                    amount1Min: amount1_min,
                    recipient: chain.account(),
                    deadline: deadline(chain).await?,
                },
            };
            calls.push(call("lp-open", manager, mint.abi_encode()));
            Ok(CompiledAction {
                calls,
                fee: None,
                position: None,
            })
        }
        Action::LpClose(close) => {
            let (token_id, position) = position(chain, &close.position).await?;
            let manager = chain.config().contracts.position_manager;
            let mut steps = Vec::new();
            if position.liquidity != 0 {
                // What the whole liquidity is worth at the pool's price
                // now, as the pool pays it out (rounded down).
                let pool = position_pool(chain, &close.position, &position)?;
                let price = fresh_sqrt_price(chain, pool).await?;
                let (sqrt_lower, sqrt_upper) =
                    range_sqrt_ratios(position.tickLower.as_i32(), position.tickUpper.as_i32())?;
                let expected =
                    amounts_for_liquidity(price, sqrt_lower, sqrt_upper, position.liquidity, false)
                        .ok_or_else(|| {
                            refuse(
                                "INVALID_AMOUNT",
                                format!("no quote for position {}", close.position),
                            )
                        })?;
                let (amount0_min, amount1_min) = lp_minimums(chain, expected);
                steps.push(Bytes::from(
                    INonfungiblePositionManager::decreaseLiquidityCall {
                        params: INonfungiblePositionManager::DecreaseLiquidityParams {
                            tokenId: token_id,
                            liquidity: position.liquidity,
                            amount0Min: amount0_min,
                            amount1Min: amount1_min,
                            deadline: deadline(chain).await?,
                        },
                    }
                    .abi_encode(),
                ));
            }
            steps.push(collect_call(chain, token_id));
            steps.push(Bytes::from(
                INonfungiblePositionManager::burnCall { tokenId: token_id }.abi_encode(),
            ));
            Ok(CompiledAction {
                calls: vec![call(
                    "lp-close",
                    manager,
                    INonfungiblePositionManager::multicallCall { data: steps }.abi_encode(),
                )],
                fee: None,
                position: Some(close.position.clone()),
            })
        }
        Action::LpCollect(collect) => {
            let (token_id, _) = position(chain, &collect.position).await?;
            Ok(CompiledAction {
                calls: vec![call(
                    "lp-collect",
                    chain.config().contracts.position_manager,
                    collect_call(chain, token_id).to_vec(),
                )],
                fee: None,
                position: Some(collect.position.clone()),
            })
        }
        Action::Hold(_) => Ok(CompiledAction {
            calls: Vec::new(),
            fee: None,
            position: None,
        }),
        Action::Supply(_)
        | Action::Withdraw(_)
        | Action::Borrow(_)
        | Action::Repay(_)
        | Action::VaultDeposit(_)
        | Action::VaultRequestRedeem(_) => Err(refuse(
            "UNSUPPORTED_ACTION",
            "no lending market or vault is configured on this chain",
        )),
    }
}

async fn compile_swap(chain: &Chain, swap: &Swap) -> Result<CompiledAction, CompileError> {
    let config = chain.config();
    if swap.sell == config.native_asset || swap.buy == config.native_asset {
        return Err(refuse(
            "UNSUPPORTED_ACTION",
            format!(
                "swap the wrapped token, not the native {}",
                config.native_asset
            ),
        ));
    }
    let token_in = token(chain, &swap.sell)?;
    let token_out = token(chain, &swap.buy)?;
    let (pool_name, pool) = match &swap.venue {
        Some(venue) => config
            .pools
            .get_key_value(venue)
            .filter(|(_, p)| is_pair(p, &swap.sell, &swap.buy))
            .map(|(n, p)| (n.as_str(), p)),
        None => config.pool_for(&swap.sell, &swap.buy),
    }
    .ok_or_else(|| {
        refuse(
            "NO_ROUTE",
            format!("no pool trades {} for {}", swap.sell, swap.buy),
        )
    })?;
    let slot0 = chain
        .read(
            pool.address,
            IUniswapV3Pool::slot0Call {},
            BlockId::latest(),
        )
        .await?;
    let spot = SpotPrice {
        sqrt_price_x96: U256::from(slot0.sqrtPriceX96),
        fee_pips: pool.fee,
    };
    let zero_for_one = swap.sell == pool.token0;
    let router = config.contracts.swap_router;
    let recipient = chain.account();
    let deadline = deadline(chain).await?;
    let fee = U24::from(pool.fee);
    let (spend, data) = match swap.amount {
        SwapAmount::ExactIn(amount) => {
            let amount_in = U256::from(amount.to_u128());
            let floor = minimum_out(
                spot.amount_out(amount_in, zero_for_one),
                swap.max_slippage_bps,
            );
            let params = ISwapRouter::ExactInputSingleParams {
                tokenIn: token_in,
                tokenOut: token_out,
                fee,
                recipient,
                deadline,
                amountIn: amount_in,
                amountOutMinimum: floor,
                sqrtPriceLimitX96: U160::ZERO,
            };
            (
                amount_in,
                ISwapRouter::exactInputSingleCall { params }.abi_encode(),
            )
        }
        SwapAmount::ExactOut(amount) => {
            let amount_out = U256::from(amount.to_u128());
            let decimals = |symbol: &str| {
                config.asset(symbol).map(|a| a.decimals).ok_or_else(|| {
                    refuse(
                        "UNKNOWN_ASSET",
                        format!("`{symbol}` is not an asset on this chain"),
                    )
                })
            };
            let (sell_decimals, buy_decimals) = (decimals(&swap.sell)?, decimals(&swap.buy)?);
            // Whole sold tokens per whole bought token at spot, as the
            // deployment's oracle prices a pool.
            let (d0, d1) = if zero_for_one {
                (sell_decimals, buy_decimals)
            } else {
                (buy_decimals, sell_decimals)
            };
            let price0 = spot_price(spot.sqrt_price_x96, d0, d1);
            let price = if zero_for_one { 1.0 / price0 } else { price0 };
            let ceiling = ExactOutBound {
                amount_out: amount.to_u128(),
                price,
                sell_decimals,
                buy_decimals,
                max_slippage_bps: swap.max_slippage_bps,
            }
            .max_input()
            .map(U256::from)
            .map_err(|e| refuse("NO_PRICE", format!("no maximum input: {e}")))?;
            let params = ISwapRouter::ExactOutputSingleParams {
                tokenIn: token_in,
                tokenOut: token_out,
                fee,
                recipient,
                deadline,
                amountOut: amount_out,
                amountInMaximum: ceiling,
                sqrtPriceLimitX96: U160::ZERO,
            };
            (
                ceiling,
                ISwapRouter::exactOutputSingleCall { params }.abi_encode(),
            )
        }
    };
    let mut calls = Vec::new();
    approve_if_short(chain, &swap.sell, router, spend, &mut calls).await?;
    calls.push(call(&format!("swap via {pool_name}"), router, data));
    let fee_paid = spend * U256::from(pool.fee) / U256::from(1_000_000u64);
    Ok(CompiledAction {
        calls,
        fee: Some((swap.sell.clone(), fee_paid)),
        position: None,
    })
}

fn is_pair(pool: &PoolConfig, a: &str, b: &str) -> bool {
    (pool.token0 == a && pool.token1 == b) || (pool.token0 == b && pool.token1 == a)
}

fn token(chain: &Chain, symbol: &str) -> Result<Address, CompileError> {
    chain
        .config()
        .asset(symbol)
        .map(|a| a.address)
        .ok_or_else(|| {
            refuse(
                "UNKNOWN_ASSET",
                format!("`{symbol}` is not an asset on this chain"),
            )
        })
}

fn pool_address(chain: &Chain, name: &str) -> Result<Address, CompileError> {
    chain
        .config()
        .pools
        .get(name)
        .map(|p| p.address)
        .ok_or_else(|| refuse("UNKNOWN_POOL", format!("no pool `{name}` on this chain")))
}

fn call(purpose: &str, to: Address, data: Vec<u8>) -> ContractCall {
    ContractCall {
        purpose: purpose.to_owned(),
        to,
        data: Bytes::from(data),
    }
}

async fn approve_if_short(
    chain: &Chain,
    symbol: &str,
    spender: Address,
    amount: U256,
    calls: &mut Vec<ContractCall>,
) -> Result<(), CompileError> {
    if amount.is_zero() {
        return Ok(());
    }
    let address = token(chain, symbol)?;
    let allowance = chain
        .read(
            address,
            IERC20::allowanceCall {
                owner: chain.account(),
                spender,
            },
            BlockId::latest(),
        )
        .await?;
    if allowance < amount {
        calls.push(call(
            &format!("{}{symbol}", crate::execute::APPROVAL_PURPOSE),
            address,
            IERC20::approveCall { spender, amount }.abi_encode(),
        ));
    }
    Ok(())
}

async fn deadline(chain: &Chain) -> Result<U256, CompileError> {
    use alloy::providers::Provider;
    let block = chain
        .provider()
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .map_err(|e| refuse("CHAIN_UNAVAILABLE", e.to_string()))?
        .ok_or_else(|| refuse("CHAIN_UNAVAILABLE", "no latest block"))?;
    Ok(U256::from(
        block.header.timestamp + chain.config().deadline_secs,
    ))
}

/// Position NFT `id` as the position manager holds it.
async fn position(
    chain: &Chain,
    id: &str,
) -> Result<(U256, INonfungiblePositionManager::positionsReturn), CompileError> {
    let token_id: U256 = id
        .parse()
        .map_err(|_| refuse("UNKNOWN_POSITION", format!("`{id}` is not a position id")))?;
    let manager = chain.config().contracts.position_manager;
    let position = chain
        .read(
            manager,
            INonfungiblePositionManager::positionsCall { tokenId: token_id },
            BlockId::latest(),
        )
        .await
        .map_err(|_| refuse("UNKNOWN_POSITION", format!("no position {id}")))?;
    Ok((token_id, position))
}

/// The configured pool of a position (its tokens and fee tier): a
/// position in a pool the chain file does not name cannot be quoted.
fn position_pool(
    chain: &Chain,
    id: &str,
    position: &INonfungiblePositionManager::positionsReturn,
) -> Result<Address, CompileError> {
    let config = chain.config();
    let fee = position.fee.to::<u32>();
    config
        .pools
        .values()
        .find(|pool| {
            pool.fee == fee
                && config.asset(&pool.token0).map(|a| a.address) == Some(position.token0)
                && config.asset(&pool.token1).map(|a| a.address) == Some(position.token1)
        })
        .map(|pool| pool.address)
        .ok_or_else(|| {
            refuse(
                "UNKNOWN_POOL",
                format!("position {id} is in a pool this chain file does not configure"),
            )
        })
}

/// `slot0.sqrtPriceX96` of `pool` at the latest block: the quote LP
/// minimums are taken from, as swaps take theirs.
async fn fresh_sqrt_price(chain: &Chain, pool: Address) -> Result<U256, CompileError> {
    let slot0 = chain
        .read(pool, IUniswapV3Pool::slot0Call {}, BlockId::latest())
        .await?;
    Ok(U256::from(slot0.sqrtPriceX96))
}

/// The sqrt prices of a tick range's bounds.
fn range_sqrt_ratios(lower: i32, upper: i32) -> Result<(U256, U256), CompileError> {
    sqrt_ratio_at_tick(lower)
        .zip(sqrt_ratio_at_tick(upper))
        .ok_or_else(|| refuse("INVALID_RANGE", format!("ticks {lower}..{upper}")))
}

/// Expected `(amount0, amount1)` less the chain's LP slippage bound.
fn lp_minimums(chain: &Chain, (amount0, amount1): (U256, U256)) -> (U256, U256) {
    let bps = chain.config().lp_slippage_bps;
    (minimum_out(amount0, bps), minimum_out(amount1, bps))
}

fn collect_call(chain: &Chain, token_id: U256) -> Bytes {
    Bytes::from(
        INonfungiblePositionManager::collectCall {
            params: INonfungiblePositionManager::CollectParams {
                tokenId: token_id,
                recipient: chain.account(),
                amount0Max: u128::MAX,
                amount1Max: u128::MAX,
            },
        }
        .abi_encode(),
    )
}

/// Uniswap v3's integer math for LP amounts, ported line by line from the
/// contracts so that a quote is exactly what the chain computes: `TickMath.
/// getSqrtRatioAtTick` (v3-core), `LiquidityAmounts.getLiquidityForAmounts`
/// (v3-periphery, as `NonfungiblePositionManager.mint` sizes a position)
/// and `SqrtPriceMath.getAmount0Delta` / `getAmount1Delta` (v3-core, as
/// the pool charges a mint, rounded up, and pays a burn, rounded down).
/// `FullMath.mulDiv` is a 512-bit product divided back to 256 bits. `None`
/// wherever the contract would revert.
mod liquidity {
    use alloy::primitives::{U256, U512};

    /// `TickMath.MAX_TICK`; `MIN_TICK` is its negation.
    pub(super) const MAX_TICK: i32 = 887_272;

    /// `TickMath`'s factors: bit `1 << (i + 1)` of `|tick|` multiplies the
    /// Q128.128 ratio by `FACTORS[i]` (bit 0 starts the product).
    const FACTORS: [u128; 19] = [
        0xfff97272373d413259a46990580e213a,
        0xfff2e50f5f656932ef12357cf3c7fdcc,
        0xffe5caca7e10e4e61c3624eaa0941cd0,
        0xffcb9843d60f6159c9db58835c926644,
        0xff973b41fa98c081472e6896dfb254c0,
        0xff2ea16466c96a3843ec78b326b52861,
        0xfe5dee046a99a2a811c461f1969c3053,
        0xfcbe86c7900a88aedcffc83b479aa3a4,
        0xf987a7253ac413176f2b074cf7815e54,
        0xf3392b0822b70005940c7a398e4b70f3,
        0xe7159475a2c29b7443b29c7fa6e889d9,
        0xd097f3bdfd2022b8845ad8f792aa5825,
        0xa9f746462d870fdf8a65dc1f90e061e5,
        0x70d869a156d2a1b890bb3df62baf32f7,
        0x31be135f97d08fd981231505542fcfa6,
        0x9aa508b5b7a84e1c677de54f3e99bc9,
        0x5d6af8dedb81196699c329225ee604,
        0x2216e584f5fa1ea926041bedfe98,
        0x48a170391f7dc42444e8fa2,
    ];

    fn q96() -> U256 {
        U256::from(1) << 96
    }

    /// `TickMath.getSqrtRatioAtTick`: `sqrt(1.0001^tick) * 2^96`, rounded
    /// up; `None` beyond `±MAX_TICK`.
    pub(super) fn sqrt_ratio_at_tick(tick: i32) -> Option<U256> {
        let abs = tick.unsigned_abs();
        if abs > MAX_TICK.unsigned_abs() {
            return None;
        }
        let mut ratio = if abs & 1 != 0 {
            U256::from(0xfffcb933bd6fad37aa2d162d1a594001_u128)
        } else {
            U256::from(1) << 128
        };
        for (bit, factor) in FACTORS.iter().enumerate() {
            if abs & (2 << bit) != 0 {
                // Both factors are below 2^128 + 1: the product fits.
                ratio = (ratio * U256::from(*factor)) >> 128;
            }
        }
        if tick > 0 {
            ratio = U256::MAX / ratio;
        }
        let round_up = ratio & U256::from(u32::MAX) != U256::ZERO;
        Some((ratio >> 32) + U256::from(u8::from(round_up)))
    }

    /// `FullMath.mulDiv`: `a * b / denominator` rounded down (`round_up`
    /// false, else up), `None` on a zero denominator or a result past 256
    /// bits.
    fn mul_div(a: U256, b: U256, denominator: U256, round_up: bool) -> Option<U256> {
        if denominator.is_zero() {
            return None;
        }
        let product = U512::from(a) * U512::from(b);
        let denominator = U512::from(denominator);
        let quotient = if round_up {
            product.div_ceil(denominator)
        } else {
            product / denominator
        };
        let limbs = quotient.as_limbs();
        limbs[4..]
            .iter()
            .all(|limb| *limb == 0)
            .then(|| U256::from_limbs([limbs[0], limbs[1], limbs[2], limbs[3]]))
    }

    fn ordered(a: U256, b: U256) -> (U256, U256) {
        if a > b { (b, a) } else { (a, b) }
    }

    /// `LiquidityAmounts.getLiquidityForAmount0`.
    fn liquidity_for_amount0(a: U256, b: U256, amount0: U256) -> Option<u128> {
        let (a, b) = ordered(a, b);
        let intermediate = mul_div(a, b, q96(), false)?;
        u128::try_from(mul_div(amount0, intermediate, b - a, false)?).ok()
    }

    /// `LiquidityAmounts.getLiquidityForAmount1`.
    fn liquidity_for_amount1(a: U256, b: U256, amount1: U256) -> Option<u128> {
        let (a, b) = ordered(a, b);
        u128::try_from(mul_div(amount1, q96(), b - a, false)?).ok()
    }

    /// `LiquidityAmounts.getLiquidityForAmounts`: the most liquidity
    /// `amount0` and `amount1` buy in the range `a..b` at `price` (all
    /// sqrt prices, Q64.96).
    pub(super) fn liquidity_for_amounts(
        price: U256,
        a: U256,
        b: U256,
        amount0: U256,
        amount1: U256,
    ) -> Option<u128> {
        let (a, b) = ordered(a, b);
        if price <= a {
            liquidity_for_amount0(a, b, amount0)
        } else if price < b {
            let liquidity0 = liquidity_for_amount0(price, b, amount0)?;
            let liquidity1 = liquidity_for_amount1(a, price, amount1)?;
            Some(liquidity0.min(liquidity1))
        } else {
            liquidity_for_amount1(a, b, amount1)
        }
    }

    /// `SqrtPriceMath.getAmount0Delta`.
    fn amount0_delta(a: U256, b: U256, liquidity: u128, round_up: bool) -> Option<U256> {
        let (a, b) = ordered(a, b);
        if a.is_zero() {
            return None;
        }
        let numerator1 = U256::from(liquidity) << 96;
        let numerator2 = b - a;
        let scaled = mul_div(numerator1, numerator2, b, round_up)?;
        Some(if round_up {
            scaled.div_ceil(a)
        } else {
            scaled / a
        })
    }

    /// `SqrtPriceMath.getAmount1Delta`.
    fn amount1_delta(a: U256, b: U256, liquidity: u128, round_up: bool) -> Option<U256> {
        let (a, b) = ordered(a, b);
        mul_div(U256::from(liquidity), b - a, q96(), round_up)
    }

    /// The token amounts `liquidity` in the range `a..b` is worth at
    /// `price`, as `UniswapV3Pool._modifyPosition` computes them: rounded
    /// up for a mint (`round_up`), down for a burn.
    pub(super) fn amounts_for_liquidity(
        price: U256,
        a: U256,
        b: U256,
        liquidity: u128,
        round_up: bool,
    ) -> Option<(U256, U256)> {
        let (a, b) = ordered(a, b);
        if price < a {
            Some((amount0_delta(a, b, liquidity, round_up)?, U256::ZERO))
        } else if price < b {
            Some((
                amount0_delta(price, b, liquidity, round_up)?,
                amount1_delta(a, price, liquidity, round_up)?,
            ))
        } else {
            Some((U256::ZERO, amount1_delta(a, b, liquidity, round_up)?))
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn u(text: &str) -> U256 {
            text.parse().unwrap()
        }

        #[test]
        fn sqrt_ratio_matches_tick_math() {
            // TickMath.MIN_SQRT_RATIO and MAX_SQRT_RATIO, and 2^96 at tick 0.
            assert_eq!(sqrt_ratio_at_tick(-MAX_TICK), Some(u("4295128739")));
            assert_eq!(
                sqrt_ratio_at_tick(MAX_TICK),
                Some(u("1461446703485210103287273052203988822378723970342"))
            );
            assert_eq!(sqrt_ratio_at_tick(0), Some(q96()));
            assert_eq!(
                sqrt_ratio_at_tick(1),
                Some(u("79232123823359799118286999568"))
            );
            assert_eq!(sqrt_ratio_at_tick(MAX_TICK + 1), None);
            assert_eq!(sqrt_ratio_at_tick(-MAX_TICK - 1), None);
            // Values from the v3-core TickMath tests (getSqrtRatioAtTick).
            assert_eq!(sqrt_ratio_at_tick(-MAX_TICK + 1), Some(u("4295343490")));
            assert_eq!(
                sqrt_ratio_at_tick(MAX_TICK - 1),
                Some(u("1461373636630004318706518188784493106690254656249"))
            );
        }

        #[test]
        fn sqrt_ratio_is_within_a_part_in_a_billion_of_the_real_value() {
            for tick in [-500_000, -92_109, -60, -1, 1, 60, 76_012, 500_000] {
                let exact = (f64::from(tick) / 2.0 * 1.0001f64.ln()).exp() * 2f64.powi(96);
                let got = f64::from(sqrt_ratio_at_tick(tick).unwrap());
                assert!(
                    ((got - exact) / exact).abs() < 1e-9,
                    "{tick}: {got} vs {exact}"
                );
            }
            let mut previous = U256::ZERO;
            for tick in (-MAX_TICK..=MAX_TICK).step_by(997) {
                let ratio = sqrt_ratio_at_tick(tick).unwrap();
                assert!(ratio > previous, "increasing at {tick}");
                previous = ratio;
            }
        }

        #[test]
        fn mint_amounts_round_trip_through_liquidity() {
            // Price 1, range ticks -600..600: the same value of each token.
            let (a, b) = (
                sqrt_ratio_at_tick(-600).unwrap(),
                sqrt_ratio_at_tick(600).unwrap(),
            );
            let price = q96();
            let desired = U256::from(10u128.pow(18));
            let liquidity = liquidity_for_amounts(price, a, b, desired, desired).unwrap();
            assert!(liquidity > 0);
            let (amount0, amount1) = amounts_for_liquidity(price, a, b, liquidity, true).unwrap();
            // Symmetric range at price 1: both sides equal, never above what
            // was offered, and short of it by rounding only.
            assert_eq!(amount0, amount1);
            assert!(amount0 <= desired && desired - amount0 <= U256::from(2u8));
            let (down0, down1) = amounts_for_liquidity(price, a, b, liquidity, false).unwrap();
            assert!(down0 <= amount0 && amount0 - down0 <= U256::from(1u8));
            assert!(down1 <= amount1 && amount1 - down1 <= U256::from(1u8));
        }

        #[test]
        fn out_of_range_positions_hold_one_token() {
            let (a, b) = (
                sqrt_ratio_at_tick(600).unwrap(),
                sqrt_ratio_at_tick(1200).unwrap(),
            );
            let below = q96();
            let liquidity =
                liquidity_for_amounts(below, a, b, U256::from(1_000_000u64), U256::MAX).unwrap();
            let (amount0, amount1) = amounts_for_liquidity(below, a, b, liquidity, true).unwrap();
            assert_eq!(amount1, U256::ZERO);
            assert!(amount0 <= U256::from(1_000_000u64) && amount0 > U256::from(999_990u64));
            let above = sqrt_ratio_at_tick(1800).unwrap();
            let (amount0, amount1) = amounts_for_liquidity(above, a, b, liquidity, false).unwrap();
            assert_eq!(amount0, U256::ZERO);
            assert!(amount1 > U256::ZERO);
        }

        #[test]
        fn liquidity_past_128_bits_is_refused() {
            let (a, b) = (
                sqrt_ratio_at_tick(-60).unwrap(),
                sqrt_ratio_at_tick(60).unwrap(),
            );
            assert_eq!(
                liquidity_for_amounts(q96(), a, b, U256::MAX, U256::MAX),
                None
            );
        }
    }
}
