//! Clearing of the sealed-bid priority auction, as a pure function of the
//! period's liquidity and the bids: no vault state is touched here, so a
//! clearing that fails (overflow) changes nothing.

use std::cmp::Reverse;

use alloy_primitives::U256;

use crate::VenueError;
use crate::lending::PERCENTAGE_FACTOR;
use crate::math::{mul_div, mul_div_rounding_up, to_u128};

/// A bid as the auction sees it when the seal is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) request_id: u64,
    pub(super) bid_bps: u16,
    /// Placement order (the clock never goes back, so this is also time
    /// order, with same-millisecond bids in the order they were placed).
    pub(super) seq: u64,
    /// When it was placed.
    pub(super) placed_at_ms: u64,
    /// Assets still queued on the request (fixed at request time).
    pub(super) assets: u128,
    /// The part of `assets` that is yield (above the shares' cost basis).
    pub(super) yield_assets: u128,
    /// Locked shares still queued on the request.
    pub(super) shares: u128,
}

/// What one bid receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Allocation {
    pub(super) entry: Entry,
    /// Queued assets released to the bidder (gross, before the forfeit).
    pub(super) served: u128,
    /// The yield inside `served`.
    pub(super) yield_served: u128,
    /// The locked shares `served` corresponds to.
    pub(super) shares_served: u128,
    /// Yield given up: `ceil(yield_served * bid_bps / 10_000)`.
    pub(super) forfeited: u128,
}

/// Yield given up by a bid of `bid_bps` on `yield_assets` of yield:
/// `ceil(yield_assets * bid_bps / 10_000)` (rounded in the vault's favour,
/// never more than the yield since `bid_bps <= 10_000`).
pub(super) fn forfeit(yield_assets: u128, bid_bps: u16) -> Result<u128, VenueError> {
    let forfeited = mul_div_rounding_up(
        U256::from(yield_assets),
        U256::from(bid_bps),
        U256::from(PERCENTAGE_FACTOR),
    )
    .ok_or(VenueError::Overflow {
        what: "forfeited yield",
    })?;
    to_u128(forfeited, "forfeited yield")
}

/// `floor(value * part / whole)`, `value` itself when `part == whole`.
fn pro_rata(value: u128, part: u128, whole: u128) -> Result<u128, VenueError> {
    if part == whole {
        return Ok(value);
    }
    let share = mul_div(U256::from(value), U256::from(part), U256::from(whole)).ok_or(
        VenueError::Overflow {
            what: "partial fill",
        },
    )?;
    to_u128(share, "partial fill")
}

/// Serve `bids` from `liquidity`: highest `bid_bps` first, ties by earlier
/// placement; whole bids while the liquidity lasts, the marginal bid
/// partially, later bids not at all (`served == 0`). Returns every bid in
/// service order.
pub(super) fn clear(liquidity: u128, mut bids: Vec<Entry>) -> Result<Vec<Allocation>, VenueError> {
    bids.sort_by_key(|bid| (Reverse(bid.bid_bps), bid.seq));
    let mut left = liquidity;
    let mut allocations = Vec::with_capacity(bids.len());
    for entry in bids {
        let served = entry.assets.min(left);
        left -= served;
        let (yield_served, shares_served) = if served == 0 {
            (0, 0)
        } else {
            (
                pro_rata(entry.yield_assets, served, entry.assets)?,
                pro_rata(entry.shares, served, entry.assets)?,
            )
        };
        let forfeited = forfeit(yield_served, entry.bid_bps)?;
        allocations.push(Allocation {
            entry,
            served,
            yield_served,
            shares_served,
            forfeited,
        });
    }
    Ok(allocations)
}
