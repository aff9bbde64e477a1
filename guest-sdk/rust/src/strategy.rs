use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::context::Context;
use crate::types::{ActionId, ActionOutcome, TickContext};

/// Error a strategy returns from a callback; the host reports it as a
/// guest-returned error and rolls the tick back.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A trading strategy.
///
/// The host calls [`Strategy::init`] once on a fresh instance, then, per
/// tick, [`Strategy::on_action_result`] for each outcome that arrived and
/// [`Strategy::on_tick`]. Between ticks it may take a [`Strategy::snapshot`];
/// after a failed tick it builds a fresh instance, calls `init` with the same
/// config and then [`Strategy::restore`] with the last committed snapshot.
///
/// The default snapshot is the strategy serialized as JSON, so a strategy
/// whose whole state lives in its fields needs only `#[derive(Serialize,
/// Deserialize)]`.
pub trait Strategy: Serialize + DeserializeOwned + Send + 'static {
    /// Build the strategy from its JSON config.
    fn init(config: &str, ctx: &mut Context<'_>) -> Result<Self, Error>;

    /// React to a new tick.
    fn on_tick(&mut self, ctx: &mut Context<'_>, tick: &TickContext) -> Result<(), Error>;

    /// React to the outcome (fill or failure) of an action emitted earlier.
    fn on_action_result(
        &mut self,
        ctx: &mut Context<'_>,
        id: ActionId,
        outcome: &ActionOutcome,
    ) -> Result<(), Error> {
        let _ = (ctx, id, outcome);
        Ok(())
    }

    /// Serialize the strategy's state.
    fn snapshot(&self) -> Result<Vec<u8>, Error> {
        Ok(serde_json::to_vec(self)?)
    }

    /// Replace the strategy's state with a snapshot.
    fn restore(&mut self, state: &[u8]) -> Result<(), Error> {
        *self = serde_json::from_slice(state)?;
        Ok(())
    }
}

/// Parse a strategy's JSON config; empty text means `T::default()`.
///
/// Unknown fields are refused if `T` says `#[serde(deny_unknown_fields)]`.
pub fn parse_config<T: DeserializeOwned + Default>(config: &str) -> Result<T, Error> {
    if config.trim().is_empty() {
        return Ok(T::default());
    }
    serde_json::from_str(config).map_err(|e| format!("invalid config: {e}").into())
}
