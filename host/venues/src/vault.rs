//! Vaults: ERC-4626 share accounting, and a vault whose redemptions wait in
//! a queue (e.g. a 30-day redemption period).
//!
//! [`Vault4626`] matches OpenZeppelin Contracts 4.9.6 `ERC4626`
//! (`token/ERC20/extensions/ERC4626.sol`) to the wei: its conversions are
//! `_convertToShares` and `_convertToAssets` with the virtual shares and
//! assets,
//!
//! - shares for assets: `assets * (totalSupply + 10^offset) / (totalAssets + 1)`,
//! - assets for shares: `shares * (totalAssets + 1) / (totalSupply + 10^offset)`,
//!
//! computed with 256-bit intermediates (`Math.mulDiv`), where `offset` is
//! `_decimalsOffset()` ([`Vault4626::with_decimals_offset`], 0 by default as
//! in OpenZeppelin). `convertToShares`/`convertToAssets`, `previewDeposit`
//! and `previewRedeem` (and so `deposit` and `redeem`) round down,
//! `previewMint` and `previewWithdraw` (`mint`, `withdraw`) round up; the
//! first deposit into an empty vault is priced the same way (no 1:1 special
//! case), and a deposit worth less than one share mints none and keeps the
//! assets, as the contract does. A donation (the asset sent to the vault:
//! `totalAssets` is the vault's balance) is [`Vault4626::donate`].
//!
//! Differences that move no amount: amounts of zero are refused
//! ([`VenueError::ZeroAmount`]) where the contract accepts a no-op; the
//! vault keeps totals only, so per-holder limits (`maxWithdraw`,
//! `maxRedeem`: the holder's shares) are the caller's, given the holder's
//! shares ([`Vault4626::max_withdraw`]); results above 128 bits are
//! [`VenueError::Overflow`]. The yield accrual at `rate`
//! ([`Vault4626::accrue`]) is the simulator's model of yield, not part of
//! the contract (on chain, yield reaches the vault as a transfer, i.e. a
//! donation).
//!
//! `host/evm/tests/all/erc4626.rs` proves the match: a seeded random
//! sequence of deposits, mints, withdrawals, redemptions, donations and full
//! drains by three accounts, on a real OpenZeppelin 4.9.6 vault on anvil
//! (`scripts/evm/VaultUnderTest.sol`) and on this model, asset decimals 6
//! and 18, offsets 0 and 6; after every step the amounts moved, every
//! balance, the totals, `maxWithdraw`/`maxRedeem` and all previews and
//! conversions of several amounts are compared for equality.

use std::collections::BTreeMap;

use alloy_primitives::U256;
use serde::{Deserialize, Serialize};

use crate::VenueError;
use crate::lending::{RAY, YEAR_MS};
use crate::math::{mul_div, mul_div_rounding_up, to_u128};

/// Which way a conversion rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rounding {
    Down,
    Up,
}

/// An ERC-4626 vault with OpenZeppelin 4.9.6's share math (see the module
/// documentation): shares are priced with one virtual asset and
/// `10^decimals_offset` virtual shares, rounded in the vault's favour, and
/// the assets grow at `rate` per year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vault4626 {
    total_assets: u128,
    total_shares: u128,
    /// Annual yield, RAY.
    pub rate: u128,
    last_accrual_ms: u64,
    /// Decimals offset of the virtual shares (OpenZeppelin's
    /// `_decimalsOffset()`), 0 by default.
    #[serde(default)]
    decimals_offset: u8,
}

impl Vault4626 {
    /// An empty vault yielding `rate` (RAY) per year, decimals offset 0.
    pub fn new(rate: u128, now_ms: u64) -> Self {
        Vault4626 {
            total_assets: 0,
            total_shares: 0,
            rate,
            last_accrual_ms: now_ms,
            decimals_offset: 0,
        }
    }

    /// The same vault with the virtual shares' decimals offset set to
    /// `offset`.
    pub fn with_decimals_offset(mut self, offset: u8) -> Self {
        self.decimals_offset = offset;
        self
    }

