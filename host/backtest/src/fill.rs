//! When a backtest venue executes an accepted action: the fill model.
//!
//! The engine's loop hands each accepted action to the venue as soon as
//! its tick ends ([`Venue::execute`](stratbox_engine::Venue::execute)).
//! With [`FillModel::Close`] the paper and simulated venues execute it
//! there and then, at the close of the candle the strategy just saw. The
//! other models queue it, and the venue executes it when it reaches the
//! fill point, in the settlement the loop asks for before the tick of the
//! candle that point belongs to
//! ([`Venue::settle`](stratbox_engine::Venue::settle)): the outcome is
//! journaled then and delivered to the strategy at that tick. Actions still
//! queued when the tape ends fail with [`NOT_FILLED_BEFORE_END`].

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use stratbox_runtime::types::{Action, ActionId, ActionOutcome, Failure};

/// The failure code of an action still queued when the tape ended: its
/// fill point lies past the last candle.
pub const NOT_FILLED_BEFORE_END: &str = "NOT_FILLED_BEFORE_END";

/// When a backtest venue executes an accepted action. Written (CLI flag
/// `--fill`, JSON reports) as `close`, `next-open` or `latency:N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FillModel {
    /// At the close of the candle the strategy just saw, as soon as its
    /// tick ends (zero latency). The default.
    #[default]
    Close,
    /// At the open of the next candle: the venue moves to that open (AMM
    /// pools are arbitraged to it), executes, then moves on to the close.
    /// The outcome reaches the strategy at the next tick, as with `Close`.
    NextOpen,
    /// At the close of the candle this many ticks later (at least 1); the
    /// outcome reaches the strategy at that candle's tick. `Latency(1)`
    /// fills one candle later than `Close`, at the next candle's close.
    Latency(u32),
}

impl FillModel {
    /// Ticks from the one that released an action to the one at whose
    /// candle it executes: 0, 1, N.
    pub fn delay(self) -> usize {
        match self {
            FillModel::Close => 0,
            FillModel::NextOpen => 1,
            FillModel::Latency(blocks) => blocks as usize,
        }
    }

    /// Whether actions wait for a later candle.
    pub fn is_delayed(self) -> bool {
        self != FillModel::Close
    }

    /// What the model does, for reports: `fills at the open of the next
    /// candle; outcome at the next tick`.
    pub fn explain(self) -> String {
        match self {
            FillModel::Close => {
                "fills at the close of the candle the strategy saw, zero latency; the default"
                    .to_owned()
            }
            FillModel::NextOpen => {
                "fills at the open of the next candle; outcome at the next tick".to_owned()
            }
            FillModel::Latency(blocks) => format!(
                "fills at the close of the candle {blocks} tick{} later; outcome at that tick",
                if blocks == 1 { "" } else { "s" }
            ),
        }
    }
}

impl fmt::Display for FillModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FillModel::Close => f.write_str("close"),
            FillModel::NextOpen => f.write_str("next-open"),
            FillModel::Latency(blocks) => write!(f, "latency:{blocks}"),
        }
    }
}

/// Why a fill model could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a fill model: expected close, next-open or latency:N (N >= 1 ticks)")]
pub struct ParseFillModelError(String);

impl FromStr for FillModel {
    type Err = ParseFillModelError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || ParseFillModelError(text.to_owned());
        match text.trim() {
            "close" => Ok(FillModel::Close),
            "next-open" | "next_open" => Ok(FillModel::NextOpen),
            other => {
                let blocks = other
                    .strip_prefix("latency:")
                    .ok_or_else(error)?
                    .parse::<u32>()
                    .map_err(|_| error())?;
                if blocks == 0 {
                    return Err(error());
                }
                Ok(FillModel::Latency(blocks))
            }
        }
    }
}

impl Serialize for FillModel {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for FillModel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// An accepted action waiting for its fill point.
#[derive(Debug, Clone)]
struct Queued {
    id: ActionId,
    action: Action,
    /// Index of the candle it executes at.
    due: usize,
}

/// When a venue executes the actions it is handed, and the actions it
/// holds until their fill point, in release order.
#[derive(Debug, Clone, Default)]
pub(crate) struct FillQueue {
    model: FillModel,
    queued: VecDeque<Queued>,
}

impl FillQueue {
    /// The fill model.
    pub(crate) fn model(&self) -> FillModel {
        self.model
    }

