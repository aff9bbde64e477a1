//! Embeddable runtime for untrusted trading strategies compiled to
//! WebAssembly components.
//!
//! A strategy can see exactly two things: read-only market data through an
//! [`Oracle`] the embedder provides, and a way to emit actions, each checked
//! by the embedder's [`Policy`] at the moment of emission. It runs
//! fuel-metered and deterministically; accepted actions are released only
//! when the tick that emitted them succeeds.
//!
//! ```no_run
//! use stratbox_runtime::{AllowAll, Deployment, DeploymentHost, DeploymentSpec, Oracle,
//!     Runtime, RuntimeConfig, TickInput, types::BlockInfo};
//!
//! struct Clock(u64);
//! impl Oracle for Clock {
//!     fn block(&mut self) -> BlockInfo { BlockInfo { chain_id: 1, number: self.0, timestamp_ms: 0 } }
//! }
//!
//! let runtime = Runtime::new(RuntimeConfig::default())?;
//! let component = runtime.load(&std::fs::read("rsi_momentum.wasm")?)?;
//! let spec = DeploymentSpec::new("rsi-1", r#"{"market":"ETH/BTC"}"#);
//! let (mut deployment, _init) =
//!     Deployment::new(&runtime, &component, spec, DeploymentHost::new(Clock(0), AllowAll))?;
//! let report = deployment.tick(TickInput::at(BlockInfo { chain_id: 1, number: 1, timestamp_ms: 0 }))?;
//! println!("{} actions, {} fuel", report.actions.len(), report.trace.fuel_used);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The runtime does no network or file I/O of its own: component bytes,
//! compiled artifacts and snapshots go in and out as byte slices.

mod bindings;
pub mod bundle;
mod cache;
mod compile;
mod deployment;
mod error;
mod host;
mod inspect;
mod limits;
mod names;
pub mod policy;
mod replay;
mod report;
mod runtime;
mod secret;
mod state;
pub mod types;
mod validation;

pub use cache::{ArtifactCache, ArtifactCacheError, CacheOutcome, MemoryArtifactCache};
pub use compile::{CompileIsolation, CompileWorker, compile_worker_main};
pub use deployment::{
    Checkpoint, Deployment, DeploymentHost, DeploymentSpec, DeploymentStatus, FailureHistory,
    FailureWindow, ResumeAt, TickInput,
};
pub use error::{DeployError, LoadError, LoadLimit, ResourceExceeded, TickError, TrapCode};
pub use host::{
    AllowAll, DenyAll, JournalSink, JournalSinkError, LogSink, Oracle, Policy, PolicyContext,
    PolicyOracle, TracingLogSink, Verdict,
};
pub use inspect::{ComponentInfo, WORLD_PACKAGE, WORLD_VERSION, world_version};
pub use limits::{
    DEFAULT_EPOCH_PERIOD, LimitClass, Limits, LoadLimits, PoolingConfig, RuntimeConfig,
    WASM_STACK_BYTES,
};
pub use replay::{ReadMismatch, ReplayFeed, ReplayOracle};
pub use report::{
    AcceptedAction, CallTrace, Emission, LogRecord, OracleRead, SeriesPoint, TickFailure,
    TickReport,
};
pub use runtime::{ArtifactKeyInputs, EngineError, RUNTIME_VERSION, Runtime, StrategyComponent};
pub use secret::SecretBytes;
