//! The [`Runtime`]: one engine configured for determinism, one linker that
//! provides exactly the stratbox world, and the loading of components.

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig,
};

use crate::bindings::{StrategyWorld, StrategyWorldPre};
use crate::compile::{CompileIsolation, compile};
use crate::error::LoadError;
use crate::inspect::{ComponentInfo, inspect};
use crate::limits::{RuntimeConfig, WASM_STACK_BYTES};
use crate::state::HostState;

/// Error creating a [`Runtime`].
#[derive(Debug, thiserror::Error)]
#[error("could not create the wasm engine: {reason}")]
pub struct EngineError {
    /// Engine diagnostic.
    pub reason: String,
}

/// A loaded, checked and compiled strategy component, ready to instantiate.
/// Cheap to clone; share one per component across deployments.
#[derive(Clone)]
pub struct StrategyComponent {
    pub(crate) pre: StrategyWorldPre<HostState>,
    info: Arc<ComponentInfo>,
}

impl std::fmt::Debug for StrategyComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StrategyComponent")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl StrategyComponent {
    /// What the component is.
    pub fn info(&self) -> &ComponentInfo {
        &self.info
    }
}

/// The embeddable strategy runtime. Create one per process and share it.
pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    config: RuntimeConfig,
    isolation: CompileIsolation,
    epoch: Option<Arc<EpochTicker>>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("config", &self.config)
            .field("isolation", &self.isolation)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Build the engine and linker.
    pub fn new(config: RuntimeConfig) -> Result<Self, EngineError> {
        let engine = Engine::new(&engine_config(&config)).map_err(|e| EngineError {
            reason: format!("{e:#}"),
        })?;
        let mut linker = Linker::new(&engine);
        StrategyWorld::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state)
            .map_err(|e| EngineError {
            reason: format!("{e:#}"),
        })?;
        let epoch = if config.epoch_period.is_zero() {
            None
        } else {
            Some(Arc::new(EpochTicker::start(&engine, config.epoch_period)?))
        };
        Ok(Runtime {
            engine,
            linker,
            config,
            isolation: CompileIsolation::default(),
            epoch,
        })
    }

    /// Compile components as `isolation` says (default
    /// [`CompileIsolation::InProcess`]).
    #[must_use]
    pub fn with_compile_isolation(mut self, isolation: CompileIsolation) -> Self {
        self.isolation = isolation;
        self
    }

    /// Where components are compiled.
    pub fn compile_isolation(&self) -> &CompileIsolation {
        &self.isolation
    }

    /// The configuration the runtime was built with.
    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// The wasmtime engine every component of this runtime is compiled for
    /// (fuel, epoch deadline, pooling as configured), for embedders that
    /// measure or extend the runtime with their own components.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Inspect component bytes without compiling them: size, imports,
    /// exports, world version. Refuses anything outside the stratbox world.
    pub fn inspect(&self, bytes: &[u8]) -> Result<ComponentInfo, LoadError> {
        inspect(bytes, &self.config.load)
    }

    /// Check and compile a component.
    pub fn load(&self, bytes: &[u8]) -> Result<StrategyComponent, LoadError> {
        let info = self.inspect(bytes)?;
        self.compile(bytes, info)
    }

    /// Compile `bytes`, which [`Runtime::inspect`] accepted as `info`.
    pub(crate) fn compile(
        &self,
        bytes: &[u8],
        info: ComponentInfo,
    ) -> Result<StrategyComponent, LoadError> {
        let _span = tracing::debug_span!("compile", sha256 = %info.sha256, size = info.size_bytes)
            .entered();
        let component = compile(&self.engine, &self.config, &self.isolation, bytes)?;
        self.prepare(component, info)
    }

    /// Serialize the compiled code of a component so a caller can cache it
    /// (see [`Runtime::load_precompiled`]). Cache it under
    /// [`Runtime::artifact_key`]: artifacts only fit the engine that made
    /// them.
    pub fn serialize(&self, component: &StrategyComponent) -> Result<Vec<u8>, LoadError> {
        component
            .pre
            .instance_pre()
            .component()
            .serialize()
            .map_err(|e| LoadError::Serialize {
                reason: format!("{e:#}"),
            })
    }

    /// Load compiled code produced by [`Runtime::serialize`], skipping
    /// compilation. `component_bytes` are the original component, used only
    /// for the static checks (which are cheap next to compiling).
    ///
    /// # Safety
    ///
    /// `artifact` becomes executable code. It must be exactly the bytes
    /// [`Runtime::serialize`] returned for `component_bytes` on a runtime
    /// with the same [`Runtime::artifact_key`], and must have been
    /// authenticated (e.g. with an AEAD tag) after it was last outside this
    /// process's memory. The engine checks its version and configuration,
    /// but cannot detect tampered code.
    #[allow(unsafe_code)]
    pub unsafe fn load_precompiled(
        &self,
        component_bytes: &[u8],
        artifact: &[u8],
    ) -> Result<StrategyComponent, LoadError> {
        let info = self.inspect(component_bytes)?;
        // SAFETY: the caller's guarantee, passed on unchanged.
        unsafe { self.deserialize(info, artifact) }
    }

    /// [`Runtime::load_precompiled`] for a component [`Runtime::inspect`]
    /// already accepted as `info` (inspecting is not free: once per load).
    ///
    /// # Safety
    ///
    /// As for [`Runtime::load_precompiled`].
    #[allow(unsafe_code)]
    pub(crate) unsafe fn deserialize(
        &self,
        info: ComponentInfo,
        artifact: &[u8],
    ) -> Result<StrategyComponent, LoadError> {
        // SAFETY: the caller guarantees `artifact` is an authenticated output
        // of `Runtime::serialize` for an engine with the same artifact key.
        let component = unsafe { Component::deserialize(&self.engine, artifact) }.map_err(|e| {
            LoadError::IncompatibleArtifact {
                reason: format!("{e:#}"),
            }
        })?;
        self.prepare(component, info)
    }

    /// Key under which the compiled code of the component with SHA-256
    /// `component_sha256` (hex) may be cached: it covers the component, the
    /// engine's compilation settings and the runtime version (see
    /// [`Runtime::artifact_key_inputs`]).
    pub fn artifact_key(&self, component_sha256: &str) -> String {
        self.artifact_key_inputs(component_sha256).key()
    }

    /// What [`Runtime::artifact_key`] is derived from, for `component_sha256`
    /// on this runtime.
    pub fn artifact_key_inputs<'a>(&self, component_sha256: &'a str) -> ArtifactKeyInputs<'a> {
        ArtifactKeyInputs {
            component_sha256,
            engine_fingerprint: engine_fingerprint(&self.engine),
            runtime_version: RUNTIME_VERSION,
        }
    }

    fn prepare(
        &self,
        component: Component,
        info: ComponentInfo,
    ) -> Result<StrategyComponent, LoadError> {
        let instance_pre =
            self.linker
                .instantiate_pre(&component)
                .map_err(|e| LoadError::Incompatible {
                    reason: format!("{e:#}"),
                })?;
        typecheck_exports(&instance_pre).map_err(|e| LoadError::Incompatible {
            reason: format!("{e:#}"),
        })?;
        let pre = StrategyWorldPre::new(instance_pre).map_err(|e| LoadError::Incompatible {
            reason: format!("{e:#}"),
        })?;
        Ok(StrategyComponent {
            pre,
            info: Arc::new(info),
        })
    }
}