    /// Execute later actions as `model` says.
    pub(crate) fn set_model(&mut self, model: FillModel) {
        self.model = model;
    }

    /// Hold `action`, released at candle `index`, until its fill point if
    /// the model delays it (holds move nothing and are never delayed);
    /// whether it was held.
    pub(crate) fn hold(&mut self, id: ActionId, action: &Action, index: usize) -> bool {
        if !self.model.is_delayed() || matches!(action, Action::Hold(_)) {
            return false;
        }
        self.queued.push_back(Queued {
            id,
            action: action.clone(),
            due: index + self.model.delay(),
        });
        true
    }

    /// Whether any action waits for a candle up to `index`.
    pub(crate) fn any_due(&self, index: usize) -> bool {
        self.queued.front().is_some_and(|q| q.due <= index)
    }

    /// The actions due at candle `index` (or before), in release order.
    pub(crate) fn take_due(&mut self, index: usize) -> Vec<(ActionId, Action)> {
        let mut due = Vec::new();
        // Every model delays by the same number of ticks: the queue is in
        // `due` order.
        while self.queued.front().is_some_and(|q| q.due <= index) {
            if let Some(q) = self.queued.pop_front() {
                due.push((q.id, q.action));
            }
        }
        due
    }

    /// Whether `id` is waiting.
    pub(crate) fn contains(&self, id: ActionId) -> bool {
        self.queued.iter().any(|q| q.id == id)
    }

