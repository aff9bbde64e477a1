//! The engine's own floor under a tick: component calls into a guest that
//! does nothing at all (hand-written WebAssembly, no SDK, no allocator, no
//! runtime bookkeeping), on the runtime's engine with fuel and the epoch
//! deadline on.
//!
//! Subtracting these from the runtime's tick figures splits a tick's cost
//! into what wasmtime's component calls cost (out of our hands without
//! changing the world's shape) and what the runtime and the SDK add. The
//! three call shapes:
//! - `nop`: no arguments, no results;
//! - `flat-tick`: world 0.2's shape: a one-candle tick context in flat
//!   arguments (the market an interned id) and a flat `result` (no
//!   allocation in the guest, no post-return);
//! - `list-tick`: world 0.1's shape: the candles as a list of records
//!   carrying a market string, and a `result<_, string>` (two
//!   `cabi_realloc` calls before the call, a post-return after it).
//!
//! And two import shapes, called in a loop by the guest and answered by a
//! host function that only returns a constant: `price(base: string, quote:
//! string)` (world 0.1's oracle read without the runtime's budget and
//! trace) and `price-of(base: u32, quote: u32)` (world 0.2's, with interned
//! ids).
//!
//! [`sdk_tick`] calls a real strategy's `on-tick` the same way, with no
//! runtime around it: the difference to `flat-tick` is what the Rust SDK
//! and wit-bindgen's glue cost inside the guest, and the difference to a
//! runtime tick is the runtime's own bookkeeping.

use std::time::Duration;

use stratbox_runtime::{Runtime, WORLD_PACKAGE, WORLD_VERSION};
use wasmtime::Store;
use wasmtime::component::{Component, HasSelf, Linker, TypedFunc};
use wit_parser::Resolve;

use crate::BenchError;
use crate::timing::median_per_item;

/// The world of the floor component.
const FLOOR_WIT: &str = include_str!("../wit/floor.wit");

/// The core module behind the floor component: every export returns at
/// once; `cabi_realloc` bumps a pointer that the post-return resets.
const FLOOR_WAT: &str = r#"
(module
  (import "$root" "price" (func $price (param i32 i32 i32 i32 i32)))
  (import "$root" "price-of" (func $price_of (param i32 i32 i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (data (i32.const 16) "ETH")
  (data (i32.const 24) "USDC")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (local.get $ptr))
  (func (export "nop"))
  (func (export "flat-tick")
    (param i64 i64 i64 i64 i32 i32 i64 f64 f64 f64 f64 f64 i32) (result i32)
    (i32.const 0))
  (func (export "list-tick") (param i64 i64 i64 i64 i32 i32) (result i32)
    (i32.store8 (i32.const 32) (i32.const 0))
    (i32.const 32))
  (func (export "cabi_post_list-tick") (param i32)
    (global.set $heap (i32.const 1024)))
  (func (export "read-prices") (param $n i32) (result f64)
    (local $sum f64)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (call $price (i32.const 16) (i32.const 3) (i32.const 24) (i32.const 4) (i32.const 64))
        (local.set $sum (f64.add (local.get $sum) (f64.load (i32.const 72))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $sum))
  (func (export "read-prices-by-id") (param $n i32) (result f64)
    (local $sum f64)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (call $price_of (i32.const 0) (i32.const 1) (i32.const 64))
        (local.set $sum (f64.add (local.get $sum) (f64.load (i32.const 72))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $sum))
)
"#;

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/floor.wit",
        world: "floor",
        imports: { default: trappable },
    });
}

use bindings::{
    BlockInfo, Candle, Floor, FloorImports, ListedContext, MarketCandle, NamedCandle, TickContext,
};

/// The host of the floor component: one constant price.
struct ConstantPrice;

impl FloorImports for ConstantPrice {
    fn price(&mut self, _base: String, _quote: String) -> wasmtime::Result<Result<f64, String>> {
        Ok(Ok(3000.0))
    }

    fn price_of(&mut self, _base: u32, _quote: u32) -> wasmtime::Result<Result<f64, String>> {
        Ok(Ok(3000.0))
    }
}

/// Median cost of each floor call, per call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Floors {
    /// `nop`: a call with no arguments and no results.
    pub nop: Duration,
    /// `flat-tick`: world 0.2's one-candle tick context in flat arguments,
    /// and a flat `result`.
    pub flat_tick: Duration,
    /// `list-tick`: world 0.1's tick context (a list of records with a
    /// market string) and result (`result<_, string>`).
    pub list_tick: Duration,
    /// One `price(base, quote)` import call (guest to host and back), the
    /// host answering a constant.
    pub import_read: Duration,
    /// One `price-of(base, quote)` import call with the assets as `u32`
    /// ids (no string lifted), the host answering a constant.
    pub import_read_by_id: Duration,
}

