//! Compiling a component: on a thread of this process, or in a worker
//! process that is killed when its time is up and whose address space is
//! bounded.
//!
//! # The worker protocol
//!
//! The parent starts [`CompileWorker::program`] with [`CompileWorker::args`]
//! (a program that calls [`compile_worker_main`]), stdin and stdout piped,
//! and writes one request to its stdin:
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `SBXCMP` followed by the protocol version, `0x00 0x01` |
//! | 4 | length of the header, `u32` little-endian |
//! | n | header: JSON `{"runtime_version": .., "config": RuntimeConfig}` |
//! | 8 | length of the component, `u64` little-endian |
//! | m | the component's bytes |
//!
//! The worker answers on stdout with one frame: a tag byte, a `u64`
//! little-endian length and that many bytes. Tag 0: the compiled artifact
//! ([`wasmtime::component::Component::serialize`]), exit status 0. Tag 1:
//! the compiler refused the component (UTF-8 message). Tag 2: compiling
//! ran out of address space. Tag 3: the worker itself failed (UTF-8
//! message). Tags 1 to 3 exit with status 1.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, ExitCode, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use wasmtime::Engine;
use wasmtime::component::Component;
use zeroize::Zeroizing;

use crate::error::LoadError;
use crate::limits::{LoadLimits, RuntimeConfig};
use crate::runtime::{RUNTIME_VERSION, engine_config};

/// Where a [`Runtime`](crate::Runtime) compiles components (set with
/// [`Runtime::with_compile_isolation`](crate::Runtime::with_compile_isolation)).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CompileIsolation {
    /// On a thread of this process (the default, for library embedders
    /// without a worker program). [`LoadLimits::compile_timeout`] fails the
    /// load, but Cranelift cannot be interrupted: the compilation runs on
    /// in the background to its end, and its memory is not bounded
    /// ([`LoadLimits::compile_memory_bytes`] is not enforced).
    #[default]
    InProcess,
    /// In a child process per component, killed (`SIGKILL`) at
    /// [`LoadLimits::compile_timeout`], with its address space bounded by
    /// [`LoadLimits::compile_memory_bytes`] and its CPU time by
    /// `RLIMIT_CPU`. Costs a process start and a copy of the compiled code
    /// per load.
    Subprocess(CompileWorker),
}

/// A program that runs [`compile_worker_main`]: an embedder's own binary
/// started with the arguments that select it (the `stratbox` CLI's hidden
/// `compile-worker` command), or a binary that does nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileWorker {
    /// The program to run.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
}

impl CompileWorker {
    /// `program`, run without arguments.
    pub fn new(program: impl Into<PathBuf>) -> Self {
        CompileWorker {
            program: program.into(),
            args: Vec::new(),
        }
    }

    /// Append an argument.
    #[must_use]
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }
}

/// Compile `bytes` for `engine` (built from `config`) as `isolation` says.
pub(crate) fn compile(
    engine: &Engine,
    config: &RuntimeConfig,
    isolation: &CompileIsolation,
    bytes: &[u8],
) -> Result<Component, LoadError> {
    match isolation {
        CompileIsolation::InProcess => compile_within(engine, bytes, config.load.compile_timeout),
        CompileIsolation::Subprocess(worker) => {
            let artifact = Zeroizing::new(compile_in_worker(worker, config, bytes)?);
            deserialize_from_worker(engine, &artifact)
        }
    }
}

/// Turn the worker's artifact into a component of `engine`.
#[allow(unsafe_code)]
fn deserialize_from_worker(engine: &Engine, artifact: &[u8]) -> Result<Component, LoadError> {
    // SAFETY: the artifact becomes executable code, so it must be what
    // `Component::serialize` produced. It is: it comes from our own worker
    // program (the embedder names it; it runs `compile_worker_main` of this
    // runtime, checked by the request's runtime version) over a pipe only
    // this process and that child hold, never stored or exposed in between,
    // and was compiled for an engine built from this runtime's own
    // configuration (same artifact key: pooling is left out, which does
    // not change compiled code). `deserialize` also refuses an artifact of
    // another wasmtime version or engine configuration. The worker did
    // process untrusted input to produce it: exactly what the in-process
    // compiler would have done, so a Cranelift bug a component could
    // exploit would be exploitable in process as well.
    unsafe { Component::deserialize(engine, artifact) }.map_err(|e| {
        LoadError::CompilerUnavailable {
            reason: format!("the compile worker's artifact does not fit this engine: {e:#}"),
        }
    })
}

