//! Glue between the WIT exports and a [`Strategy`]; used by
//! [`export_strategy!`](crate::export_strategy). Not part of the public API.

use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::bindings::stratbox::strategy::{oracle, types as wit_types};
use crate::context::Context;
use crate::host::{Host, WasmHost};
use crate::names;
use crate::strategy::Strategy;
use crate::types::{ActionId, ActionOutcome, Candles, Level, MarketCandle, TickContext};

pub use crate::bindings::export_guest;
pub use crate::bindings::exports::stratbox::strategy::strategy::{
    Guest, TickContext as WireTickContext,
};

/// Why the last `on-tick` failed, until the host asks (`last-error`).
static LAST_ERROR: Mutex<String> = Mutex::new(String::new());

/// Where the single strategy instance of a component lives.
pub struct Slot<S>(Mutex<Option<S>>);

impl<S> Slot<S> {
    /// An empty slot.
    pub const fn new() -> Self {
        Slot(Mutex::new(None))
    }

    fn lock(&self) -> MutexGuard<'_, Option<S>> {
        // A panic aborts the instance, so a poisoned lock cannot be observed
        // by a later call; recovering the guard is only for form's sake.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<S> Default for Slot<S> {
    fn default() -> Self {
        Self::new()
    }
}

fn with_strategy<S: Strategy, R>(
    slot: &Slot<S>,
    f: impl FnOnce(&mut S, &mut Context<'_>) -> Result<R, crate::Error>,
) -> Result<R, String> {
    let mut guard = slot.lock();
    let strategy = guard
        .as_mut()
        .ok_or_else(|| "strategy called before init".to_owned())?;
    let mut host = WasmHost;
    let mut ctx = Context::new(&mut host);
    f(strategy, &mut ctx).map_err(|e| e.to_string())
}

/// `init` export.
pub fn init<S: Strategy>(slot: &Slot<S>, config: String) -> Result<(), String> {
    install_panic_hook();
    let mut host = WasmHost;
    let mut ctx = Context::new(&mut host);
    let strategy = S::init(&config, &mut ctx).map_err(|e| e.to_string())?;
    *slot.lock() = Some(strategy);
    Ok(())
}

/// `on-tick` export: the message of a failure waits for `last-error`.
// The world's `result` carries no payload, so a successful tick returns one
// flat value; the error type is the world's, not ours to choose.
#[allow(clippy::result_unit_err)]
pub fn on_tick<S: Strategy>(slot: &Slot<S>, tick: WireTickContext) -> Result<(), ()> {
    let tick = tick_context(tick);
    with_strategy(slot, |s, ctx| s.on_tick(ctx, &tick)).map_err(|message| {
        *LAST_ERROR.lock().unwrap_or_else(PoisonError::into_inner) = message;
    })
}

/// `last-error` export.
pub fn last_error() -> String {
    std::mem::take(&mut *LAST_ERROR.lock().unwrap_or_else(PoisonError::into_inner))
}

/// The SDK's tick context: market names resolved, and the candles beyond
/// the first (several markets closing at once) fetched from the host.
fn tick_context(tick: WireTickContext) -> TickContext {
    let resolve = |candle: wit_types::MarketCandle| MarketCandle {
        market: names::name(candle.market),
        candle: candle.candle,
    };
    let candles = match tick.candle {
        None => Candles::none(),
        Some(first) if tick.candle_count <= 1 => Candles::one(resolve(first)),
        Some(_) => oracle::tick_candles().into_iter().map(resolve).collect(),
    };
    TickContext {
        sequence: tick.sequence,
        block: tick.block,
        candles,
    }
}

/// `on-action-result` export.
pub fn on_action_result<S: Strategy>(
    slot: &Slot<S>,
    id: ActionId,
    outcome: ActionOutcome,
) -> Result<(), String> {
    with_strategy(slot, |s, ctx| s.on_action_result(ctx, id, &outcome))
}

/// `snapshot` export. A strategy that cannot serialize its state traps: the
/// host then keeps the previous committed snapshot.
pub fn snapshot<S: Strategy>(slot: &Slot<S>) -> Vec<u8> {
    match with_strategy(slot, |s, _| s.snapshot()) {
        Ok(bytes) => bytes,
        Err(message) => panic!("snapshot failed: {message}"),
    }
}

/// `restore` export.
pub fn restore<S: Strategy>(slot: &Slot<S>, state: Vec<u8>) -> Result<(), String> {
    with_strategy(slot, |s, _| s.restore(&state))
}

/// Send panic messages to the host log before the instance aborts, so the
/// journal says why the tick trapped.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        WasmHost.log(Level::Error, &format!("panic: {info}"));
    }));
}

/// Export a [`Strategy`] as the component's `stratbox:strategy/strategy`
/// interface.
///
/// Expands to nothing on non-WebAssembly targets, so strategy crates can be
/// linked natively (benchmarks, tests) without symbol clashes.
#[macro_export]
macro_rules! export_strategy {
    ($strategy:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            static SLOT: $crate::export::Slot<$strategy> = $crate::export::Slot::new();

            struct Export;

            impl $crate::export::Guest for Export {
                fn init(config: String) -> Result<(), String> {
                    $crate::export::init(&SLOT, config)
                }
                fn on_tick(tick: $crate::export::WireTickContext) -> Result<(), ()> {
                    $crate::export::on_tick(&SLOT, tick)
                }
                fn last_error() -> String {
                    $crate::export::last_error()
                }
                fn on_action_result(
                    id: $crate::types::ActionId,
                    outcome: $crate::types::ActionOutcome,
                ) -> Result<(), String> {
                    $crate::export::on_action_result(&SLOT, id, outcome)
                }
                fn snapshot() -> Vec<u8> {
                    $crate::export::snapshot(&SLOT)
                }
                fn restore(state: Vec<u8>) -> Result<(), String> {
                    $crate::export::restore(&SLOT, state)
                }
            }

    $crate::export::export_guest!(Export with_types_in $crate::bindings);
        };
    };
}
