//! An Aave-style lending pool: per-asset reserves whose borrow rate follows
//! utilization on a kinked curve, interest indices in RAY (1e27) fixed
//! point, collateral limits by loan-to-value, a health factor, and
//! liquidation below a health factor of 1.

use std::collections::BTreeMap;

use alloy_primitives::U256;
use serde::{Deserialize, Serialize};

use crate::VenueError;
use crate::math::{mul_div, mul_div_rounding_up, to_u128};

/// 1e27: fixed-point scale of rates and indices.
pub const RAY: u128 = 1_000_000_000_000_000_000_000_000_000;
/// Milliseconds in a 365-day year (rates are annual).
pub const YEAR_MS: u64 = 365 * 24 * 60 * 60 * 1_000;
const BPS: u128 = 10_000;

/// Borrow rate as a function of utilization: `base + slope1 * u / u_opt`
/// below the optimal utilization, plus `slope2 * (u - u_opt) / (1 - u_opt)`
/// above it. All values are annual rates in RAY.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterestRateModel {
    /// Rate at zero utilization.
    pub base_rate: u128,
    /// Rate added from zero to optimal utilization.
    pub slope1: u128,
    /// Rate added from optimal to full utilization.
    pub slope2: u128,
    /// The kink.
    pub optimal_utilization: u128,
}

impl InterestRateModel {
    /// Annual borrow rate at `utilization` (both RAY).
    pub fn borrow_rate(&self, utilization: u128) -> u128 {
        let ray = |x: u128| U256::from(x);
        let optimal = self.optimal_utilization.clamp(1, RAY);
        if utilization <= optimal {
            let part =
                mul_div(ray(self.slope1), ray(utilization), ray(optimal)).unwrap_or(U256::ZERO);
            self.base_rate + u128::try_from(part).unwrap_or(u128::MAX)
        } else {
            let excess = utilization.min(RAY) - optimal;
            let span = (RAY - optimal).max(1);
            let part = mul_div(ray(self.slope2), ray(excess), ray(span)).unwrap_or(U256::ZERO);
            self.base_rate + self.slope1 + u128::try_from(part).unwrap_or(u128::MAX)
        }
    }
}

/// Risk and rate parameters of one asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReserveConfig {
    /// Token decimals (for valuation).
    pub decimals: u8,
    /// Maximum loan-to-value of this asset as collateral, bps.
    pub ltv_bps: u32,
    /// Collateral value counted by the health factor, bps.
    pub liquidation_threshold_bps: u32,
    /// Collateral bonus a liquidator receives, bps (500 = 5%).
    pub liquidation_bonus_bps: u32,
    /// Share of interest kept by the protocol, bps.
    pub reserve_factor_bps: u32,
    /// Borrow-rate curve.
    pub rates: InterestRateModel,
}

/// State of one asset's reserve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reserve {
    /// Parameters.
    pub config: ReserveConfig,
    /// Supplied, in units of the liquidity index.
    supply_scaled: u128,
    /// Borrowed, in units of the borrow index.
    debt_scaled: u128,
    /// Growth of a unit supplied since creation (RAY).
    liquidity_index: u128,
    /// Growth of a unit borrowed since creation (RAY).
    borrow_index: u128,
    /// Tokens held by the reserve (supplied minus lent out).
    cash: u128,
    last_update_ms: u64,
}

/// One account's positions, in scaled units.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
struct Account {
    supplied: BTreeMap<String, u128>,
    borrowed: BTreeMap<String, u128>,
}

/// What a liquidation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Liquidation {
    /// Debt asset repaid by the liquidator.
    pub debt_asset: String,
    /// Debt repaid, base units.
    pub debt_repaid: u128,
    /// Collateral asset seized.
    pub collateral_asset: String,
    /// Collateral seized (bonus included), base units.
    pub collateral_seized: u128,
}

/// A lending pool of several reserves and accounts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LendingPool {
    reserves: BTreeMap<String, Reserve>,
    accounts: BTreeMap<String, Account>,
}