/// Compile `bytes` on a thread of its own, giving up after `limit`: an
/// untrusted component must not hold its loader for as long as it likes.
/// Cranelift cannot be interrupted, so a compilation past the limit runs
/// on in the background and its output is dropped (with its copy of the
/// bytes, wiped).
fn compile_within(engine: &Engine, bytes: &[u8], limit: Duration) -> Result<Component, LoadError> {
    let engine = engine.clone();
    let bytes = Zeroizing::new(bytes.to_vec());
    let (done, outcome) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("stratbox-compile".into())
        .spawn(move || {
            let compiled = Component::new(&engine, bytes.as_slice());
            // The loader may have given up: then nobody listens.
            let _ = done.send(compiled);
        })
        .map_err(|e| LoadError::CompilerUnavailable {
            reason: format!("cannot start the compiler thread: {e}"),
        })?;
    match outcome.recv_timeout(limit) {
        Ok(compiled) => compiled.map_err(|e| LoadError::Malformed {
            reason: format!("{e:#}"),
        }),
        Err(RecvTimeoutError::Timeout) => Err(LoadError::CompileTimeout { limit }),
        Err(RecvTimeoutError::Disconnected) => Err(LoadError::CompilerUnavailable {
            reason: "the compiler thread stopped without an answer".into(),
        }),
    }
}

/// Threads that compile in a worker, at most: the CPUs, up to 8.
/// [`LoadLimits::compile_memory_bytes`] was measured with 8.
fn compile_threads() -> u64 {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get() as u64)
        .min(8)
}

/// glibc malloc arenas of a worker.
const WORKER_MALLOC_ARENAS: &str = "2";

/// First bytes of a request: magic and protocol version.
const REQUEST_MAGIC: [u8; 8] = *b"SBXCMP\x00\x01";
/// Largest request header the worker reads.
const MAX_HEADER_BYTES: u32 = 1 << 20;
/// Bytes of the worker's standard error kept for diagnostics (the last
/// ones).
const STDERR_TAIL_BYTES: usize = 4096;

/// The header of a request.
#[derive(serde::Serialize, serde::Deserialize)]
struct RequestHeader {
    /// [`RUNTIME_VERSION`] of the parent: the worker must be the same.
    runtime_version: String,
    /// The parent runtime's configuration: the engine's and the limits.
    config: RuntimeConfig,
}

/// The worker's answer (its tag byte in the protocol).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Tag {
    /// The compiled artifact.
    Compiled = 0,
    /// The compiler refused the component: its message.
    Refused = 1,
    /// Compiling ran out of address space.
    OutOfMemory = 2,
    /// The worker failed for a reason of its own: its message.
    Failed = 3,
}

impl Tag {
    fn from_byte(byte: u8) -> Option<Tag> {
        [Tag::Compiled, Tag::Refused, Tag::OutOfMemory, Tag::Failed]
            .into_iter()
            .find(|tag| *tag as u8 == byte)
    }
}

/// What the parent read from the worker's stdout.
enum Answer {
    /// A complete frame.
    Frame(Tag, Zeroizing<Vec<u8>>),
    /// Nothing, or not a frame (the worker died first, or is not one).
    Garbled(String),
}

