//! Typed errors, in the families of the architecture brief: load, tick,
//! action. Every variant is matchable; none is meant to be parsed.

use std::time::Duration;

use semver::Version;

/// A component was refused or could not be prepared.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The bytes are not a valid WebAssembly component.
    #[error("malformed component: {reason}")]
    Malformed {
        /// What the validator or compiler reported.
        reason: String,
    },
    /// A load-time limit (size, functions, imports...) was exceeded.
    #[error("component exceeds the load limit on {what}: {actual} > {limit}")]
    LimitExceeded {
        /// The limited quantity.
        what: LoadLimit,
        /// Measured value.
        actual: u64,
        /// Configured limit.
        limit: u64,
    },
    /// Compiling the component took longer than
    /// [`crate::LoadLimits::compile_timeout`] allows.
    #[error("compiling the component took longer than {} ms", limit.as_millis())]
    CompileTimeout {
        /// The limit.
        limit: Duration,
    },
    /// Compiling the component needed more address space than
    /// [`crate::LoadLimits::compile_memory_bytes`] allows (enforced when
    /// compiling in a [`crate::CompileIsolation::Subprocess`]).
    #[error("compiling the component needed more than {limit_bytes} bytes of memory")]
    CompileMemoryExceeded {
        /// The limit, in bytes.
        limit_bytes: u64,
    },
    /// The host could not compile at all: the compile worker could not be
    /// started, or failed for a reason of its own (not the component's).
    #[error("the compiler is unavailable: {reason}")]
    CompilerUnavailable {
        /// What failed.
        reason: String,
    },
    /// The component imports interfaces outside the stratbox world.
    #[error("component imports interfaces outside the stratbox world: {}", imports.join(", "))]
    ForbiddenImports {
        /// Every offending import name, in component order.
        imports: Vec<String>,
    },
    /// The component targets an incompatible version of the stratbox world.
    #[error(
        "component targets stratbox:strategy@{found}, but this runtime provides stratbox:strategy@{expected} (incompatible major version)"
    )]
    WorldVersionMismatch {
        /// The world version this runtime implements.
        expected: Version,
        /// The version the component was built against.
        found: Version,
    },
    /// The component does not export the strategy interface.
    #[error("component does not export {expected}")]
    MissingExport {
        /// The export that was looked for.
        expected: String,
    },
    /// The component's imports or exports do not type-check against the
    /// world this runtime provides.
    #[error("component does not match the stratbox world: {reason}")]
    Incompatible {
        /// Linker diagnostic.
        reason: String,
    },
    /// A precompiled artifact was produced by a different runtime version or
    /// engine configuration, or is not an artifact at all.
    #[error("compiled artifact cannot be used with this runtime: {reason}")]
    IncompatibleArtifact {
        /// Why it was rejected.
        reason: String,
    },
    /// Serializing compiled code failed.
    #[error("could not serialize compiled component: {reason}")]
    Serialize {
        /// Engine diagnostic.
        reason: String,
    },
}

/// Quantities bounded at load time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum LoadLimit {
    /// Size of the component in bytes.
    ComponentBytes,
    /// Core functions defined across all modules of the component.
    Functions,
    /// Imports of the component.
    Imports,
    /// Locals declared by one core function.
    FunctionLocals,
}

impl std::fmt::Display for LoadLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LoadLimit::ComponentBytes => "component bytes",
            LoadLimit::Functions => "functions",
            LoadLimit::Imports => "imports",
            LoadLimit::FunctionLocals => "locals of one function",
        })
    }
}

/// A deployment could not be created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeployError {
    /// The requested limits are inconsistent or exceed what the runtime was
    /// configured for (e.g. a memory limit above the pooling slot size).
    #[error("invalid limits: {reason}")]
    InvalidLimits {
        /// What is wrong.
        reason: String,
    },
    /// The component needs more of a static resource than the deployment's
    /// limits allow (core instances, memories, tables).
    #[error("component needs {needed} {what}, the deployment allows {limit}")]
    ComponentTooLarge {
        /// The resource.
        what: &'static str,
        /// What the component declares.
        needed: u64,
        /// The deployment's limit.
        limit: u64,
    },
    /// Instantiating or initializing the strategy failed.
    #[error("strategy failed to initialize: {0}")]
    Init(#[source] Box<crate::report::TickFailure>),
}