fn unknown(what: &'static str, name: &str) -> VenueError {
    VenueError::Unknown {
        what,
        name: name.to_owned(),
    }
}

fn ray_mul(a: u128, b: u128, round_up: bool) -> Result<u128, VenueError> {
    let f = if round_up {
        mul_div_rounding_up
    } else {
        mul_div
    };
    f(U256::from(a), U256::from(b), U256::from(RAY))
        .ok_or(VenueError::Overflow {
            what: "ray multiply",
        })
        .and_then(|v| to_u128(v, "ray multiply"))
}

fn ray_div(a: u128, b: u128, round_up: bool) -> Result<u128, VenueError> {
    let f = if round_up {
        mul_div_rounding_up
    } else {
        mul_div
    };
    f(U256::from(a), U256::from(RAY), U256::from(b))
        .ok_or(VenueError::Overflow { what: "ray divide" })
        .and_then(|v| to_u128(v, "ray divide"))
}

/// Grow `index` by `rate` (annual, RAY) over `elapsed_ms`, linearly within
/// the step (steps compound with each other).
fn grow(index: u128, rate: u128, elapsed_ms: u64) -> Result<u128, VenueError> {
    let interest = mul_div(
        U256::from(index),
        U256::from(rate) * U256::from(elapsed_ms),
        U256::from(RAY) * U256::from(YEAR_MS),
    )
    .ok_or(VenueError::Overflow { what: "interest" })?;
    index
        .checked_add(to_u128(interest, "interest")?)
        .ok_or(VenueError::Overflow { what: "index" })
}

impl Reserve {
    fn total_debt(&self) -> u128 {
        ray_mul(self.debt_scaled, self.borrow_index, true).unwrap_or(u128::MAX)
    }

    /// Borrowed / (cash + borrowed), RAY.
    pub fn utilization(&self) -> u128 {
        let debt = self.total_debt();
        let total = self.cash.saturating_add(debt);
        if total == 0 {
            return 0;
        }
        ray_div(debt, total, false).unwrap_or(RAY)
    }

    /// Annual borrow rate now, RAY.
    pub fn borrow_rate(&self) -> u128 {
        self.config.rates.borrow_rate(self.utilization())
    }

    /// Annual supply rate now: borrow rate x utilization x (1 - reserve
    /// factor), RAY.
    pub fn supply_rate(&self) -> u128 {
        let gross = ray_mul(self.borrow_rate(), self.utilization(), false).unwrap_or(0);
        gross * (BPS - u128::from(self.config.reserve_factor_bps).min(BPS)) / BPS
    }

    fn accrue(&mut self, now_ms: u64) -> Result<(), VenueError> {
        let elapsed = now_ms.saturating_sub(self.last_update_ms);
        if elapsed > 0 {
            let (borrow_rate, supply_rate) = (self.borrow_rate(), self.supply_rate());
            self.borrow_index = grow(self.borrow_index, borrow_rate, elapsed)?;
            self.liquidity_index = grow(self.liquidity_index, supply_rate, elapsed)?;
            self.last_update_ms = now_ms;
        }
        Ok(())
    }
}

impl LendingPool {
    /// An empty pool.
    pub fn new() -> Self {
        Self::default()
    }

    /// List an asset.
    pub fn add_reserve(&mut self, asset: &str, config: ReserveConfig, now_ms: u64) {
        self.reserves.insert(
            asset.to_owned(),
            Reserve {
                config,
                supply_scaled: 0,
                debt_scaled: 0,
                liquidity_index: RAY,
                borrow_index: RAY,
                cash: 0,
                last_update_ms: now_ms,
            },
        );
    }

    /// A reserve.
    pub fn reserve(&self, asset: &str) -> Option<&Reserve> {
        self.reserves.get(asset)
    }

    /// Accrue interest on every reserve up to `now_ms`.
    pub fn accrue(&mut self, now_ms: u64) -> Result<(), VenueError> {
        self.reserves
            .values_mut()
            .try_for_each(|r| r.accrue(now_ms))
    }