/// Run `worker` on `bytes` within `config.load`'s time, returning the
/// compiled artifact.
fn compile_in_worker(
    worker: &CompileWorker,
    config: &RuntimeConfig,
    bytes: &[u8],
) -> Result<Vec<u8>, LoadError> {
    let limits = &config.load;
    let deadline = Instant::now() + limits.compile_timeout;
    let unavailable = |reason: String| LoadError::CompilerUnavailable { reason };
    let request = Zeroizing::new(encode_request(config, bytes).map_err(unavailable)?);
    let mut child = std::process::Command::new(&worker.program)
        .args(&worker.args)
        // What the worker's address space holds besides the component's
        // code, made the same on every machine: wasmtime compiles on
        // rayon's global pool, one thread per CPU unless told otherwise,
        // and glibc reserves 64 MiB of address space per malloc arena, up
        // to 8 arenas per CPU (`RLIMIT_AS` counts reservations).
        .env("RAYON_NUM_THREADS", compile_threads().to_string())
        .env("MALLOC_ARENA_MAX", WORKER_MALLOC_ARENAS)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            unavailable(format!(
                "cannot start the compile worker {}: {e}",
                worker.program.display()
            ))
        })?;
    let pid = child.id();
    tracing::debug!(pid, program = %worker.program.display(), "compile worker started");
    let (Some(mut stdin), Some(mut stdout), Some(mut stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        kill(&mut child);
        return Err(unavailable("the compile worker's pipes are missing".into()));
    };
    // Each pipe has a thread of its own, so that none can block the
    // others; none is joined: after a kill they end at end of file.
    spawn_io("stratbox-compile-in", move || {
        // The worker may die before reading it all: its status tells why.
        let _ = stdin.write_all(&request);
    })
    .map_err(|e| {
        kill(&mut child);
        unavailable(e)
    })?;
    let max_artifact = limits.compile_memory_bytes;
    let (answered, answer) = mpsc::sync_channel(1);
    spawn_io("stratbox-compile-out", move || {
        let _ = answered.send(read_answer(&mut stdout, max_artifact));
    })
    .map_err(|e| {
        kill(&mut child);
        unavailable(e)
    })?;
    let (diagnosed, diagnostics) = mpsc::sync_channel(1);
    spawn_io("stratbox-compile-err", move || {
        let _ = diagnosed.send(read_tail(&mut stderr));
    })
    .map_err(|e| {
        kill(&mut child);
        unavailable(e)
    })?;

    let timeout = || LoadError::CompileTimeout {
        limit: limits.compile_timeout,
    };
    let answer = match answer.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(answer) => answer,
        Err(RecvTimeoutError::Timeout) => {
            kill(&mut child);
            tracing::debug!(pid, "compile worker killed at the compile timeout");
            return Err(timeout());
        }
        Err(RecvTimeoutError::Disconnected) => Answer::Garbled("no answer".into()),
    };
    // The answer is complete (or the pipe closed): the worker is exiting.
    let Some(status) = wait_until(&mut child, deadline) else {
        kill(&mut child);
        return Err(timeout());
    };
    let stderr_tail = || {
        diagnostics
            .recv_timeout(Duration::from_millis(100))
            .unwrap_or_default()
    };
    tracing::debug!(pid, %status, "compile worker exited");
    match (answer, status.success()) {
        (Answer::Frame(Tag::Compiled, artifact), true) => Ok(artifact.to_vec()),
        (Answer::Frame(Tag::Refused, message), false) => Err(LoadError::Malformed {
            reason: String::from_utf8_lossy(&message).into_owned(),
        }),
        (Answer::Frame(Tag::OutOfMemory, _), false) => Err(LoadError::CompileMemoryExceeded {
            limit_bytes: limits.compile_memory_bytes,
        }),
        (Answer::Frame(Tag::Failed, message), false) => Err(unavailable(format!(
            "the compile worker failed: {}",
            String::from_utf8_lossy(&message)
        ))),
        (Answer::Frame(tag, _), _) => Err(unavailable(format!(
            "the compile worker answered {tag:?} but exited with {status}"
        ))),
        (Answer::Garbled(what), _) => Err(died(status, limits, what, &stderr_tail())),
    }
}

