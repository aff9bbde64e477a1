//! What a policy remembers between actions: policy time, allowance
//! balances, cooldown clocks, per-day counters, and what each in-flight
//! action took. It is
//! serializable so a host can journal it with every tick and rebuild the
//! policy after a restart.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::types::ActionId;

/// Milliseconds in a UTC day.
pub(crate) const DAY_MS: u64 = 86_400_000;

/// The mutable side of a policy. Maps are ordered, so the serialized form
/// is the same for the same history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyState {
    /// Policy time: the latest block time seen, in ms. It only moves
    /// forward, so a block time that goes backwards (or back and forth)
    /// cannot restart cooldowns, per-day counters or refill periods.
    #[serde(default)]
    pub(crate) clock_ms: u64,
    /// Allowances by name; absent until first consulted.
    #[serde(default)]
    pub(crate) allowances: BTreeMap<String, AllowanceState>,
    /// Block time of the last accepted action, by kind (cooldowns).
    #[serde(default)]
    pub(crate) last_action_ms: BTreeMap<String, u64>,
    /// The UTC day (days since the epoch) the counters below are for.
    #[serde(default)]
    pub(crate) day: u64,
    /// Actions accepted on `day`, all kinds together.
    #[serde(default)]
    pub(crate) day_total: u32,
    /// Actions accepted on `day`, by kind.
    #[serde(default)]
    pub(crate) day_by_kind: BTreeMap<String, u32>,
    /// What accepted actions took, until they are dropped, fail or execute.
    #[serde(default)]
    pub(crate) in_flight: BTreeMap<ActionId, InFlight>,
}

/// One allowance's balance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowanceState {
    /// Balance in base units (token units, or quote units for a value
    /// allowance), including what is reserved.
    #[serde(with = "u128_text")]
    pub balance: u128,
    /// Part of the balance reserved by accepted actions whose execution is
    /// not known yet.
    #[serde(with = "u128_text")]
    pub reserved: u128,
    /// Block time the refill periods are counted from.
    pub refilled_at_ms: u64,
}

impl AllowanceState {
    /// What new actions may still reserve.
    pub fn available(&self) -> u128 {
        self.balance.saturating_sub(self.reserved)
    }

    /// Zodiac Roles v2 accrual: for every whole period elapsed since
    /// `refilled_at_ms`, add `refill`, never going above `max_refill` (a
    /// balance already above it is left alone); the clock advances by whole
    /// periods only.
    pub(crate) fn accrue(&mut self, now_ms: u64, refill: u128, max_refill: u128, period_ms: u64) {
        if period_ms == 0 || now_ms < self.refilled_at_ms.saturating_add(period_ms) {
            return;
        }
        let periods = (now_ms - self.refilled_at_ms) / period_ms;
        if self.balance < max_refill {
            let added = refill.saturating_mul(u128::from(periods));
            self.balance = self.balance.saturating_add(added).min(max_refill);
        }
        self.refilled_at_ms += periods * period_ms;
    }
}

/// What one accepted action took from the policy, so that it can be given
/// back exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InFlight {
    /// The action's kind.
    pub(crate) kind: String,
    /// The UTC day it was counted on.
    pub(crate) day: u64,
    /// The kind's cooldown clock before this action set it.
    pub(crate) previous_action_ms: Option<u64>,
    /// Whether its tick succeeded (from then on only the reservations
    /// matter).
    pub(crate) released: bool,
    /// Reserved amounts, by allowance.
    pub(crate) reservations: Vec<Reservation>,
}

/// An amount reserved from one allowance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Reservation {
    pub(crate) allowance: String,
    #[serde(with = "u128_text")]
    pub(crate) amount: u128,
}