    fn reserve_mut(&mut self, asset: &str) -> Result<&mut Reserve, VenueError> {
        self.reserves
            .get_mut(asset)
            .ok_or_else(|| unknown("lending asset", asset))
    }

    /// What `account` has supplied of `asset`, interest included.
    pub fn supplied(&self, account: &str, asset: &str) -> u128 {
        let scaled = self
            .accounts
            .get(account)
            .and_then(|a| a.supplied.get(asset))
            .copied()
            .unwrap_or(0);
        self.reserves.get(asset).map_or(0, |r| {
            ray_mul(scaled, r.liquidity_index, false).unwrap_or(0)
        })
    }

    /// What `account` owes of `asset`, interest included.
    pub fn borrowed(&self, account: &str, asset: &str) -> u128 {
        let scaled = self
            .accounts
            .get(account)
            .and_then(|a| a.borrowed.get(asset))
            .copied()
            .unwrap_or(0);
        self.reserves.get(asset).map_or(0, |r| {
            ray_mul(scaled, r.borrow_index, true).unwrap_or(u128::MAX)
        })
    }

    /// Deposit `amount` of `asset` as supply (and collateral).
    pub fn supply(
        &mut self,
        account: &str,
        asset: &str,
        amount: u128,
        now_ms: u64,
    ) -> Result<(), VenueError> {
        if amount == 0 {
            return Err(VenueError::ZeroAmount);
        }
        let reserve = self.reserve_mut(asset)?;
        reserve.accrue(now_ms)?;
        let scaled = ray_div(amount, reserve.liquidity_index, false)?;
        reserve.supply_scaled += scaled;
        reserve.cash += amount;
        *self
            .accounts
            .entry(account.to_owned())
            .or_default()
            .supplied
            .entry(asset.to_owned())
            .or_default() += scaled;
        Ok(())
    }

    /// Withdraw supplied `asset`, if the reserve has the cash and the
    /// account stays healthy. `price` values assets in a common quote.
    pub fn withdraw(
        &mut self,
        account: &str,
        asset: &str,
        amount: u128,
        now_ms: u64,
        price: &dyn Fn(&str) -> Option<f64>,
    ) -> Result<(), VenueError> {
        if amount == 0 {
            return Err(VenueError::ZeroAmount);
        }
        self.accrue(now_ms)?;
        let available = self.supplied(account, asset);
        if amount > available {
            return Err(VenueError::InsufficientBalance {
                needed: amount,
                available,
            });
        }
        let mut after = self.clone();
        after.take_supply(account, asset, amount)?;
        if let Some(hf) = after.health_factor(account, price)?
            && hf < 1.0
        {
            return Err(VenueError::Undercollateralized {
                detail: format!("health factor would be {hf:.4}"),
            });
        }
        *self = after;
        Ok(())
    }

    fn take_supply(&mut self, account: &str, asset: &str, amount: u128) -> Result<(), VenueError> {
        let reserve = self
            .reserves
            .get_mut(asset)
            .ok_or_else(|| unknown("lending asset", asset))?;
        if amount > reserve.cash {
            return Err(VenueError::InsufficientLiquidity {
                detail: format!("reserve holds {} {asset}", reserve.cash),
            });
        }
        let scaled = ray_div(amount, reserve.liquidity_index, true)?;
        let entry = self
            .accounts
            .entry(account.to_owned())
            .or_default()
            .supplied
            .entry(asset.to_owned())
            .or_default();
        let scaled = scaled.min(*entry);
        *entry -= scaled;
        reserve.supply_scaled = reserve.supply_scaled.saturating_sub(scaled);
        reserve.cash -= amount;
        Ok(())
    }

