//! A yield-bearing staked-stablecoin vault whose redemptions wait in a FIFO
//! queue (30 days by default) unless a periodic sealed-bid priority auction
//! releases them earlier, in exact integer math (token base units).
//!
//! The model, and the choices it makes where the product leaves room:
//!
//! - **Shares.** Deposits mint shares at `total_shares / total_assets`
//!   rounded down (plain ERC-4626, 1:1 when empty: not the virtual share
//!   and asset of OpenZeppelin 4.9 that [`crate::vault::Vault4626`]
//!   matches); the unlocked assets grow by `total_assets * rate * elapsed /
//!   (RAY * YEAR_MS)` at every accrual (every operation accrues first), so
//!   the exchange rate rises, as in `Vault4626`. (Moving this ledger onto
//!   `Vault4626`, which can now add assets without minting shares, is left
//!   to do.) The annual `rate` (RAY) can be changed with
//!   [`RedemptionVault::set_rate`]; yield up to that moment accrues at the
//!   old rate.
//! - **Cost basis.** Each holder has a cost basis: the assets deposited for
//!   its shares (average cost). Redeeming or transferring `n` of `S` shares
//!   takes `floor(basis * n / S)` of it along (all of it for `n == S`).
//! - **Redemption requests.** [`RedemptionVault::request_redeem`] burns the
//!   shares at the current exchange rate (rounded down): the request's
//!   assets are fixed then and the locked shares stop earning yield (they no
//!   longer exist as shares, so they cannot be transferred or redeemed
//!   again). The request's **yield** is its assets minus the cost basis
//!   it took (zero if negative). The request joins the FIFO queue (by
//!   request id) and can be claimed in full `redemption_period_ms` after it
//!   was made.
//! - **Bids.** A bid of `bid_bps` (0..=10 000) on a request offers to give
//!   up that share of the request's yield, the yield accrued on its shares
//!   since they were deposited: served `g` of the request's queued assets
//!   `A` (yield `Y`), the bidder forfeits
//!   `ceil(floor(Y * g / A) * bid_bps / 10_000)` and receives `g` minus
//!   that. A bid never reaches principal: at 10 000 bps a served request
//!   is paid its cost basis. A request with no yield forfeits nothing
//!   whatever it bids (the auction ranks by `bid_bps` only). Placing a bid
//!   on a request that already has one replaces it (the new bid's time
//!   counts for ties). A bid is refused on a request that is claimable by
//!   the next auction anyway.
//! - **Auctions.** Every `auction_period_ms` (the first at
//!   `first_auction_ms`) the bids are opened and sorted by `bid_bps`
//!   descending, ties by earlier placement. The period's liquidity
//!   ([`RedemptionVault::period_liquidity`]) is measured in queued request
//!   assets: whole requests are served while it lasts, the marginal one is
//!   served partially (its shares and yield pro rata, rounded down), later
//!   ones not at all. Unused liquidity does not carry over. The clearing
//!   bid is the lowest `bid_bps` served. Served assets, net of the forfeit,
//!   are claimable at once; the unserved rest of a request stays in the
//!   queue with its original claim time and position. Every bid is dropped
//!   at clearing, served or not (a holder bids again for the next auction).
//!   An auction at time `t` runs before any operation at `t`.
//! - **Forfeited yield** goes to the remaining holders (added to the
//!   vault's assets without minting shares, as in the product) or, with
//!   [`ForfeitRecipient::Protocol`] or when no shares are outstanding, to
//!   the protocol.
//! - **Conservation.** The vault's assets, plus the assets locked (owed to
//!   requests), paid out and forfeited to the protocol, equal the deposits
//!   plus the yield accrued ([`Accounting::is_conserved`]).
//!
//! Every operation takes the current time and first advances the vault to
//! it ([`RedemptionVault::advance_to`]: accrue, run due auctions in order);
//! that stays done even if the operation itself is then refused. Otherwise
//! a refused operation changes nothing. Time never goes back: an earlier
//! time is refused. Reads use the time of the last operation.

mod auction;
mod ledger;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use alloy_primitives::U256;
use serde::{Deserialize, Serialize};

use crate::VenueError;
use crate::lending::RAY;
use crate::math::{mul_div, to_u128};
use auction::Entry;
use ledger::ShareLedger;