/// The error of a worker that exited with `status` without a valid
/// answer (`what` says what it wrote).
fn died(status: ExitStatus, limits: &LoadLimits, what: String, stderr: &str) -> LoadError {
    #[cfg(unix)]
    {
        use rustix::process::Signal;
        use std::os::unix::process::ExitStatusExt;
        match status.signal() {
            // Rust aborts the process when an allocation fails, and the
            // worker catches every panic: an abort is memory running out
            // (an allocation, or a thread's stack).
            Some(signal) if signal == Signal::ABORT.as_raw() => {
                return LoadError::CompileMemoryExceeded {
                    limit_bytes: limits.compile_memory_bytes,
                };
            }
            Some(signal) if signal == Signal::XCPU.as_raw() => {
                return LoadError::CompileTimeout {
                    limit: limits.compile_timeout,
                };
            }
            Some(signal) => {
                return LoadError::Malformed {
                    reason: format!("the compiler was killed by signal {signal}"),
                };
            }
            None => {}
        }
    }
    LoadError::CompilerUnavailable {
        reason: format!(
            "the compile worker exited with {status} and {what}{}{stderr}",
            if stderr.is_empty() { "" } else { ": " }
        ),
    }
}

/// Start a named thread serving one of the worker's pipes.
fn spawn_io(name: &str, io: impl FnOnce() + Send + 'static) -> Result<(), String> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(io)
        .map(drop)
        .map_err(|e| format!("cannot start a thread for the compile worker: {e}"))
}

/// Kill the worker (`SIGKILL`) and reap it.
fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Wait for the worker to exit, until `deadline`.
fn wait_until(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Ok(None) | Err(_) => return None,
        }
    }
}

/// Read one answer frame, refusing a payload above `max_bytes`.
fn read_answer(stdout: &mut impl Read, max_bytes: u64) -> Answer {
    let mut head = [0u8; 9];
    if let Err(e) = stdout.read_exact(&mut head) {
        return Answer::Garbled(format!("no answer ({e})"));
    }
    let Some(tag) = Tag::from_byte(head[0]) else {
        return Answer::Garbled(format!("an unknown answer tag {}", head[0]));
    };
    let mut length = [0u8; 8];
    length.copy_from_slice(&head[1..]);
    let length = u64::from_le_bytes(length);
    if length > max_bytes {
        return Answer::Garbled(format!("an answer of {length} bytes"));
    }
    let mut payload = Zeroizing::new(Vec::new());
    match stdout.take(length).read_to_end(&mut payload) {
        Ok(n) if n as u64 == length => Answer::Frame(tag, payload),
        Ok(n) => Answer::Garbled(format!("{n} of the {length} bytes of its answer")),
        Err(e) => Answer::Garbled(format!("a broken answer ({e})")),
    }
}

/// The last [`STDERR_TAIL_BYTES`] of the worker's standard error.
fn read_tail(stderr: &mut impl Read) -> String {
    let mut tail = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n) = stderr.read(&mut chunk) {
        if n == 0 {
            break;
        }
        tail.extend_from_slice(&chunk[..n]);
        let excess = tail.len().saturating_sub(STDERR_TAIL_BYTES);
        tail.drain(..excess);
    }
    String::from_utf8_lossy(&tail).trim().to_owned()
}

/// Encode a request for `bytes` under `config`.
fn encode_request(config: &RuntimeConfig, bytes: &[u8]) -> Result<Vec<u8>, String> {
    let header = serde_json::to_vec(&RequestHeader {
        runtime_version: RUNTIME_VERSION.to_owned(),
        config: config.clone(),
    })
    .map_err(|e| format!("cannot encode the compile request: {e}"))?;
    let header_len = u32::try_from(header.len())
        .map_err(|_| "the compile request's header is too large".to_owned())?;
    let mut request = Vec::with_capacity(REQUEST_MAGIC.len() + 12 + header.len() + bytes.len());
    request.extend_from_slice(&REQUEST_MAGIC);
    request.extend_from_slice(&header_len.to_le_bytes());
    request.extend_from_slice(&header);
    request.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    request.extend_from_slice(bytes);
    Ok(request)
}

/// A decoded request.
struct Request {
    config: RuntimeConfig,
    component: Zeroizing<Vec<u8>>,
}

