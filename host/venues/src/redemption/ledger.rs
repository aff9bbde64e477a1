//! Share accounting of the staked vault: plain ERC-4626 conversions
//! (`assets * shares / total_assets`, rounded down, 1:1 when empty; without
//! the virtual share and asset of OpenZeppelin 4.9 that
//! [`Vault4626`](crate::vault::Vault4626) matches), the yield of `Vault4626`
//! (`total_assets * rate * elapsed / (RAY * YEAR_MS)` added at every
//! accrual), and assets added without minting shares, which is how
//! forfeited yield reaches the holders.

use alloy_primitives::U256;
use serde::{Deserialize, Serialize};

use crate::VenueError;
use crate::lending::{RAY, YEAR_MS};
use crate::math::{mul_div, to_u128};

/// Assets and shares of the unlocked (yield-earning) part of the vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct ShareLedger {
    pub(super) total_assets: u128,
    pub(super) total_shares: u128,
    /// Annual yield, RAY.
    pub(super) rate: u128,
    last_accrual_ms: u64,
}

fn overflow(what: &'static str) -> VenueError {
    VenueError::Overflow { what }
}

impl ShareLedger {
    pub(super) fn new(rate: u128, now_ms: u64) -> Self {
        ShareLedger {
            total_assets: 0,
            total_shares: 0,
            rate,
            last_accrual_ms: now_ms,
        }
    }

    /// The yield from the last accrual to `now_ms`, not yet added.
    pub(super) fn pending_yield(&self, now_ms: u64) -> Result<u128, VenueError> {
        let elapsed = now_ms.saturating_sub(self.last_accrual_ms);
        if elapsed == 0 {
            return Ok(0);
        }
        let interest = mul_div(
            U256::from(self.total_assets),
            U256::from(self.rate) * U256::from(elapsed),
            U256::from(RAY) * U256::from(YEAR_MS),
        )
        .ok_or(overflow("vault yield"))?;
        to_u128(interest, "vault yield")
    }

    /// Add the yield up to `now_ms`; returns it.
    pub(super) fn accrue(&mut self, now_ms: u64) -> Result<u128, VenueError> {
        let interest = self.pending_yield(now_ms)?;
        self.total_assets = self
            .total_assets
            .checked_add(interest)
            .ok_or(overflow("vault assets"))?;
        self.last_accrual_ms = self.last_accrual_ms.max(now_ms);
        Ok(interest)
    }

    /// Shares `assets` mint now (rounded down).
    pub(super) fn convert_to_shares(&self, assets: u128) -> Result<u128, VenueError> {
        if self.total_shares == 0 || self.total_assets == 0 {
            return Ok(assets);
        }
        let shares = mul_div(
            U256::from(assets),
            U256::from(self.total_shares),
            U256::from(self.total_assets),
        )
        .ok_or(overflow("shares"))?;
        to_u128(shares, "shares")
    }

    /// Assets `shares` are worth now (rounded down).
    pub(super) fn convert_to_assets(&self, shares: u128) -> Result<u128, VenueError> {
        if self.total_shares == 0 {
            return Ok(shares);
        }
        let assets = mul_div(
            U256::from(shares),
            U256::from(self.total_assets),
            U256::from(self.total_shares),
        )
        .ok_or(overflow("assets"))?;
        to_u128(assets, "assets")
    }

    /// Add `assets` and `shares` (a deposit); checked before anything
    /// changes.
    pub(super) fn mint(&mut self, assets: u128, shares: u128) -> Result<(), VenueError> {
        let total_assets = self
            .total_assets
            .checked_add(assets)
            .ok_or(overflow("vault assets"))?;
        let total_shares = self
            .total_shares
            .checked_add(shares)
            .ok_or(overflow("vault shares"))?;
        self.total_assets = total_assets;
        self.total_shares = total_shares;
        Ok(())
    }

    /// Remove `shares` and the `assets` they were converted to.
    pub(super) fn burn(&mut self, assets: u128, shares: u128) -> Result<(), VenueError> {
        if shares > self.total_shares || assets > self.total_assets {
            return Err(VenueError::InsufficientBalance {
                needed: shares,
                available: self.total_shares,
            });
        }
        self.total_assets -= assets;
        self.total_shares -= shares;
        Ok(())
    }

    /// Add `assets` without minting shares: every share is worth more.
    pub(super) fn donate(&mut self, assets: u128) -> Result<(), VenueError> {
        self.total_assets = self
            .total_assets
            .checked_add(assets)
            .ok_or(overflow("vault assets"))?;
        Ok(())
    }
}
