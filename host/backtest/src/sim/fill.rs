//! Fill models on the simulated market: released actions held until the
//! next candle's open or a later close, then executed against the venues
//! as they are at that point.

use stratbox_runtime::types::{Action, ActionId, ActionOutcome};

use super::error::SimError;
use super::market::SimMarket;
use crate::fill::FillModel;

impl SimMarket {
    /// The market executing the actions it is handed as `fill` says.
    pub fn with_fill(mut self, fill: FillModel) -> Self {
        self.queue.set_model(fill);
        self
    }

    /// When it executes the actions it is handed.
    pub fn fill_model(&self) -> FillModel {
        self.queue.model()
    }

    /// Take an accepted action released at the current candle: executed
    /// now ([`FillModel::Close`], and holds, which move nothing), or held
    /// until its fill point ([`SimMarket::settle_due`]).
    pub fn release(&mut self, id: ActionId, action: &Action) -> Option<ActionOutcome> {
        if self.queue.hold(id, action, self.index) {
            return None;
        }
        let at = self.now_ms();
        self.execute_as(id, at, action)
    }

    /// [`SimMarket::execute`] for action `id`, executing at `at_ms`: the
    /// round trip it closes names it and that time.
    fn execute_as(&mut self, id: ActionId, at_ms: u64, action: &Action) -> Option<ActionOutcome> {
        self.executing = Some((id, at_ms));
        let outcome = self.execute(action);
        self.executing = None;
        outcome
    }

    /// Whether `id` was released and waits for its fill point.
    pub fn is_queued(&self, id: ActionId) -> bool {
        self.queue.contains(id)
    }

    /// Execute the held actions whose fill point is the next candle,
    /// before that candle's tick; their outcomes. With
    /// [`FillModel::NextOpen`] the market first moves to that candle's
    /// open: every tape is priced at it (the driving tape's open; another
    /// tape's, if it has a candle opening then, else its latest close),
    /// the pools are arbitraged to those prices and the actions execute
    /// there; the tick then moves the market on to the candle's close as
    /// usual. It does so only at candles where actions fill: the extra
    /// arbitrage leg through the open pays the pools' LPs fees, and taking
    /// it at every candle would add that income to every LP's run (about
    /// doubling the arbitrage volume on the bundled ETH/BTC tape) as an
    /// artefact of the fill model. With [`FillModel::Latency`] the market
    /// moves to the candle (its close: interest, yield, redemptions,
    /// arbitrage, liquidations) and the actions execute there, before the
    /// tick that shows the candle.
    pub fn settle_due(&mut self) -> Vec<(ActionId, ActionOutcome)> {
        self.settled.clear();
        let Some(next) = self.ticked.map(|index| index + 1) else {
            return Vec::new();
        };
        if next >= self.len() || !self.queue.any_due(next) || self.deferred.is_some() {
            return Vec::new();
        }
        let executed_ms = match self.queue.model() {
            FillModel::Close => return Vec::new(),
            FillModel::NextOpen => {
                self.marks = self.open_marks(next);
                if let Err(error) = self.arbitrage() {
                    self.marks.clear();
                    self.deferred = Some(error);
                    return Vec::new();
                }
                self.tapes[0].candles()[next].timestamp_ms
            }
            FillModel::Latency(_) => {
                if let Err(error) = self.advance(next) {
                    self.deferred = Some(error);
                    return Vec::new();
                }
                self.entered = Some(next);
                self.now_ms()
            }
        };
        let mut outcomes = Vec::new();
        for (id, action) in self.queue.take_due(next) {
            if let Some(outcome) = self.execute_as(id, executed_ms, &action) {
                self.settled.push((id, outcome.clone(), executed_ms));
                outcomes.push((id, outcome));
            }
        }
        self.marks.clear();
        outcomes
    }

    /// Move to candle `index` for its tick, unless a settlement already
    /// did; the error of a settlement that could not.
    pub(crate) fn enter(&mut self, index: usize) -> Result<(), SimError> {
        if let Some(error) = self.deferred.take() {
            return Err(error);
        }
        if self.entered.take() != Some(index) {
            self.advance(index)?;
        }
        self.ticked = Some(index);
        Ok(())
    }

    /// The actions still held (the tape ended before their fill point),
    /// failed with [`NOT_FILLED_BEFORE_END`](crate::NOT_FILLED_BEFORE_END),
    /// once.
    pub fn unfilled(&mut self) -> Vec<(ActionId, ActionOutcome)> {
        self.queue.expire(self.len())
    }

    /// The held actions the last settlement executed: id, outcome, and
    /// when they executed (ms: the candle's open time for
    /// [`FillModel::NextOpen`], its close time otherwise).
    pub(crate) fn settled(&self) -> &[(ActionId, ActionOutcome, u64)] {
        &self.settled
    }

    /// The price of every tape when driving candle `next` opens.
    fn open_marks(&self, next: usize) -> Vec<Option<f64>> {
        let Some(opening) = self.tapes[0].candles().get(next) else {
            return Vec::new();
        };
        self.tapes
            .iter()
            .zip(&self.cursors)
            .enumerate()
            .map(|(position, (tape, cursor))| {
                if position == 0 {
                    return Some(opening.open);
                }
                tape.candles()
                    .get(cursor + 1)
                    .filter(|c| c.timestamp_ms == opening.timestamp_ms)
                    .map(|c| c.open)
            })
            .collect()
    }
}