/// Read and check a request.
fn read_request(input: &mut impl Read) -> Result<Request, String> {
    let broken = |e: std::io::Error| format!("cannot read the compile request: {e}");
    let mut magic = [0u8; 8];
    input.read_exact(&mut magic).map_err(broken)?;
    if magic != REQUEST_MAGIC {
        return Err("not a compile request of this protocol version".into());
    }
    let mut header_len = [0u8; 4];
    input.read_exact(&mut header_len).map_err(broken)?;
    let header_len = u32::from_le_bytes(header_len);
    if header_len > MAX_HEADER_BYTES {
        return Err(format!("a request header of {header_len} bytes"));
    }
    let mut header = vec![0u8; header_len as usize];
    input.read_exact(&mut header).map_err(broken)?;
    let header: RequestHeader = serde_json::from_slice(&header)
        .map_err(|e| format!("cannot decode the compile request: {e}"))?;
    if header.runtime_version != RUNTIME_VERSION {
        return Err(format!(
            "the worker runs stratbox-runtime {RUNTIME_VERSION}, the request comes from {}",
            header.runtime_version
        ));
    }
    let mut length = [0u8; 8];
    input.read_exact(&mut length).map_err(broken)?;
    let length = u64::from_le_bytes(length);
    if length > header.config.load.component_bytes {
        return Err(format!(
            "a component of {length} bytes, above the limit of {}",
            header.config.load.component_bytes
        ));
    }
    let mut component = Zeroizing::new(Vec::new());
    input
        .take(length)
        .read_to_end(&mut component)
        .map_err(broken)?;
    if component.len() as u64 != length {
        return Err("the compile request ends early".into());
    }
    Ok(Request {
        config: header.config,
        component,
    })
}

/// The compile worker: what a program named by a [`CompileWorker`] runs,
/// and returns from `main`. Reads one request from stdin, bounds its own
/// address space ([`LoadLimits::compile_memory_bytes`]) and CPU time
/// ([`LoadLimits::compile_timeout`] times the CPUs the compiler may use),
/// compiles, and writes the compiled artifact (or why there is none) to
/// stdout. Nothing else may write to stdout in that process.
pub fn compile_worker_main() -> ExitCode {
    let (tag, payload) = run_worker();
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(&[tag as u8])
        .and_then(|()| stdout.write_all(&(payload.len() as u64).to_le_bytes()))
        .and_then(|()| stdout.write_all(&payload))
        .and_then(|()| stdout.flush());
    match (tag, written) {
        (Tag::Compiled, Ok(())) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}

/// The worker's answer to the request on stdin.
fn run_worker() -> (Tag, Zeroizing<Vec<u8>>) {
    let failed = |reason: String| (Tag::Failed, Zeroizing::new(reason.into_bytes()));
    if let Err(reason) = harden() {
        return failed(reason);
    }
    let request = match read_request(&mut std::io::stdin().lock()) {
        Ok(request) => request,
        Err(reason) => return failed(reason),
    };
    // Pooling changes where instances live, not compiled code: the
    // worker reserves no slots.
    let config = RuntimeConfig {
        pooling: None,
        ..request.config
    };
    let engine = match Engine::new(&engine_config(&config)) {
        Ok(engine) => engine,
        Err(e) => return failed(format!("cannot create the engine: {e:#}")),
    };
    if let Err(reason) = limit_resources(&config.load) {
        return failed(reason);
    }
    let compiled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Component::new(&engine, request.component.as_slice())
    }));
    match compiled {
        Ok(Ok(component)) => match component.serialize() {
            Ok(artifact) => (Tag::Compiled, Zeroizing::new(artifact)),
            Err(e) if out_of_memory(&e) => (Tag::OutOfMemory, Zeroizing::default()),
            Err(e) => failed(format!("cannot serialize the compiled component: {e:#}")),
        },
        Ok(Err(e)) if out_of_memory(&e) => (Tag::OutOfMemory, Zeroizing::default()),
        Ok(Err(e)) => (Tag::Refused, Zeroizing::new(format!("{e:#}").into_bytes())),
        // A panic near the address-space limit is a resource the compiler
        // could not get (a thread whose stack does not fit); elsewhere, a
        // compiler bug the component triggered.
        Err(_) if near_limit(config.load.compile_memory_bytes) => {
            (Tag::OutOfMemory, Zeroizing::default())
        }
        Err(_) => (
            Tag::Refused,
            Zeroizing::new(b"the compiler panicked on this component".to_vec()),
        ),
    }
}

