//! Compile bombs: components a few kilobytes large, well within every
//! static load limit, whose compilation by Cranelift takes tens of seconds
//! or gigabytes. Only the compile worker's bounds stop them.
//!
//! The bomb is one function with `locals` i64 locals and `merges` nested
//! blocks, all the targets of one `br_table`. The code after the innermost
//! block sets every local, and the function returns their sum after the
//! outermost one: at each of the `merges` block ends the locals arrive with
//! two values (set, or still zero from the `br_table`), so SSA construction
//! gives every merge point a block parameter per local, `merges x locals`
//! of them from a body of about `4 x merges + 10 x locals` bytes. Measured
//! on one core (wasmtime 48, EPYC): translation scans the `br_table` for
//! each parameter (time `merges^2 x locals`), memory grows with the
//! parameters (about 2.5 KiB each), and register allocation takes time
//! quadratic in them: 200 x 200 compiles in 1.2 s, 300 x 300 in 5.9 s,
//! 500 x 500 (7 KB of body) in 38 to 58 s in process, in at most 800 MiB of
//! the worker's address space; 150 x 4,000 (40 KB) takes 1.4 GiB of it
//! within 3 s, and regalloc goes on for minutes.

use std::time::{Duration, Instant};

use stratbox_runtime::{LoadError, LoadLimits, Runtime, RuntimeConfig};
use stratbox_test_artifacts::Guest;

use crate::crafted::{append_module, core_module, leb};
use crate::support::{isolated, isolated_with_timeout, processes_with, worker};

/// The bomb's core module: one function `(param i32) (result i64)` of
/// `merges` nested blocks and `locals` locals (see the module docs).
fn bomb_module(merges: u32, locals: u32) -> Vec<u8> {
    const BLOCK: [u8; 2] = [0x02, 0x40]; // block, no result
    const END: u8 = 0x0b;
    const BR_TABLE: u8 = 0x0e;
    const LOCAL_GET: u8 = 0x20;
    const LOCAL_SET: u8 = 0x21;
    const I64_CONST: u8 = 0x42;
    const I64_ADD: u8 = 0x7c;
    const I64_EXTEND_I32_U: u8 = 0xad;
    const I32: u8 = 0x7f;
    const I64: u8 = 0x7e;

    let mut body = Vec::new();
    leb(&mut body, 1); // one group of locals:
    leb(&mut body, u64::from(locals)); // `locals` of them,
    body.push(I64); // i64
    body.extend(BLOCK.repeat(merges as usize));
    // br_table 0 1 .. merges-1 (default merges-1) on the parameter.
    body.extend_from_slice(&[LOCAL_GET, 0, BR_TABLE]);
    leb(&mut body, u64::from(merges));
    for depth in 0..merges {
        leb(&mut body, u64::from(depth));
    }
    leb(&mut body, u64::from(merges - 1));
    body.push(END);
    // Reached from the first target only: every local gets a value that
    // is not the zero the other targets carry.
    for local in 1..=locals {
        body.extend_from_slice(&[LOCAL_GET, 0, I64_EXTEND_I32_U, LOCAL_SET]);
        leb(&mut body, u64::from(local));
    }
    body.extend(std::iter::repeat_n(END, merges as usize - 1));
    // Every local is used, at the end of every path.
    body.extend_from_slice(&[I64_CONST, 0]);
    for local in 1..=locals {
        body.push(LOCAL_GET);
        leb(&mut body, u64::from(local));
        body.push(I64_ADD);
    }
    body.push(END);

    let mut code = Vec::new();
    leb(&mut code, 1);
    leb(&mut code, body.len() as u64);
    code.extend_from_slice(&body);
    core_module(&[
        (1, vec![0x01, 0x60, 0x01, I32, 0x01, I64]), // type: (i32) -> i64
        (3, vec![0x01, 0x00]),                       // function 0: type 0
        (10, code),
    ])
}

/// The smallest loadable component of the world, with a bomb module
/// (instantiated, never called) appended.
fn bomb(merges: u32, locals: u32) -> Vec<u8> {
    append_module(&Guest::Minimal.bytes(), &bomb_module(merges, locals), 1)
}

