//! An Aave-v3-style lending pool: per-asset reserves whose borrow rate
//! follows utilization on a kinked curve, interest indices in RAY (1e27)
//! fixed point, collateral limits by loan-to-value, a health factor in WAD
//! (1e18), and liquidation below a health factor of 1.
//!
//! The arithmetic follows Aave v3.0 (`aave-v3-core` 1.19, the
//! `@aave/core-v3` npm artifacts) to the wei for accounts without e-mode,
//! isolation mode or stable debt, and markets without unbacked aTokens, a
//! liquidation protocol fee or flash loans; a differential test
//! (`host/evm/tests/all/aave.rs`) checks it against the deployed contracts:
//!
//! - `WadRayMath`/`PercentageMath`: `rayMul`, `rayDiv`, `wadDiv`,
//!   `percentMul`, `percentDiv` round half up;
//! - `ReserveLogic`: a reserve's indices, rates and the treasury's share
//!   (`accruedToTreasury`) change only when an operation touches it
//!   (`updateState`, then `updateInterestRates` with the operation's
//!   inflow or outflow); between updates balances and account data grow
//!   with the normalized indices (`getNormalizedIncome`/`getNormalizedDebt`)
//!   at the pool's clock ([`LendingPool::advance`]);
//! - `MathUtils.calculateLinearInterest` for the supply (liquidity) index and
//!   `MathUtils.calculateCompoundedInterest` (three-term binomial expansion
//!   of `(1 + r/SECONDS_PER_YEAR)^t`) for the variable-borrow index, over
//!   whole seconds (`now_ms / 1000`), `SECONDS_PER_YEAR = 365 days`;
//! - `DefaultReserveInterestRateStrategy.calculateInterestRates` (variable
//!   debt only);
//! - `GenericLogic.calculateUserAccountData` (values in the oracle's base
//!   currency, rounded down; weighted average LTV and liquidation
//!   threshold; health factor; available borrows);
//! - `ValidationLogic`: supply and borrow caps, `validateBorrow`
//!   (collateral needed by LTV) and the health-factor check after
//!   withdrawing collateral;
//! - `LiquidationLogic`: close factor 50% (`DEFAULT_LIQUIDATION_CLOSE_FACTOR`)
//!   above a health factor of 0.95 (`CLOSE_FACTOR_HF_THRESHOLD`), 100%
//!   (`MAX_LIQUIDATION_CLOSE_FACTOR`) at or below it, and
//!   `_calculateAvailableCollateralToLiquidate` (collateral capped at the
//!   borrower's balance, the debt repaid then reduced to match).
//!
//! Prices are integers: the price of one whole token in a base currency
//! shared by every asset (Aave's oracle quotes USD with 8 decimals). No
//! floating point is used in balances, valuations or liquidation amounts;
//! [`price_from_f64`] is the one boundary for callers holding float prices.

use std::collections::BTreeMap;

use alloy_primitives::U256;
use serde::{Deserialize, Serialize};

use crate::math::to_u128;
use crate::{CapKind, VenueError};

/// 1e27: fixed-point scale of rates and indices (Aave's RAY).
pub const RAY: u128 = 1_000_000_000_000_000_000_000_000_000;
/// 1e18: fixed-point scale of the health factor (Aave's WAD).
pub const WAD: u128 = 1_000_000_000_000_000_000;
/// 100% in basis points (Aave's `PERCENTAGE_FACTOR`).
pub const PERCENTAGE_FACTOR: u128 = 10_000;
/// Milliseconds in a 365-day year (rates are annual).
pub const YEAR_MS: u64 = 365 * 24 * 60 * 60 * 1_000;
/// Seconds in a 365-day year (Aave's `SECONDS_PER_YEAR`).
pub const SECONDS_PER_YEAR: u64 = 365 * 24 * 60 * 60;
/// Below this health factor an account can be liquidated (1.0, WAD).
pub const HEALTH_FACTOR_LIQUIDATION_THRESHOLD: u128 = WAD;
/// At or below this health factor (0.95, WAD) the whole debt may be
/// liquidated at once (Aave's `CLOSE_FACTOR_HF_THRESHOLD`).
pub const CLOSE_FACTOR_HF_THRESHOLD: u128 = 950_000_000_000_000_000;
/// Share of a debt liquidatable above [`CLOSE_FACTOR_HF_THRESHOLD`], bps
/// (Aave's `DEFAULT_LIQUIDATION_CLOSE_FACTOR`).
pub const DEFAULT_LIQUIDATION_CLOSE_FACTOR: u128 = 5_000;
/// Share of a debt liquidatable at or below [`CLOSE_FACTOR_HF_THRESHOLD`],
/// bps (Aave's `MAX_LIQUIDATION_CLOSE_FACTOR`).
pub const MAX_LIQUIDATION_CLOSE_FACTOR: u128 = 10_000;
/// Scale of prices made by [`price_from_f64`] (1e18).
pub const FLOAT_PRICE_SCALE: u128 = WAD;

/// A price feed: the price of one whole token of an asset in a base
/// currency shared by every asset, as an integer (e.g. USD with 8
/// decimals, as Aave's oracle), or `None` if unknown.
pub type PriceFeed<'a> = dyn Fn(&str) -> Option<u128> + 'a;

/// Convert a float price (one whole token in the base currency) to an
/// integer price at [`FLOAT_PRICE_SCALE`], rounded to nearest; `None` for
/// zero, negative, non-finite or too large prices. This is the boundary for
/// callers whose market data is floating point; everything after it is
/// integer math.
pub fn price_from_f64(price: f64) -> Option<u128> {
    // `FLOAT_PRICE_SCALE` is exactly representable as an f64 (1e18).
    let scaled = (price * 1e18).round();
    (1.0..3.0e38).contains(&scaled).then_some(scaled as u128)
}

fn overflow(what: &'static str) -> VenueError {
    VenueError::Overflow { what }
}

fn u256(x: u128) -> U256 {
    U256::from(x)
}

/// `(a * b + scale/2) / scale`: multiply in fixed point, half up.
fn mul_half_up(a: U256, b: U256, scale: U256, what: &'static str) -> Result<U256, VenueError> {
    let product = a.checked_mul(b).ok_or(overflow(what))?;
    let half = scale / U256::from(2u8);
    Ok(product.checked_add(half).ok_or(overflow(what))? / scale)
}

/// `(a * scale + b/2) / b`: divide in fixed point, half up.
fn div_half_up(a: U256, b: U256, scale: U256, what: &'static str) -> Result<U256, VenueError> {
    if b.is_zero() {
        return Err(overflow(what));
    }
    let product = a.checked_mul(scale).ok_or(overflow(what))?;
    Ok(product
        .checked_add(b / U256::from(2u8))
        .ok_or(overflow(what))?
        / b)
}

/// Aave's `rayMul`: `(a * b + RAY/2) / RAY`.
pub fn ray_mul(a: u128, b: u128) -> Result<u128, VenueError> {
    to_u128(
        mul_half_up(u256(a), u256(b), u256(RAY), "ray multiply")?,
        "ray multiply",
    )
}

/// Aave's `rayDiv`: `(a * RAY + b/2) / b`; an error if `b` is zero.
pub fn ray_div(a: u128, b: u128) -> Result<u128, VenueError> {
    to_u128(
        div_half_up(u256(a), u256(b), u256(RAY), "ray divide")?,
        "ray divide",
    )
}

/// Aave's `wadDiv`: `(a * WAD + b/2) / b`; an error if `b` is zero.
pub fn wad_div(a: u128, b: u128) -> Result<u128, VenueError> {
    to_u128(
        div_half_up(u256(a), u256(b), u256(WAD), "wad divide")?,
        "wad divide",
    )
}

/// Aave's `percentMul`: `(value * bps + 5_000) / 10_000`.
pub fn percent_mul(value: u128, bps: u128) -> Result<u128, VenueError> {
    to_u128(
        mul_half_up(
            u256(value),
            u256(bps),
            u256(PERCENTAGE_FACTOR),
            "percent multiply",
        )?,
        "percent multiply",
    )
}

/// Aave's `percentDiv`: `(value * 10_000 + bps/2) / bps`; an error if `bps`
/// is zero.
pub fn percent_div(value: u128, bps: u128) -> Result<u128, VenueError> {
    to_u128(
        div_half_up(
            u256(value),
            u256(bps),
            u256(PERCENTAGE_FACTOR),
            "percent divide",
        )?,
        "percent divide",
    )
}

/// Aave's `MathUtils.calculateLinearInterest`: the growth factor (RAY) of
/// `rate` (annual, RAY) over `seconds`: `RAY + rate * seconds / SECONDS_PER_YEAR`
/// (the division rounds down).
pub fn linear_interest(rate: u128, seconds: u64) -> Result<u128, VenueError> {
    let accrued = u256(rate) * U256::from(seconds) / U256::from(SECONDS_PER_YEAR);
    to_u128(accrued, "linear interest")?
        .checked_add(RAY)
        .ok_or(overflow("linear interest"))
}