/// Why a tick (or init, restore, snapshot) failed. The tick's actions are
/// discarded and the instance is rebuilt from the last committed snapshot
/// before the next tick.
#[derive(Debug, Clone, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum TickError {
    /// The tick used all of its fuel.
    #[error("out of fuel: the tick exceeded its budget of {limit} fuel units")]
    OutOfFuel {
        /// Fuel budget per tick.
        limit: u64,
    },
    /// The guest broke the canonical ABI at the boundary (text that is not
    /// UTF-8, a pointer out of bounds or misaligned, an invalid variant
    /// discriminant...): the guest's fault, not the host's.
    #[error("the strategy broke the component ABI: {reason}")]
    GuestAbi {
        /// What the engine refused.
        reason: String,
    },
    /// Linear memory growth beyond the deployment's limit.
    #[error("memory limit exceeded: requested {requested} bytes, limit {limit}")]
    MemoryLimit {
        /// Requested memory size in bytes.
        requested: u64,
        /// Limit in bytes.
        limit: u64,
    },
    /// Table growth beyond the deployment's limit.
    #[error("table limit exceeded: requested {requested} elements, limit {limit}")]
    TableLimit {
        /// Requested elements.
        requested: u64,
        /// Limit in elements.
        limit: u64,
    },
    /// The wasm stack overflowed (the stack size is fixed runtime-wide).
    #[error("stack overflow")]
    StackOverflow,
    /// The wall-clock backstop fired. Unlike fuel this is not deterministic.
    #[error("wall-clock deadline of {limit:?} exceeded")]
    Deadline {
        /// The deadline.
        limit: Duration,
    },
    /// A per-tick resource bound enforced by the host was exceeded.
    #[error("{0}")]
    Resource(#[from] ResourceExceeded),
    /// The guest trapped (a Rust panic shows up as `Unreachable`; its message
    /// is in the tick's logs).
    #[error("guest trapped: {code}")]
    GuestTrap {
        /// The kind of trap.
        code: TrapCode,
    },
    /// The guest returned an error from its callback.
    #[error("strategy returned an error: {message}")]
    GuestError {
        /// The guest's message (truncated to the per-argument limit).
        message: String,
    },
    /// Instantiating the component failed (e.g. an instance or table count
    /// limit of the engine).
    #[error("instantiation failed: {reason}")]
    Instantiation {
        /// Engine diagnostic.
        reason: String,
    },
    /// The host failed, not the guest.
    #[error("host fault: {reason}")]
    HostFault {
        /// What failed.
        reason: String,
    },
    /// The deployment is paused after too many consecutive failed ticks.
    #[error("deployment paused after {consecutive_failures} consecutive failed ticks")]
    Paused {
        /// Failures that led to the pause.
        consecutive_failures: u32,
    },
}

impl TickError {
    /// Whether the same component, config and oracle tape would fail the
    /// same way again (everything but the wall-clock deadline and host
    /// faults).
    pub fn is_deterministic(&self) -> bool {
        !matches!(
            self,
            TickError::Deadline { .. } | TickError::HostFault { .. } | TickError::Paused { .. }
        )
    }
}

