//! Named strategy states with optional transition rules and a timer.
//!
//! ```
//! use stratbox_sdk::state_machine::StateMachine;
//!
//! #[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
//! enum Phase {
//!     Flat,
//!     Entering,
//!     Long,
//! }
//!
//! let mut phase = StateMachine::with_transitions(
//!     Phase::Flat,
//!     &[
//!         (Phase::Flat, Phase::Entering),
//!         (Phase::Entering, Phase::Long),
//!         (Phase::Entering, Phase::Flat),
//!         (Phase::Long, Phase::Flat),
//!     ],
//! );
//! assert_eq!(phase.transition(Phase::Entering, 1_000), Ok(Phase::Flat));
//! assert_eq!(phase.elapsed_ms(4_000), 3_000);
//! assert!(phase.transition(Phase::Flat, 5_000).is_ok());
//! assert!(phase.transition(Phase::Long, 6_000).is_err());
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

/// The current state of a strategy, when it was entered and which moves
/// are allowed.
///
/// Meant to live in a strategy's fields: it serializes with serde (state,
/// timer, transition count and the allowed-transition table), so it is
/// persisted in the strategy's snapshot and restored with it. Times are
/// whatever millisecond clock the caller passes in (typically the tick's
/// timestamp); the machine never reads a clock itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StateMachine<S> {
    state: S,
    entered_at_ms: u64,
    transitions: u64,
    /// `None`: any transition is allowed.
    allowed: Option<Vec<(S, S)>>,
}

impl<S: Copy + Eq + fmt::Debug> StateMachine<S> {
    /// A machine in `initial` that allows any transition. The timer starts
    /// at 0.
    pub fn new(initial: S) -> Self {
        StateMachine {
            state: initial,
            entered_at_ms: 0,
            transitions: 0,
            allowed: None,
        }
    }

    /// A machine in `initial` that allows only the listed `(from, to)`
    /// transitions. The timer starts at 0.
    pub fn with_transitions(initial: S, allowed: &[(S, S)]) -> Self {
        StateMachine {
            allowed: Some(allowed.to_vec()),
            ..StateMachine::new(initial)
        }
    }

    /// The current state.
    pub fn state(&self) -> S {
        self.state
    }

    /// Whether the current state is `s`.
    pub fn is(&self, s: S) -> bool {
        self.state == s
    }

    /// When the current state was entered (0 until the first transition).
    pub fn entered_at_ms(&self) -> u64 {
        self.entered_at_ms
    }

    /// Milliseconds spent in the current state at `now_ms` (0 if `now_ms`
    /// is earlier than the entry time).
    pub fn elapsed_ms(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(self.entered_at_ms)
    }

    /// How many transitions have happened (no-op transitions excluded).
    pub fn transitions(&self) -> u64 {
        self.transitions
    }

    /// Whether [`transition`](Self::transition) to `to` would succeed now.
    pub fn can_transition(&self, to: S) -> bool {
        to == self.state
            || self
                .allowed
                .as_ref()
                .is_none_or(|allowed| allowed.contains(&(self.state, to)))
    }

    /// Moves to `to` at `now_ms` and returns the previous state.
    ///
    /// A transition to the current state is always allowed and is a no-op:
    /// it neither restarts the timer nor counts as a transition. A move
    /// that is not in the allowed table leaves the machine unchanged and
    /// returns a [`TransitionError`].
    pub fn transition(&mut self, to: S, now_ms: u64) -> Result<S, TransitionError<S>> {
        let from = self.state;
        if to == from {
            return Ok(from);
        }
        if !self.can_transition(to) {
            return Err(TransitionError { from, to });
        }
        self.state = to;
        self.entered_at_ms = now_ms;
        self.transitions = self.transitions.saturating_add(1);
        Ok(from)
    }
}

/// A transition that the machine's table does not allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransitionError<S> {
    /// The state the machine was (and still is) in.
    pub from: S,
    /// The rejected target state.
    pub to: S,
}

impl<S: fmt::Debug> fmt::Display for TransitionError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "state transition from {:?} to {:?} is not allowed",
            self.from, self.to
        )
    }
}