/// Build the floor component: the WAT module with the world's metadata
/// embedded, encoded as a component.
pub fn floor_component() -> Result<Vec<u8>, BenchError> {
    let unexpected = |what: &str, e: &dyn std::fmt::Display| BenchError::Unexpected {
        reason: format!("floor component: {what}: {e:#}"),
    };
    let mut module = wat::parse_str(FLOOR_WAT).map_err(|e| unexpected("assembling", &e))?;
    let mut resolve = Resolve::default();
    let package = resolve
        .push_str("floor.wit", FLOOR_WIT)
        .map_err(|e| unexpected("parsing the world", &e))?;
    let world = resolve
        .select_world(&[package], Some("floor"))
        .map_err(|e| unexpected("selecting the world", &e))?;
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
    )
    .map_err(|e| unexpected("embedding the world", &e))?;
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(&module)
        .and_then(|mut encoder| encoder.encode())
        .map_err(|e| unexpected("encoding", &e))
}

/// A wasmtime error of the floor measurements, with what was being done.
fn wasm_error(what: &str) -> impl Fn(wasmtime::Error) -> BenchError + '_ {
    move |e| BenchError::Unexpected {
        reason: format!("floor: {what}: {e:#}"),
    }
}

/// A store on `runtime`'s engine with fuel (if the engine meters) and an
/// epoch deadline that never run out during a measurement.
fn unlimited_store<T>(runtime: &Runtime, data: T) -> Result<Store<T>, BenchError> {
    let mut store = Store::new(runtime.engine(), data);
    if runtime.config().fuel {
        store
            .set_fuel(u64::MAX / 2)
            .map_err(wasm_error("setting fuel"))?;
    }
    store.set_epoch_deadline(u64::MAX / 2);
    Ok(store)
}

/// The floor component, instantiated on a runtime's engine.
pub struct FloorInstance {
    store: Store<ConstantPrice>,
    floor: Floor,
    listed: ListedContext,
    flat: TickContext,
}

impl FloorInstance {
    /// Compile and instantiate the floor component on `runtime`'s engine.
    pub fn new(runtime: &Runtime) -> Result<Self, BenchError> {
        let engine = runtime.engine();
        let component =
            Component::new(engine, floor_component()?).map_err(wasm_error("compiling"))?;
        let mut linker = Linker::new(engine);
        Floor::add_to_linker::<ConstantPrice, HasSelf<ConstantPrice>>(&mut linker, |state| state)
            .map_err(wasm_error("linking"))?;
        let mut store = unlimited_store(runtime, ConstantPrice)?;
        let floor = Floor::instantiate(&mut store, &component, &linker)
            .map_err(wasm_error("instantiating"))?;
        let flat = one_candle_tick();
        let listed = ListedContext {
            sequence: flat.sequence,
            block: flat.block,
            candles: vec![NamedCandle {
                market: "ETH/BTC".into(),
                candle: CANDLE,
            }],
        };
        Ok(FloorInstance {
            store,
            floor,
            listed,
            flat,
        })
    }

    /// Call `nop`.
    pub fn nop(&mut self) -> Result<(), BenchError> {
        self.floor
            .call_nop(&mut self.store)
            .map_err(wasm_error("nop"))
    }

    /// Call `flat-tick` with a one-candle tick context.
    pub fn flat_tick(&mut self) -> Result<(), BenchError> {
        self.floor
            .call_flat_tick(&mut self.store, self.flat)
            .map_err(wasm_error("flat-tick"))?
            .map_err(|()| BenchError::Unexpected {
                reason: "floor: flat-tick returned err".into(),
            })
    }

    /// Call `list-tick` with a one-candle tick context.
    pub fn list_tick(&mut self) -> Result<(), BenchError> {
        self.floor
            .call_list_tick(&mut self.store, &self.listed)
            .map(drop)
            .map_err(wasm_error("list-tick"))
    }

    /// Have the guest call the `price-of` import (ids, no strings) `reads`
    /// times.
    pub fn read_prices_by_id(&mut self, reads: u32) -> Result<(), BenchError> {
        self.floor
            .call_read_prices_by_id(&mut self.store, reads)
            .map(drop)
            .map_err(wasm_error("read-prices-by-id"))
    }

    /// Have the guest call the `price` import `reads` times.
    pub fn read_prices(&mut self, reads: u32) -> Result<(), BenchError> {
        self.floor
            .call_read_prices(&mut self.store, reads)
            .map(drop)
            .map_err(wasm_error("read-prices"))
    }
}

