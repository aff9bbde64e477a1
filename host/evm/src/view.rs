//! What a tick sees of the chain: one consistent read at one block of the
//! account's balances, the configured pools and feeds and the account's
//! LP positions. The strategy's oracle answers from this view, so every
//! read of a tick is of the same block and is journaled like a backtest's.

use std::collections::BTreeMap;

use alloy::eips::{BlockId, BlockNumberOrTag};
use alloy::primitives::{Address, I256, U256};
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
    /// Feed answers by `BASE/QUOTE`, decimals applied; `Err` says why a
    /// feed's answer is not served (stale, from an unfinished round, or
    /// not positive), and the strategy sees the feed as `unavailable`.
    pub feeds: BTreeMap<String, Result<f64, String>>,
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
            let answer = feed_answer(
                &Round {
                    round_id: round.roundId.to::<u128>(),
                    answer: round.answer,
                    updated_at: round.updatedAt,
                    answered_in_round: round.answeredInRound.to::<u128>(),
                },
                decimals,
                header.timestamp,
                feed.max_age_secs,
            );
            if let Err(reason) = &answer {
                tracing::warn!(feed = %name, %reason, "price feed unavailable");
            }
            feeds.insert(name.clone(), answer);
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

/// A Chainlink `latestRoundData` answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Round {
    round_id: u128,
    answer: I256,
    updated_at: U256,
    answered_in_round: u128,
}

/// The price a round answers, decimals applied, if it may be served at a
/// block of time `block_timestamp`: the round is finished (`updatedAt` set,
/// `answeredInRound >= roundId`), the answer positive, and at most
/// `max_age_secs` old. Otherwise why not.
fn feed_answer(
    round: &Round,
    decimals: u8,
    block_timestamp: u64,
    max_age_secs: u64,
) -> Result<f64, String> {
    if round.updated_at.is_zero() {
        return Err(format!("round {} is not complete", round.round_id));
    }
    if round.answered_in_round < round.round_id {
        return Err(format!(
            "round {} was answered in earlier round {}",
            round.round_id, round.answered_in_round
        ));
    }
    if round.answer <= I256::ZERO {
        return Err(format!("answer {} is not positive", round.answer));
    }
    let age = U256::from(block_timestamp).saturating_sub(round.updated_at);
    if age > U256::from(max_age_secs) {
        return Err(format!(
            "answer updated {age} s before the block, older than the feed's max_age_secs {max_age_secs}"
        ));
    }
    let answer: f64 = round
        .answer
        .to_string()
        .parse()
        .map_err(|_| format!("answer {} is not a number", round.answer))?;
    Ok(answer / 10f64.powi(i32::from(decimals)))
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

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000;

    fn round(answer: i64, updated_at: u64) -> Round {
        Round {
            round_id: 7,
            answer: I256::try_from(answer).unwrap_or_default(),
            updated_at: U256::from(updated_at),
            answered_in_round: 7,
        }
    }

    #[test]
    fn a_fresh_positive_answer_is_served() {
        assert_eq!(
            feed_answer(&round(210_000_000_000, NOW - 10), 8, NOW, 3600),
            Ok(2100.0)
        );
        assert_eq!(
            feed_answer(&round(210_000_000_000, NOW - 3600), 8, NOW, 3600),
            Ok(2100.0),
            "exactly max_age_secs old is still fresh"
        );
        assert_eq!(
            feed_answer(&round(210_000_000_000, NOW + 5), 8, NOW, 3600),
            Ok(2100.0),
            "an update stamped after the block is not stale"
        );
    }

    #[test]
    fn stale_unfinished_and_non_positive_answers_are_refused() {
        let stale = feed_answer(&round(210_000_000_000, NOW - 3601), 8, NOW, 3600).unwrap_err();
        assert!(
            stale.contains("3601 s") && stale.contains("3600"),
            "{stale}"
        );
        assert!(feed_answer(&round(0, NOW), 8, NOW, 3600).is_err());
        assert!(feed_answer(&round(-5, NOW), 8, NOW, 3600).is_err());
        assert!(feed_answer(&round(1, 0), 8, NOW, u64::MAX).is_err());
        let carried = Round {
            answered_in_round: 6,
            ..round(210_000_000_000, NOW)
        };
        assert!(
            feed_answer(&carried, 8, NOW, 3600)
                .unwrap_err()
                .contains("earlier round 6")
        );
    }
}
