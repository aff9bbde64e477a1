//! Position tracking for long-only spot strategies: enter by selling the
//! quote asset, exit by selling everything bought, and move between states
//! only when the venue reports fills.

use serde::{Deserialize, Serialize};

use crate::context::Context;
use crate::state_machine::StateMachine;
use crate::types::{ActionId, ActionOutcome, Amount, Rejection};

/// Where a long-only position stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    /// No position, nothing in flight.
    Flat,
    /// A buy was accepted; waiting for its fill.
    Entering,
    /// Holding the base asset.
    Long,
    /// A sell was accepted; waiting for its fill.
    Exiting,
}

/// What [`LongOnly::enter`] or [`LongOnly::exit`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    /// Not attempted: wrong stage or still cooling down.
    Skipped,
    /// The policy accepted the swap.
    Accepted(ActionId),
    /// The policy (or validation) rejected it; the stage is unchanged and
    /// the cooldown restarts.
    Rejected(Rejection),
}

/// A long-only position in `base`, funded in `quote`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LongOnly {
    base: String,
    quote: String,
    stage: StateMachine<Stage>,
    pending: Option<ActionId>,
    /// Base units held (from fills).
    held: u128,
    cooldown_ms: u64,
    last_attempt_ms: Option<u64>,
    max_slippage_bps: u32,
}

impl LongOnly {
    /// A flat position; after any attempt, wait `cooldown_ms` before the
    /// next.
    pub fn new(base: &str, quote: &str, cooldown_ms: u64, max_slippage_bps: u32) -> Self {
        LongOnly {
            base: base.to_owned(),
            quote: quote.to_owned(),
            stage: StateMachine::with_transitions(
                Stage::Flat,
                &[
                    (Stage::Flat, Stage::Entering),
                    (Stage::Entering, Stage::Long),
                    (Stage::Entering, Stage::Flat),
                    (Stage::Long, Stage::Exiting),
                    (Stage::Exiting, Stage::Flat),
                    (Stage::Exiting, Stage::Long),
                ],
            ),
            pending: None,
            held: 0,
            cooldown_ms,
            last_attempt_ms: None,
            max_slippage_bps,
        }
    }

    /// Current stage.
    pub fn stage(&self) -> Stage {
        self.stage.state()
    }

    /// Base units held.
    pub fn held(&self) -> Amount {
        Amount::from_u128(self.held)
    }

    fn cooled_down(&self, now_ms: u64) -> bool {
        self.last_attempt_ms
            .is_none_or(|last| now_ms.saturating_sub(last) >= self.cooldown_ms)
    }

    /// Buy `base` with `spend` units of `quote`, if flat and cooled down.
    pub fn enter(&mut self, ctx: &mut Context<'_>, now_ms: u64, spend: Amount) -> Attempt {
        if self.stage() != Stage::Flat || !self.cooled_down(now_ms) {
            return Attempt::Skipped;
        }
        let (sell, buy) = (self.quote.clone(), self.base.clone());
        self.attempt(ctx, now_ms, &sell, &buy, spend, Stage::Entering)
    }

    /// Sell everything held, if long and cooled down.
    pub fn exit(&mut self, ctx: &mut Context<'_>, now_ms: u64) -> Attempt {
        if self.stage() != Stage::Long || !self.cooled_down(now_ms) || self.held == 0 {
            return Attempt::Skipped;
        }
        let (sell, buy) = (self.base.clone(), self.quote.clone());
        let held = self.held();
        self.attempt(ctx, now_ms, &sell, &buy, held, Stage::Exiting)
    }

    fn attempt(
        &mut self,
        ctx: &mut Context<'_>,
        now_ms: u64,
        sell: &str,
        buy: &str,
        amount: Amount,
        next: Stage,
    ) -> Attempt {
        self.last_attempt_ms = Some(now_ms);
        match ctx.swap_exact_in(sell, buy, amount, self.max_slippage_bps) {
            Ok(id) => {
                self.pending = Some(id);
                self.move_to(next, now_ms);
                Attempt::Accepted(id)
            }
            Err(rejection) => Attempt::Rejected(rejection),
        }
    }