/// Check the type of every function the strategy interface exports, now:
/// the generated bindings look the functions up when pre-instantiating but
/// check their types only at instantiation, so a component whose
/// `snapshot` returned a string would load and fail at deploy.
fn typecheck_exports(pre: &wasmtime::component::InstancePre<HostState>) -> wasmtime::Result<()> {
    use crate::bindings::exports::stratbox::strategy::strategy::{ActionOutcome, TickContext};
    use wasmtime::component::types::ComponentItem;

    let component = pre.component();
    let types = pre.instance_type();
    let interface = format!(
        "{}/strategy@{}",
        crate::inspect::WORLD_PACKAGE,
        crate::inspect::world_version()
    );
    let instance = component
        .get_export_index(None, interface.as_str())
        .ok_or_else(|| wasmtime::format_err!("no export `{interface}` found"))?;
    let function = |name: &str| match component.get_export(Some(&instance), name) {
        Some((ComponentItem::ComponentFunc(func), _)) => Ok(func),
        Some(_) => Err(wasmtime::format_err!("export `{name}` is not a function")),
        None => Err(wasmtime::format_err!("no export `{name}` found")),
    };
    let checked = |name: &str, result: wasmtime::Result<()>| {
        result.map_err(|e| wasmtime::format_err!("export `{name}` has the wrong type: {e:#}"))
    };
    checked(
        "init",
        function("init")?.typecheck::<(&str,), (Result<(), String>,)>(&types),
    )?;
    checked(
        "on-tick",
        function("on-tick")?.typecheck::<(TickContext,), (Result<(), ()>,)>(&types),
    )?;
    checked(
        "last-error",
        function("last-error")?.typecheck::<(), (String,)>(&types),
    )?;
    checked(
        "on-action-result",
        function("on-action-result")?
            .typecheck::<(u64, &ActionOutcome), (Result<(), String>,)>(&types),
    )?;
    checked(
        "snapshot",
        function("snapshot")?.typecheck::<(), (Vec<u8>,)>(&types),
    )?;
    checked(
        "restore",
        function("restore")?.typecheck::<(&[u8],), (Result<(), String>,)>(&types),
    )
}