    /// Decimals offset of the virtual shares.
    pub fn decimals_offset(&self) -> u8 {
        self.decimals_offset
    }

    /// Assets under management.
    pub fn total_assets(&self) -> u128 {
        self.total_assets
    }

    /// Shares outstanding.
    pub fn total_shares(&self) -> u128 {
        self.total_shares
    }

    /// Assets per share (base units of each) the conversions use,
    /// `(total_assets + 1) / (total_shares + 10^offset)`, for display: 1 for
    /// an empty vault with offset 0.
    pub fn share_price(&self) -> f64 {
        let offset = 10f64.powi(i32::from(self.decimals_offset));
        (self.total_assets as f64 + 1.0) / (self.total_shares as f64 + offset)
    }

    /// Grow the assets by the yield since the last accrual.
    pub fn accrue(&mut self, now_ms: u64) -> Result<(), VenueError> {
        let elapsed = now_ms.saturating_sub(self.last_accrual_ms);
        if elapsed == 0 {
            return Ok(());
        }
        let interest = mul_div(
            U256::from(self.total_assets),
            U256::from(self.rate) * U256::from(elapsed),
            U256::from(RAY) * U256::from(YEAR_MS),
        )
        .ok_or(VenueError::Overflow {
            what: "vault yield",
        })?;
        self.total_assets = self
            .total_assets
            .checked_add(to_u128(interest, "vault yield")?)
            .ok_or(VenueError::Overflow {
                what: "vault assets",
            })?;
        self.last_accrual_ms = now_ms;
        Ok(())
    }

    /// `10^decimals_offset`: the virtual shares.
    fn virtual_shares(&self) -> Result<U256, VenueError> {
        U256::from(10u8)
            .checked_pow(U256::from(self.decimals_offset))
            .ok_or(VenueError::Overflow {
                what: "vault decimals offset",
            })
    }

    /// `total_shares + 10^offset` over `total_assets + 1`: the supply and
    /// the assets with the virtual share and asset OpenZeppelin adds (so a
    /// donation cannot inflate the share price against later depositors).
    fn virtual_totals(&self) -> Result<(U256, U256), VenueError> {
        let shares = U256::from(self.total_shares)
            .checked_add(self.virtual_shares()?)
            .ok_or(VenueError::Overflow {
                what: "vault shares",
            })?;
        Ok((shares, U256::from(self.total_assets) + U256::from(1u8)))
    }

    /// `_convertToShares`: `assets * (supply + 10^offset) / (total_assets + 1)`.
    fn to_shares(&self, assets: u128, rounding: Rounding) -> Result<u128, VenueError> {
        let (shares, total) = self.virtual_totals()?;
        let f = match rounding {
            Rounding::Down => mul_div,
            Rounding::Up => mul_div_rounding_up,
        };
        f(U256::from(assets), shares, total)
            .ok_or(VenueError::Overflow { what: "shares" })
            .and_then(|s| to_u128(s, "shares"))
    }

    /// `_convertToAssets`: `shares * (total_assets + 1) / (supply + 10^offset)`.
    fn to_assets(&self, shares: u128, rounding: Rounding) -> Result<u128, VenueError> {
        let (supply, total) = self.virtual_totals()?;
        let f = match rounding {
            Rounding::Down => mul_div,
            Rounding::Up => mul_div_rounding_up,
        };
        f(U256::from(shares), total, supply)
            .ok_or(VenueError::Overflow { what: "assets" })
            .and_then(|a| to_u128(a, "assets"))
    }

    /// Shares `assets` are worth now (rounded down).
    pub fn convert_to_shares(&self, assets: u128) -> Result<u128, VenueError> {
        self.to_shares(assets, Rounding::Down)
    }

    /// Assets `shares` are worth now (rounded down).
    pub fn convert_to_assets(&self, shares: u128) -> Result<u128, VenueError> {
        self.to_assets(shares, Rounding::Down)
    }

