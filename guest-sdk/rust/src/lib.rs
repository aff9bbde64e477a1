//! Rust SDK for stratbox strategies.
//!
//! A strategy is one struct and one [`Strategy`] impl, exported with
//! [`export_strategy!`]. It reads the market through a [`Context`] and emits
//! actions through it; every emission comes back with the policy's verdict.
//!
//! ```ignore
//! use stratbox_sdk::prelude::*;
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Hodl;
//!
//! impl Strategy for Hodl {
//!     fn init(_config: &str, _ctx: &mut Context<'_>) -> Result<Self, Error> {
//!         Ok(Hodl)
//!     }
//!     fn on_tick(&mut self, ctx: &mut Context<'_>, _tick: &TickContext) -> Result<(), Error> {
//!         ctx.hold("nothing to do")?;
//!         Ok(())
//!     }
//! }
//!
//! stratbox_sdk::export_strategy!(Hodl);
//! ```
//!
//! The same strategy code compiles natively too: [`Context`] talks to any
//! [`Host`], and the WebAssembly export glue uses [`WasmHost`], which calls
//! the component's imports.

mod action;
pub mod amount;
pub mod bindings;
mod context;
#[doc(hidden)]
pub mod export;
mod host;
pub mod indicators;
pub mod long_only;
mod names;
pub mod state_machine;
mod strategy;
mod tick;

pub use amount::{AmountError, TokenAmount};
pub use context::Context;
pub use host::{Host, WasmHost};
pub use strategy::{Error, Strategy, parse_config};

/// WIT types, re-exported under short names.
pub mod types {
    pub use crate::bindings::exports::stratbox::strategy::strategy::{
        ActionOutcome, Failure, Fill,
    };
    pub use crate::bindings::stratbox::strategy::actions::{
        Action, Denial, LendingOp, LpClose, LpCollect, LpOpen, LpRange, Rejection, Swap,
        SwapAmount, VaultOp,
    };
    pub use crate::bindings::stratbox::strategy::oracle::{
        DeploymentInfo, LendingState, OracleError, PoolState, Position, PositionKind, VaultState,
    };
    pub use crate::bindings::stratbox::strategy::types::{
        ActionId, Amount, AssetAmount, BlockInfo, Candle, Level, Uint256,
    };
    pub use crate::tick::{Candles, CandlesIter, MarketCandle, TickContext};
}

/// Everything a typical strategy needs.
pub mod prelude {
    pub use crate::indicators::{Atr, Bollinger, BollingerBands, Ema, Rsi, Sma};
    pub use crate::long_only::{Attempt, LongOnly, Stage};
    pub use crate::state_machine::StateMachine;
    pub use crate::types::*;
    pub use crate::{Context, Error, Strategy, TokenAmount, parse_config};
}