    /// Borrow `amount` of `asset` if the loan-to-value limit allows.
    pub fn borrow(
        &mut self,
        account: &str,
        asset: &str,
        amount: u128,
        now_ms: u64,
        price: &dyn Fn(&str) -> Option<f64>,
    ) -> Result<(), VenueError> {
        if amount == 0 {
            return Err(VenueError::ZeroAmount);
        }
        self.accrue(now_ms)?;
        let reserve = self.reserve_mut(asset)?;
        if amount > reserve.cash {
            return Err(VenueError::InsufficientLiquidity {
                detail: format!("reserve holds {} {asset}", reserve.cash),
            });
        }
        let scaled = ray_div(amount, reserve.borrow_index, true)?;
        reserve.debt_scaled += scaled;
        reserve.cash -= amount;
        *self
            .accounts
            .entry(account.to_owned())
            .or_default()
            .borrowed
            .entry(asset.to_owned())
            .or_default() += scaled;
        let (collateral_limit, debt) = self.borrowing_power(account, price)?;
        if debt > collateral_limit {
            // Undo: the checks above were all that could fail.
            let reserve = self.reserve_mut(asset)?;
            reserve.debt_scaled -= scaled;
            reserve.cash += amount;
            if let Some(entry) = self
                .accounts
                .get_mut(account)
                .and_then(|a| a.borrowed.get_mut(asset))
            {
                *entry -= scaled;
            }
            return Err(VenueError::Undercollateralized {
                detail: format!("debt {debt:.6} would exceed the LTV limit {collateral_limit:.6}"),
            });
        }
        Ok(())
    }

    /// Debt owed by borrowers outside the simulation (no account, no
    /// collateral checks): sets a market's starting utilization.
    pub fn add_external_debt(
        &mut self,
        asset: &str,
        amount: u128,
        now_ms: u64,
    ) -> Result<(), VenueError> {
        let reserve = self.reserve_mut(asset)?;
        reserve.accrue(now_ms)?;
        if amount > reserve.cash {
            return Err(VenueError::InsufficientLiquidity {
                detail: format!("reserve holds {} {asset}", reserve.cash),
            });
        }
        reserve.debt_scaled += ray_div(amount, reserve.borrow_index, true)?;
        reserve.cash -= amount;
        Ok(())
    }

    /// Repay up to `amount` of `asset` debt; returns what was repaid.
    pub fn repay(
        &mut self,
        account: &str,
        asset: &str,
        amount: u128,
        now_ms: u64,
    ) -> Result<u128, VenueError> {
        if amount == 0 {
            return Err(VenueError::ZeroAmount);
        }
        self.accrue(now_ms)?;
        let owed = self.borrowed(account, asset);
        let repaid = amount.min(owed);
        let reserve = self.reserve_mut(asset)?;
        let scaled = if repaid == owed {
            u128::MAX
        } else {
            ray_div(repaid, reserve.borrow_index, false)?
        };
        let entry = self
            .accounts
            .entry(account.to_owned())
            .or_default()
            .borrowed
            .entry(asset.to_owned())
            .or_default();
        let scaled = scaled.min(*entry);
        *entry -= scaled;
        let reserve = self.reserve_mut(asset)?;
        reserve.debt_scaled = reserve.debt_scaled.saturating_sub(scaled);
        reserve.cash += repaid;
        Ok(repaid)
    }

    fn value(
        &self,
        asset: &str,
        amount: u128,
        price: &dyn Fn(&str) -> Option<f64>,
    ) -> Result<f64, VenueError> {
        let reserve = self
            .reserves
            .get(asset)
            .ok_or_else(|| unknown("lending asset", asset))?;
        let unit_price = price(asset).ok_or_else(|| unknown("price", asset))?;
        Ok(amount as f64 / 10f64.powi(i32::from(reserve.config.decimals)) * unit_price)
    }

    /// (collateral value x LTV, debt value) of an account.
    fn borrowing_power(
        &self,
        account: &str,
        price: &dyn Fn(&str) -> Option<f64>,
    ) -> Result<(f64, f64), VenueError> {
        let Some(positions) = self.accounts.get(account) else {
            return Ok((0.0, 0.0));
        };
        let mut limit = 0.0;
        for asset in positions.supplied.keys() {
            let ltv = f64::from(self.reserves[asset].config.ltv_bps) / 1e4;
            limit += self.value(asset, self.supplied(account, asset), price)? * ltv;
        }
        let mut debt = 0.0;
        for asset in positions.borrowed.keys() {
            debt += self.value(asset, self.borrowed(account, asset), price)?;
        }
        Ok((limit, debt))
    }