    /// Shares a deposit of `assets` mints now (rounded down).
    pub fn preview_deposit(&self, assets: u128) -> Result<u128, VenueError> {
        self.to_shares(assets, Rounding::Down)
    }

    /// Assets a mint of `shares` takes now (rounded up).
    pub fn preview_mint(&self, shares: u128) -> Result<u128, VenueError> {
        self.to_assets(shares, Rounding::Up)
    }

    /// Shares a withdrawal of `assets` burns now (rounded up).
    pub fn preview_withdraw(&self, assets: u128) -> Result<u128, VenueError> {
        self.to_shares(assets, Rounding::Up)
    }

    /// Assets a redemption of `shares` pays now (rounded down).
    pub fn preview_redeem(&self, shares: u128) -> Result<u128, VenueError> {
        self.to_assets(shares, Rounding::Down)
    }

    /// The most assets a holder of `shares` can withdraw now
    /// (`maxWithdraw`: their shares converted, rounded down). What a holder
    /// can redeem (`maxRedeem`) is their shares.
    pub fn max_withdraw(&self, shares: u128) -> Result<u128, VenueError> {
        self.to_assets(shares, Rounding::Down)
    }

    fn add(&mut self, assets: u128, shares: u128) -> Result<(), VenueError> {
        let total_assets = self
            .total_assets
            .checked_add(assets)
            .ok_or(VenueError::Overflow {
                what: "vault assets",
            })?;
        let total_shares = self
            .total_shares
            .checked_add(shares)
            .ok_or(VenueError::Overflow {
                what: "vault shares",
            })?;
        self.total_assets = total_assets;
        self.total_shares = total_shares;
        Ok(())
    }

    fn remove(&mut self, assets: u128, shares: u128) -> Result<(), VenueError> {
        if shares > self.total_shares {
            return Err(VenueError::InsufficientBalance {
                needed: shares,
                available: self.total_shares,
            });
        }
        if assets > self.total_assets {
            return Err(VenueError::InsufficientLiquidity {
                detail: format!(
                    "{assets} assets asked, the vault holds {}",
                    self.total_assets
                ),
            });
        }
        self.total_assets -= assets;
        self.total_shares -= shares;
        Ok(())
    }

    /// Deposit `assets` (`deposit`); returns the shares minted,
    /// [`Self::preview_deposit`] (rounded down). A deposit worth less than a
    /// share mints none, and the assets are taken all the same, as on chain.
    pub fn deposit(&mut self, assets: u128, now_ms: u64) -> Result<u128, VenueError> {
        if assets == 0 {
            return Err(VenueError::ZeroAmount);
        }
        self.accrue(now_ms)?;
        let shares = self.preview_deposit(assets)?;
        self.add(assets, shares)?;
        Ok(shares)
    }

    /// Mint exactly `shares` (`mint`); returns the assets taken,
    /// [`Self::preview_mint`] (rounded up).
    pub fn mint(&mut self, shares: u128, now_ms: u64) -> Result<u128, VenueError> {
        if shares == 0 {
            return Err(VenueError::ZeroAmount);
        }
        self.accrue(now_ms)?;
        let assets = self.preview_mint(shares)?;
        self.add(assets, shares)?;
        Ok(assets)
    }

    /// Withdraw exactly `assets` (`withdraw`); returns the shares burned,
    /// [`Self::preview_withdraw`] (rounded up). The holder's limit is
    /// [`Self::max_withdraw`] of their shares; only the vault's totals are
    /// checked here.
    pub fn withdraw(&mut self, assets: u128, now_ms: u64) -> Result<u128, VenueError> {
        if assets == 0 {
            return Err(VenueError::ZeroAmount);
        }
        self.accrue(now_ms)?;
        let shares = self.preview_withdraw(assets)?;
        self.remove(assets, shares)?;
        Ok(shares)
    }

