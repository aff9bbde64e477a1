//! Load-time checks: what is accepted, what is refused and why.

use std::time::{Duration, Instant};

use stratbox_runtime::{
    CompileIsolation, CompileWorker, LoadError, LoadLimit, LoadLimits, Runtime, RuntimeConfig,
};
use stratbox_test_artifacts::Guest;

use crate::support::{
    fingerprint, isolated, isolated_with_timeout, paper_run, processes_with, runtime, worker,
};

#[test]
fn example_strategies_load_and_report_their_world() {
    let runtime = runtime();
    for guest in [Guest::RsiMomentum, Guest::EmaCrossover, Guest::Hostile] {
        let component = runtime.load(&guest.bytes()).expect("loads");
        let info = component.info();
        assert_eq!(
            info.world_version
                .as_ref()
                .map(ToString::to_string)
                .as_deref(),
            Some("0.2.1")
        );
        assert!(
            info.exports
                .contains(&"stratbox:strategy/strategy@0.2.1".to_owned())
        );
        assert!(
            info.imports
                .iter()
                .all(|i| i.starts_with("stratbox:strategy/")),
            "{:?}",
            info.imports
        );
        assert_eq!(info.sha256.len(), 64);
    }
}

#[test]
fn foreign_interface_import_is_refused_by_name() {
    match runtime().load(&Guest::ForeignImport.bytes()) {
        Err(LoadError::ForbiddenImports { imports }) => {
            assert_eq!(imports, vec!["evil:exfil/net".to_owned()]);
        }
        other => panic!("expected ForbiddenImports, got {other:?}"),
    }
}

#[test]
fn wasip2_component_is_refused_with_every_wasi_import() {
    match runtime().load(&Guest::WasiClock.bytes()) {
        Err(LoadError::ForbiddenImports { imports }) => {
            assert!(imports.len() >= 2, "{imports:?}");
            assert!(
                imports.iter().all(|i| i.starts_with("wasi:")),
                "{imports:?}"
            );
            assert!(
                imports.iter().any(|i| i.starts_with("wasi:clocks/")),
                "{imports:?}"
            );
            assert!(
                imports.iter().any(|i| i.starts_with("wasi:cli/")),
                "{imports:?}"
            );
        }
        other => panic!("expected ForbiddenImports, got {other:?}"),
    }
}

/// Loading `guest` fails with a world version mismatch that names this
/// runtime's version (0.2.1) and `found`, in the value and in the message.
fn assert_refused_naming_both_versions(guest: Guest, found: &str) {
    let error = runtime().load(&guest.bytes()).expect_err("refused");
    match &error {
        LoadError::WorldVersionMismatch {
            expected,
            found: version,
        } => {
            assert_eq!(expected.to_string(), "0.2.1");
            assert_eq!(version.to_string(), found);
        }
        other => panic!("expected WorldVersionMismatch, got {other:?}"),
    }
    let message = error.to_string();
    assert!(
        message.contains("0.2.1") && message.contains(found),
        "{message}"
    );
}

#[test]
fn world_major_version_mismatch_names_both_versions() {
    assert_refused_naming_both_versions(Guest::WorldV1, "1.0.0");
}

#[test]
fn components_of_the_previous_world_are_refused_naming_both_versions() {
    // World 0.2 moved the tick context to flat arguments and oracle reads to
    // interned ids: a 0.1 component would misread every call.
    assert_refused_naming_both_versions(Guest::WorldV0_1, "0.1.0");
}

#[test]
fn component_without_the_strategy_export_is_refused() {
    assert!(matches!(
        runtime().load(&Guest::NoExport.bytes()),
        Err(LoadError::MissingExport { .. })
    ));
}

#[test]
fn exports_of_the_wrong_type_are_refused_at_load() {
    let error = runtime()
        .load(&Guest::WrongExportTypes.bytes())
        .expect_err("a `snapshot` returning a string must not load");
    assert!(
        matches!(error, LoadError::Incompatible { ref reason } if reason.contains("snapshot")),
        "{error:?}"
    );
}

