//! Per-deployment limits and runtime-wide configuration, with the defaults
//! of the architecture brief.

use std::time::Duration;

use crate::error::DeployError;

/// Size of the wasm stack, fixed runtime-wide: the point at which recursion
/// overflows must not depend on where a strategy runs.
pub const WASM_STACK_BYTES: usize = 1 << 20;

const MIB: u64 = 1 << 20;

/// Resource limits of one deployment. Each ends in a typed error when hit;
/// the defaults are [`Limits::rust`]'s (and [`Limits::python`]'s). Every
/// tick's journal record is bounded by these limits together: its oracle
/// answers by `oracle_bytes_per_tick`, its logs by `log_bytes_per_tick`, its
/// actions by `actions_per_tick` times `action_text_bytes`, its series
/// points by `series_points_per_tick`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Fuel per tick: outcome delivery, `on-tick` and the snapshot share it,
    /// and so does the rebuild of the instance after a failed tick; `init`
    /// (with `restore` on a resume) gets the same budget. Default 100 M.
    pub fuel_per_tick: u64,
    /// Maximum linear memory, in bytes, summed over all of the component's
    /// memories. Default 64 MiB (Rust), 256 MiB (Python).
    pub memory_bytes: u64,
    /// Recycle the instance once its memory passes this percentage of
    /// `memory_bytes` at a commit: it is rebuilt from the snapshot just
    /// committed (the strategy's whole state, by the snapshot contract)
    /// before the next tick, on that tick's budget. Guest runtimes whose
    /// heaps creep (JavaScript, and Python's snapshot export) then never
    /// reach the limit mid-tick. 0: never. Default 75.
    pub recycle_memory_percent: u8,
    /// Maximum elements per table. Default 100,000.
    pub table_elements: u64,
    /// Maximum core instances in the component. Default 16 (Rust), 128
    /// (Python).
    pub instances: u32,
    /// Maximum tables in the component. Default 16.
    pub tables: u32,
    /// Maximum linear memories in the component. Default 4.
    pub memories: u32,
    /// Wall-clock backstop per tick, shared like the fuel by the rebuild
    /// after a failure (`deadline_ms` in files). Default 2 s.
    #[serde(with = "duration_ms", rename = "deadline_ms")]
    pub deadline: Duration,
    /// `emit` calls per tick, accepted or not. Default 16.
    pub actions_per_tick: u32,
    /// Oracle reads per tick. Default 1,024.
    pub oracle_reads_per_tick: u32,
    /// Bytes of oracle answers per tick, summed over the tick's reads
    /// (candles count 48 bytes each). Default 1 MiB.
    pub oracle_bytes_per_tick: u32,
    /// Log bytes per tick. Default 4 KiB.
    pub log_bytes_per_tick: u32,
    /// Bytes of one argument crossing into the host (strings, lists).
    /// Default 64 KiB.
    pub argument_bytes: u32,
    /// Bytes of text one emitted action may carry (its asset, market, pool
    /// and venue names, a `hold` reason). Default 1 KiB.
    pub action_text_bytes: u32,
    /// Bytes of one snapshot. Default 1 MiB.
    pub snapshot_bytes: u32,
    /// Distinct names (assets, markets, pools...) the deployment may intern
    /// over its life, market names of its candles included. Default 4,096.
    pub interned_names: u32,
    /// Bytes of all interned names together, over the deployment's life.
    /// Default 256 KiB.
    pub interned_name_bytes: u32,
    /// Points a tick may record with `logging.series`. Default 64.
    pub series_points_per_tick: u32,
    /// Distinct series a deployment may record over its life. Default 32.
    pub series_names: u32,
}

/// Which defaults a strategy runs under: chosen by the host for the
/// language it accepts the strategy as.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum LimitClass {
    /// [`Limits::rust`] (the default).
    #[default]
    Rust,
    /// [`Limits::python`].
    Python,
    /// [`Limits::javascript`].
    JavaScript,
}