    /// Burn `shares` (`redeem`); returns the assets paid out,
    /// [`Self::preview_redeem`] (rounded down, possibly 0).
    pub fn redeem(&mut self, shares: u128, now_ms: u64) -> Result<u128, VenueError> {
        if shares == 0 {
            return Err(VenueError::ZeroAmount);
        }
        if shares > self.total_shares {
            return Err(VenueError::InsufficientBalance {
                needed: shares,
                available: self.total_shares,
            });
        }
        self.accrue(now_ms)?;
        let assets = self.preview_redeem(shares)?;
        self.remove(assets, shares)?;
        Ok(assets)
    }

    /// Add `assets` to the vault without minting shares (a transfer of
    /// the asset to the vault: yield paid in, or a donation).
    pub fn donate(&mut self, assets: u128, now_ms: u64) -> Result<(), VenueError> {
        self.accrue(now_ms)?;
        self.add(assets, 0)
    }
}

/// A pending redemption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redemption {
    /// Assets the burned shares were worth when the request was made; they
    /// earn nothing while waiting.
    pub assets: u128,
    /// When they can be claimed.
    pub claimable_at_ms: u64,
}

/// A vault whose redemptions are requested, wait `delay_ms`, then are
/// claimed (e.g. a 30-day queue).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsyncRedemptionVault {
    /// Share accounting.
    pub vault: Vault4626,
    /// Waiting period.
    pub delay_ms: u64,
    pending: BTreeMap<u64, Redemption>,
    next_request: u64,
}

impl AsyncRedemptionVault {
    /// A vault with a redemption delay.
    pub fn new(rate: u128, delay_ms: u64, now_ms: u64) -> Self {
        AsyncRedemptionVault {
            vault: Vault4626::new(rate, now_ms),
            delay_ms,
            pending: BTreeMap::new(),
            next_request: 1,
        }
    }

    /// Burn `shares` now at the current price; returns the request id and
    /// the request.
    pub fn request_redeem(
        &mut self,
        shares: u128,
        now_ms: u64,
    ) -> Result<(u64, Redemption), VenueError> {
        let assets = self.vault.redeem(shares, now_ms)?;
        let request = Redemption {
            assets,
            claimable_at_ms: now_ms.saturating_add(self.delay_ms),
        };
        let id = self.next_request;
        self.next_request += 1;
        self.pending.insert(id, request.clone());
        Ok((id, request))
    }

    /// A pending request.
    pub fn pending(&self, id: u64) -> Option<&Redemption> {
        self.pending.get(&id)
    }

    /// Every pending request.
    pub fn pending_requests(&self) -> impl Iterator<Item = (u64, &Redemption)> {
        self.pending.iter().map(|(id, r)| (*id, r))
    }

