//! The strategy's oracle on a live chain: answers from the tick's
//! [`ChainView`] and the candles fed so far. Nothing here touches the
//! network, so reads are fast, consistent within a tick, and journaled.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use alloy::primitives::U256;
use stratbox_runtime::Oracle;
use stratbox_runtime::types::{
    Amount, AssetAmount, BlockInfo, Candle, OracleError, PoolState, Position, PositionKind, Uint256,
};

use crate::config::ChainConfig;
use crate::quote::spot_price;
use crate::view::{ChainView, LpPosition};

/// What the venue last read, shared with the oracle.
#[derive(Debug)]
pub struct LiveState {
    pub(crate) config: ChainConfig,
    pub(crate) view: Option<ChainView>,
    pub(crate) history: BTreeMap<String, Vec<Candle>>,
}

impl LiveState {
    pub(crate) fn new(config: ChainConfig) -> LiveState {
        LiveState {
            config,
            view: None,
            history: BTreeMap::new(),
        }
    }
}

/// The oracle of a live deployment.
#[derive(Debug, Clone)]
pub struct ChainOracle(pub(crate) Arc<Mutex<LiveState>>);

impl ChainOracle {
    fn state(&self) -> MutexGuard<'_, LiveState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn unavailable() -> OracleError {
    OracleError::Unavailable("the chain has not been read yet".into())
}

impl Oracle for ChainOracle {
    fn block(&mut self) -> BlockInfo {
        let state = self.state();
        state.view.as_ref().map_or(
            BlockInfo {
                chain_id: state.config.chain_id,
                number: 0,
                timestamp_ms: 0,
            },
            |view| view.block,
        )
    }

    fn candles(&mut self, market: &str, count: u32) -> Result<Vec<Candle>, OracleError> {
        let state = self.state();
        let history = state
            .history
            .get(market)
            .ok_or_else(|| OracleError::Unknown(market.to_owned()))?;
        let start = history.len().saturating_sub(count as usize);
        Ok(history[start..].to_vec())
    }

    fn price(&mut self, base: &str, quote: &str) -> Result<f64, OracleError> {
        let state = self.state();
        let view = state.view.as_ref().ok_or_else(unavailable)?;
        // A configured feed is the price's source: when its answer is not
        // served (stale, unfinished round, not positive) the price is
        // unavailable rather than taken from a pool instead.
        let feed_unavailable =
            |name: &str, reason: &str| OracleError::Unavailable(format!("feed {name}: {reason}"));
        let direct = format!("{base}/{quote}");
        if let Some(answer) = view.feeds.get(&direct) {
            return answer
                .as_ref()
                .copied()
                .map_err(|reason| feed_unavailable(&direct, reason));
        }
        let inverse = format!("{quote}/{base}");
        if let Some(answer) = view.feeds.get(&inverse) {
            return match answer {
                Ok(answer) if *answer > 0.0 => Ok(1.0 / answer),
                Ok(answer) => Err(feed_unavailable(
                    &inverse,
                    &format!("answer {answer} is not positive"),
                )),
                Err(reason) => Err(feed_unavailable(&inverse, reason)),
            };
        }
        let (name, pool) = state
            .config
            .pool_for(base, quote)
            .ok_or_else(|| OracleError::Unknown(format!("{base}/{quote}")))?;
        let snapshot = &view.pools[name];
        let price0 = spot_price(
            snapshot.sqrt_price_x96,
            state.config.assets[&pool.token0].decimals,
            state.config.assets[&pool.token1].decimals,
        );
        Ok(if pool.token0 == base {
            price0
        } else {
            1.0 / price0
        })
    }

    fn balance(&mut self, asset: &str) -> Result<Amount, OracleError> {
        let state = self.state();
        let view = state.view.as_ref().ok_or_else(unavailable)?;
        view.balances
            .get(asset)
            .map(|b| amount(*b))
            .ok_or_else(|| OracleError::Unknown(asset.to_owned()))
    }

    fn balances(&mut self) -> Vec<AssetAmount> {
        let state = self.state();
        state.view.as_ref().map_or_else(Vec::new, |view| {
            view.balances
                .iter()
                .filter(|(_, b)| !b.is_zero())
                .map(|(asset, b)| AssetAmount {
                    asset: asset.clone(),
                    amount: amount(*b),
                })
                .collect()
        })
    }

    fn positions(&mut self) -> Vec<Position> {
        let state = self.state();
        state.view.as_ref().map_or_else(Vec::new, |view| {
            view.positions
                .iter()
                .map(|p| wit_position(&state.config, view, p))
                .collect()
        })
    }

    fn pool(&mut self, pool: &str) -> Result<PoolState, OracleError> {
        let state = self.state();
        let config = state
            .config
            .pools
            .get(pool)
            .ok_or_else(|| OracleError::Unknown(pool.to_owned()))?;
        let view = state.view.as_ref().ok_or_else(unavailable)?;
        let snapshot = &view.pools[pool];
        Ok(PoolState {
            pool: pool.to_owned(),
            token0: config.token0.clone(),
            token1: config.token1.clone(),
            reserve0: amount(snapshot.reserve0),
            reserve1: amount(snapshot.reserve1),
            sqrt_price_x96: Some(uint256(snapshot.sqrt_price_x96)),
            tick: Some(snapshot.tick),
            liquidity: Some(Amount::from_u128(snapshot.liquidity)),
            fee_pips: config.fee,
            price: spot_price(
                snapshot.sqrt_price_x96,
                state.config.assets[&config.token0].decimals,
                state.config.assets[&config.token1].decimals,
            ),
        })
    }
}

/// A 256-bit chain value as a WIT amount, saturating at 2^128 - 1.
pub(crate) fn amount(value: U256) -> Amount {
    Amount::from_u128(u128::try_from(value).unwrap_or(u128::MAX))
}

fn uint256(value: U256) -> Uint256 {
    let low = value & U256::from(u128::MAX);
    let high: U256 = value >> 128;
    Uint256 {
        hi: amount(high),
        lo: amount(low),
    }
}

/// An LP NFT as the WIT `position` record: the token amounts its
/// liquidity is worth at the pool's price, plus what it is owed.
pub(crate) fn wit_position(config: &ChainConfig, view: &ChainView, p: &LpPosition) -> Position {
    let pool = &config.pools[&p.pool];
    let sqrt = |tick: i32| 1.0001f64.powf(f64::from(tick) / 2.0);
    let current = view
        .pools
        .get(&p.pool)
        .map_or(0.0, |s| f64::from(s.sqrt_price_x96) / 2f64.powi(96));
    let (lower, upper) = (sqrt(p.tick_lower), sqrt(p.tick_upper));
    let liquidity = p.liquidity as f64;
    let price = current.clamp(lower, upper);
    let amount0 = liquidity * (upper - price) / (price * upper);
    let amount1 = liquidity * (price - lower);
    // Float to integer casts saturate; these are display amounts.
    let units = |x: f64| x.max(0.0) as u128;
    Position {
        id: p.token_id.to_string(),
        kind: PositionKind::Liquidity,
        venue: p.pool.clone(),
        amounts: vec![
            AssetAmount {
                asset: pool.token0.clone(),
                amount: Amount::from_u128(units(amount0).saturating_add(p.owed0)),
            },
            AssetAmount {
                asset: pool.token1.clone(),
                amount: Amount::from_u128(units(amount1).saturating_add(p.owed1)),
            },
        ],
        tick_range: Some((p.tick_lower, p.tick_upper)),
        liquidity: Some(Amount::from_u128(p.liquidity)),
    }
}