#[test]
fn malformed_bytes_are_refused() {
    let runtime = runtime();
    let mut truncated = Guest::RsiMomentum.bytes();
    truncated.truncate(truncated.len() / 2);
    assert!(matches!(
        runtime.load(&truncated),
        Err(LoadError::Malformed { .. })
    ));
    assert!(matches!(
        runtime.load(b"\0asm\x01\0\0\0"),
        Err(LoadError::Malformed { .. })
    ));
    assert!(matches!(
        runtime.load(b"not wasm"),
        Err(LoadError::Malformed { .. })
    ));
}

#[test]
fn load_limits_are_enforced() {
    let bytes = Guest::RsiMomentum.bytes();
    let tight = |load: LoadLimits| {
        Runtime::new(RuntimeConfig {
            load,
            ..RuntimeConfig::default()
        })
        .expect("runtime")
    };
    let small = tight(LoadLimits {
        component_bytes: 1024,
        ..LoadLimits::default()
    });
    assert!(matches!(
        small.load(&bytes),
        Err(LoadError::LimitExceeded {
            what: LoadLimit::ComponentBytes,
            limit: 1024,
            ..
        })
    ));
    let few_functions = tight(LoadLimits {
        functions: 10,
        ..LoadLimits::default()
    });
    assert!(matches!(
        few_functions.load(&bytes),
        Err(LoadError::LimitExceeded {
            what: LoadLimit::Functions,
            ..
        })
    ));
    let no_imports = tight(LoadLimits {
        imports: 1,
        ..LoadLimits::default()
    });
    assert!(matches!(
        no_imports.load(&bytes),
        Err(LoadError::LimitExceeded {
            what: LoadLimit::Imports,
            ..
        })
    ));
    let few_locals = tight(LoadLimits {
        function_locals: 4,
        ..LoadLimits::default()
    });
    assert!(matches!(
        few_locals.load(&bytes),
        Err(LoadError::LimitExceeded {
            what: LoadLimit::FunctionLocals,
            limit: 4,
            ..
        })
    ));
}

#[test]
fn compilation_is_bounded_in_time() {
    // Compiling any real component takes longer than a microsecond: the
    // bound fires with a typed error instead of holding the loader.
    let runtime = Runtime::new(RuntimeConfig {
        load: LoadLimits {
            compile_timeout: Duration::from_micros(1),
            ..LoadLimits::default()
        },
        ..RuntimeConfig::default()
    })
    .expect("runtime");
    let error = runtime.load(&Guest::RsiMomentum.bytes()).unwrap_err();
    assert!(
        matches!(error, LoadError::CompileTimeout { limit } if limit.as_micros() == 1),
        "{error:?}"
    );
    // The default leaves room for the largest example (Python).
    let info = runtime.inspect(&Guest::PyBollinger.bytes()).unwrap();
    assert!(info.max_function_locals <= LoadLimits::default().function_locals);
}

#[test]
fn compiled_code_round_trips_through_serialize() {
    let runtime = runtime();
    let bytes = Guest::RsiMomentum.bytes();
    let component = runtime.load(&bytes).expect("loads");
    let artifact = runtime.serialize(&component).expect("serializes");
    // SAFETY: the artifact was produced by this runtime a moment ago and
    // never left this process's memory.
    #[allow(unsafe_code)]
    let again = unsafe { runtime.load_precompiled(&bytes, &artifact) }.expect("deserializes");
    assert_eq!(again.info(), component.info());

    let key = runtime.artifact_key(&component.info().sha256);
    assert_eq!(key, runtime.artifact_key(&component.info().sha256));
    assert_ne!(key, runtime.artifact_key(&"0".repeat(64)));

    // SAFETY: deliberately not an artifact; the engine's header check must
    // refuse it before anything is executed.
    #[allow(unsafe_code)]
    let garbage = unsafe { runtime.load_precompiled(&bytes, b"definitely not compiled code") };
    assert!(matches!(
        garbage,
        Err(LoadError::IncompatibleArtifact { .. })
    ));
}