/// `bytes` pass every check made before compiling, with room to spare:
/// they validate, and the runtime's inspection (size, functions, locals,
/// imports, world) accepts them under the default load limits.
fn assert_statically_acceptable(bytes: &[u8]) {
    wasmparser::validate(bytes).expect("a valid component");
    let limits = LoadLimits::default();
    let info = Runtime::new(RuntimeConfig::default())
        .expect("runtime")
        .inspect(bytes)
        .expect("passes inspection");
    assert!(info.size_bytes < 64 << 10, "{info:?}");
    assert!(info.size_bytes * 1000 < limits.component_bytes, "{info:?}");
    assert!(info.functions * 1000 < limits.functions, "{info:?}");
    assert!(
        info.max_function_locals <= limits.function_locals,
        "{info:?}"
    );
    assert_eq!(info.world_version, Some(stratbox_runtime::world_version()));
}

/// A bomb that runs Cranelift for tens of seconds in under 1 GiB of
/// address space (500 x 500: 38 to 58 s on one core) ends in
/// `CompileTimeout` at a 2 s timeout, under the default memory bound: the
/// worker is killed, not waited for, and no process is left of it.
#[test]
fn a_slow_to_compile_component_is_stopped_at_the_compile_timeout() {
    let bytes = bomb(500, 500);
    assert_statically_acceptable(&bytes);
    let timeout = Duration::from_secs(2);
    let marker = format!("stratbox-compile-bomb-{}", std::process::id());
    let runtime = isolated_with_timeout(timeout, &marker);
    let started = Instant::now();
    let error = runtime.load(&bytes).unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(error, LoadError::CompileTimeout { limit } if limit == timeout),
        "{error:?} after {elapsed:?}"
    );
    assert!(elapsed >= timeout, "{elapsed:?}");
    assert!(elapsed < timeout + Duration::from_secs(2), "{elapsed:?}");
    assert_eq!(processes_with(&marker), Vec::<String>::new());
}

/// A bomb that takes 1.4 GiB of address space within seconds (150 x 4,000,
/// 40 KB: more than the default 1.25 GiB) ends in `CompileMemoryExceeded`
/// under a 512 MiB bound long before its timeout, while the same component
/// without its bomb compiles under that bound.
#[test]
fn a_memory_hungry_compilation_is_stopped_at_the_compile_memory_bound() {
    let bytes = bomb(150, 4_000);
    assert_statically_acceptable(&bytes);
    let limit = 512 << 20;
    let marker = format!("stratbox-memory-bomb-{}", std::process::id());
    let runtime = isolated(
        RuntimeConfig {
            load: LoadLimits {
                compile_memory_bytes: limit,
                compile_timeout: Duration::from_secs(60),
                ..LoadLimits::default()
            },
            ..RuntimeConfig::default()
        },
        worker().arg(&marker),
    );
    let started = Instant::now();
    let error = runtime.load(&bytes).unwrap_err();
    assert!(
        matches!(error, LoadError::CompileMemoryExceeded { limit_bytes } if limit_bytes == limit),
        "{error:?} after {:?}",
        started.elapsed()
    );
    assert_eq!(processes_with(&marker), Vec::<String>::new());
    runtime
        .load(&Guest::Minimal.bytes())
        .expect("the component without its bomb compiles under the same bound");
}

/// Compile times of bombs in process, to measure them again (after a
/// wasmtime upgrade): `BOMB=merges,locals cargo test -p stratbox-runtime
/// --test all compile_time_of_a_bomb -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement: takes as long as the bomb it is given"]
fn compile_time_of_a_bomb() {
    let bomb_size = std::env::var("BOMB").unwrap_or_else(|_| "300,300".into());
    let (merges, locals) = bomb_size.split_once(',').expect("BOMB=merges,locals");
    let bytes = bomb(merges.parse().unwrap(), locals.parse().unwrap());
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let started = Instant::now();
    let result = runtime.load(&bytes).map(drop);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("");
    eprintln!(
        "bomb {bomb_size}: {} bytes, {:?} in {:?}, {peak}",
        bytes.len(),
        result,
        started.elapsed()
    );
}
