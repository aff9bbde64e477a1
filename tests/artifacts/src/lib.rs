//! Paths of the workspace's guest components, built by this crate's build
//! script, plus the location of the bundled market data.

use std::path::{Path, PathBuf};

mod paths {
    include!(concat!(env!("OUT_DIR"), "/artifacts.rs"));
}

/// Every guest component the build script produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Guest {
    /// `strategies/rust/rsi-momentum`.
    RsiMomentum,
    /// `strategies/rust/ema-crossover`.
    EmaCrossover,
    /// `strategies/rust/dynamic-lp`.
    DynamicLp,
    /// `strategies/rust/leverage-loop`.
    LeverageLoop,
    /// `strategies/fixtures/hostile`: attacks selected by config.
    Hostile,
    /// `strategies/fixtures/foreign-import`: imports `evil:exfil/net`.
    ForeignImport,
    /// `strategies/fixtures/wasi-clock` built for wasm32-wasip2.
    WasiClock,
    /// A dummy component targeting `stratbox:strategy@1.0.0`.
    WorldV1,
    /// A dummy component of the previous world, `stratbox:strategy@0.1.0`
    /// (`tests/artifacts/wit-0.1`), which the runtime no longer runs.
    WorldV0_1,
    /// A dummy component of the world's previous patch release,
    /// `stratbox:strategy@0.2.0` (no `logging.series`), which still links.
    WorldV0_2_0,
    /// A dummy component importing the oracle and exporting nothing.
    NoExport,
    /// A dummy component of the current world's version whose `snapshot`
    /// export returns a string instead of a list of bytes.
    WrongExportTypes,
    /// `strategies/fixtures/canary`: code and state carry a unique marker.
    Canary,
    /// The smallest loadable component of the world (a dummy; calls trap).
    Minimal,
    /// `strategies/fixtures/empty`: does nothing (benchmarks the boundary).
    Empty,
    /// `strategies/fixtures/oracle-read`: reads prices, as many per tick as
    /// configured.
    OracleRead,
    /// `strategies/python/bollinger`.
    PyBollinger,
    /// `strategies/js/rsi-momentum-js`: the RSI example in JavaScript.
    JsRsiMomentum,
    /// `strategies/python/yield-rotator`.
    PyYieldRotator,
    /// `strategies/python/fixtures/hostile`: attacks selected by config.
    PyHostile,
    /// `strategies/python/fixtures/probe`: determinism, sandbox shims and
    /// SDK behaviour, selected by config.
    PyProbe,
}

impl Guest {
    /// Path of the component file.
    pub fn path(self) -> &'static Path {
        Path::new(match self {
            Guest::RsiMomentum => paths::RSI_MOMENTUM,
            Guest::EmaCrossover => paths::EMA_CROSSOVER,
            Guest::DynamicLp => paths::DYNAMIC_LP,
            Guest::LeverageLoop => paths::LEVERAGE_LOOP,
            Guest::Hostile => paths::HOSTILE,
            Guest::ForeignImport => paths::FOREIGN_IMPORT,
            Guest::WasiClock => paths::WASI_CLOCK,
            Guest::WorldV1 => paths::WORLD_V1,
            Guest::WorldV0_1 => paths::WORLD_V0_1,
            Guest::NoExport => paths::NO_EXPORT,
            Guest::WrongExportTypes => paths::WRONG_EXPORT_TYPES,
            Guest::WorldV0_2_0 => paths::WORLD_V0_2_0,
            Guest::Canary => paths::CANARY,
            Guest::Minimal => paths::MINIMAL,
            Guest::Empty => paths::EMPTY,
            Guest::OracleRead => paths::ORACLE_READ,
            Guest::PyBollinger => paths::PY_BOLLINGER,
            Guest::JsRsiMomentum => paths::JS_RSI_MOMENTUM,
            Guest::PyYieldRotator => paths::PY_YIELD_ROTATOR,
            Guest::PyHostile => paths::PY_HOSTILE,
            Guest::PyProbe => paths::PY_PROBE,
        })
    }

    /// Whether the guest is a Python strategy (an interpreter component of
    /// ~18 MB: compile it once and cache the artifact).
    pub fn is_python(self) -> bool {
        matches!(
            self,
            Guest::PyBollinger | Guest::PyYieldRotator | Guest::PyHostile | Guest::PyProbe
        )
    }

    /// The component's bytes.
    ///
    /// # Panics
    ///
    /// If the component was not built (the build script skips building
    /// under clippy and with `STRATBOX_SKIP_GUEST_BUILD`).
    pub fn bytes(self) -> Vec<u8> {
        std::fs::read(self.path()).unwrap_or_else(|e| {
            let path = self.path().display();
            panic!("{path}: {e} (guests are built by `cargo test`, not `cargo clippy`)")
        })
    }
}

/// A directory under the target directory where tests may keep compiled
/// artifacts between runs (test use only: it is not authenticated).
pub fn compiled_cache_dir() -> &'static Path {
    Path::new(paths::COMPILED_CACHE_DIR)
}

/// The repository's `data/` directory of market candles.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data")
}
