//! What a tick sees of the chain: one consistent read at one block of the
//! account's balances, the configured pools and feeds and the account's
//! LP positions. The strategy's oracle answers from this view, so every
//! read of a tick is of the same block and is journaled like a backtest's.

use std::collections::BTreeMap;

use alloy::eips::{BlockId, BlockNumberOrTag};
use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use stratbox_runtime::types::BlockInfo;

use crate::chain::Chain;
use crate::contracts::{
    AggregatorV3Interface, IERC20, INonfungiblePositionManager, IUniswapV3Pool,
};
use crate::error::ChainError;

/// A pool as read at the view's block.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolSnapshot {
    /// `slot0.sqrtPriceX96`.
    pub sqrt_price_x96: U256,
    /// `slot0.tick`.
    pub tick: i32,
    /// Active liquidity.
    pub liquidity: u128,
    /// Token balances of the pool contract.
    pub reserve0: U256,
    /// Token balances of the pool contract.
    pub reserve1: U256,
    /// Tick spacing.
    pub tick_spacing: i32,
}

/// An LP position NFT held by the account.
#[derive(Debug, Clone, PartialEq)]
pub struct LpPosition {
    /// NFT id.
    pub token_id: U256,
    /// Pool name in the chain file.
    pub pool: String,
    /// Range.
    pub tick_lower: i32,
    /// Range.
    pub tick_upper: i32,
    /// Liquidity units.
    pub liquidity: u128,
    /// Fees and withdrawn amounts not yet collected.
    pub owed0: u128,
    /// Fees and withdrawn amounts not yet collected.
    pub owed1: u128,
}

/// The chain at one block, as far as the deployment may see it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainView {
    /// The block read.
    pub block: BlockInfo,
    /// Balances by symbol (the native asset included).
    pub balances: BTreeMap<String, U256>,
    /// Pools by name.
    pub pools: BTreeMap<String, PoolSnapshot>,
    /// Feed answers by `BASE/QUOTE`, decimals applied.
    pub feeds: BTreeMap<String, f64>,
    /// The account's LP positions in configured pools.
    pub positions: Vec<LpPosition>,
}

impl ChainView {
    /// Read everything at the latest block.
    pub async fn fetch(chain: &Chain) -> Result<ChainView, ChainError> {
        let provider = chain.provider();
        let header = provider
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await
            .map_err(|e| ChainError::rpc("eth_getBlockByNumber", e))?
            .ok_or_else(|| ChainError::Unexpected {
                what: "eth_getBlockByNumber(latest)".into(),
                reason: "no block".into(),
            })?
            .header;
        let number = header.number;
        let at = BlockId::number(number);
        let config = chain.config();
        let account = chain.account();
        let mut balances = BTreeMap::new();
        let native = provider
            .get_balance(account)
            .block_id(at)
            .await
            .map_err(|e| ChainError::rpc("eth_getBalance", e))?;
        balances.insert(config.native_asset.clone(), native);
        for (symbol, asset) in &config.assets {
            let balance = chain
                .read(asset.address, IERC20::balanceOfCall { owner: account }, at)
                .await?;
            balances.insert(symbol.clone(), balance);
        }
        let mut pools = BTreeMap::new();
        for (name, pool) in &config.pools {
            let slot0 = chain
                .read(pool.address, IUniswapV3Pool::slot0Call {}, at)
                .await?;
            let liquidity = chain
                .read(pool.address, IUniswapV3Pool::liquidityCall {}, at)
                .await?;
            let tick_spacing = chain
                .read(pool.address, IUniswapV3Pool::tickSpacingCall {}, at)
                .await?;
            let reserve = |symbol: &str| config.assets[symbol].address;
            let reserve0 = chain
                .read(
                    reserve(&pool.token0),
                    IERC20::balanceOfCall {
                        owner: pool.address,
                    },
                    at,
                )
                .await?;
            let reserve1 = chain
                .read(
                    reserve(&pool.token1),
                    IERC20::balanceOfCall {
                        owner: pool.address,
                    },
                    at,
                )
                .await?;
            pools.insert(
                name.clone(),
                PoolSnapshot {
                    sqrt_price_x96: U256::from(slot0.sqrtPriceX96),
                    tick: slot0.tick.as_i32(),
                    liquidity,
                    reserve0,
                    reserve1,
                    tick_spacing: tick_spacing.as_i32(),
                },
            );
        }
        let mut feeds = BTreeMap::new();
        for (name, feed) in &config.feeds {
            let decimals = chain
                .read(feed.aggregator, AggregatorV3Interface::decimalsCall {}, at)
                .await?;
            let round = chain
                .read(
                    feed.aggregator,
                    AggregatorV3Interface::latestRoundDataCall {},
                    at,
                )
                .await?;
            let answer: f64 =
                round
                    .answer
                    .to_string()
                    .parse()
                    .map_err(|_| ChainError::Unexpected {
                        what: format!("latestRoundData on {}", feed.aggregator),
                        reason: "answer is not a number".into(),
                    })?;
            feeds.insert(name.clone(), answer / 10f64.powi(i32::from(decimals)));
        }
        let positions = fetch_positions(chain, account, at).await?;
        Ok(ChainView {
            block: BlockInfo {
                chain_id: config.chain_id,
                number,
                timestamp_ms: header.timestamp.saturating_mul(1000),
            },
            balances,
            pools,
            feeds,
            positions,
        })
    }
}

async fn fetch_positions(
    chain: &Chain,
    account: Address,
    at: BlockId,
) -> Result<Vec<LpPosition>, ChainError> {
    let manager = chain.config().contracts.position_manager;
    let count = chain
        .read(
            manager,
            INonfungiblePositionManager::balanceOfCall { owner: account },
            at,
        )
        .await?;
    let count = u64::try_from(count).map_err(|_| ChainError::Unexpected {
        what: "NonfungiblePositionManager.balanceOf".into(),
        reason: "count does not fit 64 bits".into(),
    })?;
    let mut positions = Vec::new();
    for index in 0..count {
        let token_id = chain
            .read(
                manager,
                INonfungiblePositionManager::tokenOfOwnerByIndexCall {
                    owner: account,
                    index: U256::from(index),
                },
                at,
            )
            .await?;
        let p = chain
            .read(
                manager,
                INonfungiblePositionManager::positionsCall { tokenId: token_id },
                at,
            )
            .await?;
        let fee = p.fee.to::<u32>();
        let pool = chain.config().pools.iter().find(|(_, pool)| {
            pool.fee == fee
                && chain.config().assets[&pool.token0].address == p.token0
                && chain.config().assets[&pool.token1].address == p.token1
        });
        // Positions in pools the deployment does not know stay invisible.
        let Some((name, _)) = pool else { continue };
        positions.push(LpPosition {
            token_id,
            pool: name.clone(),
            tick_lower: p.tickLower.as_i32(),
            tick_upper: p.tickUpper.as_i32(),
            liquidity: p.liquidity,
            owed0: p.tokensOwed0,
            owed1: p.tokensOwed1,
        });
    }
    Ok(positions)
}