/// Milliseconds in a day.
pub const DAY_MS: u64 = 24 * 60 * 60 * 1_000;
/// Default wait between a redemption request and its claim: 30 days.
pub const DEFAULT_REDEMPTION_PERIOD_MS: u64 = 30 * DAY_MS;
/// Default time between priority auctions: 30 days.
pub const DEFAULT_AUCTION_PERIOD_MS: u64 = 30 * DAY_MS;
/// The highest bid: all of the request's yield, in basis points.
pub const MAX_BID_BPS: u16 = 10_000;

/// Who receives the yield that served bidders give up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForfeitRecipient {
    /// The holders who stay: added to the vault's assets (the share price
    /// rises). Goes to the protocol while no shares are outstanding.
    #[default]
    Holders,
    /// The protocol: leaves the vault.
    Protocol,
}

/// How the vault's queue and auctions run (JSON/TOML; every field is
/// optional).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedemptionConfig {
    /// Wait from a request to its claim, ms. Default 30 days
    /// ([`DEFAULT_REDEMPTION_PERIOD_MS`]).
    pub redemption_period_ms: u64,
    /// Time between auctions, ms; must be positive. Default 30 days
    /// ([`DEFAULT_AUCTION_PERIOD_MS`]).
    pub auction_period_ms: u64,
    /// Time of the first auction, ms; not before the vault's creation.
    /// Default: one `auction_period_ms` after the vault is created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_auction_ms: Option<u64>,
    /// Liquidity of each auction, in queued request assets (base units),
    /// unless [`RedemptionVault::set_period_liquidity`] sets the current
    /// period's. Default 0 (no early exits).
    pub period_liquidity: u128,
    /// Who receives forfeited yield. Default `holders`.
    pub forfeit_to: ForfeitRecipient,
}

impl Default for RedemptionConfig {
    fn default() -> Self {
        RedemptionConfig {
            redemption_period_ms: DEFAULT_REDEMPTION_PERIOD_MS,
            auction_period_ms: DEFAULT_AUCTION_PERIOD_MS,
            first_auction_ms: None,
            period_liquidity: 0,
            forfeit_to: ForfeitRecipient::Holders,
        }
    }
}

/// Where a redemption request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Waiting in the queue, no bid.
    Queued,
    /// Waiting in the queue with a sealed bid for the next auction.
    BidPlaced,
    /// An auction served (part of) it: that part can be claimed now.
    Served,
    /// Its redemption period is over: claimable in full.
    Claimable,
    /// Everything has been paid.
    Claimed,
}

/// A sealed bid, visible only to its owner until clearing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedBid {
    /// Share of the request's yield offered, bps (0..=10 000).
    pub bid_bps: u16,
    /// When it was placed.
    pub placed_at_ms: u64,
    /// Placement order across the vault (breaks same-time ties).
    pub seq: u64,
}

/// A redemption request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedemptionRequest {
    /// Its id (FIFO order).
    pub id: u64,
    /// The account that made it.
    pub owner: String,
    /// When it was made.
    pub requested_at_ms: u64,
    /// When its queued assets can be claimed (request time plus the
    /// redemption period).
    pub claimable_at_ms: u64,
    /// Shares locked by the request.
    pub requested_shares: u128,
    /// Their value at request time, fixed.
    pub requested_assets: u128,
    /// Locked shares still in the queue (fewer after an auction fill).
    pub shares: u128,
    /// Assets still in the queue, paid at `claimable_at_ms`.
    pub assets: u128,
    /// The yield inside `assets` (above the cost basis): what bids are a
    /// share of.
    pub yield_assets: u128,
    /// Assets released by auctions, net of forfeits, claimable now.
    pub served_assets: u128,
    /// Yield given up in auctions.
    pub forfeited: u128,
    /// Paid out so far.
    pub paid: u128,
    bid: Option<SealedBid>,
}

/// How much of the queue is ahead of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuePosition {
    /// Earlier requests with assets still queued (claimable ones included
    /// until claimed).
    pub requests_ahead: u64,
    /// Their locked shares.
    pub shares_ahead: u128,
    /// Their queued assets.
    pub assets_ahead: u128,
}

