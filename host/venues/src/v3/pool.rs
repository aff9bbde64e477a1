//! A Uniswap v3 pool: swaps that cross initialized ticks, range positions,
//! and fee growth that accrues to a position only while it is in range.

use std::collections::BTreeMap;

use alloy_primitives::U256;
use serde::{Deserialize, Serialize};

use super::q128;
use super::swap_math::compute_swap_step;
use super::tick_math::{
    MAX_TICK, MIN_TICK, max_sqrt_ratio, min_sqrt_ratio, sqrt_ratio_at_tick, tick_at_sqrt_ratio,
};
use crate::VenueError;
use crate::math::{mul_div, to_u128};

/// Identifier of a position in a [`Pool`].
pub type PositionId = u64;

/// Liquidity bookkeeping at an initialized tick.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TickInfo {
    /// Total liquidity referencing this tick.
    pub liquidity_gross: u128,
    /// Liquidity added when the price crosses this tick upwards.
    pub liquidity_net: i128,
    /// Fee growth of token0 on the other side of this tick (Q128).
    pub fee_growth_outside0: U256,
    /// Fee growth of token1 on the other side of this tick (Q128).
    pub fee_growth_outside1: U256,
}

/// A range position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Lower tick (inclusive).
    pub tick_lower: i32,
    /// Upper tick (exclusive).
    pub tick_upper: i32,
    /// Liquidity provided.
    pub liquidity: u128,
    fee_growth_inside0_last: U256,
    fee_growth_inside1_last: U256,
    /// Token0 owed to the owner (fees and burned principal), not collected.
    pub tokens_owed0: u128,
    /// Token1 owed to the owner, not collected.
    pub tokens_owed1: u128,
}

/// Result of [`Pool::swap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwapOutcome {
    /// Input paid, fees included.
    pub amount_in: u128,
    /// Output received.
    pub amount_out: u128,
    /// Fees paid to liquidity providers, in the input token.
    pub fee: u128,
    /// Initialized ticks crossed.
    pub ticks_crossed: u32,
    /// Whether the whole requested amount was swapped (false when the
    /// price limit or the end of liquidity stopped it).
    pub complete: bool,
}

/// Concentrated-liquidity pool state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    /// Fee in pips (3000 = 0.30%).
    pub fee_pips: u32,
    /// Positions must use ticks that are multiples of this.
    pub tick_spacing: i32,
    sqrt_price_x96: U256,
    tick: i32,
    liquidity: u128,
    fee_growth_global0: U256,
    fee_growth_global1: U256,
    ticks: BTreeMap<i32, TickInfo>,
    positions: BTreeMap<PositionId, Position>,
    next_position: PositionId,
}

fn add_delta(liquidity: u128, delta: i128) -> Result<u128, VenueError> {
    liquidity
        .checked_add_signed(delta)
        .ok_or(VenueError::Overflow { what: "liquidity" })
}

impl Pool {
    /// A pool at `sqrt_price_x96` with no liquidity.
    pub fn new(sqrt_price_x96: U256, fee_pips: u32, tick_spacing: i32) -> Result<Self, VenueError> {
        if tick_spacing <= 0 {
            return Err(VenueError::InvalidRange {
                detail: format!("tick spacing {tick_spacing}"),
            });
        }
        Ok(Pool {
            fee_pips,
            tick_spacing,
            tick: tick_at_sqrt_ratio(sqrt_price_x96)?,
            sqrt_price_x96,
            liquidity: 0,
            fee_growth_global0: U256::ZERO,
            fee_growth_global1: U256::ZERO,
            ticks: BTreeMap::new(),
            positions: BTreeMap::new(),
            next_position: 1,
        })
    }

    /// Current square-root price, Q64.96.
    pub fn sqrt_price_x96(&self) -> U256 {
        self.sqrt_price_x96
    }

    /// Current tick.
    pub fn tick(&self) -> i32 {
        self.tick
    }

    /// Liquidity active at the current price.
    pub fn liquidity(&self) -> u128 {
        self.liquidity
    }

    /// Price of token0 in token1 (base units), for display and valuation.
    pub fn price(&self) -> f64 {
        let sqrt = f64::from(self.sqrt_price_x96) / 2f64.powi(96);
        sqrt * sqrt
    }

    /// An initialized tick.
    pub fn tick_info(&self, tick: i32) -> Option<&TickInfo> {
        self.ticks.get(&tick)
    }

    /// A position.
    pub fn position(&self, id: PositionId) -> Option<&Position> {
        self.positions.get(&id)
    }