#[test]
fn second_load_through_a_cache_deserializes() {
    use stratbox_runtime::{CacheOutcome, MemoryArtifactCache};
    let runtime = runtime();
    let cache = MemoryArtifactCache::new();
    let bytes = Guest::EmaCrossover.bytes();
    let (first, outcome) = runtime.load_cached(&bytes, &cache).expect("loads");
    assert!(matches!(outcome, CacheOutcome::Miss));
    assert_eq!(cache.len(), 1);
    let (second, outcome) = runtime.load_cached(&bytes, &cache).expect("loads");
    assert!(matches!(outcome, CacheOutcome::Hit));
    assert_eq!(first.info(), second.info());
    // The static checks still run on a hit: a refused component never
    // reaches the cache lookup.
    assert!(matches!(
        runtime.load_cached(&Guest::ForeignImport.bytes(), &cache),
        Err(LoadError::ForbiddenImports { .. })
    ));
}

#[test]
fn the_artifact_key_is_derived_from_component_engine_and_runtime_version() {
    use stratbox_runtime::{ArtifactKeyInputs, RUNTIME_VERSION};
    let runtime = runtime();
    let bytes = Guest::RsiMomentum.bytes();
    let sha = runtime.inspect(&bytes).expect("inspects").sha256;
    let inputs = runtime.artifact_key_inputs(&sha);
    assert_eq!(inputs.component_sha256, sha);
    assert_eq!(inputs.runtime_version, RUNTIME_VERSION);
    assert_eq!(RUNTIME_VERSION, env!("CARGO_PKG_VERSION"));
    assert_eq!(runtime.artifact_key(&sha), inputs.key());

    // Each input changes the key.
    let other_component = "0".repeat(64);
    let mut other_engine = inputs.engine_fingerprint;
    other_engine[0] ^= 1;
    let variants = [
        ArtifactKeyInputs {
            component_sha256: &other_component,
            ..inputs
        },
        ArtifactKeyInputs {
            engine_fingerprint: other_engine,
            ..inputs
        },
        ArtifactKeyInputs {
            runtime_version: "0.1.1",
            ..inputs
        },
    ];
    let mut keys = vec![inputs.key()];
    for variant in variants {
        let key = variant.key();
        assert!(!keys.contains(&key), "{variant:?} gives an existing key");
        keys.push(key);
    }
}

#[test]
fn runtimes_whose_settings_do_not_change_compiled_code_share_artifacts() {
    use stratbox_runtime::{CacheOutcome, MemoryArtifactCache};
    let bytes = Guest::RsiMomentum.bytes();
    let plain = Runtime::new(RuntimeConfig::default()).expect("runtime");
    let sha = plain.inspect(&bytes).expect("inspects").sha256;
    let cache = MemoryArtifactCache::new();
    let (_, outcome) = plain.load_cached(&bytes, &cache).expect("loads");
    assert!(matches!(outcome, CacheOutcome::Miss));
    // The pooling allocator, load limits and the epoch period are runtime
    // settings, not compilation ones: same fingerprint, same key, and the
    // first runtime's artifact loads in the others.
    let others = [
        RuntimeConfig::pooled(),
        RuntimeConfig {
            load: LoadLimits {
                functions: LoadLimits::default().functions * 2,
                ..LoadLimits::default()
            },
            epoch_period: Duration::from_millis(3),
            ..RuntimeConfig::default()
        },
    ];
    for config in others {
        let other = Runtime::new(config).expect("runtime");
        assert_eq!(
            other.artifact_key_inputs(&sha),
            plain.artifact_key_inputs(&sha)
        );
        let (_, outcome) = other.load_cached(&bytes, &cache).expect("loads");
        assert!(matches!(outcome, CacheOutcome::Hit), "{outcome:?}");
    }
    assert_eq!(cache.len(), 1);
}