/// The version of this runtime crate, one of the inputs of every artifact
/// key: compiled code is never reused across runtime releases.
pub const RUNTIME_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The inputs of an artifact cache key. Two runtimes may share a compiled
/// artifact exactly when all three are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArtifactKeyInputs<'a> {
    /// SHA-256 (hex) of the component's bytes.
    pub component_sha256: &'a str,
    /// SHA-256 of everything in the engine's configuration that shapes
    /// compiled code: target, Cranelift and ISA flags, tunables (fuel and
    /// epoch checks, memory layout, deterministic relaxed SIMD), wasm
    /// features and the wasmtime version. Settings that do not change
    /// compiled code (the pooling allocator, the wasm stack limit, load
    /// limits, the epoch period) are not in it.
    pub engine_fingerprint: [u8; 32],
    /// [`RUNTIME_VERSION`] of the runtime that compiled the code.
    pub runtime_version: &'a str,
}

impl ArtifactKeyInputs<'_> {
    /// The cache key (SHA-256, hex) of these inputs.
    pub fn key(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.component_sha256.as_bytes());
        hasher.update(self.engine_fingerprint);
        hasher.update(self.runtime_version.as_bytes());
        hex::encode(hasher.finalize())
    }
}

/// SHA-256 of the compilation settings of `engine`.
fn engine_fingerprint(engine: &Engine) -> [u8; 32] {
    let mut engine_hash = EngineHasher(Sha256::new());
    engine
        .precompile_compatibility_hash()
        .hash(&mut engine_hash);
    engine_hash.0.finalize().into()
}

/// Feeds `Hash` output into SHA-256 so the artifact key is stable.
struct EngineHasher(Sha256);

impl Hasher for EngineHasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// Bytes of each pooled memory and table reset in place (only the dirty
/// pages) when an instance is dropped, rather than decommitted: a Rust
/// strategy's 1 MiB stack and first heap pages.
const POOL_KEEP_RESIDENT_BYTES: usize = 1 << 20;

/// The engine configuration of `config` (also the compile worker's).
pub(crate) fn engine_config(config: &RuntimeConfig) -> Config {
    let mut c = Config::new();
    // Determinism: fuel, canonical NaNs, no threads, deterministic relaxed
    // SIMD, and one fixed stack size everywhere. Neither threads
    // nor async components are compiled into the engine at all (their
    // cargo features are off).
    c.consume_fuel(config.fuel)
        .epoch_interruption(true)
        .cranelift_nan_canonicalization(true)
        .shared_memory(false)
        .wasm_relaxed_simd(true)
        .relaxed_simd_deterministic(true)
        .wasm_component_model(true)
        .max_wasm_stack(WASM_STACK_BYTES)
        .cranelift_opt_level(OptLevel::Speed)
        .parallel_compilation(true);
    if let Some(pool) = &config.pooling {
        let mut p = PoolingAllocationConfig::new();
        let n = pool.total_instances;
        p.total_component_instances(n)
            .total_core_instances(n.saturating_mul(8))
            .total_memories(n.saturating_mul(2))
            .total_tables(n.saturating_mul(4))
            .max_memory_size(usize::try_from(pool.max_memory_bytes).unwrap_or(usize::MAX))
            .table_elements(usize::try_from(pool.table_elements).unwrap_or(usize::MAX));
        // Reset a returned slot by rewriting only its dirty pages (found
        // with the PAGEMAP_SCAN ioctl where the kernel has it) instead of
        // unmapping the whole memory: the next instance does not fault its
        // stack and heap back in. Halves deploy time (measured:
        // BENCHMARKS.md); idle slots keep at most this much resident.
        p.linear_memory_keep_resident(POOL_KEEP_RESIDENT_BYTES)
            .table_keep_resident(POOL_KEEP_RESIDENT_BYTES)
            .pagemap_scan(Enabled::Auto);
        c.allocation_strategy(InstanceAllocationStrategy::Pooling(p));
    }
    c
}