/// Aave's `MathUtils.calculateCompoundedInterest`: the growth factor (RAY)
/// of `rate` (annual, RAY) compounded every second over `seconds`,
/// approximated by the first three terms of the binomial expansion
/// `(1 + x)^n = 1 + n*x + n(n-1)/2 * x^2 + n(n-1)(n-2)/6 * x^3` with
/// `x = rate / SECONDS_PER_YEAR`, computed as the contract does:
/// `basePowerTwo = rayMul(rate, rate) / SECONDS_PER_YEAR^2`,
/// `basePowerThree = rayMul(basePowerTwo, rate) / SECONDS_PER_YEAR`,
/// each division rounding down.
pub fn compounded_interest(rate: u128, seconds: u64) -> Result<u128, VenueError> {
    if seconds == 0 {
        return Ok(RAY);
    }
    let year = U256::from(SECONDS_PER_YEAR);
    let exp = U256::from(seconds);
    let exp_minus_one = U256::from(seconds - 1);
    let exp_minus_two = U256::from(seconds.saturating_sub(2));
    let rate = u256(rate);
    let ray = u256(RAY);
    let base_power_two = mul_half_up(rate, rate, ray, "compounded interest")? / (year * year);
    let base_power_three = mul_half_up(base_power_two, rate, ray, "compounded interest")? / year;
    let what = "compounded interest";
    let product = |factors: &[U256]| {
        factors
            .iter()
            .try_fold(U256::from(1u8), |acc, f| acc.checked_mul(*f))
            .ok_or(overflow(what))
    };
    let second_term = product(&[exp, exp_minus_one, base_power_two])? / U256::from(2u8);
    let third_term =
        product(&[exp, exp_minus_one, exp_minus_two, base_power_three])? / U256::from(6u8);
    let total = product(&[rate, exp])? / year + ray;
    let total = total
        .checked_add(second_term)
        .and_then(|t| t.checked_add(third_term))
        .ok_or(overflow(what))?;
    to_u128(total, what)
}

/// Borrow rate as a function of utilization, as Aave v3.0's
/// `DefaultReserveInterestRateStrategy`: `base + slope1 * u / u_opt` (with
/// `rayMul` then `rayDiv`) up to the optimal utilization, and
/// `base + slope1 + slope2 * (u - u_opt) / (1 - u_opt)` above it. All values
/// are annual rates in RAY.
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
    /// Annual borrow rate at `utilization` (both RAY); saturates instead of
    /// failing on absurd parameters.
    pub fn borrow_rate(&self, utilization: u128) -> u128 {
        let optimal = self.optimal_utilization.clamp(1, RAY);
        let variable = if utilization > optimal {
            let excess =
                ray_div(utilization.min(RAY) - optimal, (RAY - optimal).max(1)).unwrap_or(RAY);
            self.slope1
                .saturating_add(ray_mul(self.slope2, excess).unwrap_or(u128::MAX))
        } else {
            ray_mul(self.slope1, utilization)
                .and_then(|part| ray_div(part, optimal))
                .unwrap_or(u128::MAX)
        };
        self.base_rate.saturating_add(variable)
    }

    /// The rates Aave v3.0's
    /// `DefaultReserveInterestRateStrategy.calculateInterestRates` sets for
    /// a reserve with `total_debt` of variable debt and `available` tokens
    /// held by its aToken (the operation's inflow or outflow included), no
    /// stable debt and no unbacked aTokens: (liquidity rate, variable
    /// borrow rate), annual, RAY.
    ///
    /// The usage ratio is `rayDiv(debt, available + debt)`; the liquidity
    /// rate is `percentMul(rayMul(overallBorrowRate, usage), 100% - reserve
    /// factor)`, where the overall borrow rate is the debt-weighted rate
    /// `rayDiv(rayMul(debt_ray, rate), debt_ray)` (`debt_ray` = the debt
    /// scaled to RAY by `wadToRay`). Without debt the borrow rate is the
    /// base rate and the liquidity rate zero.
    pub fn rates(
        &self,
        total_debt: u128,
        available: u128,
        reserve_factor_bps: u32,
    ) -> Result<(u128, u128), VenueError> {
        if total_debt == 0 {
            return Ok((0, self.borrow_rate(0)));
        }
        let what = "interest rates";
        let usage = ray_div(
            total_debt,
            available.checked_add(total_debt).ok_or(overflow(what))?,
        )?;
        let borrow_rate = self.borrow_rate(usage);
        let debt_ray = total_debt.checked_mul(RAY / WAD).ok_or(overflow(what))?;
        let overall = ray_div(ray_mul(debt_ray, borrow_rate)?, debt_ray)?;
        let keep = PERCENTAGE_FACTOR - u128::from(reserve_factor_bps).min(PERCENTAGE_FACTOR);
        let liquidity_rate = percent_mul(ray_mul(overall, usage)?, keep)?;
        Ok((liquidity_rate, borrow_rate))
    }
}

/// Risk and rate parameters of one asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReserveConfig {
    /// Token decimals (for valuation).
    pub decimals: u8,
    /// Maximum loan-to-value of this asset as collateral, bps. Zero means
    /// a supply of it is not collateral (Aave enables a first supply as
    /// collateral only if the asset's LTV is not zero), so it counts
    /// neither for borrowing nor for the health factor.
    pub ltv_bps: u32,
    /// Collateral value counted by the health factor, bps. Zero means the
    /// asset does not count as collateral.
    pub liquidation_threshold_bps: u32,
    /// Collateral bonus a liquidator receives, bps above 100% (500 = 5%,
    /// Aave's `liquidationBonus` of 10_500).
    pub liquidation_bonus_bps: u32,
    /// Share of interest kept by the protocol, bps.
    pub reserve_factor_bps: u32,
    /// Borrow-rate curve.
    pub rates: InterestRateModel,
}

impl ReserveConfig {
    /// Whether a supply of the asset is collateral: Aave v3.0 enables a
    /// first supply as collateral when the asset's LTV is not zero
    /// (`validateUseAsCollateral`, outside isolation mode), and counts
    /// collateral whose liquidation threshold is not zero.
    fn is_collateral(&self) -> bool {
        self.ltv_bps != 0 && self.liquidation_threshold_bps != 0
    }
}

/// Largest supply or borrow cap Aave v3.0 stores (36 bits, whole tokens).
pub const MAX_CAP: u128 = 68_719_476_735;

/// State of one asset's reserve, as Aave v3.0's `ReserveData`: indices
/// and rates change only when an operation touches the reserve (an
/// update); between updates balances grow with the normalized indices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reserve {
    /// Parameters.
    pub config: ReserveConfig,
    /// Supplied, in units of the liquidity index (the aToken's scaled
    /// total supply; the treasury's share is `accrued_to_treasury`).
    supply_scaled: u128,
    /// Borrowed, in units of the borrow index.
    debt_scaled: u128,
    /// Growth of a unit supplied up to the last update (RAY).
    liquidity_index: u128,
    /// Growth of a unit borrowed up to the last update (RAY).
    borrow_index: u128,
    /// Supply rate set by the last update (RAY, annual).
    liquidity_rate: u128,
    /// Variable borrow rate set by the last update (RAY, annual).
    variable_borrow_rate: u128,
    /// The treasury's share of interest, scaled by the liquidity index,
    /// not yet minted to it (Aave's `accruedToTreasury`).
    accrued_to_treasury: u128,
    /// Supply cap in whole tokens, 0 for none.
    supply_cap: u128,
    /// Borrow cap in whole tokens, 0 for none.
    borrow_cap: u128,
    /// Tokens held by the reserve (supplied minus lent out: the aToken's
    /// balance of the underlying).
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

/// An account's totals, as Aave's `getUserAccountData`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AccountData {
    /// Collateral value in the price feed's base currency (rounded down per
    /// asset).
    pub total_collateral_base: u128,
    /// Debt value in the price feed's base currency (rounded down per
    /// asset).
    pub total_debt_base: u128,
    /// What may still be borrowed, in the base currency:
    /// `percentMul(collateral, ltv) - debt`, or zero.
    pub available_borrows_base: u128,
    /// Collateral-weighted loan-to-value, bps (rounded down).
    pub ltv_bps: u128,
    /// Collateral-weighted liquidation threshold, bps (rounded down).
    pub liquidation_threshold_bps: u128,
    /// `percentMul(collateral, threshold) wadDiv debt` (WAD), or `u128::MAX`
    /// without debt.
    pub health_factor: u128,
}

/// A lending pool of several reserves and accounts.
///
/// Time only moves forward: an operation at a time before the pool's
/// clock happens at the clock's time.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LendingPool {
    reserves: BTreeMap<String, Reserve>,
    accounts: BTreeMap<String, Account>,
    /// The latest time the pool was told (ms): balances, account data and
    /// normalized indices are valued at it.
    now_ms: u64,
}

fn unknown(what: &'static str, name: &str) -> VenueError {
    VenueError::Unknown {
        what,
        name: name.to_owned(),
    }
}

/// `10^decimals` as a 256-bit integer.
fn unit(decimals: u8) -> U256 {
    U256::from(10u8).pow(U256::from(decimals))
}

/// Whole seconds between two millisecond timestamps (block timestamps are
/// seconds).
fn elapsed_seconds(from_ms: u64, to_ms: u64) -> u64 {
    (to_ms / 1_000).saturating_sub(from_ms / 1_000)
}

impl Reserve {
    fn new(config: ReserveConfig, now_ms: u64) -> Reserve {
        // Aave's `initReserve`: indices at 1, rates zero until the first
        // operation sets them.
        Reserve {
            config,
            supply_scaled: 0,
            debt_scaled: 0,
            liquidity_index: RAY,
            borrow_index: RAY,
            liquidity_rate: 0,
            variable_borrow_rate: 0,
            accrued_to_treasury: 0,
            supply_cap: 0,
            borrow_cap: 0,
            cash: 0,
            last_update_ms: now_ms,
        }
    }

    fn total_debt(&self) -> u128 {
        ray_mul(self.debt_scaled, self.borrow_index).unwrap_or(u128::MAX)
    }

    /// Borrowed / (cash + borrowed) at the last update, RAY (`rayDiv`,
    /// Aave's borrow usage ratio): what the current rates were set from.
    pub fn utilization(&self) -> u128 {
        let debt = self.total_debt();
        if debt == 0 {
            return 0;
        }
        ray_div(debt, self.cash.saturating_add(debt)).unwrap_or(RAY)
    }