    /// Σ collateral x liquidation threshold / Σ debt, or `None` without debt.
    pub fn health_factor(
        &self,
        account: &str,
        price: &dyn Fn(&str) -> Option<f64>,
    ) -> Result<Option<f64>, VenueError> {
        let Some(positions) = self.accounts.get(account) else {
            return Ok(None);
        };
        let mut debt = 0.0;
        for asset in positions.borrowed.keys() {
            debt += self.value(asset, self.borrowed(account, asset), price)?;
        }
        if debt <= 0.0 {
            return Ok(None);
        }
        let mut weighted = 0.0;
        for asset in positions.supplied.keys() {
            let threshold = f64::from(self.reserves[asset].config.liquidation_threshold_bps) / 1e4;
            weighted += self.value(asset, self.supplied(account, asset), price)? * threshold;
        }
        Ok(Some(weighted / debt))
    }

    /// If the account's health factor is below 1, repay up to half of its
    /// largest debt against its largest collateral plus the bonus.
    pub fn liquidate(
        &mut self,
        account: &str,
        now_ms: u64,
        price: &dyn Fn(&str) -> Option<f64>,
    ) -> Result<Option<Liquidation>, VenueError> {
        self.accrue(now_ms)?;
        match self.health_factor(account, price)? {
            Some(hf) if hf < 1.0 => {}
            _ => return Ok(None),
        }
        let positions = self.accounts.get(account).cloned().unwrap_or_default();
        let largest =
            |assets: Vec<(&String, u128)>| -> Result<Option<(String, u128, f64)>, VenueError> {
                let mut best: Option<(String, u128, f64)> = None;
                for (asset, amount) in assets {
                    let value = self.value(asset, amount, price)?;
                    if best.as_ref().is_none_or(|(_, _, v)| value > *v) {
                        best = Some((asset.clone(), amount, value));
                    }
                }
                Ok(best)
            };
        let debts = positions
            .borrowed
            .keys()
            .map(|a| (a, self.borrowed(account, a)))
            .collect();
        let collaterals = positions
            .supplied
            .keys()
            .map(|a| (a, self.supplied(account, a)))
            .collect();
        let (Some((debt_asset, debt, _)), Some((collateral_asset, collateral, _))) =
            (largest(debts)?, largest(collaterals)?)
        else {
            return Ok(None);
        };
        let debt_repaid = debt / 2;
        let bonus = 1.0
            + f64::from(
                self.reserves[&collateral_asset]
                    .config
                    .liquidation_bonus_bps,
            ) / 1e4;
        let repaid_value = self.value(&debt_asset, debt_repaid, price)?;
        let collateral_price =
            price(&collateral_asset).ok_or_else(|| unknown("price", &collateral_asset))?;
        let decimals = self.reserves[&collateral_asset].config.decimals;
        let seize = (repaid_value * bonus / collateral_price * 10f64.powi(i32::from(decimals)))
            .floor() as u128;
        let seized = seize.min(collateral);
        self.repay(account, &debt_asset, debt_repaid, now_ms)?;
        self.take_supply(account, &collateral_asset, seized)?;
        Ok(Some(Liquidation {
            debt_asset,
            debt_repaid,
            collateral_asset,
            collateral_seized: seized,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USDC: u128 = 1_000_000;
    const PERCENT: u128 = RAY / 100;

    fn usdc_config() -> ReserveConfig {
        ReserveConfig {
            decimals: 6,
            ltv_bps: 8_000,
            liquidation_threshold_bps: 8_500,
            liquidation_bonus_bps: 500,
            reserve_factor_bps: 1_000,
            rates: InterestRateModel {
                base_rate: 0,
                slope1: 4 * PERCENT,
                slope2: 60 * PERCENT,
                optimal_utilization: 80 * PERCENT,
            },
        }
    }

    fn price(_: &str) -> Option<f64> {
        Some(1.0)
    }

    #[test]
    fn rate_curve_has_a_kink() {
        let model = usdc_config().rates;
        assert_eq!(model.borrow_rate(0), 0);
        // 50% utilization: 4% * 0.5 / 0.8 = 2.5%.
        assert_eq!(model.borrow_rate(50 * PERCENT), 25 * PERCENT / 10);
        assert_eq!(model.borrow_rate(80 * PERCENT), 4 * PERCENT);
        // 90%: 4% + 60% * 0.1 / 0.2 = 34%.
        assert_eq!(model.borrow_rate(90 * PERCENT), 34 * PERCENT);
    }

    #[test]
    fn interest_accrues_on_both_sides_as_computed_by_hand() {
        let mut pool = LendingPool::new();
        pool.add_reserve("USDC", usdc_config(), 0);
        pool.add_reserve("DAI", usdc_config(), 0);
        pool.supply("lender", "USDC", 2_000 * USDC, 0).unwrap();
        pool.supply("borrower", "DAI", 1_500 * USDC, 0).unwrap();
        pool.borrow("borrower", "USDC", 1_000 * USDC, 0, &price)
            .unwrap();
        // 1000 borrowed of 2000 supplied: utilization 50%, borrow rate 2.5%,
        // supply rate 2.5% * 0.5 * (1 - 10%) = 1.125%.
        let reserve = pool.reserve("USDC").unwrap();
        assert_eq!(reserve.utilization(), 50 * PERCENT);
        assert_eq!(reserve.supply_rate(), 1_125 * PERCENT / 1_000);
        pool.accrue(YEAR_MS).unwrap();
        // One year later, in one step: debt 1000 * 1.025 = 1025 USDC, the
        // lender 2000 * 1.01125 = 2022.5 USDC; the 2.5 USDC difference
        // is the reserve factor's cut.
        assert_eq!(pool.borrowed("borrower", "USDC"), 1_025 * USDC);
        assert_eq!(pool.supplied("lender", "USDC"), 2_022_500_000);
        // Nothing borrowed in DAI: its supply earns nothing.
        assert_eq!(pool.supplied("borrower", "DAI"), 1_500 * USDC);
    }

    #[test]
    fn borrowing_is_bounded_by_ltv_and_health_factor_tracks_prices() {
        let mut pool = LendingPool::new();
        pool.add_reserve("USDC", usdc_config(), 0);
        let eth = ReserveConfig {
            decimals: 18,
            ..usdc_config()
        };
        pool.add_reserve("ETH", eth, 0);
        pool.supply("whale", "USDC", 1_000_000 * USDC, 0).unwrap();
        pool.supply("me", "ETH", 10u128.pow(18), 0).unwrap();
        let prices = |asset: &str| Some(if asset == "ETH" { 2_000.0 } else { 1.0 });
        // 1 ETH at 2000 with 80% LTV: at most 1600 USDC.
        assert!(matches!(
            pool.borrow("me", "USDC", 1_601 * USDC, 0, &prices),
            Err(VenueError::Undercollateralized { .. })
        ));
        assert_eq!(
            pool.borrowed("me", "USDC"),
            0,
            "a refused borrow leaves no debt"
        );
        pool.borrow("me", "USDC", 1_500 * USDC, 0, &prices).unwrap();
        let hf = pool.health_factor("me", &prices).unwrap().unwrap();
        assert!((hf - 2_000.0 * 0.85 / 1_500.0).abs() < 1e-12);
        // ETH falls to 1700: HF = 1700 * 0.85 / 1500 < 1, liquidation.
        let crashed = |asset: &str| Some(if asset == "ETH" { 1_700.0 } else { 1.0 });
        let liquidation = pool.liquidate("me", 0, &crashed).unwrap().unwrap();
        assert_eq!(liquidation.debt_repaid, 750 * USDC);
        // 750 USDC * 1.05 / 1700 = 0.463235294117647... ETH
        assert_eq!(liquidation.collateral_seized / 10u128.pow(9), 463_235_294);
        assert_eq!(pool.borrowed("me", "USDC"), 750 * USDC);
    }
}
