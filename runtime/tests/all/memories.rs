//! `memory_bytes` bounds all of an instance's linear memories together,
//! and the limit class is the host's: crafted components (the hostile
//! fixture with core modules and instances appended, so they still pass
//! every load-time check of the world) that would get past a per-memory
//! bound, or that look like a Python component, stay within the class
//! they are deployed under.

use stratbox_runtime::{
    AllowAll, DeployError, Deployment, DeploymentHost, LimitClass, Limits, ResourceExceeded,
    Runtime, RuntimeConfig, StrategyComponent, TickError, TickInput,
};
use stratbox_test_artifacts::Guest;

use crate::crafted::{PAGE, append_module, append_producer, core_module, memories_module};
use crate::support::{Clock, block, count_line, hostile_spec, runtime};

const MIB: u64 = 1 << 20;

/// Pages of `mib` MiB.
fn pages(mib: u64) -> u64 {
    mib * MIB / PAGE
}

/// Load `bytes`: every crafted component passes the load-time checks.
fn load(runtime: &Runtime, bytes: &[u8]) -> StrategyComponent {
    runtime.load(bytes).expect("passes every load-time check")
}

/// Deploy the hostile fixture `component`, attacking with `attack` at tick
/// `at` (in `init` if `None`), under `limits`.
fn deploy(
    runtime: &Runtime,
    component: &StrategyComponent,
    attack: &str,
    at: Option<u64>,
    limits: Limits,
) -> Result<Deployment, DeployError> {
    let spec = hostile_spec(attack, at).with_limits(limits);
    Deployment::new(
        runtime,
        component,
        spec,
        DeploymentHost::new(Clock, AllowAll),
    )
    .map(|(deployment, _)| deployment)
}

/// Run `n` well-behaved ticks (the fixture counts them).
fn ticks(deployment: &mut Deployment, n: u64) {
    for i in 0..n {
        let report = deployment
            .tick(TickInput::at(block(i)))
            .unwrap_or_else(|failure| panic!("tick {i}: {failure}"));
        assert_eq!(count_line(&report.trace), format!("count={}", i + 1));
    }
}

/// The tick error a refused deployment ended in.
fn init_error(result: Result<Deployment, DeployError>) -> TickError {
    match result {
        Err(DeployError::Init(failure)) => failure.error,
        Err(other) => panic!("expected a failed instantiation, got {other}"),
        Ok(_) => panic!("expected a failed instantiation, it deployed"),
    }
}

/// Three memories of 24 MiB each, beside the fixture's own: each is far
/// under the 64 MiB limit, 72 MiB together are over it. Whether they are
/// declared by one core module (multi-memory) or by three instances of a
/// module (also in the pooling allocator, which takes one memory per
/// module), the instantiation ends in
/// `MemoryLimit` (a per-memory bound would let each through); under a
/// limit that holds their sum the same component runs, and so does the
/// component with one of those memories under the default limit.
#[test]
fn several_memories_each_under_the_limit_are_bounded_together() {
    let limit = Limits::default().memory_bytes;
    assert_eq!(limit, 64 * MIB);
    // With the fixture's own, four memories: as many as the limit on their
    // number allows.
    assert_eq!(Limits::default().memories, 4);
    let hostile = Guest::Hostile.bytes();
    let one_module = append_module(&hostile, &memories_module(&[pages(24); 3]), 1);
    let three_instances = append_module(&hostile, &memories_module(&[pages(24)]), 3);
    let pooled = Runtime::new(RuntimeConfig::pooled()).expect("pooled runtime");
    for (shape, runtime, bytes) in [
        ("one module with three memories", runtime(), &one_module),
        (
            "three instances with a memory each",
            runtime(),
            &three_instances,
        ),
        ("three instances, pooled", &pooled, &three_instances),
    ] {
        let component = load(runtime, bytes);
        let error = init_error(deploy(runtime, &component, "none", None, Limits::default()));
        assert!(
            matches!(error, TickError::MemoryLimit { requested, limit: l }
                if l == limit && requested > 72 * MIB),
            "{shape}: {error:?}"
        );
        let roomy = Limits {
            memory_bytes: 128 * MIB,
            ..Limits::default()
        };
        let mut deployment = deploy(runtime, &component, "none", None, roomy)
            .unwrap_or_else(|e| panic!("{shape}: under a limit that holds the sum: {e}"));
        ticks(&mut deployment, 3);
        assert!(deployment.memory_bytes() > 72 * MIB, "{shape}");
    }
    let single = load(
        runtime(),
        &append_module(&hostile, &memories_module(&[pages(24)]), 1),
    );
    let mut deployment = deploy(runtime(), &single, "none", None, Limits::default())
        .expect("one 24 MiB memory beside the fixture's fits");
    ticks(&mut deployment, 3);
    assert!(deployment.memory_bytes() > 24 * MIB);
}

