//! What a strategy can read of a simulated market.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use stratbox_runtime::Oracle;
use stratbox_runtime::types::{
    Amount, AssetAmount, BlockInfo, Candle, LendingState, OracleError, PoolState, Position,
    PositionKind, VaultState,
};
use stratbox_venues::lending::RAY;

use super::market::{ACCOUNT, AmmPool, SimMarket, VaultKind, uint256};
use crate::market::wit_candle;

/// The oracle view of a shared [`SimMarket`].
#[derive(Debug, Clone)]
pub struct SimOracle(Arc<Mutex<SimMarket>>);

impl SimOracle {
    /// An oracle over `market`.
    pub fn new(market: Arc<Mutex<SimMarket>>) -> Self {
        SimOracle(market)
    }

    fn market(&self) -> MutexGuard<'_, SimMarket> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn unknown(what: &str) -> OracleError {
    OracleError::Unknown(what.to_owned())
}

fn ray_fraction(value: u128) -> f64 {
    value as f64 / RAY as f64
}

impl SimMarket {
    /// The current block: number = candle index, time = candle close.
    pub fn block(&self) -> BlockInfo {
        BlockInfo {
            chain_id: self.config.chain_id,
            number: self.index as u64,
            timestamp_ms: self.now_ms(),
        }
    }

    fn positions(&self) -> Vec<Position> {
        let mut out = Vec::new();
        for (id, (pool_id, inner)) in &self.lp_positions {
            let Some(AmmPool::Concentrated(pool)) = self.pools.get(pool_id) else {
                continue;
            };
            let Some(p) = pool.position(*inner) else {
                continue;
            };
            let config = &self.config.pools[pool_id];
            let (a0, a1) = pool
                .amounts_for_liquidity(p.tick_lower, p.tick_upper, p.liquidity, false)
                .unwrap_or((0, 0));
            out.push(Position {
                id: id.clone(),
                kind: PositionKind::Liquidity,
                venue: pool_id.clone(),
                amounts: vec![
                    AssetAmount {
                        asset: config.token0.clone(),
                        amount: a0.into(),
                    },
                    AssetAmount {
                        asset: config.token1.clone(),
                        amount: a1.into(),
                    },
                ],
                tick_range: Some((p.tick_lower, p.tick_upper)),
                liquidity: Some(p.liquidity.into()),
            });
        }
        for (market, pool) in &self.lending {
            for asset in self.config.assets.keys() {
                for (kind, units) in [
                    (PositionKind::Supplied, pool.supplied(ACCOUNT, asset)),
                    (PositionKind::Borrowed, pool.borrowed(ACCOUNT, asset)),
                ] {
                    if units > 0 {
                        out.push(Position {
                            id: format!("{market}:{asset}"),
                            kind,
                            venue: market.clone(),
                            amounts: vec![AssetAmount {
                                asset: asset.clone(),
                                amount: units.into(),
                            }],
                            tick_range: None,
                            liquidity: None,
                        });
                    }
                }
            }
        }
        for (id, holding) in &self.vaults {
            let asset = &self.config.vaults[id].asset;
            if holding.shares > 0 {
                out.push(Position {
                    id: id.clone(),
                    kind: PositionKind::VaultShares,
                    venue: id.clone(),
                    amounts: vec![AssetAmount {
                        asset: format!("{id}-shares"),
                        amount: holding.shares.into(),
                    }],
                    tick_range: None,
                    liquidity: None,
                });
            }
            if let VaultKind::Queued(q) = &holding.vault {
                for request in &holding.requests {
                    if let Some(r) = q.pending(*request) {
                        out.push(Position {
                            id: format!("{id}#{request}"),
                            kind: PositionKind::PendingRedemption,
                            venue: id.clone(),
                            amounts: vec![AssetAmount {
                                asset: asset.clone(),
                                amount: r.assets.into(),
                            }],
                            tick_range: None,
                            liquidity: None,
                        });
                    }
                }
            }
        }
        out
    }

    fn pool_state(&self, id: &str) -> Result<PoolState, OracleError> {
        let config = self.config.pools.get(id).ok_or_else(|| unknown(id))?;
        let price = self.pool_price(id).unwrap_or(0.0);
        let base = PoolState {
            pool: id.to_owned(),
            token0: config.token0.clone(),
            token1: config.token1.clone(),
            reserve0: Amount::ZERO,
            reserve1: Amount::ZERO,
            sqrt_price_x96: None,
            tick: None,
            liquidity: None,
            fee_pips: config.fee_pips,
            price,
        };
        Ok(match self.pools.get(id).ok_or_else(|| unknown(id))? {
            AmmPool::ConstantProduct(p) => PoolState {
                reserve0: p.reserve0.into(),
                reserve1: p.reserve1.into(),
                ..base
            },
            AmmPool::Concentrated(p) => PoolState {
                sqrt_price_x96: Some(uint256(p.sqrt_price_x96())),
                tick: Some(p.tick()),
                liquidity: Some(p.liquidity().into()),
                ..base
            },
        })
    }

