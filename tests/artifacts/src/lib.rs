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
    /// `strategies/fixtures/hostile`: attacks selected by config.
    Hostile,
    /// `strategies/fixtures/foreign-import`: imports `evil:exfil/net`.
    ForeignImport,
    /// `strategies/fixtures/wasi-clock` built for wasm32-wasip2.
    WasiClock,
    /// A dummy component targeting `stratbox:strategy@1.0.0`.
    WorldV1,
    /// A dummy component importing the oracle and exporting nothing.
    NoExport,
}

impl Guest {
    /// Path of the component file.
    pub fn path(self) -> &'static Path {
        Path::new(match self {
            Guest::RsiMomentum => paths::RSI_MOMENTUM,
            Guest::EmaCrossover => paths::EMA_CROSSOVER,
            Guest::Hostile => paths::HOSTILE,
            Guest::ForeignImport => paths::FOREIGN_IMPORT,
            Guest::WasiClock => paths::WASI_CLOCK,
            Guest::WorldV1 => paths::WORLD_V1,
            Guest::NoExport => paths::NO_EXPORT,
        })
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

/// The repository's `data/` directory of market candles.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data")
}