/// One bid's outcome in an auction (revealed at clearing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuctionFill {
    /// The request bid on.
    pub request_id: u64,
    /// Its owner.
    pub owner: String,
    /// The bid.
    pub bid_bps: u16,
    /// When the bid was placed.
    pub placed_at_ms: u64,
    /// Assets the request had queued when the auction cleared.
    pub bid_assets: u128,
    /// Queued assets released to the bidder (0 if not served).
    pub served_assets: u128,
    /// Yield given up.
    pub forfeited_assets: u128,
    /// `served_assets - forfeited_assets`: claimable now.
    pub paid_assets: u128,
}

/// An auction's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuctionResult {
    /// When it ran.
    pub time_ms: u64,
    /// Liquidity it had, in queued request assets.
    pub liquidity: u128,
    /// Number of bids.
    pub bid_count: u64,
    /// Queued assets of all bids (the demand).
    pub bid_assets: u128,
    /// The lowest bid served, `None` if nothing was served.
    pub clearing_bid_bps: Option<u16>,
    /// Queued assets released (at most `liquidity`).
    pub served_assets: u128,
    /// Of those, what the bidders receive.
    pub paid_assets: u128,
    /// Of those, the yield given up.
    pub forfeited_assets: u128,
    /// Every bid in service order.
    pub fills: Vec<AuctionFill>,
}

/// An account of the vault.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Unlocked shares.
    pub shares: u128,
    /// Assets deposited for those shares (average cost).
    pub cost_basis: u128,
    /// Assets deposited in total.
    pub deposited: u128,
    /// Assets claimed in total.
    pub claimed: u128,
    /// Yield given up in auctions in total.
    pub yield_forfeited: u128,
}

/// The vault's books: [`Accounting::is_conserved`] must always hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accounting {
    /// Assets deposited.
    pub deposited: u128,
    /// Yield accrued.
    pub yield_accrued: u128,
    /// Assets of the unlocked shares.
    pub vault_assets: u128,
    /// Assets owed to requests (queued and served, unclaimed).
    pub locked_assets: u128,
    /// Assets claimed.
    pub paid_out: u128,
    /// Forfeited yield given to the holders (already in `vault_assets`).
    pub forfeited_to_holders: u128,
    /// Forfeited yield that left to the protocol.
    pub forfeited_to_protocol: u128,
}

impl Accounting {
    /// `vault + locked + paid out + to protocol == deposited + yield`.
    pub fn is_conserved(&self) -> bool {
        let held = U256::from(self.vault_assets)
            + U256::from(self.locked_assets)
            + U256::from(self.paid_out)
            + U256::from(self.forfeited_to_protocol);
        held == U256::from(self.deposited) + U256::from(self.yield_accrued)
    }
}

/// The staked-stablecoin vault with its redemption queue and priority
/// auctions (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedemptionVault {
    config: RedemptionConfig,
    ledger: ShareLedger,
    now_ms: u64,
    holders: BTreeMap<String, Holder>,
    requests: BTreeMap<u64, RedemptionRequest>,
    next_request_id: u64,
    next_bid_seq: u64,
    next_auction_ms: u64,
    period_liquidity: u128,
    history: Vec<AuctionResult>,
    deposited: u128,
    yield_accrued: u128,
    locked_assets: u128,
    paid_out: u128,
    forfeited_to_holders: u128,
    forfeited_to_protocol: u128,
}

fn overflow(what: &'static str) -> VenueError {
    VenueError::Overflow { what }
}

fn unknown_request(id: u64) -> VenueError {
    VenueError::Unknown {
        what: "redemption request",
        name: id.to_string(),
    }
}

fn invalid(detail: String) -> VenueError {
    VenueError::InvalidRange { detail }
}

/// `floor(value * part / whole)`, `value` itself when `part == whole`.
fn pro_rata(value: u128, part: u128, whole: u128) -> Result<u128, VenueError> {
    if part == whole {
        return Ok(value);
    }
    let share = mul_div(U256::from(value), U256::from(part), U256::from(whole))
        .ok_or(overflow("cost basis"))?;
    to_u128(share, "cost basis")
}