impl std::fmt::Display for LimitClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LimitClass::Rust => "rust",
            LimitClass::Python => "python",
            LimitClass::JavaScript => "javascript",
        })
    }
}

impl Limits {
    /// Defaults for Rust strategies (64 MiB of memory).
    pub fn rust() -> Self {
        Limits {
            fuel_per_tick: 100_000_000,
            memory_bytes: 64 * MIB,
            recycle_memory_percent: 75,
            table_elements: 100_000,
            instances: 16,
            tables: 16,
            memories: 4,
            deadline: Duration::from_secs(2),
            actions_per_tick: 16,
            oracle_reads_per_tick: 1_024,
            oracle_bytes_per_tick: 1 << 20,
            log_bytes_per_tick: 4 * 1024,
            argument_bytes: 64 * 1024,
            action_text_bytes: 1024,
            snapshot_bytes: 1 << 20,
            interned_names: 4_096,
            interned_name_bytes: 256 * 1024,
            series_points_per_tick: 64,
            series_names: 32,
        }
    }

    /// Defaults for Python strategies: 256 MiB of memory, and room for the
    /// ~110 core instances a componentize-py component links (interpreter,
    /// C library, runtime, bindings, adapters and WASI stubs); nothing else
    /// changes.
    pub fn python() -> Self {
        Limits {
            memory_bytes: 256 * MIB,
            instances: 128,
            ..Limits::rust()
        }
    }

    /// Defaults for JavaScript strategies (componentize-js links an engine
    /// of the same size class): Python's.
    pub fn javascript() -> Self {
        Limits::python()
    }

    /// The defaults of a limit class. The class is the host's choice (a
    /// flag, the language it built the strategy from, a deployment's
    /// config), never read from the component's shape: a component that
    /// links many instances does not earn a bigger budget by doing so; it
    /// fails to deploy under a smaller class (`ComponentTooLarge`).
    pub fn of_class(class: LimitClass) -> Self {
        match class {
            LimitClass::Rust => Limits::rust(),
            LimitClass::Python => Limits::python(),
            LimitClass::JavaScript => Limits::javascript(),
        }
    }

    /// Memory at which a committed instance is recycled (`None`: never).
    pub(crate) fn recycle_threshold(&self) -> Option<u64> {
        (self.recycle_memory_percent > 0)
            .then(|| self.memory_bytes / 100 * u64::from(self.recycle_memory_percent))
    }

    pub(crate) fn validate(&self, runtime: &RuntimeConfig) -> Result<(), DeployError> {
        let invalid = |reason: String| Err(DeployError::InvalidLimits { reason });
        if self.fuel_per_tick == 0 {
            return invalid("fuel_per_tick must be positive".into());
        }
        if self.deadline.is_zero() {
            return invalid("deadline must be positive".into());
        }
        if self.recycle_memory_percent > 100 {
            return invalid(format!(
                "recycle_memory_percent {} is above 100",
                self.recycle_memory_percent
            ));
        }
        if let Some(pool) = &runtime.pooling
            && self.memory_bytes > pool.max_memory_bytes
        {
            return invalid(format!(
                "memory_bytes {} exceeds the pooling allocator's slot of {} bytes",
                self.memory_bytes, pool.max_memory_bytes
            ));
        }
        Ok(())
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::rust()
    }
}