    /// Pay out a request whose waiting period is over.
    pub fn claim(&mut self, id: u64, now_ms: u64) -> Result<u128, VenueError> {
        let request = self.pending.get(&id).ok_or_else(|| VenueError::Unknown {
            what: "redemption request",
            name: id.to_string(),
        })?;
        if now_ms < request.claimable_at_ms {
            return Err(VenueError::NotYetClaimable {
                claimable_at_ms: request.claimable_at_ms,
                now_ms,
            });
        }
        let assets = request.assets;
        self.pending.remove(&id);
        Ok(assets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_MS: u64 = 24 * 60 * 60 * 1_000;

    #[test]
    fn shares_follow_openzeppelin_rounding_and_yield() {
        let mut vault = Vault4626::new(RAY / 10, 0); // 10% a year
        // Empty, offset 0: 1 virtual share for 1 virtual asset.
        assert_eq!(vault.deposit(1_000_000, 0).unwrap(), 1_000_000);
        vault.accrue(YEAR_MS).unwrap();
        assert_eq!(vault.total_assets(), 1_100_000);
        // 1 * 1_000_001 / 1_100_001 = 0.91: no share, and the wei is taken,
        // as the contract takes it.
        assert_eq!(vault.deposit(1, YEAR_MS), Ok(0));
        assert_eq!(vault.total_assets(), 1_100_001);
        // Deposit rounds the shares down: 110 * 1_000_001 / 1_100_002 = 99.9999.
        assert_eq!(vault.deposit(110, YEAR_MS).unwrap(), 99);
        // Mint rounds the assets up: 100 * 1_100_112 / 1_000_100 = 110.0002.
        assert_eq!(vault.preview_mint(100).unwrap(), 111);
        assert_eq!(vault.mint(100, YEAR_MS).unwrap(), 111);
        // Withdraw rounds the shares up: 110 * 1_000_200 / 1_100_223 = 99.9997.
        assert_eq!(vault.preview_withdraw(110).unwrap(), 100);
        assert_eq!(vault.withdraw(110, YEAR_MS).unwrap(), 100);
        // Redeem rounds the assets down: 100 * 1_100_113 / 1_000_100 = 110.0003.
        assert_eq!(vault.preview_redeem(100).unwrap(), 110);
        assert_eq!(vault.redeem(100, YEAR_MS).unwrap(), 110);
        assert_eq!(
            (vault.total_assets(), vault.total_shares()),
            (1_100_002, 999_999)
        );
        // A donation raises the assets, not the supply.
        vault.donate(99_998, YEAR_MS).unwrap();
        assert_eq!(
            (vault.total_assets(), vault.total_shares()),
            (1_200_000, 999_999)
        );
        assert_eq!(vault.convert_to_assets(1_000_000).unwrap(), 1_200_001);
        assert_eq!(vault.deposit(0, YEAR_MS), Err(VenueError::ZeroAmount));
        assert_eq!(
            vault.redeem(1_000_000, YEAR_MS),
            Err(VenueError::InsufficientBalance {
                needed: 1_000_000,
                available: 999_999
            })
        );
    }

    #[test]
    fn virtual_shares_blunt_a_donation_to_an_empty_vault() {
        const ONE: u128 = 1_000_000_000_000_000_000;
        // The first depositor puts in 1 wei, then donates 1e18 before a
        // victim deposits 1e18; then both redeem everything.
        // (offset, first shares, victim's shares, victim's assets back,
        // first depositor's assets back)
        let cases = [
            (0, 1, 1, 666_666_666_666_666_667, 666_666_666_666_666_667),
            (
                6,
                1_000_000,
                1_999_999,
                999_999_749_999_937_500,
                500_000_125_000_031_251,
            ),
        ];
        for (offset, first, victim, victim_back, first_back) in cases {
            let mut vault = Vault4626::new(0, 0).with_decimals_offset(offset);
            assert_eq!(vault.decimals_offset(), offset);
            assert_eq!(vault.preview_deposit(1).unwrap(), first);
            assert_eq!(vault.deposit(1, 0).unwrap(), first);
            vault.donate(ONE, 0).unwrap();
            assert_eq!(vault.deposit(ONE, 0).unwrap(), victim, "offset {offset}");
            assert_eq!(vault.redeem(victim, 0).unwrap(), victim_back);
            assert_eq!(vault.redeem(first, 0).unwrap(), first_back);
            // No shares left; the virtual share's part of the assets stays.
            assert_eq!(vault.total_shares(), 0);
            assert_eq!(vault.total_assets(), 2 * ONE + 1 - victim_back - first_back);
            // ...and a small deposit now mints nothing.
            assert_eq!(vault.preview_deposit(1_000).unwrap(), 0);
        }
    }

    #[test]
    fn thirty_day_queue_pays_only_after_the_wait() {
        let mut vault = AsyncRedemptionVault::new(0, 30 * DAY_MS, 0);
        let shares = vault.vault.deposit(5_000, 0).unwrap();
        let (id, request) = vault.request_redeem(shares, DAY_MS).unwrap();
        assert_eq!(request.claimable_at_ms, 31 * DAY_MS);
        assert_eq!(
            vault.claim(id, 30 * DAY_MS),
            Err(VenueError::NotYetClaimable {
                claimable_at_ms: 31 * DAY_MS,
                now_ms: 30 * DAY_MS
            })
        );
        assert_eq!(vault.claim(id, 31 * DAY_MS).unwrap(), 5_000);
        assert!(
            vault.claim(id, 32 * DAY_MS).is_err(),
            "a request is paid once"
        );
    }
}