/// Whether this process's peak address space came within
/// [`NEAR_LIMIT_BYTES`] of `limit` (Linux: `VmPeak`; elsewhere, unknown,
/// taken as yes).
fn near_limit(limit: u64) -> bool {
    peak_address_space().is_none_or(|peak| peak.saturating_add(NEAR_LIMIT_BYTES) >= limit)
}

/// Headroom under the address-space limit within which a failure is taken
/// for memory running out: more than a thread's stack with its guard.
const NEAR_LIMIT_BYTES: u64 = 16 << 20;

/// This process's peak address space in bytes (`VmPeak` of
/// `/proc/self/status`).
fn peak_address_space() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmPeak:"))?;
    let kib: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    kib.checked_mul(1024)
}

/// Whether `error` is an allocation failure (wasmtime's own, or an
/// `ENOMEM` from the OS, as `std` or `rustix` reports it: wasmtime maps
/// its code memory with `rustix`).
fn out_of_memory(error: &wasmtime::Error) -> bool {
    error.chain().any(|cause| {
        cause.is::<wasmtime::OutOfMemory>()
            || cause
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::OutOfMemory)
            || errno_out_of_memory(cause)
    })
}

/// Whether `cause` is `rustix`'s `ENOMEM`.
#[cfg(unix)]
fn errno_out_of_memory(cause: &(dyn std::error::Error + 'static)) -> bool {
    cause
        .downcast_ref::<rustix::io::Errno>()
        .is_some_and(|e| *e == rustix::io::Errno::NOMEM)
}

/// No `rustix` elsewhere.
#[cfg(not(unix))]
fn errno_out_of_memory(_cause: &(dyn std::error::Error + 'static)) -> bool {
    false
}

/// No core dumps of the component's bytes, not readable by other
/// processes of the user, and gone with the parent.
#[cfg(unix)]
fn harden() -> Result<(), String> {
    use rustix::process::{Resource, Rlimit, setrlimit};
    let none = Rlimit {
        current: Some(0),
        maximum: Some(0),
    };
    setrlimit(Resource::Core, none).map_err(|e| format!("cannot disable core dumps: {e}"))?;
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{DumpableBehavior, Signal};
        rustix::process::set_dumpable_behavior(DumpableBehavior::NotDumpable)
            .map_err(|e| format!("cannot mark the worker non-dumpable: {e}"))?;
        rustix::process::set_parent_process_death_signal(Some(Signal::KILL))
            .map_err(|e| format!("cannot tie the worker to its parent: {e}"))?;
    }
    Ok(())
}

/// Nothing to set elsewhere.
#[cfg(not(unix))]
fn harden() -> Result<(), String> {
    Ok(())
}

/// Bound this process: address space to `compile_memory_bytes`, CPU time
/// to the compile timeout (rounded up to whole seconds) for each thread
/// that compiles, since `RLIMIT_CPU` sums the CPU time of all threads.
/// The wall-clock timeout is the parent's; this is the backstop should the
/// parent be unable to kill the worker.
#[cfg(unix)]
fn limit_resources(limits: &LoadLimits) -> Result<(), String> {
    use rustix::process::{Resource, Rlimit, setrlimit};
    let cpus = compile_threads();
    let seconds = limits
        .compile_timeout
        .as_secs()
        .saturating_add(u64::from(limits.compile_timeout.subsec_nanos() > 0))
        .max(1)
        .saturating_mul(cpus);
    // SIGXCPU at the soft limit; SIGKILL a second later should it be
    // caught.
    setrlimit(
        Resource::Cpu,
        Rlimit {
            current: Some(seconds),
            maximum: Some(seconds.saturating_add(1)),
        },
    )
    .map_err(|e| format!("cannot limit the worker's CPU time: {e}"))?;
    setrlimit(
        Resource::As,
        Rlimit {
            current: Some(limits.compile_memory_bytes),
            maximum: Some(limits.compile_memory_bytes),
        },
    )
    .map_err(|e| format!("cannot limit the worker's address space: {e}"))
}

/// Elsewhere only the parent's wall-clock timeout applies.
#[cfg(not(unix))]
fn limit_resources(_limits: &LoadLimits) -> Result<(), String> {
    Ok(())
}