    fn check_range(&self, lower: i32, upper: i32) -> Result<(), VenueError> {
        let aligned = lower % self.tick_spacing == 0 && upper % self.tick_spacing == 0;
        if lower >= upper || lower < MIN_TICK || upper > MAX_TICK || !aligned {
            return Err(VenueError::InvalidRange {
                detail: format!(
                    "ticks [{lower}, {upper}) with spacing {}",
                    self.tick_spacing
                ),
            });
        }
        Ok(())
    }

    fn fee_growth_inside(&self, lower: i32, upper: i32) -> (U256, U256) {
        let zero = TickInfo::default();
        let lower_info = self.ticks.get(&lower).unwrap_or(&zero);
        let upper_info = self.ticks.get(&upper).unwrap_or(&zero);
        let (g0, g1) = (self.fee_growth_global0, self.fee_growth_global1);
        // Fee growth is modular, like the on-chain uint256 counters.
        let (below0, below1) = if self.tick >= lower {
            (
                lower_info.fee_growth_outside0,
                lower_info.fee_growth_outside1,
            )
        } else {
            (
                g0.wrapping_sub(lower_info.fee_growth_outside0),
                g1.wrapping_sub(lower_info.fee_growth_outside1),
            )
        };
        let (above0, above1) = if self.tick < upper {
            (
                upper_info.fee_growth_outside0,
                upper_info.fee_growth_outside1,
            )
        } else {
            (
                g0.wrapping_sub(upper_info.fee_growth_outside0),
                g1.wrapping_sub(upper_info.fee_growth_outside1),
            )
        };
        (
            g0.wrapping_sub(below0).wrapping_sub(above0),
            g1.wrapping_sub(below1).wrapping_sub(above1),
        )
    }

    fn update_tick(&mut self, tick: i32, delta: i128, upper: bool) -> Result<(), VenueError> {
        let current = self.tick;
        let (g0, g1) = (self.fee_growth_global0, self.fee_growth_global1);
        let info = self.ticks.entry(tick).or_default();
        if info.liquidity_gross == 0 && tick <= current {
            // By convention all growth so far happened below this tick.
            info.fee_growth_outside0 = g0;
            info.fee_growth_outside1 = g1;
        }
        info.liquidity_gross = add_delta(info.liquidity_gross, delta)?;
        info.liquidity_net = if upper {
            info.liquidity_net.checked_sub(delta)
        } else {
            info.liquidity_net.checked_add(delta)
        }
        .ok_or(VenueError::Overflow {
            what: "liquidity net",
        })?;
        if info.liquidity_gross == 0 {
            self.ticks.remove(&tick);
        }
        Ok(())
    }

    /// Settle fees earned since the position was last touched into its
    /// owed tokens.
    fn settle_fees(&mut self, id: PositionId) -> Result<(), VenueError> {
        let position = self
            .positions
            .get(&id)
            .ok_or_else(|| unknown_position(id))?;
        let (inside0, inside1) = self.fee_growth_inside(position.tick_lower, position.tick_upper);
        let liquidity = U256::from(position.liquidity);
        let owed = |now: U256, last: U256| {
            mul_div(now.wrapping_sub(last), liquidity, q128())
                .ok_or(VenueError::Overflow { what: "fees owed" })
                .and_then(|v| to_u128(v, "fees owed"))
        };
        let earned0 = owed(inside0, position.fee_growth_inside0_last)?;
        let earned1 = owed(inside1, position.fee_growth_inside1_last)?;
        let position = self
            .positions
            .get_mut(&id)
            .ok_or_else(|| unknown_position(id))?;
        position.fee_growth_inside0_last = inside0;
        position.fee_growth_inside1_last = inside1;
        position.tokens_owed0 = position.tokens_owed0.saturating_add(earned0);
        position.tokens_owed1 = position.tokens_owed1.saturating_add(earned1);
        Ok(())
    }

    /// Token amounts for `liquidity` over `[lower, upper)` at the current
    /// price, rounded up (deposits) or down (withdrawals).
    pub fn amounts_for_liquidity(
        &self,
        lower: i32,
        upper: i32,
        liquidity: u128,
        round_up: bool,
    ) -> Result<(u128, u128), VenueError> {
        let (amount0, amount1) = super::amounts_for_liquidity(
            (self.sqrt_price_x96, self.tick),
            lower,
            upper,
            liquidity,
            round_up,
        )?;
        Ok((to_u128(amount0, "amount0")?, to_u128(amount1, "amount1")?))
    }