    /// Annual variable borrow rate set by the last update, RAY (Aave's
    /// `currentVariableBorrowRate`; zero before the first operation).
    pub fn borrow_rate(&self) -> u128 {
        self.variable_borrow_rate
    }

    /// Annual supply (liquidity) rate set by the last update, RAY (Aave's
    /// `currentLiquidityRate`); see [`InterestRateModel::rates`].
    pub fn supply_rate(&self) -> u128 {
        self.liquidity_rate
    }

    /// Liquidity index at the last update (RAY).
    pub fn liquidity_index(&self) -> u128 {
        self.liquidity_index
    }

    /// Variable borrow index at the last update (RAY).
    pub fn borrow_index(&self) -> u128 {
        self.borrow_index
    }

    /// The liquidity index grown to `now_ms` without an update (Aave's
    /// `getNormalizedIncome`: linear interest at the current rate).
    pub fn normalized_income(&self, now_ms: u64) -> Result<u128, VenueError> {
        let seconds = elapsed_seconds(self.last_update_ms, now_ms);
        if seconds == 0 {
            return Ok(self.liquidity_index);
        }
        ray_mul(
            linear_interest(self.liquidity_rate, seconds)?,
            self.liquidity_index,
        )
    }

    /// The variable borrow index grown to `now_ms` without an update
    /// (Aave's `getNormalizedDebt`: compounded interest at the current
    /// rate).
    pub fn normalized_debt(&self, now_ms: u64) -> Result<u128, VenueError> {
        let seconds = elapsed_seconds(self.last_update_ms, now_ms);
        if seconds == 0 {
            return Ok(self.borrow_index);
        }
        ray_mul(
            compounded_interest(self.variable_borrow_rate, seconds)?,
            self.borrow_index,
        )
    }

    /// Tokens the reserve holds (supplied minus lent out), base units.
    pub fn cash(&self) -> u128 {
        self.cash
    }

    /// Total supply in units of the liquidity index (the aToken's
    /// `scaledTotalSupply`).
    pub fn scaled_total_supply(&self) -> u128 {
        self.supply_scaled
    }

    /// Total variable debt in units of the borrow index (the debt token's
    /// `scaledTotalSupply`).
    pub fn scaled_total_debt(&self) -> u128 {
        self.debt_scaled
    }

    /// The treasury's share of interest not yet minted to it, scaled by
    /// the liquidity index (Aave's `accruedToTreasury`).
    pub fn accrued_to_treasury(&self) -> u128 {
        self.accrued_to_treasury
    }

    /// When the reserve was last updated (ms).
    pub fn last_update_ms(&self) -> u64 {
        self.last_update_ms
    }

    /// Supply cap in whole tokens (0: none).
    pub fn supply_cap(&self) -> u128 {
        self.supply_cap
    }

    /// Borrow cap in whole tokens (0: none).
    pub fn borrow_cap(&self) -> u128 {
        self.borrow_cap
    }

    /// Aave's `ReserveLogic.updateState`: once per second at most, grow
    /// the liquidity index (if the supply rate is not zero) and the borrow
    /// index (if anything is borrowed) to `now_ms`, and set aside the
    /// reserve factor's share of the interest borrowers accrued for the
    /// treasury.
    fn update_state(&mut self, now_ms: u64) -> Result<(), VenueError> {
        let seconds = elapsed_seconds(self.last_update_ms, now_ms);
        if seconds == 0 {
            return Ok(());
        }
        let previous_borrow_index = self.borrow_index;
        if self.liquidity_rate != 0 {
            self.liquidity_index = ray_mul(
                linear_interest(self.liquidity_rate, seconds)?,
                self.liquidity_index,
            )?;
        }
        if self.debt_scaled != 0 {
            self.borrow_index = ray_mul(
                compounded_interest(self.variable_borrow_rate, seconds)?,
                self.borrow_index,
            )?;
        }
        let reserve_factor = u128::from(self.config.reserve_factor_bps).min(PERCENTAGE_FACTOR);
        if reserve_factor != 0 {
            let before = ray_mul(self.debt_scaled, previous_borrow_index)?;
            let after = ray_mul(self.debt_scaled, self.borrow_index)?;
            let share = percent_mul(after.saturating_sub(before), reserve_factor)?;
            if share != 0 {
                self.accrued_to_treasury = self
                    .accrued_to_treasury
                    .checked_add(ray_div(share, self.liquidity_index)?)
                    .ok_or(overflow("treasury accrual"))?;
            }
        }
        self.last_update_ms = now_ms;
        Ok(())
    }

    /// Aave's `ReserveLogic.updateInterestRates`: set the rates from the
    /// debt at the current borrow index and `available` tokens held.
    fn update_rates(&mut self, available: u128) -> Result<(), VenueError> {
        let debt = ray_mul(self.debt_scaled, self.borrow_index)?;
        (self.liquidity_rate, self.variable_borrow_rate) =
            self.config
                .rates
                .rates(debt, available, self.config.reserve_factor_bps)?;
        Ok(())
    }

    /// `cap` whole tokens in base units.
    fn cap_units(&self, cap: u128) -> U256 {
        u256(cap) * unit(self.config.decimals)
    }
}

impl LendingPool {
    /// An empty pool.
    pub fn new() -> Self {
        Self::default()
    }

    /// The pool's clock: the latest time it was told, ms.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// `now_ms`, or the clock if that is later.
    fn at(&self, now_ms: u64) -> u64 {
        now_ms.max(self.now_ms)
    }

    /// List an asset (Aave's `initReserves`): indices at 1, rates zero
    /// until its first operation, no caps.
    pub fn add_reserve(&mut self, asset: &str, config: ReserveConfig, now_ms: u64) {
        let now = self.at(now_ms);
        self.reserves
            .insert(asset.to_owned(), Reserve::new(config, now));
        self.now_ms = now;
    }

    /// Set `asset`'s supply cap, whole tokens (0: none), as Aave's
    /// `PoolConfigurator.setSupplyCap`: a supply is refused if the reserve's
    /// supply (the treasury's accrued share included) would exceed it.
    pub fn set_supply_cap(&mut self, asset: &str, cap: u128) -> Result<(), VenueError> {
        Self::check_cap(cap)?;
        self.reserve_mut(asset)?.supply_cap = cap;
        Ok(())
    }

    /// Set `asset`'s borrow cap, whole tokens (0: none), as Aave's
    /// `PoolConfigurator.setBorrowCap`: a borrow is refused if the
    /// reserve's total debt would exceed it.
    pub fn set_borrow_cap(&mut self, asset: &str, cap: u128) -> Result<(), VenueError> {
        Self::check_cap(cap)?;
        self.reserve_mut(asset)?.borrow_cap = cap;
        Ok(())
    }

    fn check_cap(cap: u128) -> Result<(), VenueError> {
        if cap > MAX_CAP {
            return Err(VenueError::InvalidRange {
                detail: format!("cap {cap} above the largest Aave stores, {MAX_CAP}"),
            });
        }
        Ok(())
    }

    /// A reserve.
    pub fn reserve(&self, asset: &str) -> Option<&Reserve> {
        self.reserves.get(asset)
    }

    /// Let time pass to `now_ms` without touching any reserve, as blocks
    /// without operations on chain: balances and account data grow with
    /// the normalized indices, while stored indices and rates stay until
    /// an operation updates the reserve.
    pub fn advance(&mut self, now_ms: u64) {
        self.now_ms = self.at(now_ms);
    }

    /// Update every reserve at `now_ms` as an operation that moves nothing
    /// would (indices, the treasury's share, then rates from the grown
    /// debt), standing for the market's other users, whose operations
    /// update a reserve on chain. On error nothing changes.
    pub fn accrue(&mut self, now_ms: u64) -> Result<(), VenueError> {
        let now = self.at(now_ms);
        let mut next = self.reserves.clone();
        for reserve in next.values_mut() {
            reserve.update_state(now)?;
            reserve.update_rates(reserve.cash)?;
        }
        self.reserves = next;
        self.now_ms = now;
        Ok(())
    }

    fn reserve_mut(&mut self, asset: &str) -> Result<&mut Reserve, VenueError> {
        self.reserves
            .get_mut(asset)
            .ok_or_else(|| unknown("lending asset", asset))
    }

    fn reserve_ref(&self, asset: &str) -> Result<&Reserve, VenueError> {
        self.reserves
            .get(asset)
            .ok_or_else(|| unknown("lending asset", asset))
    }

    /// `account`'s supply of `asset` in units of the liquidity index (its
    /// aToken `scaledBalanceOf`).
    pub fn scaled_supply(&self, account: &str, asset: &str) -> u128 {
        self.accounts
            .get(account)
            .and_then(|a| a.supplied.get(asset))
            .copied()
            .unwrap_or(0)
    }

    /// `account`'s debt in `asset` in units of the borrow index (its
    /// variable debt token `scaledBalanceOf`).
    pub fn scaled_debt(&self, account: &str, asset: &str) -> u128 {
        self.accounts
            .get(account)
            .and_then(|a| a.borrowed.get(asset))
            .copied()
            .unwrap_or(0)
    }

    fn set_scaled_supply(&mut self, account: &str, asset: &str, scaled: u128) {
        self.accounts
            .entry(account.to_owned())
            .or_default()
            .supplied
            .insert(asset.to_owned(), scaled);
    }

    fn set_scaled_debt(&mut self, account: &str, asset: &str, scaled: u128) {
        self.accounts
            .entry(account.to_owned())
            .or_default()
            .borrowed
            .insert(asset.to_owned(), scaled);
    }