/// Limits checked when a component is loaded: statically before it is
/// compiled, and on the compilation itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoadLimits {
    /// Component size in bytes. Default 128 MiB.
    pub component_bytes: u64,
    /// Core functions defined across all modules. Default 100,000 (a
    /// componentize-py component has ~13,500, componentize-js ~12,700).
    pub functions: u64,
    /// Imports of the component. Default 64.
    pub imports: u64,
    /// Locals one core function may declare: compile time and memory grow
    /// with them, and a few bytes of a function body can declare millions.
    /// Default 5,000 (the largest function of a componentize-py component
    /// declares 271, of a componentize-js one 118).
    pub function_locals: u64,
    /// Wall-clock time compiling one component may take (`compile_timeout_ms`
    /// in files). On expiry the load fails with
    /// [`LoadError::CompileTimeout`](crate::LoadError::CompileTimeout). With
    /// [`CompileIsolation::Subprocess`](crate::CompileIsolation::Subprocess)
    /// the worker process is then killed (and its CPU time is capped by
    /// `RLIMIT_CPU` as well); in process, Cranelift cannot be interrupted
    /// and the compiler thread finishes in the background, its output
    /// discarded. Default 60 s (an 18 MB Python component takes about 6 s
    /// on one core).
    #[serde(with = "duration_ms", rename = "compile_timeout_ms")]
    pub compile_timeout: Duration,
    /// Address space, in bytes, of the process compiling one component
    /// (its `RLIMIT_AS`): past it the load fails with
    /// [`LoadError::CompileMemoryExceeded`](crate::LoadError::CompileMemoryExceeded).
    /// Enforced only with
    /// [`CompileIsolation::Subprocess`](crate::CompileIsolation::Subprocess);
    /// an in-process compilation is not bounded in memory. Default
    /// 1.25 GiB: about twice what the largest real component, the ~18 MB
    /// componentize-py Bollinger example, needs, measured as the smallest
    /// limit under which it compiles: 550 to 625 MiB on 8 compiler threads
    /// (the worker's most; 530 MiB on 2, 445 MiB on 1).
    pub compile_memory_bytes: u64,
}

impl Default for LoadLimits {
    fn default() -> Self {
        LoadLimits {
            component_bytes: 128 * MIB,
            functions: 100_000,
            imports: 64,
            function_locals: 5_000,
            compile_timeout: Duration::from_secs(60),
            compile_memory_bytes: 1280 * MIB,
        }
    }
}

/// Pooling allocator settings: instances are carved out of preallocated
/// slots, which makes instantiation a matter of microseconds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoolingConfig {
    /// Concurrent component instances.
    pub total_instances: u32,
    /// Largest linear memory a slot can hold; deployments may not ask for
    /// more.
    pub max_memory_bytes: u64,
    /// Largest table a slot can hold.
    pub table_elements: u64,
}

impl Default for PoolingConfig {
    fn default() -> Self {
        PoolingConfig {
            total_instances: 1_000,
            max_memory_bytes: 256 * MIB,
            table_elements: 100_000,
        }
    }
}

/// Runtime-wide configuration. Everything that affects compiled code or
/// determinism is fixed here, not per deployment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeConfig {
    /// Use the pooling allocator (`None`: allocate on demand).
    pub pooling: Option<PoolingConfig>,
    /// Load-time limits.
    pub load: LoadLimits,
    /// How often the wall-clock backstop is checked. Zero disables the
    /// background epoch thread (deadlines then never fire).
    #[serde(with = "duration_ms", rename = "epoch_period_ms")]
    pub epoch_period: Duration,
    /// Meter guests with fuel (the default). Off only to measure what
    /// metering costs, or for trusted code: ticks are then bounded by the
    /// wall-clock deadline alone, report zero fuel, and where a runaway
    /// guest stops is no longer deterministic. Compiled code differs, so
    /// it is part of the artifact key.
    pub fuel: bool,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            pooling: None,
            load: LoadLimits::default(),
            epoch_period: DEFAULT_EPOCH_PERIOD,
            fuel: true,
        }
    }
}

impl RuntimeConfig {
    /// Default configuration with the pooling allocator enabled.
    pub fn pooled() -> Self {
        RuntimeConfig {
            pooling: Some(PoolingConfig::default()),
            ..RuntimeConfig::default()
        }
    }
}

/// The default epoch period of the wall-clock backstop.
pub const DEFAULT_EPOCH_PERIOD: Duration = Duration::from_millis(10);

mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}