/// Growth at tick time counts every memory: beside a 56 MiB memory, the
/// fixture's 8 MiB string (its `huge-argument` attack) does not fit in 64
/// MiB, and the tick ends in `MemoryLimit` where the fixture alone gets to
/// pass the string and is refused at the boundary (`ArgumentBytes`). The
/// deployment goes on from its last snapshot.
#[test]
fn memory_grown_at_tick_time_counts_every_memory() {
    const ATTACK_AT: u64 = 2;
    let limit = Limits::default().memory_bytes;
    let plain = crate::support::load(runtime(), Guest::Hostile);
    let ballast = load(
        runtime(),
        &append_module(&Guest::Hostile.bytes(), &memories_module(&[pages(56)]), 1),
    );
    for (component, with_ballast) in [(&plain, false), (&ballast, true)] {
        let mut deployment = deploy(
            runtime(),
            component,
            "huge-argument",
            Some(ATTACK_AT),
            Limits::default(),
        )
        .expect("deploys");
        let before = deployment.memory_bytes();
        assert_eq!(before > 56 * MIB, with_ballast, "{before}");
        ticks(&mut deployment, ATTACK_AT);
        let failure = deployment
            .tick(TickInput::at(block(ATTACK_AT)))
            .expect_err("the attack fails the tick");
        if with_ballast {
            assert!(
                matches!(failure.error, TickError::MemoryLimit { requested, limit: l }
                    if l == limit && requested > limit),
                "{:?}",
                failure.error
            );
        } else {
            assert!(
                matches!(
                    failure.error,
                    TickError::Resource(ResourceExceeded::ArgumentBytes { .. })
                ),
                "{:?}",
                failure.error
            );
        }
        // Rebuilt from the snapshot of tick 1: the failed tick's increment
        // is gone.
        let report = deployment
            .tick(TickInput::at(block(ATTACK_AT + 1)))
            .expect("the next tick runs");
        assert_eq!(
            count_line(&report.trace),
            format!("count={}", ATTACK_AT + 1)
        );
    }
}

/// A component that looks like a componentize-py one (its producers say
/// so, and it links more core instances than the Rust class allows) is
/// not given the Python class for it: under the default limits (the Rust
/// class) it is refused for its instances, and one with a 96 MiB memory is
/// held to 64 MiB, not Python's 256. Deployed under `Limits::python()`,
/// the host's choice, both run.
#[test]
fn a_component_cannot_choose_a_larger_limit_class_by_its_shape() {
    let hostile = append_producer(&Guest::Hostile.bytes(), "componentize-py", "0.25.1");
    let base = runtime().inspect(&hostile).expect("inspects");
    let rust = Limits::of_class(LimitClass::Rust);
    assert_eq!(rust, Limits::default());
    let extra = u64::from(rust.instances) + 4 - base.core_instances;
    let many_instances = append_module(&hostile, &core_module(&[]), extra);
    let big_memory = append_module(&hostile, &memories_module(&[pages(96)]), 1);
    for bytes in [&many_instances, &big_memory] {
        let info = runtime().inspect(bytes).expect("inspects");
        assert_eq!(info.language_hint.as_deref(), Some("Python"));
    }

    let component = load(runtime(), &many_instances);
    let needed = u64::from(rust.instances) + 4;
    assert_eq!(component.info().core_instances, needed);
    for refused in [
        deploy(runtime(), &component, "none", None, rust.clone()).map(drop),
        Deployment::probe(runtime(), &component, &rust),
    ] {
        assert!(
            matches!(
                refused,
                Err(DeployError::ComponentTooLarge { what: "core instances", needed: n, limit: 16 })
                    if n == needed
            ),
            "{refused:?}"
        );
    }
    let mut deployment = deploy(runtime(), &component, "none", None, Limits::python())
        .expect("deploys under the Python class");
    ticks(&mut deployment, 2);

    let component = load(runtime(), &big_memory);
    let error = init_error(deploy(runtime(), &component, "none", None, rust));
    assert!(
        matches!(error, TickError::MemoryLimit { limit, .. } if limit == 64 * MIB),
        "{error:?}"
    );
    let mut deployment = deploy(runtime(), &component, "none", None, Limits::python())
        .expect("deploys under the Python class");
    ticks(&mut deployment, 2);
    assert!(deployment.memory_bytes() > 96 * MIB);
}