    /// Every waiting action, failed with [`NOT_FILLED_BEFORE_END`]: the
    /// tape of `candles` candles ended before their fill point.
    pub(crate) fn expire(&mut self, candles: usize) -> Vec<(ActionId, ActionOutcome)> {
        let fill = self.model;
        self.queued
            .drain(..)
            .map(|q| {
                let reason = format!(
                    "the tape ended before this action's fill point ({fill}: candle {} of {candles})",
                    q.due + 1
                );
                (
                    q.id,
                    ActionOutcome::Failed(Failure {
                        code: NOT_FILLED_BEFORE_END.to_owned(),
                        reason,
                        tx_hash: None,
                    }),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use stratbox_runtime::types::{Action, ActionOutcome, Fill, Swap, SwapAmount};
    use stratbox_tape::{Candle, Tape};

    use super::*;
    use crate::{PaperMarket, PaperMarketConfig, Venue};

    const BTC: u128 = 100_000_000;
    const E18: u128 = 1_000_000_000_000_000_000;

    /// ETH/BTC candles whose opens differ from the previous closes:
    /// (open, close).
    fn tape(candles: &[(f64, f64)]) -> Tape {
        let candles = candles
            .iter()
            .enumerate()
            .map(|(i, &(open, close))| Candle {
                timestamp_ms: i as u64 * 300_000,
                open,
                high: open.max(close),
                low: open.min(close),
                close,
                volume: 1.0,
            })
            .collect();
        Tape::new("ETH/BTC", candles).unwrap()
    }

    fn gapping() -> Tape {
        tape(&[
            (0.050, 0.040),
            (0.080, 0.064),
            (0.020, 0.025),
            (0.10, 0.125),
        ])
    }

    /// A paper market with 10 BTC and no fee.
    fn paper(fill: FillModel) -> PaperMarket {
        let mut config = PaperMarketConfig::new("ETH", "BTC", 10);
        config.fee_bps = 0;
        PaperMarket::new(gapping(), config).with_fill(fill)
    }

    fn buy_eth(btc: u128) -> Action {
        Action::Swap(Swap {
            sell: "BTC".into(),
            buy: "ETH".into(),
            amount: SwapAmount::ExactIn(btc.into()),
            max_slippage_bps: 100,
            venue: None,
        })
    }

    fn fill(outcome: &ActionOutcome) -> &Fill {
        match outcome {
            ActionOutcome::Filled(fill) => fill,
            ActionOutcome::Failed(failure) => panic!("expected a fill: {failure:?}"),
        }
    }

    /// Whole ETH bought per whole BTC: the fill's price is its inverse.
    fn price_of(outcome: &ActionOutcome) -> f64 {
        let fill = fill(outcome);
        let btc = fill.spent[0].amount.to_u128() as f64 / BTC as f64;
        let eth = fill.received[0].amount.to_u128() as f64 / E18 as f64;
        btc / eth
    }

    #[test]
    fn fill_models_parse_and_print_as_the_cli_writes_them() {
        for (text, model) in [
            ("close", FillModel::Close),
            ("next-open", FillModel::NextOpen),
            ("latency:2", FillModel::Latency(2)),
        ] {
            assert_eq!(text.parse::<FillModel>().unwrap(), model);
            assert_eq!(model.to_string(), text);
            assert_eq!(
                serde_json::to_string(&model).unwrap(),
                format!("\"{text}\"")
            );
            assert_eq!(
                serde_json::from_str::<FillModel>(&format!("\"{text}\"")).unwrap(),
                model
            );
        }
        assert_eq!(
            "next_open".parse::<FillModel>().unwrap(),
            FillModel::NextOpen
        );
        assert_eq!(FillModel::default(), FillModel::Close);
        for bad in [
            "",
            "open",
            "latency",
            "latency:",
            "latency:0",
            "latency:-1",
            "latency:x",
        ] {
            assert!(bad.parse::<FillModel>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn close_fills_a_paper_swap_at_the_close_of_the_candle_seen() {
        let mut market = paper(FillModel::Close);
        market.begin_tick(0).unwrap();
        let outcome = Venue::execute(&mut market, 1, &buy_eth(BTC)).unwrap();
        assert!((price_of(&outcome) - 0.040).abs() < 1e-12);
        assert!(Venue::settle(&mut market).is_empty());
    }

    #[test]
    fn next_open_fills_a_paper_swap_at_the_next_candles_open() {
        let mut market = paper(FillModel::NextOpen);
        market.begin_tick(0).unwrap();
        assert_eq!(Venue::execute(&mut market, 1, &buy_eth(BTC)), None);
        assert_eq!(market.balance("BTC"), 10 * BTC, "nothing moved yet");
        // Before the next tick: the open of candle 1 (0.080), not the
        // close of candle 0 (0.040) nor candle 1's close (0.064).
        let settled = Venue::settle(&mut market);
        assert_eq!(settled.len(), 1);
        assert_eq!(settled[0].0, 1);
        assert!((price_of(&settled[0].1) - 0.080).abs() < 1e-12);
        assert_eq!(market.balance("BTC"), 9 * BTC);
        market.begin_tick(1).unwrap();
        assert!(Venue::settle(&mut market).is_empty(), "settled once");
        // Holds move nothing, whatever the fill model.
        assert_eq!(
            Venue::execute(&mut market, 2, &Action::Hold("wait".into())),
            None
        );
        assert!(Venue::settle(&mut market).is_empty());
    }

    #[test]
    fn latency_fills_a_paper_swap_at_the_close_n_ticks_later() {
        let mut market = paper(FillModel::Latency(2));
        market.begin_tick(0).unwrap();
        assert_eq!(Venue::execute(&mut market, 7, &buy_eth(BTC)), None);
        assert!(Venue::settle(&mut market).is_empty(), "one tick later");
        market.begin_tick(1).unwrap();
        let settled = Venue::settle(&mut market);
        assert_eq!(settled.len(), 1, "two ticks later");
        assert_eq!(settled[0].0, 7);
        // The close of candle 2.
        assert!((price_of(&settled[0].1) - 0.025).abs() < 1e-12);
        market.begin_tick(2).unwrap();
        assert!(market.unfilled().is_empty());
    }

    #[test]
    fn actions_still_queued_when_the_tape_ends_fail_with_a_code() {
        let mut market = paper(FillModel::Latency(2));
        let mut filled = Vec::new();
        for index in 0..4 {
            filled.extend(Venue::settle(&mut market).into_iter().map(|(id, _)| id));
            market.begin_tick(index).unwrap();
            assert_eq!(
                Venue::execute(&mut market, index as u64, &buy_eth(BTC)),
                None
            );
        }
        assert_eq!(filled, vec![0, 1]);
        // Candle 3 is the last: the actions of candles 2 and 3 never fill.
        let unfilled = market.unfilled();
        assert_eq!(
            unfilled.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            vec![2, 3]
        );
        for (_, outcome) in &unfilled {
            let ActionOutcome::Failed(failure) = outcome else {
                panic!("{outcome:?}");
            };
            assert_eq!(failure.code, NOT_FILLED_BEFORE_END);
        }
        assert!(market.unfilled().is_empty(), "reported once");
        assert_eq!(market.balance("BTC"), 8 * BTC);
    }
}
