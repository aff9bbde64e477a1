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
use stratbox_venues::v3::{amounts_for_liquidity, liquidity_for_amounts, sqrt_ratio_at_tick};

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
            let price = fresh_price(chain, pool.address).await?;
            let (sqrt_lower, sqrt_upper) = range_sqrt_ratios(lower, upper)?;
            let expected = liquidity_for_amounts(
                price.0,
                sqrt_lower,
                sqrt_upper,
                open.amount0.to_u128(),
                open.amount1.to_u128(),
            )
            .and_then(|liquidity| amounts_for_liquidity(price, lower, upper, liquidity, true))
            .map_err(|error| {
                refuse(
                    "INVALID_AMOUNT",
                    format!(
                        "no liquidity quote for {amount0} / {amount1} in {lower}..{upper}: {error}"
                    ),
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
                let price = fresh_price(chain, pool).await?;
                let expected = amounts_for_liquidity(
                    price,
                    position.tickLower.as_i32(),
                    position.tickUpper.as_i32(),
                    position.liquidity,
                    false,
                )
                .map_err(|error| {
                    refuse(
                        "INVALID_AMOUNT",
                        format!("no quote for position {}: {error}", close.position),
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

/// `slot0` of `pool` at the latest block (sqrt price and tick): the quote
/// LP minimums are taken from, as swaps take theirs.
async fn fresh_price(chain: &Chain, pool: Address) -> Result<(U256, i32), CompileError> {
    let slot0 = chain
        .read(pool, IUniswapV3Pool::slot0Call {}, BlockId::latest())
        .await?;
    Ok((U256::from(slot0.sqrtPriceX96), slot0.tick.as_i32()))
}

/// The sqrt prices of a tick range's bounds.
fn range_sqrt_ratios(lower: i32, upper: i32) -> Result<(U256, U256), CompileError> {
    let ratio = |tick| {
        sqrt_ratio_at_tick(tick)
            .map_err(|error| refuse("INVALID_RANGE", format!("ticks {lower}..{upper}: {error}")))
    };
    Ok((ratio(lower)?, ratio(upper)?))
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