/// The policy state could not be read back.
#[derive(Debug, thiserror::Error)]
#[error("policy state is unreadable: {0}")]
pub struct PolicyStateError(#[from] serde_json::Error);

impl PolicyState {
    /// A fresh state: full allowances, no clocks, no counts.
    pub fn new() -> Self {
        PolicyState::default()
    }

    /// The serialized form (JSON, deterministic).
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serializing plain maps, strings and integers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Read back what [`PolicyState::to_bytes`] produced. A state journaled
    /// before policy time was kept starts its clock at the latest time it
    /// records.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PolicyStateError> {
        let mut state: PolicyState = serde_json::from_slice(bytes)?;
        let recorded = state
            .last_action_ms
            .values()
            .copied()
            .chain(state.allowances.values().map(|a| a.refilled_at_ms))
            .chain([state.day.saturating_mul(DAY_MS)])
            .max()
            .unwrap_or(0);
        state.clock_ms = state.clock_ms.max(recorded);
        Ok(state)
    }

    /// Policy time, in ms: the latest block time seen.
    pub fn now_ms(&self) -> u64 {
        self.clock_ms
    }

    /// See a block time; returns policy time, which never goes backwards.
    pub(crate) fn observe(&mut self, block_ms: u64) -> u64 {
        self.clock_ms = self.clock_ms.max(block_ms);
        self.clock_ms
    }

    /// An allowance's balance, once it has been consulted.
    pub fn allowance(&self, name: &str) -> Option<AllowanceState> {
        self.allowances.get(name).copied()
    }

    /// Actions accepted today (by the last day seen), all kinds together.
    pub fn actions_today(&self) -> u32 {
        self.day_total
    }

    /// Accepted actions whose reservations are still held.
    pub fn in_flight(&self) -> impl Iterator<Item = ActionId> + '_ {
        self.in_flight.keys().copied()
    }

    /// Move the day counters to `day`, resetting them on a new day.
    pub(crate) fn roll_day(&mut self, day: u64) {
        if day != self.day {
            self.day = day;
            self.day_total = 0;
            self.day_by_kind.clear();
        }
    }

    /// Actions of `kind` accepted on `day`.
    pub(crate) fn count_on(&self, day: u64, kind: &str) -> (u32, u32) {
        if day != self.day {
            return (0, 0);
        }
        let by_kind = self.day_by_kind.get(kind).copied().unwrap_or(0);
        (by_kind, self.day_total)
    }

    /// Give back everything `id` took (its tick was dropped, or the venue
    /// refused it). Counters and the cooldown clock are restored only if the
    /// action was never released.
    pub(crate) fn give_back(&mut self, id: ActionId) {
        let Some(taken) = self.in_flight.remove(&id) else {
            return;
        };
        self.unreserve(&taken.reservations);
        if taken.released {
            return;
        }
        if taken.day == self.day {
            self.day_total = self.day_total.saturating_sub(1);
            if let Some(count) = self.day_by_kind.get_mut(&taken.kind) {
                *count = count.saturating_sub(1);
            }
        }
        match taken.previous_action_ms {
            Some(previous) => {
                self.last_action_ms.insert(taken.kind, previous);
            }
            None => {
                self.last_action_ms.remove(&taken.kind);
            }
        }
    }

    /// The venue executed `id`: its reservations become spent. Each
    /// allowance is charged its reservation, or what `spent` says the fill
    /// actually took from it if that is more.
    pub(crate) fn consume(&mut self, id: ActionId, spent: impl Fn(&Reservation) -> u128) {
        let Some(taken) = self.in_flight.remove(&id) else {
            return;
        };
        for reservation in &taken.reservations {
            if let Some(allowance) = self.allowances.get_mut(&reservation.allowance) {
                let charged = reservation.amount.max(spent(reservation));
                allowance.reserved = allowance.reserved.saturating_sub(reservation.amount);
                allowance.balance = allowance.balance.saturating_sub(charged);
            }
        }
    }

    fn unreserve(&mut self, reservations: &[Reservation]) {
        for reservation in reservations {
            if let Some(allowance) = self.allowances.get_mut(&reservation.allowance) {
                allowance.reserved = allowance.reserved.saturating_sub(reservation.amount);
            }
        }
    }
}

mod u128_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowance(balance: u128, at: u64) -> AllowanceState {
        AllowanceState {
            balance,
            reserved: 0,
            refilled_at_ms: at,
        }
    }

    #[test]
    fn accrual_adds_whole_periods_up_to_the_cap() {
        // refill 100 every 10 ms, capped at 250.
        let mut a = allowance(0, 0);
        a.accrue(9, 100, 250, 10);
        assert_eq!((a.balance, a.refilled_at_ms), (0, 0), "no whole period yet");
        a.accrue(25, 100, 250, 10);
        assert_eq!((a.balance, a.refilled_at_ms), (200, 20), "two periods");
        a.accrue(1_000, 100, 250, 10);
        assert_eq!((a.balance, a.refilled_at_ms), (250, 1_000), "capped");
    }

    #[test]
    fn a_balance_above_the_cap_is_left_alone_and_zero_period_never_refills() {
        let mut a = allowance(500, 0);
        a.accrue(100, 100, 250, 10);
        assert_eq!(a.balance, 500);
        let mut b = allowance(5, 0);
        b.accrue(u64::MAX, 100, 250, 0);
        assert_eq!(b.balance, 5);
    }

    #[test]
    fn state_round_trips_through_bytes() {
        let mut state = PolicyState::new();
        state.clock_ms = 9;
        state.allowances.insert("a".into(), allowance(u128::MAX, 7));
        state.in_flight.insert(
            3,
            InFlight {
                kind: "swap".into(),
                day: 1,
                previous_action_ms: Some(5),
                released: true,
                reservations: vec![Reservation {
                    allowance: "a".into(),
                    amount: 9,
                }],
            },
        );
        let bytes = state.to_bytes();
        assert_eq!(PolicyState::from_bytes(&bytes).ok(), Some(state));
        assert!(PolicyState::from_bytes(b"{\"bogus\":1}").is_err());
    }

    #[test]
    fn policy_time_never_goes_back_and_old_states_start_from_what_they_recorded() {
        let mut state = PolicyState::new();
        assert_eq!(state.observe(5_000), 5_000);
        assert_eq!(state.observe(1_000), 5_000, "backwards: held");
        assert_eq!(state.observe(7_000), 7_000);
        // A state journaled before `clock_ms` existed.
        let old = br#"{"last_action_ms":{"swap":42},"day":0}"#;
        let state = PolicyState::from_bytes(old).unwrap();
        assert_eq!(state.now_ms(), 42);
    }
}