/// Measure every floor call on `runtime`'s engine: `samples` batches of
/// `batch` calls each, median per call.
pub fn measure(runtime: &Runtime, samples: usize, batch: usize) -> Result<Floors, BenchError> {
    let mut floor = FloorInstance::new(runtime)?;
    let nop = median_per_item(samples, batch, || (), |()| floor.nop())?;
    let flat_tick = median_per_item(samples, batch, || (), |()| floor.flat_tick())?;
    let list_tick = median_per_item(samples, batch, || (), |()| floor.list_tick())?;
    let reads = u32::try_from(batch.max(1)).unwrap_or(u32::MAX);
    let import_read = median_per_item(samples, 1, || (), |()| floor.read_prices(reads))? / reads;
    let import_read_by_id =
        median_per_item(samples, 1, || (), |()| floor.read_prices_by_id(reads))? / reads;
    Ok(Floors {
        nop,
        flat_tick,
        list_tick,
        import_read,
        import_read_by_id,
    })
}

/// A real strategy instantiated straight on a runtime's engine, with no
/// runtime around it: no deployment, trace, budget or snapshot. Its imports
/// trap but `oracle.name` (market id 0 is `ETH/BTC`), so it must not read
/// or emit from `init` or `on-tick`.
pub struct DirectStrategy {
    store: Store<()>,
    on_tick: TypedFunc<(TickContext,), (Result<(), ()>,)>,
}

impl DirectStrategy {
    /// Compile `strategy` on `runtime`'s engine, instantiate it and call
    /// `init(config)`.
    pub fn new(runtime: &Runtime, strategy: &[u8], config: &str) -> Result<Self, BenchError> {
        let engine = runtime.engine();
        let component = Component::new(engine, strategy).map_err(wasm_error("compiling"))?;
        let mut linker = Linker::<()>::new(engine);
        // The SDK asks once what market id 0 is called; nothing else.
        linker
            .instance(&format!("{WORLD_PACKAGE}/oracle@{WORLD_VERSION}"))
            .and_then(|mut oracle| {
                oracle.func_wrap("name", |_, (_id,): (u32,)| {
                    Ok((Some(String::from("ETH/BTC")),))
                })
            })
            .map_err(wasm_error("linking oracle.name"))?;
        linker
            .define_unknown_imports_as_traps(&component)
            .map_err(wasm_error("linking"))?;
        let mut store = unlimited_store(runtime, ())?;
        let instance = linker
            .instantiate(&mut store, &component)
            .map_err(wasm_error("instantiating"))?;
        let exported = format!("{WORLD_PACKAGE}/strategy@{WORLD_VERSION}");
        let missing = |name: &str| BenchError::Unexpected {
            reason: format!("floor: the strategy exports no {exported}#{name}"),
        };
        let interface = instance
            .get_export_index(&mut store, None, &exported)
            .ok_or_else(|| missing(""))?;
        let mut function = |name: &str| {
            instance
                .get_export_index(&mut store, Some(&interface), name)
                .ok_or_else(|| missing(name))
        };
        let (init_index, tick_index) = (function("init")?, function("on-tick")?);
        let init = instance
            .get_typed_func::<(&str,), (Result<(), String>,)>(&mut store, init_index)
            .map_err(wasm_error("init's type"))?;
        let on_tick = instance
            .get_typed_func(&mut store, tick_index)
            .map_err(wasm_error("on-tick's type"))?;
        init.call(&mut store, (config,))
            .map_err(wasm_error("init"))?
            .0
            .map_err(|message| BenchError::Unexpected {
                reason: format!("floor: init failed: {message}"),
            })?;
        Ok(DirectStrategy { store, on_tick })
    }

    /// Call `on-tick` with a one-candle tick context.
    pub fn tick(&mut self) -> Result<(), BenchError> {
        let (outcome,) = self
            .on_tick
            .call(&mut self.store, (one_candle_tick(),))
            .map_err(wasm_error("on-tick"))?;
        outcome.map_err(|()| BenchError::Unexpected {
            reason: "floor: on-tick failed".into(),
        })
    }
}

/// Median cost of one `on-tick` call (one candle, world 0.2's tick context)
/// into `strategy` initialized with `config`, called as a
/// [`DirectStrategy`].
pub fn sdk_tick(
    runtime: &Runtime,
    strategy: &[u8],
    config: &str,
    samples: usize,
    batch: usize,
) -> Result<Duration, BenchError> {
    let mut direct = DirectStrategy::new(runtime, strategy, config)?;
    median_per_item(samples, batch, || (), |()| direct.tick())
}

/// The candle of every floor tick.
const CANDLE: Candle = Candle {
    timestamp_ms: 1,
    open: 1.0,
    high: 2.0,
    low: 0.5,
    close: 1.5,
    volume: 10.0,
};

/// The tick context of `flat-tick` and [`DirectStrategy`]: one candle, of
/// market id 0.
fn one_candle_tick() -> TickContext {
    TickContext {
        sequence: 1,
        block: BlockInfo {
            chain_id: 1,
            number: 1,
            timestamp_ms: 1,
        },
        candle: Some(MarketCandle {
            market: 0,
            candle: CANDLE,
        }),
        candle_count: 1,
    }
}