    /// Open a position of `liquidity` over `[lower, upper)`; returns its id
    /// and the token amounts deposited (rounded up).
    pub fn mint(
        &mut self,
        lower: i32,
        upper: i32,
        liquidity: u128,
    ) -> Result<(PositionId, u128, u128), VenueError> {
        self.check_range(lower, upper)?;
        if liquidity == 0 {
            return Err(VenueError::ZeroAmount);
        }
        let delta =
            i128::try_from(liquidity).map_err(|_| VenueError::Overflow { what: "liquidity" })?;
        let (amount0, amount1) = self.amounts_for_liquidity(lower, upper, liquidity, true)?;
        self.update_tick(lower, delta, false)?;
        self.update_tick(upper, delta, true)?;
        if (lower..upper).contains(&self.tick) {
            self.liquidity = add_delta(self.liquidity, delta)?;
        }
        let (inside0, inside1) = self.fee_growth_inside(lower, upper);
        let id = self.next_position;
        self.next_position += 1;
        self.positions.insert(
            id,
            Position {
                tick_lower: lower,
                tick_upper: upper,
                liquidity,
                fee_growth_inside0_last: inside0,
                fee_growth_inside1_last: inside1,
                tokens_owed0: 0,
                tokens_owed1: 0,
            },
        );
        Ok((id, amount0, amount1))
    }

    /// Remove all of a position's liquidity; the principal (rounded down)
    /// and the fees become owed. Returns the principal.
    pub fn burn(&mut self, id: PositionId) -> Result<(u128, u128), VenueError> {
        self.settle_fees(id)?;
        let position = self
            .positions
            .get(&id)
            .ok_or_else(|| unknown_position(id))?
            .clone();
        if position.liquidity == 0 {
            return Ok((0, 0));
        }
        let delta = -i128::try_from(position.liquidity)
            .map_err(|_| VenueError::Overflow { what: "liquidity" })?;
        let (amount0, amount1) = self.amounts_for_liquidity(
            position.tick_lower,
            position.tick_upper,
            position.liquidity,
            false,
        )?;
        if (position.tick_lower..position.tick_upper).contains(&self.tick) {
            self.liquidity = add_delta(self.liquidity, delta)?;
        }
        self.update_tick(position.tick_lower, delta, false)?;
        self.update_tick(position.tick_upper, delta, true)?;
        let stored = self
            .positions
            .get_mut(&id)
            .ok_or_else(|| unknown_position(id))?;
        stored.liquidity = 0;
        stored.tokens_owed0 = stored.tokens_owed0.saturating_add(amount0);
        stored.tokens_owed1 = stored.tokens_owed1.saturating_add(amount1);
        Ok((amount0, amount1))
    }

    /// Fees a position has earned and not yet collected, without changing
    /// state.
    pub fn uncollected_fees(&self, id: PositionId) -> Result<(u128, u128), VenueError> {
        let mut probe = self.clone();
        probe.settle_fees(id)?;
        let position = probe
            .positions
            .get(&id)
            .ok_or_else(|| unknown_position(id))?;
        let before = self
            .positions
            .get(&id)
            .ok_or_else(|| unknown_position(id))?;
        Ok((
            position.tokens_owed0 - before.tokens_owed0,
            position.tokens_owed1 - before.tokens_owed1,
        ))
    }

    /// Pay out everything owed to a position (fees, and principal if burned).
    pub fn collect(&mut self, id: PositionId) -> Result<(u128, u128), VenueError> {
        self.settle_fees(id)?;
        let position = self
            .positions
            .get_mut(&id)
            .ok_or_else(|| unknown_position(id))?;
        let owed = (position.tokens_owed0, position.tokens_owed1);
        position.tokens_owed0 = 0;
        position.tokens_owed1 = 0;
        if position.liquidity == 0 {
            self.positions.remove(&id);
        }
        Ok(owed)
    }

    /// The tick the next step of a swap goes to, found as the pool
    /// contract's `TickBitmap.nextInitializedTickWithinOneWord` finds it:
    /// the next initialized tick within the current word of 256 compressed
    /// ticks (`tick / spacing`), or else that word's edge, a step that
    /// crosses nothing. A swap over several words takes one step per word,
    /// and each step rounds its amounts, so stepping from initialized tick
    /// to initialized tick directly would end a wei or two away from the
    /// chain.
    fn next_tick_within_one_word(&self, lte: bool) -> (i32, bool) {
        let spacing = self.tick_spacing;
        let compressed = self.tick.div_euclid(spacing);
        if lte {
            let word_start = compressed - compressed.rem_euclid(256);
            match self
                .ticks
                .range(word_start * spacing..=compressed * spacing)
                .next_back()
            {
                Some((tick, _)) => (*tick, true),
                None => (word_start * spacing, false),
            }
        } else {
            let next = compressed + 1;
            let word_end = next - next.rem_euclid(256) + 255;
            match self.ticks.range(next * spacing..=word_end * spacing).next() {
                Some((tick, _)) => (*tick, true),
                None => (word_end * spacing, false),
            }
        }
    }