impl RedemptionVault {
    /// An empty vault yielding `rate` (annual, RAY) from `now_ms`; refused
    /// for a zero auction period or a first auction before `now_ms`.
    pub fn new(config: RedemptionConfig, rate: u128, now_ms: u64) -> Result<Self, VenueError> {
        if config.auction_period_ms == 0 {
            return Err(invalid("auction_period_ms must be positive".to_owned()));
        }
        let next_auction_ms = match config.first_auction_ms {
            Some(first) if first < now_ms => {
                return Err(invalid(format!(
                    "first_auction_ms {first} is before the vault's creation at {now_ms}"
                )));
            }
            Some(first) => first,
            None => now_ms
                .checked_add(config.auction_period_ms)
                .ok_or(overflow("auction time"))?,
        };
        Ok(RedemptionVault {
            period_liquidity: config.period_liquidity,
            config,
            ledger: ShareLedger::new(rate, now_ms),
            now_ms,
            holders: BTreeMap::new(),
            requests: BTreeMap::new(),
            next_request_id: 1,
            next_bid_seq: 0,
            next_auction_ms,
            history: Vec::new(),
            deposited: 0,
            yield_accrued: 0,
            locked_assets: 0,
            paid_out: 0,
            forfeited_to_holders: 0,
            forfeited_to_protocol: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &RedemptionConfig {
        &self.config
    }

    /// Time of the last operation or advance, ms.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Annual yield, RAY.
    pub fn rate(&self) -> u128 {
        self.ledger.rate
    }

    /// Change the annual yield (RAY) from `now_ms` on; yield before accrues
    /// at the old rate.
    pub fn set_rate(&mut self, rate: u128, now_ms: u64) -> Result<(), VenueError> {
        self.advance_to(now_ms)?;
        self.ledger.rate = rate;
        Ok(())
    }

    /// Liquidity of the next auction, in queued request assets.
    pub fn period_liquidity(&self) -> u128 {
        self.period_liquidity
    }

    /// Set the liquidity of the next auction after `now_ms` (later ones
    /// return to the configured `period_liquidity`).
    pub fn set_period_liquidity(&mut self, assets: u128, now_ms: u64) -> Result<(), VenueError> {
        self.advance_to(now_ms)?;
        self.period_liquidity = assets;
        Ok(())
    }

    /// When the next auction runs, ms.
    pub fn next_auction_ms(&self) -> u64 {
        self.next_auction_ms
    }

    /// Every auction so far, oldest first.
    pub fn auction_history(&self) -> &[AuctionResult] {
        &self.history
    }

    /// Assets of the unlocked shares.
    pub fn total_assets(&self) -> u128 {
        self.ledger.total_assets
    }

    /// Unlocked shares outstanding.
    pub fn total_shares(&self) -> u128 {
        self.ledger.total_shares
    }

    /// Assets owed to requests, queued or served, not yet claimed.
    pub fn locked_assets(&self) -> u128 {
        self.locked_assets
    }

    /// Assets per share, RAY, rounded down (RAY while no shares exist).
    pub fn share_price_ray(&self) -> Result<u128, VenueError> {
        if self.ledger.total_shares == 0 {
            return Ok(RAY);
        }
        let price = mul_div(
            U256::from(self.ledger.total_assets),
            U256::from(RAY),
            U256::from(self.ledger.total_shares),
        )
        .ok_or(overflow("share price"))?;
        to_u128(price, "share price")
    }

    /// Shares `assets` would mint now (rounded down).
    pub fn convert_to_shares(&self, assets: u128) -> Result<u128, VenueError> {
        self.ledger.convert_to_shares(assets)
    }

    /// Assets `shares` are worth now (rounded down).
    pub fn convert_to_assets(&self, shares: u128) -> Result<u128, VenueError> {
        self.ledger.convert_to_assets(shares)
    }

    /// Unlocked shares of `account`.
    pub fn shares_of(&self, account: &str) -> u128 {
        self.holders.get(account).map_or(0, |h| h.shares)
    }

    /// What `account`'s unlocked shares are worth now (rounded down).
    pub fn assets_of(&self, account: &str) -> Result<u128, VenueError> {
        self.convert_to_assets(self.shares_of(account))
    }

    /// `account`'s books, if it ever held shares.
    pub fn holder(&self, account: &str) -> Option<&Holder> {
        self.holders.get(account)
    }

    /// Yield `account` has given up in auctions so far.
    pub fn yield_forfeited(&self, account: &str) -> u128 {
        self.holders.get(account).map_or(0, |h| h.yield_forfeited)
    }

    /// A request (its bid stays sealed: see [`RedemptionVault::own_bid`]).
    pub fn request(&self, id: u64) -> Option<&RedemptionRequest> {
        self.requests.get(&id)
    }

    /// `account`'s requests, oldest first.
    pub fn requests_of<'a>(
        &'a self,
        account: &'a str,
    ) -> impl Iterator<Item = &'a RedemptionRequest> + 'a {
        self.requests.values().filter(move |r| r.owner == account)
    }

    /// Where a request stands now.
    pub fn request_status(&self, id: u64) -> Option<RequestStatus> {
        let request = self.requests.get(&id)?;
        Some(if request.served_assets > 0 {
            RequestStatus::Served
        } else if request.assets == 0 {
            RequestStatus::Claimed
        } else if self.now_ms >= request.claimable_at_ms {
            RequestStatus::Claimable
        } else if request.bid.is_some() {
            RequestStatus::BidPlaced
        } else {
            RequestStatus::Queued
        })
    }

    /// When a request's queued assets become claimable.
    pub fn claimable_at(&self, id: u64) -> Option<u64> {
        self.requests.get(&id).map(|r| r.claimable_at_ms)
    }

    /// The queue ahead of a request; `None` if it is unknown or has
    /// nothing queued any more.
    pub fn queue_position(&self, id: u64) -> Option<QueuePosition> {
        if self.requests.get(&id)?.assets == 0 {
            return None;
        }
        let mut position = QueuePosition {
            requests_ahead: 0,
            shares_ahead: 0,
            assets_ahead: 0,
        };
        for request in self.requests.range(..id).map(|(_, r)| r) {
            if request.assets > 0 {
                position.requests_ahead += 1;
                position.shares_ahead = position.shares_ahead.saturating_add(request.shares);
                position.assets_ahead = position.assets_ahead.saturating_add(request.assets);
            }
        }
        Some(position)
    }

    /// `account`'s open bid on its request `id`; someone else's request is
    /// `Unknown` (bids are sealed).
    pub fn own_bid(&self, account: &str, id: u64) -> Result<Option<SealedBid>, VenueError> {
        Ok(self.owned(account, id)?.bid)
    }

    /// The yield a bid of `bid_bps` on request `id` would give up if the
    /// request were served in full: `ceil(yield * bid_bps / 10_000)`.
    pub fn bid_cost(&self, id: u64, bid_bps: u16) -> Result<u128, VenueError> {
        check_bid(bid_bps)?;
        let request = self.requests.get(&id).ok_or_else(|| unknown_request(id))?;
        auction::forfeit(request.yield_assets, bid_bps)
    }

    /// The books.
    pub fn accounting(&self) -> Accounting {
        Accounting {
            deposited: self.deposited,
            yield_accrued: self.yield_accrued,
            vault_assets: self.ledger.total_assets,
            locked_assets: self.locked_assets,
            paid_out: self.paid_out,
            forfeited_to_holders: self.forfeited_to_holders,
            forfeited_to_protocol: self.forfeited_to_protocol,
        }
    }

    /// Deposit `assets` for `account`; returns the shares minted (rounded
    /// down; zero shares is refused).
    pub fn deposit(
        &mut self,
        account: &str,
        assets: u128,
        now_ms: u64,
    ) -> Result<u128, VenueError> {
        self.advance_to(now_ms)?;
        if assets == 0 {
            return Err(VenueError::ZeroAmount);
        }
        let shares = self.ledger.convert_to_shares(assets)?;
        if shares == 0 {
            return Err(VenueError::ZeroAmount);
        }
        let holder = self.holders.get(account).cloned().unwrap_or_default();
        let updated = Holder {
            shares: holder
                .shares
                .checked_add(shares)
                .ok_or(overflow("holder shares"))?,
            cost_basis: holder
                .cost_basis
                .checked_add(assets)
                .ok_or(overflow("cost basis"))?,
            deposited: holder
                .deposited
                .checked_add(assets)
                .ok_or(overflow("deposits"))?,
            ..holder
        };
        let deposited = self
            .deposited
            .checked_add(assets)
            .ok_or(overflow("deposits"))?;
        self.ledger.mint(assets, shares)?;
        self.deposited = deposited;
        self.holders.insert(account.to_owned(), updated);
        Ok(shares)
    }

    /// Move unlocked shares, with their share of the cost basis.
    pub fn transfer_shares(
        &mut self,
        from: &str,
        to: &str,
        shares: u128,
        now_ms: u64,
    ) -> Result<(), VenueError> {
        self.advance_to(now_ms)?;
        if shares == 0 {
            return Err(VenueError::ZeroAmount);
        }
        let available = self.shares_of(from);
        if shares > available {
            return Err(VenueError::InsufficientBalance {
                needed: shares,
                available,
            });
        }
        if from == to {
            return Ok(());
        }
        let sender = self.holders.get(from).cloned().unwrap_or_default();
        let basis = pro_rata(sender.cost_basis, shares, available)?;
        let receiver = self.holders.get(to).cloned().unwrap_or_default();
        let receiver = Holder {
            shares: receiver
                .shares
                .checked_add(shares)
                .ok_or(overflow("holder shares"))?,
            cost_basis: receiver
                .cost_basis
                .checked_add(basis)
                .ok_or(overflow("cost basis"))?,
            ..receiver
        };
        let sender = Holder {
            shares: sender.shares - shares,
            cost_basis: sender.cost_basis - basis,
            ..sender
        };
        self.holders.insert(from.to_owned(), sender);
        self.holders.insert(to.to_owned(), receiver);
        Ok(())
    }

    /// Lock `shares` of `account` for redemption at the current exchange
    /// rate; returns the request id. The assets are fixed now and claimable
    /// after the redemption period.
    pub fn request_redeem(
        &mut self,
        account: &str,
        shares: u128,
        now_ms: u64,
    ) -> Result<u64, VenueError> {
        self.advance_to(now_ms)?;
        if shares == 0 {
            return Err(VenueError::ZeroAmount);
        }
        let available = self.shares_of(account);
        if shares > available {
            return Err(VenueError::InsufficientBalance {
                needed: shares,
                available,
            });
        }
        let assets = self.ledger.convert_to_assets(shares)?;
        if assets == 0 {
            return Err(VenueError::ZeroAmount);
        }
        let holder = self.holders.get(account).cloned().unwrap_or_default();
        let basis = pro_rata(holder.cost_basis, shares, available)?;
        let locked = self
            .locked_assets
            .checked_add(assets)
            .ok_or(overflow("locked assets"))?;
        let claimable_at_ms = now_ms
            .checked_add(self.config.redemption_period_ms)
            .ok_or(overflow("claim time"))?;
        let id = self.next_request_id;
        let next_request_id = id.checked_add(1).ok_or(overflow("request id"))?;
        self.ledger.burn(assets, shares)?;
        self.locked_assets = locked;
        self.next_request_id = next_request_id;
        self.holders.insert(
            account.to_owned(),
            Holder {
                shares: holder.shares - shares,
                cost_basis: holder.cost_basis - basis,
                ..holder
            },
        );
        self.requests.insert(
            id,
            RedemptionRequest {
                id,
                owner: account.to_owned(),
                requested_at_ms: now_ms,
                claimable_at_ms,
                requested_shares: shares,
                requested_assets: assets,
                shares,
                assets,
                yield_assets: assets.saturating_sub(basis),
                served_assets: 0,
                forfeited: 0,
                paid: 0,
                bid: None,
            },
        );
        Ok(id)
    }

    /// Place (or replace) `account`'s sealed bid of `bid_bps` on its request
    /// `id` for the next auction. Refused above 10 000 bps, on someone
    /// else's request (`Unknown`), and on a request with nothing queued or
    /// claimable by the next auction anyway.
    pub fn place_bid(
        &mut self,
        account: &str,
        id: u64,
        bid_bps: u16,
        now_ms: u64,
    ) -> Result<(), VenueError> {
        self.advance_to(now_ms)?;
        check_bid(bid_bps)?;
        let next_auction_ms = self.next_auction_ms;
        let seq = self.next_bid_seq;
        let next_bid_seq = seq.checked_add(1).ok_or(overflow("bid sequence"))?;
        let request = self.owned_mut(account, id)?;
        if request.assets == 0 {
            return Err(invalid(format!(
                "redemption request {id} has nothing left in the queue"
            )));
        }
        if request.claimable_at_ms <= next_auction_ms {
            return Err(invalid(format!(
                "redemption request {id} is claimable at {} and the next auction is at \
                 {next_auction_ms}: nothing to bid for",
                request.claimable_at_ms
            )));
        }
        request.bid = Some(SealedBid {
            bid_bps,
            placed_at_ms: now_ms,
            seq,
        });
        self.next_bid_seq = next_bid_seq;
        Ok(())
    }

    /// Withdraw `account`'s open bid on request `id`; refused when there is
    /// none (e.g. the auction has cleared it).
    pub fn cancel_bid(&mut self, account: &str, id: u64, now_ms: u64) -> Result<(), VenueError> {
        self.advance_to(now_ms)?;
        let request = self.owned_mut(account, id)?;
        if request.bid.take().is_none() {
            return Err(invalid(format!(
                "redemption request {id} has no open bid (bids close when the auction clears)"
            )));
        }
        Ok(())
    }

    /// Pay `account` what request `id` owes now: assets served by auctions,
    /// plus the queued assets once the redemption period is over. Refused
    /// with `NotYetClaimable` when nothing is due yet.
    pub fn claim(&mut self, account: &str, id: u64, now_ms: u64) -> Result<u128, VenueError> {
        self.advance_to(now_ms)?;
        let request = self.owned(account, id)?;
        if request.assets == 0 && request.served_assets == 0 {
            return Err(invalid(format!(
                "redemption request {id} was already claimed"
            )));
        }
        let queued_due = if now_ms >= request.claimable_at_ms {
            request.assets
        } else {
            0
        };
        let due = request
            .served_assets
            .checked_add(queued_due)
            .ok_or(overflow("claim"))?;
        if due == 0 {
            return Err(VenueError::NotYetClaimable {
                claimable_at_ms: request.claimable_at_ms,
                now_ms,
            });
        }
        let paid = request.paid.checked_add(due).ok_or(overflow("claim"))?;
        let paid_out = self.paid_out.checked_add(due).ok_or(overflow("paid out"))?;
        let holder = self.holders.get(account).cloned().unwrap_or_default();
        let claimed = holder.claimed.checked_add(due).ok_or(overflow("claimed"))?;
        let locked = self
            .locked_assets
            .checked_sub(due)
            .ok_or(overflow("locked assets"))?;
        let request = self.owned_mut(account, id)?;
        request.served_assets = 0;
        request.paid = paid;
        if queued_due > 0 {
            request.assets = 0;
            request.shares = 0;
            request.yield_assets = 0;
            request.bid = None;
        }
        self.locked_assets = locked;
        self.paid_out = paid_out;
        self.holders
            .insert(account.to_owned(), Holder { claimed, ..holder });
        Ok(due)
    }

    /// Move the clock to `now_ms`: accrue yield and run every auction due
    /// by then (an auction at `now_ms` included), in order; returns their
    /// results (also kept in [`RedemptionVault::auction_history`]). An
    /// earlier time than the last one seen is refused.
    pub fn advance_to(&mut self, now_ms: u64) -> Result<Vec<AuctionResult>, VenueError> {
        if now_ms < self.now_ms {
            return Err(invalid(format!(
                "time {now_ms} is before the vault's last time {}",
                self.now_ms
            )));
        }
        let mut results = Vec::new();
        while self.next_auction_ms <= now_ms {
            let time_ms = self.next_auction_ms;
            let following = time_ms
                .checked_add(self.config.auction_period_ms)
                .ok_or(overflow("auction time"))?;
            self.accrue(time_ms)?;
            let result = self.run_auction(time_ms)?;
            self.history.push(result.clone());
            results.push(result);
            self.next_auction_ms = following;
            self.period_liquidity = self.config.period_liquidity;
        }
        self.accrue(now_ms)?;
        Ok(results)
    }

    fn accrue(&mut self, now_ms: u64) -> Result<(), VenueError> {
        let interest = self.ledger.pending_yield(now_ms)?;
        let yield_accrued = self
            .yield_accrued
            .checked_add(interest)
            .ok_or(overflow("yield accrued"))?;
        self.ledger.accrue(now_ms)?;
        self.yield_accrued = yield_accrued;
        self.now_ms = now_ms;
        Ok(())
    }

    /// Open the bids, serve them from the period's liquidity and drop them.
    fn run_auction(&mut self, time_ms: u64) -> Result<AuctionResult, VenueError> {
        let entries: Vec<Entry> = self
            .requests
            .values()
            .filter(|r| r.assets > 0 && r.claimable_at_ms > time_ms)
            .filter_map(|r| {
                r.bid.map(|bid| Entry {
                    request_id: r.id,
                    bid_bps: bid.bid_bps,
                    seq: bid.seq,
                    placed_at_ms: bid.placed_at_ms,
                    assets: r.assets,
                    yield_assets: r.yield_assets,
                    shares: r.shares,
                })
            })
            .collect();
        let liquidity = self.period_liquidity;
        let allocations = auction::clear(liquidity, entries)?;

        // Checked first, so that applying the allocations below cannot fail
        // half-way: they only move amounts already held (served assets out
        // of their request, forfeits out of the locked assets).
        let mut result = AuctionResult {
            time_ms,
            liquidity,
            bid_count: allocations.len() as u64,
            bid_assets: 0,
            clearing_bid_bps: None,
            served_assets: 0,
            paid_assets: 0,
            forfeited_assets: 0,
            fills: Vec::with_capacity(allocations.len()),
        };
        for allocation in &allocations {
            let entry = &allocation.entry;
            result.bid_assets = result
                .bid_assets
                .checked_add(entry.assets)
                .ok_or(overflow("auction demand"))?;
            result.forfeited_assets = result
                .forfeited_assets
                .checked_add(allocation.forfeited)
                .ok_or(overflow("forfeited yield"))?;
            if allocation.served > 0 {
                result.clearing_bid_bps = Some(entry.bid_bps);
            }
        }
        let to_holders =
            self.config.forfeit_to == ForfeitRecipient::Holders && self.ledger.total_shares > 0;
        let (forfeited_to_holders, forfeited_to_protocol) = if to_holders {
            self.ledger
                .total_assets
                .checked_add(result.forfeited_assets)
                .ok_or(overflow("vault assets"))?;
            (
                self.forfeited_to_holders
                    .checked_add(result.forfeited_assets)
                    .ok_or(overflow("forfeited yield"))?,
                self.forfeited_to_protocol,
            )
        } else {
            (
                self.forfeited_to_holders,
                self.forfeited_to_protocol
                    .checked_add(result.forfeited_assets)
                    .ok_or(overflow("forfeited yield"))?,
            )
        };
        for request in self.requests.values_mut() {
            request.bid = None;
        }
        self.forfeited_to_holders = forfeited_to_holders;
        self.forfeited_to_protocol = forfeited_to_protocol;
        for allocation in allocations {
            let entry = allocation.entry;
            let paid = allocation.served - allocation.forfeited;
            let request = self
                .requests
                .get_mut(&entry.request_id)
                .ok_or_else(|| unknown_request(entry.request_id))?;
            request.assets -= allocation.served;
            request.yield_assets -= allocation.yield_served;
            request.shares -= allocation.shares_served;
            request.served_assets += paid;
            request.forfeited += allocation.forfeited;
            let owner = request.owner.clone();
            if allocation.forfeited > 0 {
                self.locked_assets -= allocation.forfeited;
                if to_holders {
                    self.ledger.donate(allocation.forfeited)?;
                }
                self.holders
                    .entry(owner.clone())
                    .or_default()
                    .yield_forfeited += allocation.forfeited;
            }
            result.served_assets += allocation.served;
            result.paid_assets += paid;
            result.fills.push(AuctionFill {
                request_id: entry.request_id,
                owner,
                bid_bps: entry.bid_bps,
                placed_at_ms: entry.placed_at_ms,
                bid_assets: entry.assets,
                served_assets: allocation.served,
                forfeited_assets: allocation.forfeited,
                paid_assets: paid,
            });
        }
        Ok(result)
    }

    fn owned(&self, account: &str, id: u64) -> Result<&RedemptionRequest, VenueError> {
        match self.requests.get(&id) {
            Some(request) if request.owner == account => Ok(request),
            _ => Err(unknown_request(id)),
        }
    }

    fn owned_mut(&mut self, account: &str, id: u64) -> Result<&mut RedemptionRequest, VenueError> {
        match self.requests.get_mut(&id) {
            Some(request) if request.owner == account => Ok(request),
            _ => Err(unknown_request(id)),
        }
    }
}

fn check_bid(bid_bps: u16) -> Result<(), VenueError> {
    if bid_bps > MAX_BID_BPS {
        return Err(invalid(format!(
            "bid of {bid_bps} bps is above {MAX_BID_BPS} bps (all of the yield)"
        )));
    }
    Ok(())
}