impl<S: fmt::Debug> std::error::Error for TransitionError<S> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    enum Phase {
        Flat,
        Entering,
        Long,
        Cooldown,
    }
    use Phase::*;

    fn guarded() -> StateMachine<Phase> {
        StateMachine::with_transitions(
            Flat,
            &[
                (Flat, Entering),
                (Entering, Long),
                (Entering, Flat),
                (Long, Cooldown),
                (Cooldown, Flat),
            ],
        )
    }

    #[test]
    fn starts_in_initial_state() {
        let m = StateMachine::new(Flat);
        assert_eq!(m.state(), Flat);
        assert!(m.is(Flat));
        assert!(!m.is(Long));
        assert_eq!(m.entered_at_ms(), 0);
        assert_eq!(m.transitions(), 0);
        assert_eq!(m.elapsed_ms(1_500), 1_500);
    }

    #[test]
    fn free_machine_allows_anything() {
        let mut m = StateMachine::new(Flat);
        assert_eq!(m.transition(Cooldown, 10), Ok(Flat));
        assert_eq!(m.transition(Long, 20), Ok(Cooldown));
        assert_eq!(m.state(), Long);
        assert_eq!(m.entered_at_ms(), 20);
        assert_eq!(m.transitions(), 2);
    }

    #[test]
    fn allowed_path_and_timer() {
        let mut m = guarded();
        assert_eq!(m.transition(Entering, 1_000), Ok(Flat));
        assert_eq!(m.entered_at_ms(), 1_000);
        assert_eq!(m.elapsed_ms(1_250), 250);
        // The clock going backwards saturates at zero.
        assert_eq!(m.elapsed_ms(900), 0);
        assert_eq!(m.transition(Long, 2_000), Ok(Entering));
        assert_eq!(m.transition(Cooldown, 3_000), Ok(Long));
        assert_eq!(m.transition(Flat, 4_000), Ok(Cooldown));
        assert_eq!(m.transitions(), 4);
        assert_eq!(m.elapsed_ms(4_001), 1);
    }

    #[test]
    fn rejected_transition_changes_nothing() {
        let mut m = guarded();
        assert!(!m.can_transition(Long));
        let err = m
            .transition(Long, 500)
            .expect_err("Flat -> Long is not allowed");
        assert_eq!(
            err,
            TransitionError {
                from: Flat,
                to: Long
            }
        );
        assert_eq!(
            err.to_string(),
            "state transition from Flat to Long is not allowed"
        );
        assert_eq!(m.state(), Flat);
        assert_eq!(m.entered_at_ms(), 0);
        assert_eq!(m.transitions(), 0);
        // Usable with `?` in strategy callbacks.
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
        assert!(boxed.to_string().contains("not allowed"));
    }

    #[test]
    fn self_transition_is_a_no_op() {
        let mut m = guarded();
        assert_eq!(m.transition(Entering, 100), Ok(Flat));
        // Entering -> Entering is not in the table but is always fine, and
        // keeps the original entry time.
        assert!(m.can_transition(Entering));
        assert_eq!(m.transition(Entering, 900), Ok(Entering));
        assert_eq!(m.entered_at_ms(), 100);
        assert_eq!(m.transitions(), 1);
    }

    #[test]
    fn serde_round_trip() {
        let mut m = guarded();
        m.transition(Entering, 1_234).expect("allowed");
        m.transition(Long, 5_678).expect("allowed");
        let json = serde_json::to_string(&m).expect("serialize");
        let mut back: StateMachine<Phase> = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, m);
        assert_eq!(back.state(), Long);
        assert_eq!(back.entered_at_ms(), 5_678);
        assert_eq!(back.transitions(), 2);
        assert_eq!(back.elapsed_ms(6_000), 322);
        // The transition table survives too.
        assert!(back.transition(Flat, 7_000).is_err());
        assert_eq!(back.transition(Cooldown, 7_000), Ok(Long));

        let free = StateMachine::new(Flat);
        let json = serde_json::to_string(&free).expect("serialize");
        assert_eq!(
            json,
            r#"{"state":"Flat","entered_at_ms":0,"transitions":0,"allowed":null}"#
        );
        let back: StateMachine<Phase> = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, free);
    }
}