    /// Swap `amount` (input if `exact_in`, output otherwise), token0 for
    /// token1 if `zero_for_one`, stopping at `sqrt_price_limit` if given.
    pub fn swap(
        &mut self,
        zero_for_one: bool,
        exact_in: bool,
        amount: u128,
        sqrt_price_limit: Option<U256>,
    ) -> Result<SwapOutcome, VenueError> {
        if amount == 0 {
            return Err(VenueError::ZeroAmount);
        }
        let limit = match sqrt_price_limit {
            Some(limit) => limit,
            None if zero_for_one => min_sqrt_ratio() + U256::from(1u8),
            None => max_sqrt_ratio() - U256::from(1u8),
        };
        let valid = if zero_for_one {
            limit < self.sqrt_price_x96 && limit > min_sqrt_ratio()
        } else {
            limit > self.sqrt_price_x96 && limit < max_sqrt_ratio()
        };
        if !valid {
            return Err(VenueError::InvalidRange {
                detail: format!("price limit {limit} is on the wrong side of the price"),
            });
        }
        let mut remaining = U256::from(amount);
        let mut calculated = U256::ZERO;
        let mut fees = U256::ZERO;
        let mut crossed = 0u32;
        while !remaining.is_zero() && self.sqrt_price_x96 != limit {
            let (next_tick, initialized) = self.next_tick_within_one_word(zero_for_one);
            let next_tick = next_tick.clamp(MIN_TICK, MAX_TICK);
            let sqrt_next_tick = sqrt_ratio_at_tick(next_tick)?;
            let target = if zero_for_one {
                sqrt_next_tick.max(limit)
            } else {
                sqrt_next_tick.min(limit)
            };
            let step = compute_swap_step(
                self.sqrt_price_x96,
                target,
                self.liquidity,
                remaining,
                exact_in,
                self.fee_pips,
            )?;
            let start = self.sqrt_price_x96;
            self.sqrt_price_x96 = step.sqrt_price_next;
            if exact_in {
                remaining -= step.amount_in + step.fee_amount;
                calculated += step.amount_out;
            } else {
                remaining -= step.amount_out;
                calculated += step.amount_in + step.fee_amount;
            }
            fees += step.fee_amount;
            if self.liquidity > 0 {
                let growth = mul_div(step.fee_amount, q128(), U256::from(self.liquidity))
                    .ok_or(VenueError::Overflow { what: "fee growth" })?;
                if zero_for_one {
                    self.fee_growth_global0 = self.fee_growth_global0.wrapping_add(growth);
                } else {
                    self.fee_growth_global1 = self.fee_growth_global1.wrapping_add(growth);
                }
            }
            if step.sqrt_price_next == sqrt_next_tick {
                if initialized {
                    let net = self.cross(next_tick);
                    let net = if zero_for_one { -net } else { net };
                    self.liquidity = add_delta(self.liquidity, net)?;
                    crossed += 1;
                }
                self.tick = if zero_for_one {
                    next_tick - 1
                } else {
                    next_tick
                };
            } else if step.sqrt_price_next != start {
                self.tick = tick_at_sqrt_ratio(step.sqrt_price_next)?;
            }
        }
        let filled = U256::from(amount) - remaining;
        let (amount_in, amount_out) = if exact_in {
            (filled, calculated)
        } else {
            (calculated, filled)
        };
        Ok(SwapOutcome {
            amount_in: to_u128(amount_in, "swap amount in")?,
            amount_out: to_u128(amount_out, "swap amount out")?,
            fee: to_u128(fees, "swap fee")?,
            ticks_crossed: crossed,
            complete: remaining.is_zero(),
        })
    }

    /// Flip a tick's outside fee growth as the price crosses it; returns its
    /// net liquidity.
    fn cross(&mut self, tick: i32) -> i128 {
        let (g0, g1) = (self.fee_growth_global0, self.fee_growth_global1);
        match self.ticks.get_mut(&tick) {
            Some(info) => {
                info.fee_growth_outside0 = g0.wrapping_sub(info.fee_growth_outside0);
                info.fee_growth_outside1 = g1.wrapping_sub(info.fee_growth_outside1);
                info.liquidity_net
            }
            None => 0,
        }
    }
}

fn unknown_position(id: PositionId) -> VenueError {
    VenueError::Unknown {
        what: "position",
        name: id.to_string(),
    }
}