    fn lending_state(&self, id: &str) -> Result<LendingState, OracleError> {
        let (market, asset) = id
            .split_once(':')
            .ok_or_else(|| unknown(&format!("{id} (lending markets are `market:asset`)")))?;
        let pool = self.lending.get(market).ok_or_else(|| unknown(market))?;
        let reserve = pool.reserve(asset).ok_or_else(|| unknown(id))?;
        let health_factor = pool
            .health_factor(ACCOUNT, &|a| {
                self.price_in_quote(a)
                    .and_then(stratbox_venues::lending::price_from_f64)
            })
            .ok()
            .flatten()
            .map(|wad| wad as f64 / stratbox_venues::lending::WAD as f64);
        Ok(LendingState {
            market: market.to_owned(),
            asset: asset.to_owned(),
            supply_rate: ray_fraction(reserve.supply_rate()),
            borrow_rate: ray_fraction(reserve.borrow_rate()),
            utilization: ray_fraction(reserve.utilization()),
            max_ltv: f64::from(reserve.config.ltv_bps) / 1e4,
            liquidation_threshold: f64::from(reserve.config.liquidation_threshold_bps) / 1e4,
            health_factor,
        })
    }

    fn vault_state(&self, id: &str) -> Result<VaultState, OracleError> {
        let holding = self.vaults.get(id).ok_or_else(|| unknown(id))?;
        let config = &self.config.vaults[id];
        let (vault, pending, claimable_at_ms) = match &holding.vault {
            VaultKind::Instant(v) => (v, 0, None),
            VaultKind::Queued(q) => {
                let requests: Vec<_> = holding
                    .requests
                    .iter()
                    .filter_map(|r| q.pending(*r))
                    .collect();
                (
                    &q.vault,
                    requests.iter().map(|r| r.assets).sum::<u128>(),
                    requests.iter().map(|r| r.claimable_at_ms).min(),
                )
            }
        };
        Ok(VaultState {
            vault: id.to_owned(),
            asset: config.asset.clone(),
            share_price: vault.share_price(),
            apy: Some(config.apy),
            shares: holding.shares.into(),
            pending_redemption: pending.into(),
            claimable_at_ms,
        })
    }
}

impl Oracle for SimOracle {
    fn block(&mut self) -> BlockInfo {
        self.market().block()
    }

    fn candles(&mut self, market: &str, count: u32) -> Result<Vec<Candle>, OracleError> {
        let m = self.market();
        let tape = m
            .tapes
            .iter()
            .find(|t| t.market() == market)
            .ok_or_else(|| unknown(market))?;
        let now = m.now_ms();
        let interval = tape.interval_ms().unwrap_or(0);
        let closed = tape
            .candles()
            .iter()
            .take_while(|c| c.timestamp_ms + interval <= now)
            .count();
        let start = closed.saturating_sub(count as usize);
        Ok(tape.candles()[start..closed]
            .iter()
            .map(wit_candle)
            .collect())
    }

    fn price(&mut self, base: &str, quote: &str) -> Result<f64, OracleError> {
        self.market()
            .price(base, quote)
            .ok_or_else(|| unknown(&format!("{base}/{quote}")))
    }

    fn balance(&mut self, asset: &str) -> Result<Amount, OracleError> {
        let m = self.market();
        if !m.config.assets.contains_key(asset) {
            return Err(unknown(asset));
        }
        Ok(m.balance(asset).into())
    }

    fn balances(&mut self) -> Vec<AssetAmount> {
        self.market()
            .balances
            .iter()
            .filter(|(_, units)| **units > 0)
            .map(|(asset, units)| AssetAmount {
                asset: asset.clone(),
                amount: (*units).into(),
            })
            .collect()
    }

    fn positions(&mut self) -> Vec<Position> {
        self.market().positions()
    }

    fn pool(&mut self, pool: &str) -> Result<PoolState, OracleError> {
        self.market().pool_state(pool)
    }

    fn lending_market(&mut self, market: &str) -> Result<LendingState, OracleError> {
        self.market().lending_state(market)
    }

    fn vault(&mut self, vault: &str) -> Result<VaultState, OracleError> {
        self.market().vault_state(vault)
    }
}