/// A per-tick bound enforced at the boundary.
#[derive(Debug, Clone, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum ResourceExceeded {
    /// More `emit` calls than allowed in one tick.
    #[error("more than {limit} actions emitted in one tick")]
    ActionsPerTick {
        /// Limit.
        limit: u32,
    },
    /// More oracle reads than allowed in one tick.
    #[error("more than {limit} oracle reads in one tick")]
    OracleReadsPerTick {
        /// Limit.
        limit: u32,
    },
    /// More log bytes than allowed in one tick.
    #[error("more than {limit} log bytes in one tick")]
    LogBytesPerTick {
        /// Limit.
        limit: u32,
    },
    /// More distinct names interned (`oracle.intern`) than the deployment
    /// allows.
    #[error("more than {limit} distinct names interned by one deployment")]
    InternedNames {
        /// Limit.
        limit: u32,
    },
    /// More bytes of interned names than the deployment allows.
    #[error("more than {limit} bytes of names interned by one deployment")]
    InternedNameBytes {
        /// Limit.
        limit: u32,
    },
    /// More bytes of oracle answers than allowed in one tick.
    #[error("more than {limit} bytes of oracle answers in one tick")]
    OracleBytesPerTick {
        /// Limit.
        limit: u32,
    },
    /// An emitted action carries more text than allowed.
    #[error("action carries {bytes} bytes of text, above the {limit}-byte limit")]
    ActionTextBytes {
        /// Text in the action.
        bytes: u64,
        /// Limit.
        limit: u32,
    },
    /// One argument crossing the boundary is too large.
    #[error("argument of {function} is {bytes} bytes, above the {limit}-byte limit")]
    ArgumentBytes {
        /// The host function (`oracle.price`, `actions.emit`...).
        function: String,
        /// Size of the argument.
        bytes: u64,
        /// Limit.
        limit: u32,
    },
    /// More `logging.series` points than allowed in one tick.
    #[error("more than {limit} series points recorded in one tick")]
    SeriesPointsPerTick {
        /// Limit.
        limit: u32,
    },
    /// More distinct series than the deployment allows.
    #[error("more than {limit} distinct series recorded by one deployment")]
    SeriesNames {
        /// Limit.
        limit: u32,
    },
    /// A series named by an id `oracle.intern` never gave out.
    #[error("series name id {id} was never interned")]
    SeriesNameUnknown {
        /// The id.
        id: u32,
    },
    /// The snapshot the guest returned is too large.
    #[error("snapshot is {bytes} bytes, above the {limit}-byte limit")]
    SnapshotBytes {
        /// Size of the snapshot.
        bytes: u64,
        /// Limit.
        limit: u32,
    },
}

/// Kinds of guest trap.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum TrapCode {
    /// `unreachable` executed; this is how a Rust panic ends.
    Unreachable,
    /// Out-of-bounds memory access.
    MemoryOutOfBounds,
    /// Out-of-bounds table access.
    TableOutOfBounds,
    /// Indirect call to a null table entry.
    IndirectCallToNull,
    /// Indirect call with the wrong signature.
    BadSignature,
    /// Integer overflow.
    IntegerOverflow,
    /// Integer division by zero.
    IntegerDivisionByZero,
    /// Invalid float to integer conversion.
    BadConversionToInteger,
    /// The component model refused the call (e.g. a malformed string or a
    /// re-entrant call).
    CannotEnterComponent,
    /// Any other trap, by name.
    Other(String),
}

impl std::fmt::Display for TrapCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrapCode::Unreachable => f.write_str("unreachable executed (panic or abort)"),
            TrapCode::MemoryOutOfBounds => f.write_str("out-of-bounds memory access"),
            TrapCode::TableOutOfBounds => f.write_str("out-of-bounds table access"),
            TrapCode::IndirectCallToNull => f.write_str("indirect call to null"),
            TrapCode::BadSignature => f.write_str("indirect call signature mismatch"),
            TrapCode::IntegerOverflow => f.write_str("integer overflow"),
            TrapCode::IntegerDivisionByZero => f.write_str("integer division by zero"),
            TrapCode::BadConversionToInteger => f.write_str("invalid conversion to integer"),
            TrapCode::CannotEnterComponent => f.write_str("cannot enter component"),
            TrapCode::Other(name) => f.write_str(name),
        }
    }
}