    /// Feed an action outcome; returns whether it was this position's.
    pub fn on_result(&mut self, id: ActionId, outcome: &ActionOutcome, now_ms: u64) -> bool {
        if self.pending != Some(id) {
            return false;
        }
        self.pending = None;
        let filled = match outcome {
            ActionOutcome::Filled(fill) => Some(fill),
            ActionOutcome::Failed(_) => None,
        };
        match (self.stage(), filled) {
            (Stage::Entering, Some(fill)) => {
                self.held += units_of(&fill.received, &self.base);
                self.move_to(Stage::Long, now_ms);
            }
            (Stage::Entering, None) => self.move_to(Stage::Flat, now_ms),
            (Stage::Exiting, Some(fill)) => {
                self.held = self.held.saturating_sub(units_of(&fill.spent, &self.base));
                let next = if self.held == 0 {
                    Stage::Flat
                } else {
                    Stage::Long
                };
                self.move_to(next, now_ms);
            }
            (Stage::Exiting, None) => self.move_to(Stage::Long, now_ms),
            (Stage::Flat | Stage::Long, _) => {}
        }
        true
    }

    fn move_to(&mut self, stage: Stage, now_ms: u64) {
        // The transition table above lists every move this type makes.
        let _ = self.stage.transition(stage, now_ms);
    }
}

fn units_of(amounts: &[crate::types::AssetAmount], asset: &str) -> u128 {
    amounts
        .iter()
        .filter(|a| a.asset == asset)
        .map(|a| a.amount.to_u128())
        .fold(0u128, u128::saturating_add)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::Host;
    use crate::types::*;

    /// Accepts every action with increasing ids.
    #[derive(Default)]
    struct Accepting(u64);

    impl Host for Accepting {
        fn deployment(&mut self) -> DeploymentInfo {
            DeploymentInfo {
                id: "t".into(),
                account: "t".into(),
            }
        }
        fn block(&mut self) -> BlockInfo {
            BlockInfo {
                chain_id: 0,
                number: 0,
                timestamp_ms: 0,
            }
        }
        fn price(&mut self, _: &str, _: &str) -> Result<f64, OracleError> {
            Err(OracleError::Unknown(String::new()))
        }
        fn candles(&mut self, _: &str, _: u32) -> Result<Vec<Candle>, OracleError> {
            Ok(Vec::new())
        }
        fn balance(&mut self, _: &str) -> Result<Amount, OracleError> {
            Ok(Amount::ZERO)
        }
        fn emit(&mut self, _: &Action) -> Result<ActionId, Rejection> {
            self.0 += 1;
            Ok(self.0)
        }
        fn log(&mut self, _: Level, _: &str) {}
    }

    fn fill(spent: (&str, u128), received: (&str, u128)) -> ActionOutcome {
        let amount = |(asset, units): (&str, u128)| AssetAmount {
            asset: asset.into(),
            amount: units.into(),
        };
        ActionOutcome::Filled(Fill {
            spent: vec![amount(spent)],
            received: vec![amount(received)],
            fees: Vec::new(),
            gas: None,
            tx_hash: None,
            position: None,
        })
    }

    #[test]
    fn enter_fill_exit_fill_round_trip() {
        let mut host = Accepting::default();
        let mut ctx = Context::new(&mut host);
        let mut position = LongOnly::new("ETH", "BTC", 1_000, 50);
        let Attempt::Accepted(buy) = position.enter(&mut ctx, 0, 100u64.into()) else {
            panic!("flat position must enter");
        };
        assert_eq!(position.stage(), Stage::Entering);
        assert_eq!(position.exit(&mut ctx, 5_000), Attempt::Skipped);
        assert!(position.on_result(buy, &fill(("BTC", 100), ("ETH", 7)), 10));
        assert_eq!(
            (position.stage(), position.held().to_u128()),
            (Stage::Long, 7)
        );
        assert_eq!(
            position.exit(&mut ctx, 500),
            Attempt::Skipped,
            "cooling down"
        );
        let Attempt::Accepted(sell) = position.exit(&mut ctx, 1_000) else {
            panic!("long position must exit after the cooldown");
        };
        assert!(!position.on_result(buy, &fill(("ETH", 7), ("BTC", 99)), 11));
        assert!(position.on_result(sell, &fill(("ETH", 7), ("BTC", 99)), 12));
        assert_eq!(
            (position.stage(), position.held().to_u128()),
            (Stage::Flat, 0)
        );
    }

    #[test]
    fn failed_entry_returns_to_flat() {
        let mut host = Accepting::default();
        let mut ctx = Context::new(&mut host);
        let mut position = LongOnly::new("ETH", "BTC", 0, 50);
        let Attempt::Accepted(id) = position.enter(&mut ctx, 0, 1u64.into()) else {
            panic!("must enter");
        };
        let failure = ActionOutcome::Failed(Failure {
            code: "SIMULATION_REVERTED".into(),
            reason: "too little received".into(),
            tx_hash: None,
        });
        assert!(position.on_result(id, &failure, 1));
        assert_eq!(position.stage(), Stage::Flat);
    }
}