    /// Whether `account` owes anything (Aave's `isBorrowingAny`).
    fn is_borrowing(&self, account: &str) -> bool {
        self.accounts
            .get(account)
            .is_some_and(|a| a.borrowed.values().any(|scaled| *scaled != 0))
    }

    /// What `account` has supplied of `asset` now, interest included
    /// (`rayMul(scaled, normalizedIncome)`, as an aToken balance).
    pub fn supplied(&self, account: &str, asset: &str) -> u128 {
        let scaled = self.scaled_supply(account, asset);
        self.reserves.get(asset).map_or(0, |r| {
            r.normalized_income(self.now_ms)
                .and_then(|index| ray_mul(scaled, index))
                .unwrap_or(0)
        })
    }

    /// What `account` owes of `asset` now, interest included
    /// (`rayMul(scaled, normalizedDebt)`, as a variable-debt-token balance).
    pub fn borrowed(&self, account: &str, asset: &str) -> u128 {
        let scaled = self.scaled_debt(account, asset);
        if scaled == 0 {
            return 0;
        }
        self.reserves.get(asset).map_or(0, |r| {
            r.normalized_debt(self.now_ms)
                .and_then(|index| ray_mul(scaled, index))
                .unwrap_or(u128::MAX)
        })
    }

    /// Deposit `amount` of `asset` as supply, as Aave v3.0's `supply`:
    /// update the reserve, check the supply cap, mint
    /// `rayDiv(amount, liquidityIndex)` scaled units (refused if that is
    /// zero), set the rates. The supply is collateral if the asset's LTV
    /// is not zero. On error nothing changes.
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
        let now = self.at(now_ms);
        let mut reserve = self.reserve_ref(asset)?.clone();
        reserve.update_state(now)?;
        if reserve.supply_cap != 0 {
            let what = "supply cap";
            let supplied = ray_mul(
                reserve
                    .supply_scaled
                    .checked_add(reserve.accrued_to_treasury)
                    .ok_or(overflow(what))?,
                reserve.liquidity_index,
            )?;
            if u256(supplied) + u256(amount) > reserve.cap_units(reserve.supply_cap) {
                return Err(VenueError::CapExceeded {
                    cap: CapKind::Supply,
                    asset: asset.to_owned(),
                    limit_tokens: reserve.supply_cap,
                });
            }
        }
        let scaled = ray_div(amount, reserve.liquidity_index)?;
        if scaled == 0 {
            return Err(VenueError::ZeroAmount);
        }
        let held = self.scaled_supply(account, asset);
        let (Some(total), Some(cash), Some(held)) = (
            reserve.supply_scaled.checked_add(scaled),
            reserve.cash.checked_add(amount),
            held.checked_add(scaled),
        ) else {
            return Err(overflow("lending supply"));
        };
        reserve.supply_scaled = total;
        reserve.cash = cash;
        reserve.update_rates(cash)?;
        *self.reserve_mut(asset)? = reserve;
        self.set_scaled_supply(account, asset, held);
        self.now_ms = now;
        Ok(())
    }

    /// Withdraw supplied `asset` (`u128::MAX`: everything), as Aave v3.0's
    /// `withdraw`: update the reserve, burn `rayDiv(amount,
    /// liquidityIndex)` scaled units, set the rates; if the asset is
    /// collateral and the account owes anything, its health factor must
    /// stay at or above 1. Returns the amount withdrawn. On error nothing
    /// changes.
    pub fn withdraw(
        &mut self,
        account: &str,
        asset: &str,
        amount: u128,
        now_ms: u64,
        price: &PriceFeed<'_>,
    ) -> Result<u128, VenueError> {
        if amount == 0 {
            return Err(VenueError::ZeroAmount);
        }
        let now = self.at(now_ms);
        let mut after = self.clone();
        after.now_ms = now;
        after.reserve_mut(asset)?.update_state(now)?;
        let available = after.supplied(account, asset);
        let amount = if amount == u128::MAX {
            available
        } else {
            amount
        };
        if amount == 0 {
            return Err(VenueError::ZeroAmount);
        }
        if amount > available {
            return Err(VenueError::InsufficientBalance {
                needed: amount,
                available,
            });
        }
        after.take_supply(account, asset, amount, amount == available)?;
        let reserve = after.reserve_mut(asset)?;
        reserve.update_rates(reserve.cash)?;
        if reserve.config.is_collateral() && after.is_borrowing(account) {
            let hf = after.account_data(account, price)?.health_factor;
            if hf < HEALTH_FACTOR_LIQUIDATION_THRESHOLD {
                return Err(VenueError::Undercollateralized {
                    detail: format!("health factor would be {hf} (WAD)"),
                });
            }
        }
        *self = after;
        Ok(amount)
    }

    /// Burn `rayDiv(amount, liquidityIndex)` scaled supply (all of it if
    /// `all`) and pay `amount` out of the reserve; rates are left to the
    /// caller. Checks before mutating.
    fn take_supply(
        &mut self,
        account: &str,
        asset: &str,
        amount: u128,
        all: bool,
    ) -> Result<(), VenueError> {
        let reserve = self.reserve_ref(asset)?;
        if amount > reserve.cash {
            return Err(VenueError::InsufficientLiquidity {
                detail: format!("reserve holds {} {asset}", reserve.cash),
            });
        }
        let held = self.scaled_supply(account, asset);
        let scaled = if all {
            held
        } else {
            ray_div(amount, reserve.liquidity_index)?.min(held)
        };
        if scaled == 0 {
            // Aave's aToken refuses to burn nothing (`INVALID_BURN_AMOUNT`).
            return Err(VenueError::ZeroAmount);
        }
        let reserve = self.reserve_mut(asset)?;
        reserve.supply_scaled = reserve.supply_scaled.saturating_sub(scaled);
        reserve.cash -= amount;
        self.set_scaled_supply(account, asset, held - scaled);
        Ok(())
    }

    /// Borrow `amount` of `asset` at the variable rate, as Aave v3.0's
    /// `borrow` (`validateBorrow`): update the reserve; the reserve's debt
    /// must stay within its borrow cap; the account must hold collateral
    /// with a loan-to-value, its health factor must be above 1, and
    /// `percentDiv(debt + amount value, ltv) <= collateral` (values in the
    /// price feed's base currency); the reserve must hold `amount`. Mints
    /// `rayDiv(amount, borrowIndex)` scaled debt, sets the rates. On error
    /// nothing changes.
    pub fn borrow(
        &mut self,
        account: &str,
        asset: &str,
        amount: u128,
        now_ms: u64,
        price: &PriceFeed<'_>,
    ) -> Result<(), VenueError> {
        if amount == 0 {
            return Err(VenueError::ZeroAmount);
        }
        let now = self.at(now_ms);
        let mut after = self.clone();
        after.now_ms = now;
        after.reserve_mut(asset)?.update_state(now)?;
        let reserve = after.reserve_ref(asset)?;
        if reserve.borrow_cap != 0 {
            let debt = ray_mul(reserve.debt_scaled, reserve.borrow_index)?;
            if u256(debt) + u256(amount) > reserve.cap_units(reserve.borrow_cap) {
                return Err(VenueError::CapExceeded {
                    cap: CapKind::Borrow,
                    asset: asset.to_owned(),
                    limit_tokens: reserve.borrow_cap,
                });
            }
        }
        let data = after.account_data(account, price)?;
        if data.total_collateral_base == 0 || data.ltv_bps == 0 {
            return Err(VenueError::Undercollateralized {
                detail: "no collateral with a loan-to-value".into(),
            });
        }
        if data.health_factor <= HEALTH_FACTOR_LIQUIDATION_THRESHOLD {
            return Err(VenueError::Undercollateralized {
                detail: format!("health factor is {} (WAD)", data.health_factor),
            });
        }
        let amount_base = after.value_base(asset, amount, price)?;
        let needed = percent_div(
            data.total_debt_base
                .checked_add(amount_base)
                .ok_or(overflow("borrow value"))?,
            data.ltv_bps,
        )?;
        if needed > data.total_collateral_base {
            return Err(VenueError::Undercollateralized {
                detail: format!(
                    "needs collateral worth {needed}, has {} (base currency units)",
                    data.total_collateral_base
                ),
            });
        }
        let scaled = ray_div(amount, reserve.borrow_index)?;
        if scaled == 0 {
            return Err(VenueError::ZeroAmount);
        }
        if amount > reserve.cash {
            return Err(VenueError::InsufficientLiquidity {
                detail: format!("reserve holds {} {asset}", reserve.cash),
            });
        }
        let held = after.scaled_debt(account, asset);
        let (Some(total), Some(held)) = (
            reserve.debt_scaled.checked_add(scaled),
            held.checked_add(scaled),
        ) else {
            return Err(overflow("lending borrow"));
        };
        let reserve = after.reserve_mut(asset)?;
        reserve.debt_scaled = total;
        reserve.cash -= amount;
        reserve.update_rates(reserve.cash)?;
        after.set_scaled_debt(account, asset, held);
        *self = after;
        Ok(())
    }

    /// Debt owed by borrowers outside the simulation (no account, no
    /// collateral checks, no cap): sets a market's starting utilization.
    pub fn add_external_debt(
        &mut self,
        asset: &str,
        amount: u128,
        now_ms: u64,
    ) -> Result<(), VenueError> {
        let now = self.at(now_ms);
        let mut reserve = self.reserve_ref(asset)?.clone();
        reserve.update_state(now)?;
        if amount > reserve.cash {
            return Err(VenueError::InsufficientLiquidity {
                detail: format!("reserve holds {} {asset}", reserve.cash),
            });
        }
        let scaled = ray_div(amount, reserve.borrow_index)?;
        reserve.debt_scaled = reserve
            .debt_scaled
            .checked_add(scaled)
            .ok_or(overflow("external debt"))?;
        reserve.cash -= amount;
        reserve.update_rates(reserve.cash)?;
        *self.reserve_mut(asset)? = reserve;
        self.now_ms = now;
        Ok(())
    }

    /// Repay up to `amount` of `asset` debt (`u128::MAX`: all of it), as
    /// Aave v3.0's `repay`; returns what was repaid. Updates the reserve,
    /// burns `rayDiv(repaid, borrowIndex)` scaled debt (all of it when the
    /// whole debt is repaid), sets the rates. Refused if nothing is owed.
    /// On error nothing changes.
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
        let now = self.at(now_ms);
        let mut after = self.clone();
        after.now_ms = now;
        after.reserve_mut(asset)?.update_state(now)?;
        let owed = after.borrowed(account, asset);
        if owed == 0 {
            // Aave: `NO_DEBT_OF_SELECTED_TYPE`.
            return Err(unknown("lending debt", &format!("{asset} of {account}")));
        }
        let repaid = amount.min(owed);
        after.burn_debt(account, asset, repaid, repaid == owed)?;
        let reserve = after.reserve_mut(asset)?;
        reserve.cash = reserve
            .cash
            .checked_add(repaid)
            .ok_or(overflow("lending repay"))?;
        reserve.update_rates(reserve.cash)?;
        *self = after;
        Ok(repaid)
    }

    /// Burn `rayDiv(amount, borrowIndex)` scaled debt (all of it if `all`);
    /// the repayment's cash and the rates are left to the caller. Checks
    /// before mutating.
    fn burn_debt(
        &mut self,
        account: &str,
        asset: &str,
        amount: u128,
        all: bool,
    ) -> Result<(), VenueError> {
        let reserve = self.reserve_ref(asset)?;
        let held = self.scaled_debt(account, asset);
        let scaled = if all {
            held
        } else {
            ray_div(amount, reserve.borrow_index)?.min(held)
        };
        if scaled == 0 {
            // Aave's debt token refuses to burn nothing.
            return Err(VenueError::ZeroAmount);
        }
        let reserve = self.reserve_mut(asset)?;
        reserve.debt_scaled = reserve.debt_scaled.saturating_sub(scaled);
        self.set_scaled_debt(account, asset, held - scaled);
        Ok(())
    }

    fn price_of(asset: &str, price: &PriceFeed<'_>) -> Result<u128, VenueError> {
        match price(asset) {
            Some(p) if p > 0 => Ok(p),
            _ => Err(unknown("price", asset)),
        }
    }

    /// `floor(amount * price / 10^decimals)`: an amount's value in the
    /// price feed's base currency, as Aave's `GenericLogic`.
    fn value_base(
        &self,
        asset: &str,
        amount: u128,
        price: &PriceFeed<'_>,
    ) -> Result<u128, VenueError> {
        let reserve = self.reserve_ref(asset)?;
        let unit_price = Self::price_of(asset, price)?;
        let value = u256(amount) * u256(unit_price) / unit(reserve.config.decimals);
        to_u128(value, "lending value")
    }

    /// An account's collateral, debt, available borrows, weighted LTV and
    /// liquidation threshold and health factor now, as Aave v3.0's
    /// `getUserAccountData`: each balance (at the normalized indices) is
    /// valued `floor(balance * price / 10^decimals)`, collateral counts
    /// only where the LTV and the liquidation threshold are not zero, the
    /// averages are collateral-weighted and rounded down, and the health
    /// factor is `wadDiv(percentMul(collateral, threshold), debt)`.
    pub fn account_data(
        &self,
        account: &str,
        price: &PriceFeed<'_>,
    ) -> Result<AccountData, VenueError> {
        let mut data = AccountData {
            health_factor: u128::MAX,
            ..AccountData::default()
        };
        let Some(positions) = self.accounts.get(account) else {
            return Ok(data);
        };
        let (mut ltv_sum, mut threshold_sum) = (U256::ZERO, U256::ZERO);
        for asset in positions.supplied.keys() {
            let config = &self.reserve_ref(asset)?.config;
            let balance = self.supplied(account, asset);
            if balance == 0 || !config.is_collateral() {
                continue;
            }
            let value = self.value_base(asset, balance, price)?;
            data.total_collateral_base = data
                .total_collateral_base
                .checked_add(value)
                .ok_or(overflow("collateral value"))?;
            ltv_sum += u256(value) * U256::from(config.ltv_bps);
            threshold_sum += u256(value) * U256::from(config.liquidation_threshold_bps);
        }
        for asset in positions.borrowed.keys() {
            let balance = self.borrowed(account, asset);
            if balance == 0 {
                continue;
            }
            let value = self.value_base(asset, balance, price)?;
            data.total_debt_base = data
                .total_debt_base
                .checked_add(value)
                .ok_or(overflow("debt value"))?;
        }
        if data.total_collateral_base != 0 {
            let total = u256(data.total_collateral_base);
            data.ltv_bps = to_u128(ltv_sum / total, "ltv")?;
            data.liquidation_threshold_bps = to_u128(threshold_sum / total, "threshold")?;
        }
        data.available_borrows_base = percent_mul(data.total_collateral_base, data.ltv_bps)?
            .saturating_sub(data.total_debt_base);
        if data.total_debt_base != 0 {
            data.health_factor = wad_div(
                percent_mul(data.total_collateral_base, data.liquidation_threshold_bps)?,
                data.total_debt_base,
            )?;
        }
        Ok(data)
    }

    /// The health factor now (WAD, 1e18 = 1.0), or `None` without debt.
    pub fn health_factor(
        &self,
        account: &str,
        price: &PriceFeed<'_>,
    ) -> Result<Option<u128>, VenueError> {
        let data = self.account_data(account, price)?;
        Ok((data.total_debt_base != 0).then_some(data.health_factor))
    }

    /// The asset with the largest value in the base currency (the first in
    /// name order on ties).
    fn largest(
        &self,
        balances: impl Iterator<Item = (String, u128)>,
        price: &PriceFeed<'_>,
    ) -> Result<Option<String>, VenueError> {
        let mut best: Option<(String, u128)> = None;
        for (asset, amount) in balances {
            if amount == 0 {
                continue;
            }
            let value = self.value_base(&asset, amount, price)?;
            if best.as_ref().is_none_or(|(_, v)| value > *v) {
                best = Some((asset, value));
            }
        }
        Ok(best.map(|(asset, _)| asset))
    }

    /// If the account's health factor is below 1, a liquidator repays as
    /// much as allowed of its largest debt (by value) and seizes its
    /// largest collateral plus the bonus: [`LendingPool::liquidation_call`]
    /// with those assets and no limit on the debt to cover. `None` if the
    /// account is healthy or nothing can be liquidated (a liquidation
    /// whose collateral or debt rounds to nothing, which Aave refuses).
    /// On error the pool is left as it was.
    pub fn liquidate(
        &mut self,
        account: &str,
        now_ms: u64,
        price: &PriceFeed<'_>,
    ) -> Result<Option<Liquidation>, VenueError> {
        let mut probe = self.clone();
        probe.advance(now_ms);
        let positions = probe.accounts.get(account).cloned().unwrap_or_default();
        let debts = positions
            .borrowed
            .keys()
            .map(|a| (a.clone(), probe.borrowed(account, a)));
        let collaterals = positions
            .supplied
            .keys()
            .filter(|a| {
                probe
                    .reserves
                    .get(*a)
                    .is_some_and(|r| r.config.is_collateral())
            })
            .map(|a| (a.clone(), probe.supplied(account, a)));
        let (Some(debt_asset), Some(collateral_asset)) = (
            probe.largest(debts, price)?,
            probe.largest(collaterals, price)?,
        ) else {
            return Ok(None);
        };
        match self.liquidation_call(
            account,
            &collateral_asset,
            &debt_asset,
            u128::MAX,
            now_ms,
            price,
        ) {
            Err(VenueError::ZeroAmount) => Ok(None),
            result => result,
        }
    }

    /// Aave v3.0's `liquidationCall(collateral, debt, user, debtToCover,
    /// receiveAToken = false)` (no liquidation protocol fee):
    ///
    /// - the debt reserve is updated, then the account's health factor must
    ///   be below 1, the collateral asset must be its collateral and it
    ///   must owe the debt asset (else `None`);
    /// - close factor: 50% of that debt if the health factor is above 0.95,
    ///   100% at or below it; the debt to repay is at most `debt_to_cover`
    ///   (`u128::MAX`: no limit);
    /// - collateral = `percentMul(floor(debtPrice * debt * collateralUnit /
    ///   (collateralPrice * debtUnit)), 100% + bonus)`;
    /// - if that exceeds the borrower's collateral balance, the whole balance
    ///   is seized and the debt repaid is reduced to
    ///   `percentDiv(floor(collateralPrice * balance * debtUnit / (debtPrice *
    ///   collateralUnit)), 100% + bonus)`, so a liquidation never raises the
    ///   borrower's equity;
    /// - the debt reserve's rates are set with the repayment counted in,
    ///   then the collateral reserve is updated and its rates set with the
    ///   seized collateral paid out; when both are one asset the second
    ///   setting holds and, as on chain, does not yet count the repayment
    ///   (it arrives after the rates are set).
    ///
    /// Refused with [`VenueError::ZeroAmount`] if the debt repaid or the
    /// collateral seized burns no scaled unit, and with
    /// [`VenueError::InsufficientLiquidity`] if the collateral reserve
    /// cannot pay the seized collateral out. Everything is computed before
    /// anything changes: on error the pool is left as it was.
    pub fn liquidation_call(
        &mut self,
        account: &str,
        collateral_asset: &str,
        debt_asset: &str,
        debt_to_cover: u128,
        now_ms: u64,
        price: &PriceFeed<'_>,
    ) -> Result<Option<Liquidation>, VenueError> {
        let now = self.at(now_ms);
        let mut after = self.clone();
        after.now_ms = now;
        after.reserve_mut(debt_asset)?.update_state(now)?;
        let data = after.account_data(account, price)?;
        let debt = after.borrowed(account, debt_asset);
        let collateral = after.supplied(account, collateral_asset);
        let is_collateral = after.reserve_ref(collateral_asset)?.config.is_collateral();
        if data.health_factor >= HEALTH_FACTOR_LIQUIDATION_THRESHOLD
            || debt == 0
            || collateral == 0
            || !is_collateral
        {
            return Ok(None);
        }
        let close_factor = if data.health_factor > CLOSE_FACTOR_HF_THRESHOLD {
            DEFAULT_LIQUIDATION_CLOSE_FACTOR
        } else {
            MAX_LIQUIDATION_CLOSE_FACTOR
        };
        let max_debt = percent_mul(debt, close_factor)?.min(debt_to_cover);
        let (collateral_seized, debt_repaid) = after.collateral_to_liquidate(
            debt_asset,
            max_debt,
            collateral_asset,
            collateral,
            price,
        )?;
        after.burn_debt(account, debt_asset, debt_repaid, debt_repaid == debt)?;
        let reserve = after.reserve_mut(debt_asset)?;
        let with_repayment = reserve
            .cash
            .checked_add(debt_repaid)
            .ok_or(overflow("liquidation repayment"))?;
        reserve.update_rates(with_repayment)?;
        after.reserve_mut(collateral_asset)?.update_state(now)?;
        after.take_supply(
            account,
            collateral_asset,
            collateral_seized,
            collateral_seized == collateral,
        )?;
        let reserve = after.reserve_mut(collateral_asset)?;
        reserve.update_rates(reserve.cash)?;
        let reserve = after.reserve_mut(debt_asset)?;
        reserve.cash = reserve
            .cash
            .checked_add(debt_repaid)
            .ok_or(overflow("liquidation repayment"))?;
        *self = after;
        Ok(Some(Liquidation {
            debt_asset: debt_asset.to_owned(),
            debt_repaid,
            collateral_asset: collateral_asset.to_owned(),
            collateral_seized,
        }))
    }

    /// Aave v3.0's `_calculateAvailableCollateralToLiquidate` (no protocol
    /// fee): (collateral to seize, debt that pays for it).
    fn collateral_to_liquidate(
        &self,
        debt_asset: &str,
        debt_to_cover: u128,
        collateral_asset: &str,
        collateral_balance: u128,
        price: &PriceFeed<'_>,
    ) -> Result<(u128, u128), VenueError> {
        let debt_price = u256(Self::price_of(debt_asset, price)?);
        let collateral_price = u256(Self::price_of(collateral_asset, price)?);
        let debt_unit = unit(self.reserve_ref(debt_asset)?.config.decimals);
        let collateral_reserve = self.reserve_ref(collateral_asset)?;
        let collateral_unit = unit(collateral_reserve.config.decimals);
        let bonus = PERCENTAGE_FACTOR + u128::from(collateral_reserve.config.liquidation_bonus_bps);
        let what = "liquidation amount";
        let base_collateral = debt_price
            .checked_mul(u256(debt_to_cover))
            .and_then(|x| x.checked_mul(collateral_unit))
            .ok_or(overflow(what))?
            / (collateral_price * debt_unit);
        let max_collateral = percent_mul(to_u128(base_collateral, what)?, bonus)?;
        if max_collateral > collateral_balance {
            let debt_value = collateral_price
                .checked_mul(u256(collateral_balance))
                .and_then(|x| x.checked_mul(debt_unit))
                .ok_or(overflow(what))?
                / (debt_price * collateral_unit);
            let debt_needed = percent_div(to_u128(debt_value, what)?, bonus)?;
            Ok((collateral_balance, debt_needed))
        } else {
            Ok((max_collateral, debt_to_cover))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USDC: u128 = 1_000_000;
    const ETH: u128 = 1_000_000_000_000_000_000;
    const PERCENT: u128 = RAY / 100;
    /// Oracle prices with 8 decimals, as Aave's USD feeds.
    const USD: u128 = 100_000_000;

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

    fn one_dollar(_: &str) -> Option<u128> {
        Some(USD)
    }

    /// A USDC market with a whale's 1,000,000 USDC, and "me" holding 1 ETH
    /// of collateral and 1,500 USDC of debt (ETH at 2,000).
    fn leveraged() -> LendingPool {
        let mut pool = LendingPool::new();
        pool.add_reserve("USDC", usdc_config(), 0);
        let eth = ReserveConfig {
            decimals: 18,
            ..usdc_config()
        };
        pool.add_reserve("ETH", eth, 0);
        pool.supply("whale", "USDC", 1_000_000 * USDC, 0).unwrap();
        pool.supply("me", "ETH", ETH, 0).unwrap();
        let prices = eth_at(2_000);
        pool.borrow("me", "USDC", 1_500 * USDC, 0, &prices).unwrap();
        pool
    }

    fn eth_at(dollars: u128) -> impl Fn(&str) -> Option<u128> {
        move |asset: &str| Some(if asset == "ETH" { dollars * USD } else { USD })
    }

    /// USDC with a 1% base rate.
    fn usdc_with_base_rate() -> ReserveConfig {
        let mut config = usdc_config();
        config.rates.base_rate = PERCENT;
        config
    }

    /// A lender's 2,000 USDC, half of it borrowed against 1,500 DAI (at
    /// $1) at time 0: utilization 50%, borrow rate 1% + 4% * 0.5 / 0.8 =
    /// 3.5%, supply rate 3.5% * 0.5 * (1 - 10%) = 1.575%.
    fn half_lent() -> LendingPool {
        let mut pool = LendingPool::new();
        pool.add_reserve("USDC", usdc_with_base_rate(), 0);
        pool.add_reserve("DAI", usdc_config(), 0);
        pool.supply("lender", "USDC", 2_000 * USDC, 0).unwrap();
        pool.supply("borrower", "DAI", 1_500 * USDC, 0).unwrap();
        pool.borrow("borrower", "USDC", 1_000 * USDC, 0, &one_dollar)
            .unwrap();
        pool
    }

    #[test]
    fn rates_start_at_zero_and_each_operation_sets_them() {
        let mut pool = LendingPool::new();
        pool.add_reserve("USDC", usdc_with_base_rate(), 0);
        let reserve = pool.reserve("USDC").unwrap();
        assert_eq!((reserve.supply_rate(), reserve.borrow_rate()), (0, 0));
        pool.supply("lender", "USDC", 2_000 * USDC, 0).unwrap();
        // No debt: the base rate, and nothing for suppliers.
        let reserve = pool.reserve("USDC").unwrap();
        assert_eq!((reserve.supply_rate(), reserve.borrow_rate()), (0, PERCENT));
        let pool = half_lent();
        let reserve = pool.reserve("USDC").unwrap();
        assert_eq!(reserve.borrow_rate(), 35 * PERCENT / 10);
        assert_eq!(reserve.supply_rate(), 1_575 * PERCENT / 1_000);
        assert_eq!(
            usdc_with_base_rate()
                .rates
                .rates(1_000 * USDC, 1_000 * USDC, 1_000)
                .unwrap(),
            (reserve.supply_rate(), reserve.borrow_rate())
        );
    }

    #[test]
    fn time_grows_balances_but_only_operations_update_a_reserve() {
        let mut pool = half_lent();
        pool.advance(YEAR_MS);
        let reserve = pool.reserve("USDC").unwrap().clone();
        assert_eq!(
            (reserve.liquidity_index(), reserve.borrow_index()),
            (RAY, RAY),
            "stored indices wait for an operation"
        );
        // Balances grow with the normalized indices: linear for suppliers
        // (2000 * 1.01575), compounded for borrowers.
        assert_eq!(pool.supplied("lender", "USDC"), 2_031_500_000);
        let compounded = compounded_interest(35 * PERCENT / 10, SECONDS_PER_YEAR).unwrap();
        assert_eq!(
            pool.borrowed("borrower", "USDC"),
            ray_mul(1_000 * USDC, compounded).unwrap()
        );
        assert_eq!(reserve.normalized_debt(YEAR_MS).unwrap(), compounded);
        // An operation on DAI updates DAI only.
        pool.supply("borrower", "DAI", USDC, YEAR_MS).unwrap();
        assert_eq!(pool.reserve("USDC").unwrap(), &reserve);
        assert_eq!(pool.reserve("DAI").unwrap().last_update_ms(), YEAR_MS);
        // A repayment updates USDC: the stored indices become the
        // normalized ones and the rates are set from the grown debt.
        pool.repay("borrower", "USDC", USDC, YEAR_MS).unwrap();
        let updated = pool.reserve("USDC").unwrap();
        assert_eq!(updated.borrow_index(), compounded);
        assert_eq!(
            updated.liquidity_index(),
            RAY + 1_575 * PERCENT / 1_000,
            "linear interest over a year"
        );
        assert!(updated.borrow_rate() > reserve.borrow_rate());
        // `accrue` updates every reserve as such an operation would.
        let mut poked = half_lent();
        poked.accrue(YEAR_MS).unwrap();
        assert_eq!(poked.reserve("USDC").unwrap().borrow_index(), compounded);
        assert_eq!(poked.supplied("lender", "USDC"), 2_031_500_000);
    }

    #[test]
    fn the_treasury_accrues_the_reserve_factor_share_of_interest() {
        let mut pool = half_lent();
        pool.accrue(YEAR_MS).unwrap();
        let reserve = pool.reserve("USDC").unwrap();
        let interest = ray_mul(1_000 * USDC, reserve.borrow_index()).unwrap() - 1_000 * USDC;
        let share = percent_mul(interest, 1_000).unwrap();
        assert!(share > 0);
        let accrued = ray_div(share, reserve.liquidity_index()).unwrap();
        assert_eq!(reserve.accrued_to_treasury(), accrued);
        // Within the same second nothing more accrues.
        pool.accrue(YEAR_MS + 999).unwrap();
        assert_eq!(pool.reserve("USDC").unwrap().accrued_to_treasury(), accrued);
    }

    #[test]
    fn caps_bound_supply_with_the_treasury_share_and_debt() {
        let mut pool = half_lent();
        pool.set_supply_cap("USDC", 3_000).unwrap();
        pool.set_borrow_cap("USDC", 1_200).unwrap();
        assert!(matches!(
            pool.set_supply_cap("USDC", MAX_CAP + 1),
            Err(VenueError::InvalidRange { .. })
        ));
        pool.advance(YEAR_MS);
        // What counts against the cap: suppliers' and the treasury's
        // supply at the index the supply is made at.
        let mut probe = pool.clone();
        probe.accrue(YEAR_MS).unwrap();
        let reserve = probe.reserve("USDC").unwrap();
        assert!(reserve.accrued_to_treasury() > 0);
        let counted = ray_mul(
            reserve.scaled_total_supply() + reserve.accrued_to_treasury(),
            reserve.liquidity_index(),
        )
        .unwrap();
        let headroom = 3_000 * USDC - counted;
        let before = pool.clone();
        let refused = pool.supply("lender", "USDC", headroom + 1, YEAR_MS);
        assert!(
            matches!(
                &refused,
                Err(VenueError::CapExceeded {
                    cap: CapKind::Supply,
                    ..
                })
            ),
            "{refused:?}"
        );
        assert_eq!(pool, before);
        pool.supply("lender", "USDC", headroom, YEAR_MS).unwrap();
        // Debt now: 1000 USDC grown by a year of interest; the cap of 1200
        // leaves the rest.
        let debt = pool.borrowed("borrower", "USDC");
        let room = 1_200 * USDC - debt;
        let refused = pool.borrow("borrower", "USDC", room + 1, YEAR_MS, &one_dollar);
        assert!(
            matches!(
                &refused,
                Err(VenueError::CapExceeded {
                    cap: CapKind::Borrow,
                    ..
                })
            ),
            "{refused:?}"
        );
        pool.supply("borrower", "DAI", 1_000 * USDC, YEAR_MS)
            .unwrap();
        pool.borrow("borrower", "USDC", room, YEAR_MS, &one_dollar)
            .unwrap();
    }

    #[test]
    fn a_supply_without_ltv_is_not_collateral() {
        let mut pool = leveraged();
        let gov = ReserveConfig {
            ltv_bps: 0,
            ..usdc_config()
        };
        pool.add_reserve("GOV", gov, 0);
        pool.supply("you", "GOV", 1_000 * USDC, 0).unwrap();
        let prices = eth_at(2_000);
        assert_eq!(
            pool.account_data("you", &prices).unwrap(),
            AccountData {
                health_factor: u128::MAX,
                ..AccountData::default()
            }
        );
        assert!(matches!(
            pool.borrow("you", "USDC", USDC, 0, &prices),
            Err(VenueError::Undercollateralized { .. })
        ));
        // "me" (1 ETH, 1500 USDC of debt) also supplies GOV: it counts for
        // nothing; underwater at ETH 1700, it may still be taken out, while
        // ETH may not.
        pool.supply("me", "GOV", 1_000 * USDC, 0).unwrap();
        let crashed = eth_at(1_700);
        let data = pool.account_data("me", &crashed).unwrap();
        assert_eq!(data.total_collateral_base, 1_700 * USD);
        assert_eq!(data.available_borrows_base, 0);
        assert!(data.health_factor < WAD);
        assert!(matches!(
            pool.withdraw("me", "ETH", 1, 0, &crashed),
            Err(VenueError::Undercollateralized { .. })
        ));
        assert_eq!(
            pool.withdraw("me", "GOV", u128::MAX, 0, &crashed).unwrap(),
            1_000 * USDC
        );
    }

    #[test]
    fn everything_repaid_and_withdrawn_with_max_amounts() {
        let mut pool = leveraged();
        let prices = eth_at(2_000);
        assert_eq!(
            pool.repay("me", "USDC", u128::MAX, 0).unwrap(),
            1_500 * USDC
        );
        assert!(matches!(
            pool.repay("me", "USDC", 1, 0),
            Err(VenueError::Unknown { .. })
        ));
        assert_eq!(
            pool.withdraw("me", "ETH", u128::MAX, 0, &prices).unwrap(),
            ETH
        );
        assert_eq!(pool.scaled_supply("me", "ETH"), 0);
        assert!(matches!(
            pool.withdraw("me", "ETH", u128::MAX, 0, &prices),
            Err(VenueError::ZeroAmount)
        ));
    }

    #[test]
    fn liquidation_call_takes_the_chosen_assets() {
        let mut pool = leveraged();
        // A second, smaller collateral: 100 USDC (HF at ETH 2000 is
        // (2000 + 100) * 0.85 / 1500 = 1.19).
        pool.supply("me", "USDC", 100 * USDC, 0).unwrap();
        assert_eq!(
            pool.liquidation_call("me", "ETH", "USDC", u128::MAX, 0, &eth_at(2_000))
                .unwrap(),
            None,
            "healthy"
        );
        // ETH at 1500: HF = 1600 * 0.85 / 1500 = 0.9067, close factor
        // 100%; the 100 USDC run short of 1500 * 1.05: all of it is seized
        // for percentDiv(100e6, 10_500) = 95_238_095 of debt.
        let crashed = eth_at(1_500);
        let liquidation = pool
            .liquidation_call("me", "USDC", "USDC", u128::MAX, 0, &crashed)
            .unwrap()
            .unwrap();
        assert_eq!(liquidation.collateral_seized, 100 * USDC);
        assert_eq!(liquidation.debt_repaid, 95_238_095);
        // The collateral is the debt asset: as on chain the rates were set
        // before the repayment arrived, with the seized collateral out.
        let reserve = pool.reserve("USDC").unwrap();
        let debt = ray_mul(reserve.scaled_total_debt(), reserve.borrow_index()).unwrap();
        let rates = usdc_config()
            .rates
            .rates(debt, reserve.cash() - 95_238_095, 1_000)
            .unwrap();
        assert_eq!((reserve.supply_rate(), reserve.borrow_rate()), rates);
        // A debt limit is honoured.
        let liquidation = pool
            .liquidation_call("me", "ETH", "USDC", 10 * USDC, 0, &crashed)
            .unwrap()
            .unwrap();
        assert_eq!(liquidation.debt_repaid, 10 * USDC);
        assert_eq!(
            pool.liquidation_call("me", "DAI", "USDC", u128::MAX, 0, &crashed)
                .map_err(|e| e.to_string()),
            Err("unknown lending asset: DAI".to_owned())
        );
    }

    #[test]
    fn wad_ray_and_percentage_math_round_half_up() {
        assert_eq!(ray_mul(1, RAY / 2).unwrap(), 1, "0.5 rounds up");
        assert_eq!(ray_mul(1, RAY / 2 - 1).unwrap(), 0);
        assert_eq!(ray_div(1, 2 * RAY).unwrap(), 1, "0.5 rounds up");
        assert_eq!(ray_div(1, 3 * RAY).unwrap(), 0);
        assert_eq!(wad_div(2, 3).unwrap(), 666_666_666_666_666_667);
        assert_eq!(percent_mul(1, 5_000).unwrap(), 1);
        assert_eq!(percent_mul(1, 4_999).unwrap(), 0);
        // (1400e6 * 10_000 + 5_250) / 10_500 = 1_333_333_333.8 -> floor.
        assert_eq!(percent_div(1_400 * USDC, 10_500).unwrap(), 1_333_333_333);
        assert!(ray_div(1, 0).is_err());
    }

    #[test]
    fn price_from_f64_scales_by_1e18() {
        assert_eq!(price_from_f64(2_000.0), Some(2_000 * WAD));
        assert_eq!(price_from_f64(0.5), Some(WAD / 2));
        assert_eq!(price_from_f64(0.0), None);
        assert_eq!(price_from_f64(-1.0), None);
        assert_eq!(price_from_f64(f64::NAN), None);
    }

    #[test]
    fn compounded_interest_is_aaves_three_term_expansion() {
        let rate = 25 * PERCENT / 10; // 2.5% a year
        assert_eq!(compounded_interest(rate, 0).unwrap(), RAY);
        // One second: only the linear term, RAY + rate / 31_536_000.
        assert_eq!(
            compounded_interest(rate, 1).unwrap(),
            RAY + rate / u128::from(SECONDS_PER_YEAR)
        );
        // Two seconds: linear + 2*1/2 * basePowerTwo, where basePowerTwo =
        // rayMul(r, r) / 31_536_000^2 = 628_444_322_490_599 (no third term).
        assert_eq!(
            compounded_interest(rate, 2).unwrap(),
            1_000_000_001_585_489_599_816_673_642
        );
        // One year: 1 + 0.025 + 0.0003125 (second term) + 0.0000026...
        // (third term), each rounded as the contract does; exactly:
        assert_eq!(
            compounded_interest(rate, SECONDS_PER_YEAR).unwrap(),
            1_025_312_499_989_949_710_425_544_000
        );
        // 34% for a day.
        assert_eq!(
            compounded_interest(34 * PERCENT, 86_400).unwrap(),
            1_000_931_940_831_485_874_583_400_284
        );
        // An absurd span is an error, not a wrapped number.
        assert!(compounded_interest(rate, u64::MAX).is_err());
        // Linear interest is exactly RAY + rate * t / year.
        assert_eq!(linear_interest(rate, SECONDS_PER_YEAR).unwrap(), RAY + rate);
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
    fn borrow_compounds_and_supply_is_linear_as_computed_by_hand() {
        let mut pool = LendingPool::new();
        pool.add_reserve("USDC", usdc_config(), 0);
        pool.add_reserve("DAI", usdc_config(), 0);
        pool.supply("lender", "USDC", 2_000 * USDC, 0).unwrap();
        pool.supply("borrower", "DAI", 1_500 * USDC, 0).unwrap();
        pool.borrow("borrower", "USDC", 1_000 * USDC, 0, &one_dollar)
            .unwrap();
        // 1000 borrowed of 2000 supplied: utilization 50%, borrow rate 2.5%,
        // supply rate 2.5% * 0.5 * (1 - 10%) = 1.125%.
        let reserve = pool.reserve("USDC").unwrap();
        assert_eq!(reserve.utilization(), 50 * PERCENT);
        assert_eq!(reserve.supply_rate(), 1_125 * PERCENT / 1_000);
        pool.accrue(YEAR_MS).unwrap();
        // One year later, in one step: the borrow index is the compounded
        // factor 1.025312499989949710425544 (see the test above), so the
        // debt is rayMul(1000e6, index) = 1025.3125 USDC; the lender earns
        // linear interest: 2000 * 1.01125 = 2022.5 USDC.
        assert_eq!(
            pool.reserve("USDC").unwrap().borrow_index(),
            1_025_312_499_989_949_710_425_544_000
        );
        assert_eq!(pool.borrowed("borrower", "USDC"), 1_025_312_500);
        assert_eq!(pool.supplied("lender", "USDC"), 2_022_500_000);
        // Nothing borrowed in DAI: its supply earns nothing.
        assert_eq!(pool.supplied("borrower", "DAI"), 1_500 * USDC);
        // Accruing twice at the same second changes nothing; a later step
        // within the same second neither.
        let before = pool.clone();
        pool.accrue(YEAR_MS + 999).unwrap();
        assert_eq!(pool.borrowed("borrower", "USDC"), 1_025_312_500);
        assert_eq!(
            pool.reserve("USDC").unwrap().borrow_index(),
            before.reserve("USDC").unwrap().borrow_index()
        );
    }

    #[test]
    fn borrowing_is_bounded_by_ltv_exactly() {
        let mut pool = LendingPool::new();
        pool.add_reserve("USDC", usdc_config(), 0);
        let eth = ReserveConfig {
            decimals: 18,
            ..usdc_config()
        };
        pool.add_reserve("ETH", eth, 0);
        pool.supply("whale", "USDC", 1_000_000 * USDC, 0).unwrap();
        pool.supply("me", "ETH", ETH, 0).unwrap();
        let prices = eth_at(2_000);
        // 1 ETH at 2000 with 80% LTV: percentDiv(1600e8, 8000) = 2000e8 is
        // just enough; one more micro-USDC (100 base units) needs
        // 2000e8 + 125 and is refused.
        let before = pool.clone();
        assert!(matches!(
            pool.borrow("me", "USDC", 1_600 * USDC + 1, 0, &prices),
            Err(VenueError::Undercollateralized { .. })
        ));
        assert_eq!(pool, before, "a refused borrow changes nothing");
        pool.borrow("me", "USDC", 1_600 * USDC, 0, &prices).unwrap();
        let data = pool.account_data("me", &prices).unwrap();
        assert_eq!(data.total_collateral_base, 2_000 * USD);
        assert_eq!(data.total_debt_base, 1_600 * USD);
        assert_eq!(data.ltv_bps, 8_000);
        assert_eq!(data.liquidation_threshold_bps, 8_500);
        // wadDiv(percentMul(2000e8, 8500), 1600e8) = 1.0625.
        assert_eq!(data.health_factor, 1_062_500_000_000_000_000);
    }

    #[test]
    fn withdrawals_keep_the_health_factor_at_least_one() {
        let mut pool = leveraged();
        let prices = eth_at(2_000);
        // HF = 2000 * 0.85 / 1500 = 1.1333...; withdrawing 0.2 ETH leaves
        // 1600 * 0.85 / 1500 = 0.9067 < 1.
        let before = pool.clone();
        assert!(matches!(
            pool.withdraw("me", "ETH", ETH / 5, 0, &prices),
            Err(VenueError::Undercollateralized { .. })
        ));
        assert_eq!(pool, before);
        pool.withdraw("me", "ETH", ETH / 10, 0, &prices).unwrap();
        assert_eq!(pool.supplied("me", "ETH"), 9 * ETH / 10);
    }

    #[test]
    fn health_factor_above_095_liquidates_half_the_debt() {
        let mut pool = leveraged();
        assert_eq!(
            pool.health_factor("me", &eth_at(2_000)).unwrap(),
            Some(1_133_333_333_333_333_333)
        );
        // ETH falls to 1700: HF = wadDiv(percentMul(1700e8, 8500), 1500e8)
        // = 0.963333... > 0.95, so the close factor is 50%.
        let crashed = eth_at(1_700);
        assert_eq!(
            pool.health_factor("me", &crashed).unwrap(),
            Some(963_333_333_333_333_333)
        );
        let liquidation = pool.liquidate("me", 0, &crashed).unwrap().unwrap();
        assert_eq!(liquidation.debt_repaid, 750 * USDC);
        // baseCollateral = 1e8 * 750e6 * 1e18 / (1700e8 * 1e6)
        //   = 441_176_470_588_235_294; percentMul(_, 10_500)
        //   = 463_235_294_117_647_058.7 -> 463_235_294_117_647_059.
        assert_eq!(liquidation.collateral_seized, 463_235_294_117_647_059);
        assert_eq!(pool.borrowed("me", "USDC"), 750 * USDC);
        assert_eq!(pool.supplied("me", "ETH"), ETH - 463_235_294_117_647_059);
    }

    #[test]
    fn health_factor_at_or_below_095_liquidates_all_the_debt() {
        let mut pool = leveraged();
        // ETH at 1650: HF = 1650 * 0.85 / 1500 = 0.935 <= 0.95: 100%.
        let crashed = eth_at(1_650);
        let liquidation = pool.liquidate("me", 0, &crashed).unwrap().unwrap();
        assert_eq!(liquidation.debt_repaid, 1_500 * USDC);
        // 1500 / 1650 = 0.909090909090909090 ETH, * 1.05 half-up.
        assert_eq!(liquidation.collateral_seized, 954_545_454_545_454_545);
        assert_eq!(pool.borrowed("me", "USDC"), 0);
        assert_eq!(pool.health_factor("me", &crashed).unwrap(), None);
    }

    #[test]
    fn short_collateral_reduces_the_debt_repaid_and_never_raises_equity() {
        let mut pool = leveraged();
        // ETH at 1400: HF 0.7933, close factor 100%, but 1500 USDC * 1.05
        // is 1.125 ETH > the 1 ETH held: all of it is seized and the debt
        // repaid is percentDiv(1400e6, 10_500) = 1_333_333_333.
        let crashed = eth_at(1_400);
        let equity = |pool: &LendingPool| {
            let data = pool.account_data("me", &crashed).unwrap();
            i128::try_from(data.total_collateral_base).unwrap()
                - i128::try_from(data.total_debt_base).unwrap()
        };
        let before = equity(&pool);
        let liquidation = pool.liquidate("me", 0, &crashed).unwrap().unwrap();
        assert_eq!(liquidation.collateral_seized, ETH);
        assert_eq!(liquidation.debt_repaid, 1_333_333_333);
        assert_eq!(pool.supplied("me", "ETH"), 0);
        assert_eq!(pool.borrowed("me", "USDC"), 166_666_667);
        assert!(equity(&pool) <= before, "liquidation raised equity");
        // With no collateral left there is nothing more to liquidate.
        assert_eq!(pool.liquidate("me", 0, &crashed).unwrap(), None);
    }

    #[test]
    fn a_failed_liquidation_changes_nothing() {
        let mut pool = leveraged();
        // Someone borrows 0.9 of the 1 ETH in the reserve, so it cannot pay
        // out the 0.95 ETH a liquidation would seize.
        pool.supply("whale2", "USDC", 10_000_000 * USDC, 0).unwrap();
        pool.borrow("whale2", "ETH", 9 * ETH / 10, 0, &eth_at(2_000))
            .unwrap();
        let before = pool.clone();
        let result = pool.liquidate("me", 3_600_000, &eth_at(1_650));
        assert!(
            matches!(result, Err(VenueError::InsufficientLiquidity { .. })),
            "{result:?}"
        );
        assert_eq!(pool, before, "debt, collateral and indices untouched");
        // A healthy account is not liquidated.
        assert_eq!(pool.liquidate("me", 0, &eth_at(2_000)).unwrap(), None);
    }

    #[test]
    fn repay_returns_what_was_owed_at_most() {
        let mut pool = leveraged();
        let repaid = pool.repay("me", "USDC", 2_000 * USDC, 0).unwrap();
        assert_eq!(repaid, 1_500 * USDC);
        assert_eq!(pool.borrowed("me", "USDC"), 0);
        assert_eq!(pool.reserve("USDC").unwrap().cash(), 1_000_000 * USDC);
    }
}