#[test]
fn a_component_compiled_in_a_worker_runs_like_one_compiled_in_process() {
    // The worker compiles without the pooling allocator; a pooled runtime
    // takes its artifact all the same (pooling does not change code).
    let subprocess = isolated(RuntimeConfig::pooled(), worker());
    let in_process = Runtime::new(RuntimeConfig::default()).expect("runtime");
    assert_eq!(
        subprocess.compile_isolation(),
        &CompileIsolation::Subprocess(worker())
    );
    assert_eq!(in_process.compile_isolation(), &CompileIsolation::InProcess);
    let bytes = Guest::RsiMomentum.bytes();
    assert_eq!(
        subprocess
            .load(&bytes)
            .expect("compiles in the worker")
            .info(),
        in_process.load(&bytes).expect("compiles").info()
    );
    let tape = crate::support::eth_tape(1_000);
    let a = fingerprint(&paper_run(
        &subprocess,
        Guest::RsiMomentum,
        "{}",
        tape.clone(),
    ));
    let b = fingerprint(&paper_run(&in_process, Guest::RsiMomentum, "{}", tape));
    assert_eq!(a.len(), 1_000);
    assert!(a.iter().all(|tick| tick.starts_with("ok ")), "{:?}", a[0]);
    assert!(a.iter().any(|tick| tick.contains("Swap")), "it trades");
    assert_eq!(a, b);
}

#[test]
fn a_worker_past_the_compile_timeout_is_killed() {
    for (guest, timeout) in [
        (Guest::RsiMomentum, Duration::from_millis(1)),
        // Seconds of Cranelift work: the worker is surely compiling when
        // its time is up.
        (Guest::PyBollinger, Duration::from_millis(300)),
    ] {
        let marker = format!("stratbox-timeout-test-{}-{guest:?}", std::process::id());
        let runtime = isolated_with_timeout(timeout, &marker);
        let started = Instant::now();
        let error = runtime.load(&guest.bytes()).unwrap_err();
        assert!(
            matches!(error, LoadError::CompileTimeout { limit } if limit == timeout),
            "{guest:?}: {error:?}"
        );
        // Killed, not waited for.
        assert!(started.elapsed() < Duration::from_secs(3), "{guest:?}");
        // And reaped: no process (not even a zombie) is left of it.
        assert_eq!(processes_with(&marker), Vec::<String>::new(), "{guest:?}");
    }
}

#[test]
fn a_worker_is_bounded_in_memory() {
    // The largest real component (Python, ~18 MB) under 64 MiB of
    // address space: a typed error, not an exhausted host.
    let bytes = Guest::PyBollinger.bytes();
    let tight = isolated(
        RuntimeConfig {
            load: LoadLimits {
                compile_memory_bytes: 64 << 20,
                ..LoadLimits::default()
            },
            ..RuntimeConfig::default()
        },
        worker(),
    );
    let error = tight.load(&bytes).unwrap_err();
    assert!(
        matches!(
            error,
            LoadError::CompileMemoryExceeded { limit_bytes } if limit_bytes == 64 << 20
        ),
        "{error:?}"
    );
    // The default leaves it room.
    let roomy = isolated(RuntimeConfig::default(), worker());
    roomy
        .load(&bytes)
        .expect("compiles under the default limit");
}

#[test]
fn a_worker_that_cannot_compile_is_a_host_error() {
    let bytes = Guest::Minimal.bytes();
    for program in ["/nonexistent/stratbox-compile-worker", "true", "cat"] {
        let runtime = isolated(RuntimeConfig::default(), CompileWorker::new(program));
        let error = runtime.load(&bytes).unwrap_err();
        assert!(
            matches!(error, LoadError::CompilerUnavailable { .. }),
            "{program}: {error:?}"
        );
    }
}