/// Background thread advancing the engine's epoch, which drives the
/// wall-clock deadline of ticks. Stops when the runtime and every deployment
/// created from it are dropped.
pub(crate) struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    period: Duration,
}

impl EpochTicker {
    fn start(engine: &Engine, period: Duration) -> Result<Self, EngineError> {
        let stop = Arc::new(AtomicBool::new(false));
        let weak = engine.weak();
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("stratbox-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(period);
                    match weak.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .map_err(|e| EngineError {
                reason: format!("could not start the epoch thread: {e}"),
            })?;
        Ok(EpochTicker {
            stop,
            thread: Some(thread),
            period,
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl EpochTicker {
    /// Epoch ticks that make up `deadline` (at least one).
    pub(crate) fn ticks(&self, deadline: Duration) -> u64 {
        let period = self.period.as_nanos().max(1);
        u64::try_from(deadline.as_nanos().div_ceil(period))
            .unwrap_or(u64::MAX)
            .max(1)
    }
}

impl Runtime {
    pub(crate) fn epoch_ticker(&self) -> Option<Arc<EpochTicker>> {
        self.epoch.clone()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

    use super::*;

    const COMPONENT: &str = "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12";

    /// The key an engine built from `config` would give [`COMPONENT`].
    fn key_with(config: &Config) -> String {
        let engine = Engine::new(config).unwrap();
        ArtifactKeyInputs {
            component_sha256: COMPONENT,
            engine_fingerprint: engine_fingerprint(&engine),
            runtime_version: RUNTIME_VERSION,
        }
        .key()
    }

    #[test]
    fn the_key_changes_with_every_setting_that_shapes_compiled_code() {
        let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
        let base = engine_config(&RuntimeConfig::default());
        assert_eq!(key_with(&base), runtime.artifact_key(COMPONENT));

        let mut changed: Vec<(&str, Config)> = Vec::new();
        let mut unoptimized = base.clone();
        unoptimized.cranelift_opt_level(OptLevel::None);
        changed.push(("optimization level", unoptimized));
        let mut unmetered = base.clone();
        unmetered.consume_fuel(false);
        changed.push(("fuel metering", unmetered));
        let mut raw_nans = base.clone();
        raw_nans.cranelift_nan_canonicalization(false);
        changed.push(("NaN canonicalization", raw_nans));
        let mut native_relaxed_simd = base.clone();
        native_relaxed_simd.relaxed_simd_deterministic(false);
        changed.push(("deterministic relaxed SIMD", native_relaxed_simd));
        let mut no_epochs = base.clone();
        no_epochs.epoch_interruption(false);
        changed.push(("epoch checks", no_epochs));

        let mut keys = vec![runtime.artifact_key(COMPONENT)];
        for (what, config) in &changed {
            let key = key_with(config);
            assert!(!keys.contains(&key), "{what} does not change the key");
            keys.push(key);
        }
    }

    #[test]
    fn the_key_covers_the_runtime_version() {
        let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
        let inputs = runtime.artifact_key_inputs(COMPONENT);
        assert_eq!(inputs.runtime_version, env!("CARGO_PKG_VERSION"));
        let next_release = ArtifactKeyInputs {
            runtime_version: "999.0.0",
            ..inputs
        };
        assert_ne!(next_release.key(), runtime.artifact_key(COMPONENT));
    }
}
