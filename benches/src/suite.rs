//! The in-process suite behind `stratbox bench`: every measurement of the
//! benchmark issue as simple repeated medians (no criterion), each row held
//! to the issue's target where it sets one.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rsi_momentum::RsiMomentum;
use stratbox_journal::Durability;
use stratbox_runtime::bundle::{HostSecretKey, Language, SecretKey, StrategyMetadata};
use stratbox_runtime::types::Candle;
use stratbox_runtime::{
    AllowAll, ArtifactCache, CacheOutcome, Deployment, DeploymentHost, DeploymentSpec, Limits,
    MemoryArtifactCache, Oracle, PoolingConfig, Runtime, RuntimeConfig, StrategyComponent,
};
use stratbox_store::Store;

use crate::BenchError;
use crate::cpython::native_bollinger;
use crate::drive::{Replay, SandboxDriver, replay};
use crate::floor;
use crate::journal::{JournalBench, tick};
use crate::market::{csv_candles, synthetic_candles, tick_input};
use crate::memory::resident;
use crate::native::NativeDriver;
use crate::oracles::{FixedPrices, TapeClock};
use crate::policy::{Expect, POLICY_20_RULES, PolicyBench, swap};
use crate::report::{Row, Target, Unit};
use crate::timing::{median, median_call, median_per_item};

/// Snapshot interval of the throughput measurements: a snapshot every
/// 1,000 ticks, the same natively and in the sandbox.
pub const COMMIT_EVERY: u32 = 1_000;

/// Config of the RSI strategy in every measurement (its defaults: ETH/BTC,
/// period 14, 30/70, one hour of cooldown).
pub const RSI_CONFIG: &str = "{}";

/// Config of the Bollinger strategy (no cooldown, so it trades often).
pub const BOLLINGER_CONFIG: &str = r#"{"cooldown_ms":0}"#;

/// Oracle reads per tick of the marginal-read measurement.
const READS_PER_TICK: u32 = 64;

/// The instance count the density target is set for.
const DENSITY_TARGET_INSTANCES: usize = 10_000;

const GIB: f64 = (1u64 << 30) as f64;

/// The components the suite measures (bytes as built).
#[derive(Debug, Clone)]
pub struct Components {
    /// `strategies/fixtures/empty`.
    pub empty: Vec<u8>,
    /// `strategies/fixtures/oracle-read`.
    pub oracle_read: Vec<u8>,
    /// `strategies/rust/rsi-momentum`.
    pub rsi: Vec<u8>,
    /// `strategies/python/bollinger`; `None` skips the Python rows.
    pub python: Option<Vec<u8>>,
}

/// Sizes and inputs of one run of the suite.
#[derive(Debug, Clone, PartialEq)]
pub struct SuiteConfig {
    /// Candles of each RSI replay (the issue: 1,000,000).
    pub candles: usize,
    /// RSI replays per driver (the median is reported).
    pub replays: usize,
    /// Deployments held at once by each density measurement.
    pub instances: Vec<usize>,
    /// Timed batches (or calls) per measurement; the median is reported.
    pub samples: usize,
    /// Ticks per timed batch of the Rust per-tick measurements.
    pub batch: usize,
    /// Timed compilations of each component (a Python one takes seconds).
    pub compiles: usize,
    /// Ticks per timed batch of the Python measurements (the CPython
    /// baseline times as many ticks as all batches together).
    pub python_ticks: usize,
    /// The repository root: bundled candles and the CPython script.
    pub root: PathBuf,
    /// CPython for the native Python baseline; `None` skips it.
    pub python: Option<PathBuf>,
}

impl SuiteConfig {
    /// The sizes of the issue: 1,000,000 candles, 1,000 and 10,000
    /// instances.
    pub fn full(root: PathBuf, python: Option<PathBuf>) -> Self {
        SuiteConfig {
            candles: 1_000_000,
            replays: 3,
            instances: vec![1_000, DENSITY_TARGET_INSTANCES],
            samples: 11,
            batch: 10_000,
            compiles: 3,
            python_ticks: 2_000,
            root,
            python,
        }
    }

    /// A run of about a minute: fewer candles, samples and instances.
    pub fn quick(root: PathBuf, python: Option<PathBuf>) -> Self {
        SuiteConfig {
            candles: 100_000,
            replays: 1,
            instances: vec![1_000],
            samples: 5,
            batch: 2_000,
            compiles: 1,
            python_ticks: 500,
            root,
            python,
        }
    }

    /// Steps [`run`] reports through its progress callback.
    pub fn steps(&self) -> u64 {
        // ticks, engine floors, RSI (3 drivers), Python ticks, load (Rust,
        // Python), density (one per size), policy, journal.
        10 + self.instances.len() as u64
    }
}

/// Run every measurement; `progress` hears what starts next.
pub fn run(
    config: &SuiteConfig,
    components: &Components,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<Row>, BenchError> {
    let mut suite = Suite {
        config,
        pooled: Runtime::new(RuntimeConfig::pooled())?,
        cache: MemoryArtifactCache::new(),
        rows: Vec::new(),
        progress,
    };
    suite.ticks(components)?;
    suite.floors(&components.empty)?;
    suite.rsi(&components.rsi)?;
    let python = suite.loading(Language::Python, components.python.as_deref())?;
    suite.python_ticks(python.as_ref())?;
    suite.loading(Language::Rust, Some(&components.rsi))?;
    let mut largest: Option<Density> = None;
    for &instances in &config.instances {
        let measured = suite.density(&components.rsi, instances)?;
        if largest.is_none_or(|(most, _)| instances > most) {
            largest = Some(measured);
        }
    }
    suite.density_target(largest);
    suite.policy()?;
    suite.journal()?;
    Ok(suite.rows)
}

struct Suite<'a> {
    config: &'a SuiteConfig,
    pooled: Runtime,
    /// Compiled artifacts of every component (for deserialization, and so
    /// other runtimes with the same compilation settings load them fast).
    cache: MemoryArtifactCache,
    rows: Vec<Row>,
    progress: &'a mut dyn FnMut(&str),
}

/// Resident memory after a density run: (instances, bytes per instance).
type Density = (usize, f64);

impl Suite<'_> {
    fn step(&mut self, what: &str) {
        (self.progress)(what);
    }

    /// Load `bytes` into `runtime` through the suite's cache.
    fn load(&self, runtime: &Runtime, bytes: &[u8]) -> Result<StrategyComponent, BenchError> {
        Ok(runtime.load_cached(bytes, &self.cache)?.0)
    }

    /// Median time of one tick of a fresh deployment of `component`, one
    /// candle per tick.
    fn per_tick(
        &self,
        runtime: &Runtime,
        component: &StrategyComponent,
        spec: DeploymentSpec,
        oracle: impl Oracle + 'static,
        batch: usize,
        candles: &[Candle],
    ) -> Result<Duration, BenchError> {
        let (mut deployment, _) = Deployment::new(
            runtime,
            component,
            spec,
            DeploymentHost::new(oracle, AllowAll),
        )?;
        let mut sequence = 0u64;
        median_per_item(
            self.config.samples,
            batch,
            || {
                let candle = candles[sequence as usize % candles.len()];
                sequence += 1;
                tick_input(sequence, candle)
            },
            |input| {
                deployment
                    .tick(input)
                    .map(drop)
                    .map_err(|e| BenchError::Tick(Box::new(e)))
            },
        )
    }

    fn ticks(&mut self, components: &Components) -> Result<(), BenchError> {
        self.step("tick overhead: empty strategy, oracle reads");
        let candles = synthetic_candles(1_000)?;
        let batch = self.config.batch;
        let empty = self.load(&self.pooled, &components.empty)?;
        let reader = self.load(&self.pooled, &components.oracle_read)?;
        let spec = |config: &str, commit_every: u32| {
            let mut spec = DeploymentSpec::new("bench", config);
            spec.commit_every = commit_every;
            spec
        };
        let runtime = &self.pooled;
        let empty_tick = self.per_tick(
            runtime,
            &empty,
            spec("{}", COMMIT_EVERY),
            FixedPrices,
            batch,
            &candles,
        )?;
        let empty_commit =
            self.per_tick(runtime, &empty, spec("{}", 1), FixedPrices, batch, &candles)?;
        let one_read = self.per_tick(
            runtime,
            &reader,
            spec(r#"{"reads":1}"#, COMMIT_EVERY),
            FixedPrices,
            batch,
            &candles,
        )?;
        let no_read = self.per_tick(
            runtime,
            &reader,
            spec(r#"{"reads":0}"#, COMMIT_EVERY),
            FixedPrices,
            batch,
            &candles,
        )?;
        let many_reads = self.per_tick(
            runtime,
            &reader,
            spec(&format!(r#"{{"reads":{READS_PER_TICK}}}"#), COMMIT_EVERY),
            FixedPrices,
            batch / 16,
            &candles,
        )?;
        let marginal = many_reads.saturating_sub(no_read) / READS_PER_TICK;
        self.rows.extend([
            Row::new(
                "tick.empty",
                "tick, empty Rust strategy, one candle (snapshot every 1,000 ticks)",
                empty_tick.as_secs_f64(),
                Unit::Seconds,
            ),
            Row::new(
                "tick.empty.commit-every-tick",
                "tick, empty Rust strategy, one candle, snapshot every tick",
                empty_commit.as_secs_f64(),
                Unit::Seconds,
            ),
            Row::new(
                "tick.oracle-read",
                "tick, Rust strategy reading one price (snapshot every 1,000 ticks)",
                one_read.as_secs_f64(),
                Unit::Seconds,
            )
            .with_target(Target::at_most(300e-9)),
            Row::new(
                "oracle-read.marginal",
                format!("one oracle read inside the guest (marginal, {READS_PER_TICK} per tick)"),
                marginal.as_secs_f64(),
                Unit::Seconds,
            ),
        ]);
        Ok(())
    }

    /// The engine's floor under a tick (see [`crate::floor`]) and the
    /// empty strategy called without the runtime: what the runtime, the
    /// SDK and wasmtime each add to a tick.
    fn floors(&mut self, empty: &[u8]) -> Result<(), BenchError> {
        self.step("engine floor: component calls into a guest that does nothing");
        let (samples, batch) = (self.config.samples, self.config.batch);
        let floors = floor::measure(&self.pooled, samples, batch)?;
        let sdk = floor::sdk_tick(&self.pooled, empty, "{}", samples, batch)?;
        let row = |id: &str, what: &str, time: Duration| {
            Row::new(id, what, time.as_secs_f64(), Unit::Seconds)
        };
        self.rows.extend([
            row(
                "floor.nop",
                "engine floor: component call, no arguments or results",
                floors.nop,
            ),
            row(
                "floor.flat-tick",
                "engine floor: world 0.2 tick context (one candle, flat arguments, flat result)",
                floors.flat_tick,
            ),
            row(
                "floor.list-tick",
                "engine floor: world 0.1 tick context (candle list, market string, result)",
                floors.list_tick,
            ),
            row(
                "floor.sdk-tick",
                "empty Rust SDK strategy, one-candle tick, called without the runtime",
                sdk,
            ),
            row(
                "floor.import-read",
                "engine floor: one price(base, quote) import call, strings (world 0.1), constant answer",
                floors.import_read,
            ),
            row(
                "floor.import-read-by-id",
                "engine floor: one price(base-id, quote-id) import call, u32 ids (world 0.2), constant answer",
                floors.import_read_by_id,
            ),
        ]);
        Ok(())
    }

    fn rsi(&mut self, bytes: &[u8]) -> Result<(), BenchError> {
        let n = self.config.candles;
        let candles = synthetic_candles(n)?;
        let replays = self.config.replays.max(1);

        self.step("RSI over synthetic candles: native");
        let native = self.best_of(replays, || {
            let mut driver = NativeDriver::<RsiMomentum>::new(RSI_CONFIG, COMMIT_EVERY)?;
            replay(&mut driver, &candles)
        })?;

        self.step("RSI over synthetic candles: sandboxed, fuel off");
        let unmetered = Runtime::new(RuntimeConfig {
            fuel: false,
            ..RuntimeConfig::pooled()
        })?;
        let component = self.load(&unmetered, bytes)?;
        let fuel_off = self.best_of(replays, || {
            let mut driver = SandboxDriver::new(&unmetered, &component, RSI_CONFIG, COMMIT_EVERY)?;
            replay(&mut driver, &candles)
        })?;
        drop(unmetered);

        self.step("RSI over synthetic candles: sandboxed, fuel on");
        let component = self.load(&self.pooled, bytes)?;
        let fuel_on = self.best_of(replays, || {
            let mut driver =
                SandboxDriver::new(&self.pooled, &component, RSI_CONFIG, COMMIT_EVERY)?;
            replay(&mut driver, &candles)
        })?;

        for (name, run) in [("fuel off", &fuel_off), ("fuel on", &fuel_on)] {
            if (run.orders, run.checksum) != (native.orders, native.checksum) {
                return Err(BenchError::Unexpected {
                    reason: format!(
                        "the sandboxed RSI ({name}) placed {} orders, the native one {}: not the same strategy",
                        run.orders, native.orders
                    ),
                });
            }
        }
        let label = |what: &str| format!("RSI over {} candles, {what}", thousands(n));
        let orders = format!("{} orders, identical in all three runs", native.orders);
        self.rows.extend([
            Row::new(
                "rsi.native",
                label("native (same crate, SDK native host)"),
                native.ticks_per_second(),
                Unit::PerSecond,
            )
            .with_note(orders),
            Row::new(
                "rsi.fuel-off",
                label("sandboxed, fuel off"),
                fuel_off.ticks_per_second(),
                Unit::PerSecond,
            ),
            Row::new(
                "rsi.fuel-on",
                label("sandboxed, fuel on"),
                fuel_on.ticks_per_second(),
                Unit::PerSecond,
            ),
            Row::new(
                "rsi.vs-native",
                "RSI time, sandboxed (fuel on) / native",
                fuel_on.elapsed.as_secs_f64() / native.elapsed.as_secs_f64(),
                Unit::Ratio,
            )
            .with_target(Target::at_most(1.5)),
            Row::new(
                "rsi.throughput",
                "Rust strategy throughput, one core (RSI, fuel on)",
                fuel_on.ticks_per_second(),
                Unit::PerSecond,
            )
            .with_target(Target::at_least(2_000_000.0)),
            Row::new(
                "fuel.overhead",
                "fuel metering overhead (RSI time, fuel on / fuel off)",
                fuel_on.elapsed.as_secs_f64() / fuel_off.elapsed.as_secs_f64(),
                Unit::Ratio,
            )
            .with_target(Target::at_most(1.25)),
        ]);
        Ok(())
    }

    /// The fastest of `replays` replays (the least disturbed by other work
    /// on the machine).
    fn best_of(
        &self,
        replays: usize,
        mut run: impl FnMut() -> Result<Replay, BenchError>,
    ) -> Result<Replay, BenchError> {
        let mut best: Option<Replay> = None;
        for _ in 0..replays {
            let replay = run()?;
            if best.is_none_or(|b| replay.elapsed < b.elapsed) {
                best = Some(replay);
            }
        }
        best.ok_or_else(|| BenchError::Unexpected {
            reason: "no replay ran".into(),
        })
    }

    fn python_ticks(&mut self, component: Option<&StrategyComponent>) -> Result<(), BenchError> {
        self.step("Python Bollinger per tick: sandboxed and native CPython");
        const SANDBOX: &str = "python.sandbox";
        const NATIVE: &str = "python.native";
        const RATIO: &str = "python.vs-native";
        let what_sandbox = "Python Bollinger per tick, sandboxed";
        let what_native = "Python Bollinger per tick, native CPython";
        let what_ratio = "Python per tick, sandboxed / native CPython";
        let every = |commit_every: u32| {
            if commit_every == 1 {
                ", snapshot every tick".to_owned()
            } else {
                format!(
                    ", snapshot every {} ticks",
                    thousands(commit_every as usize)
                )
            }
        };
        let Some(component) = component else {
            for (commit_every, suffix) in [(COMMIT_EVERY, ""), (1, ".commit-every-tick")] {
                let why = "no Python component (build it with scripts/setup.sh)";
                let e = every(commit_every);
                self.rows.extend([
                    Row::skipped(
                        format!("{SANDBOX}{suffix}"),
                        format!("{what_sandbox}{e}"),
                        Unit::Seconds,
                        why,
                    ),
                    Row::skipped(
                        format!("{NATIVE}{suffix}"),
                        format!("{what_native}{e}"),
                        Unit::Seconds,
                        why,
                    ),
                    ratio_row(
                        format!("{RATIO}{suffix}"),
                        format!("{what_ratio}{e}"),
                        None,
                        None,
                        commit_every,
                    ),
                ]);
            }
            return Ok(());
        };
        let candles = csv_candles(&self.config.root.join("data/ETH_BTC-5m.csv"))?;
        for (commit_every, suffix) in [(COMMIT_EVERY, ""), (1, ".commit-every-tick")] {
            let mut spec =
                DeploymentSpec::new("bench", BOLLINGER_CONFIG).with_limits(Limits::python());
            spec.commit_every = commit_every;
            let sandboxed = self.per_tick(
                &self.pooled,
                component,
                spec,
                TapeClock::new(),
                self.config.python_ticks,
                &candles,
            )?;
            let e = every(commit_every);
            // Without a working CPython the native rows are skipped, not
            // the whole suite.
            let native = match &self.config.python {
                Some(python) => native_bollinger(
                    python,
                    &self.config.root,
                    self.config.python_ticks * self.config.samples.max(1),
                    commit_every,
                )
                .map_err(|error| error.to_string()),
                None => Err("no CPython (run scripts/setup.sh or pass --cpython)".to_owned()),
            };
            self.rows.push(Row::new(
                format!("{SANDBOX}{suffix}"),
                format!("{what_sandbox}{e}"),
                sandboxed.as_secs_f64(),
                Unit::Seconds,
            ));
            self.rows.push(match &native {
                Ok(run) => Row::new(
                    format!("{NATIVE}{suffix}"),
                    format!("{what_native} {}{e}", run.version),
                    run.per_tick.as_secs_f64(),
                    Unit::Seconds,
                )
                .with_note("the same file against the SDK's stub host"),
                Err(why) => Row::skipped(
                    format!("{NATIVE}{suffix}"),
                    format!("{what_native}{e}"),
                    Unit::Seconds,
                    why,
                ),
            });
            self.rows.push(ratio_row(
                format!("{RATIO}{suffix}"),
                format!("{what_ratio}{e}"),
                Some(sandboxed),
                native.ok().map(|run| run.per_tick),
                commit_every,
            ));
        }
        Ok(())
    }

    /// Compile, deserialize, instantiate (plain and pooled), deploy and cold
    /// start one component; returns it compiled for the pooled runtime.
    fn loading(
        &mut self,
        language: Language,
        bytes: Option<&[u8]>,
    ) -> Result<Option<StrategyComponent>, BenchError> {
        let (name, limits, instantiate_target, cold_target) = match language {
            Language::Python => ("Python", Limits::python(), 200e-6, 50e-3),
            _ => ("Rust", Limits::rust(), 10e-6, 1e-3),
        };
        let key = name.to_lowercase();
        self.step(&format!(
            "load {name}: compile, deserialize, instantiate, cold start"
        ));
        let rows = [
            ("compile", "compile from bytes"),
            ("deserialize", "deserialize from the cached artifact"),
            ("instantiate.plain", "instantiate, on-demand allocator"),
            ("instantiate.pooled", "instantiate, pooled, copy-on-write"),
            (
                "deploy.pooled",
                "deploy: instantiate, init, first snapshot, drop (pooled)",
            ),
            (
                "cold-start",
                "cold start from the sealed store to the first tick (cached code)",
            ),
        ];
        let Some(bytes) = bytes else {
            for (row, what) in rows {
                let skipped = Row::skipped(
                    format!("load.{key}.{row}"),
                    format!("{name}: {what}"),
                    Unit::Seconds,
                    "no component (build it with scripts/setup.sh)",
                );
                self.rows.push(match row {
                    "instantiate.pooled" => {
                        skipped.with_target(Target::at_most(instantiate_target))
                    }
                    "cold-start" => skipped.with_target(Target::at_most(cold_target)),
                    _ => skipped,
                });
            }
            return Ok(None);
        };
        let samples = self.config.samples;
        let mut compiled = None;
        let mut times = Vec::new();
        for _ in 0..self.config.compiles.max(1) {
            let started = Instant::now();
            let component = self.pooled.load(bytes)?;
            times.push(started.elapsed());
            compiled = Some(component);
        }
        let compile = median(times);
        let Some(component) = compiled else {
            unreachable!("at least one compilation ran");
        };
        let sha256 = component.info().sha256.clone();
        self.cache.put(
            &self.pooled.artifact_key(&sha256),
            &self.pooled.serialize(&component)?,
        )?;
        let deserialize = median_call(samples, || {
            match self.pooled.load_cached(bytes, &self.cache)? {
                (component, CacheOutcome::Hit) => Ok(component),
                (_, other) => Err(BenchError::Unexpected {
                    reason: format!("expected a cache hit, got {other:?}"),
                }),
            }
        })?;
        // Instantiations of a Python component take milliseconds.
        let batch = if language == Language::Python { 4 } else { 200 };
        let plain = Runtime::new(RuntimeConfig::default())?;
        let plain_component = self.load(&plain, bytes)?;
        let probe = |runtime: &Runtime, component: &StrategyComponent| {
            median_per_item(
                samples,
                batch,
                || (),
                |()| Deployment::probe(runtime, component, &limits).map_err(BenchError::from),
            )
        };
        let instantiate_plain = probe(&plain, &plain_component)?;
        drop((plain_component, plain));
        let instantiate_pooled = probe(&self.pooled, &component)?;
        let config = match language {
            Language::Python => BOLLINGER_CONFIG,
            _ => RSI_CONFIG,
        };
        let deploy = median_per_item(
            samples,
            batch,
            || (),
            |()| {
                Deployment::new(
                    &self.pooled,
                    &component,
                    DeploymentSpec::new("bench", config).with_limits(limits.clone()),
                    DeploymentHost::new(TapeClock::new(), AllowAll),
                )
                .map(drop)
                .map_err(BenchError::from)
            },
        )?;
        let cold_start = self.cold_start(language, bytes, config, &limits)?;
        let values = [
            compile,
            deserialize,
            instantiate_plain,
            instantiate_pooled,
            deploy,
            cold_start,
        ];
        for ((row, what), value) in rows.into_iter().zip(values) {
            let measured = Row::new(
                format!("load.{key}.{row}"),
                format!("{name}: {what}"),
                value.as_secs_f64(),
                Unit::Seconds,
            );
            self.rows.push(match row {
                "instantiate.pooled" => measured.with_target(Target::at_most(instantiate_target)),
                "cold-start" => measured.with_target(Target::at_most(cold_target)),
                _ => measured,
            });
        }
        Ok(Some(component))
    }

    /// Median time from a sealed bundle in an encrypted store (compiled
    /// code already cached, sealed) to the end of the first tick.
    fn cold_start(
        &self,
        language: Language,
        bytes: &[u8],
        config: &str,
        limits: &Limits,
    ) -> Result<Duration, BenchError> {
        let dir = tempfile::tempdir()?;
        let key = Arc::new(SecretKey::X25519(HostSecretKey::generate()?));
        let store = Store::open(dir.path(), Arc::clone(&key) as _)?;
        let name = "bench";
        let bundle = self.pooled.seal_bundle(
            bytes,
            StrategyMetadata::new(name, "1.0.0", language, "bench"),
            key.as_ref(),
        )?;
        store.import_bundle(&self.pooled, &bundle)?;
        // The first load compiles and seals the artifact; the timed ones
        // find it.
        store.load_strategy(&self.pooled, name)?;
        let candle = synthetic_candles(1)?[0];
        median_call(self.config.samples, || {
            let loaded = store.load_strategy(&self.pooled, name)?;
            if !matches!(loaded.cache, CacheOutcome::Hit) {
                return Err(BenchError::Unexpected {
                    reason: format!("expected a sealed cache hit, got {:?}", loaded.cache),
                });
            }
            let (mut deployment, _) = Deployment::new(
                &self.pooled,
                &loaded.component,
                DeploymentSpec::new("cold", config).with_limits(limits.clone()),
                DeploymentHost::new(TapeClock::new(), AllowAll),
            )?;
            deployment
                .tick(tick_input(0, candle))
                .map_err(|e| BenchError::Tick(Box::new(e)))
        })
    }

    /// Deploy `instances` RSI strategies at once in a pool sized for them,
    /// tick each once, and measure the resident memory they add.
    fn density(&mut self, bytes: &[u8], instances: usize) -> Result<Density, BenchError> {
        self.step(&format!("density: {} RSI instances", thousands(instances)));
        let runtime = Runtime::new(RuntimeConfig {
            pooling: Some(PoolingConfig {
                total_instances: u32::try_from(instances).unwrap_or(u32::MAX),
                max_memory_bytes: Limits::rust().memory_bytes,
                ..PoolingConfig::default()
            }),
            ..RuntimeConfig::default()
        })?;
        let component = self.load(&runtime, bytes)?;
        let candle = synthetic_candles(1)?[0];
        let mut inputs: Vec<_> = (0..instances).map(|_| tick_input(0, candle)).collect();
        let before = resident();
        let mut deployments = Vec::with_capacity(instances);
        for i in 0..instances {
            let spec = DeploymentSpec::new(format!("rsi-{i}"), RSI_CONFIG);
            let host = DeploymentHost::new(TapeClock::new(), AllowAll);
            deployments.push(Deployment::new(&runtime, &component, spec, host)?.0);
        }
        let started = Instant::now();
        for (deployment, input) in deployments.iter_mut().zip(inputs.drain(..)) {
            deployment
                .tick(input)
                .map_err(|e| BenchError::Tick(Box::new(e)))?;
        }
        let tick_all = started.elapsed();
        let after = resident();
        drop(deployments);
        let n = instances.max(1) as f64;
        let label = thousands(instances);
        let (rss, pss) = match (before, after) {
            (Some(before), Some(after)) => (
                Some(after.rss.saturating_sub(before.rss) as f64 / n),
                before
                    .pss
                    .zip(after.pss)
                    .map(|(b, a)| a.saturating_sub(b) as f64 / n),
            ),
            _ => (None, None),
        };
        let note = "each deployed (init, first snapshot) and ticked once, snapshot every tick";
        self.rows.push(match rss {
            Some(rss) => Row::new(
                format!("density.{instances}.resident-per-instance"),
                format!("density: resident memory per instance, {label} RSI instances (RSS)"),
                rss,
                Unit::Bytes,
            )
            .with_note(match pss {
                Some(pss) => format!("{note}; PSS {:.1} KiB per instance", pss / 1024.0),
                None => note.to_owned(),
            }),
            None => Row::skipped(
                format!("density.{instances}.resident-per-instance"),
                format!("density: resident memory per instance, {label} RSI instances (RSS)"),
                Unit::Bytes,
                "no /proc/self/status on this system",
            ),
        });
        self.rows.push(Row::new(
            format!("density.{instances}.tick-all"),
            format!("density: tick all {label} RSI instances once"),
            tick_all.as_secs_f64(),
            Unit::Seconds,
        ));
        Ok((instances, rss.unwrap_or(f64::NAN)))
    }

    /// The density target row: 10,000 idle instances, measured or
    /// extrapolated from the largest measured count.
    fn density_target(&mut self, largest: Option<Density>) {
        let key = format!("density.{DENSITY_TARGET_INSTANCES}.resident");
        let what = format!(
            "density: {} idle RSI instances, resident",
            thousands(DENSITY_TARGET_INSTANCES)
        );
        let target = Target::at_most(GIB);
        self.rows.push(match largest {
            Some((instances, per_instance)) if per_instance.is_finite() => {
                let row = Row::new(
                    key,
                    what,
                    per_instance * DENSITY_TARGET_INSTANCES as f64,
                    Unit::Bytes,
                )
                .with_target(target);
                if instances == DENSITY_TARGET_INSTANCES {
                    row
                } else {
                    row.with_note(format!(
                        "extrapolated from {} instances",
                        thousands(instances)
                    ))
                }
            }
            _ => Row::skipped(key, what, Unit::Bytes, "no density measurement").with_target(target),
        });
    }

    fn policy(&mut self) -> Result<(), BenchError> {
        self.step("policy checks (20 rules)");
        let mut bench = PolicyBench::new(
            POLICY_20_RULES,
            swap("USDC", "ETH", 1_000_000_000),
            Expect::Accept,
        )?;
        let per_check = median_per_item(
            self.config.samples,
            self.config.batch,
            || (),
            |()| bench.check().map(drop),
        )?;
        bench.finish()?;
        self.rows.push(
            Row::new(
                "policy.checks",
                "policy checks per second, 20-rule policy, one core (accepted swap)",
                1.0 / per_check.as_secs_f64(),
                Unit::PerSecond,
            )
            .with_target(Target::at_least(1_000_000.0))
            .with_note("target from issue 5"),
        );
        Ok(())
    }

    fn journal(&mut self) -> Result<(), BenchError> {
        self.step("journal writes");
        for (durability, key, what, batch) in [
            (
                Durability::Normal,
                "journal.writes.normal",
                "journal writes per second, one tick per transaction (synchronous=NORMAL)",
                200,
            ),
            (
                Durability::Full,
                "journal.writes.full",
                "journal writes per second, one tick per transaction (synchronous=FULL)",
                20,
            ),
        ] {
            let mut bench = JournalBench::new(durability)?;
            let mut sequence = 0;
            let per_write = median_per_item(
                self.config.samples,
                batch,
                || {
                    sequence += 1;
                    tick(sequence)
                },
                |tick| bench.record(tick),
            )?;
            self.rows.push(Row::new(
                key,
                what,
                1.0 / per_write.as_secs_f64(),
                Unit::PerSecond,
            ));
        }
        Ok(())
    }
}

/// The sandboxed / native ratio row of the Python measurements.
fn ratio_row(
    key: String,
    what: String,
    sandboxed: Option<Duration>,
    native: Option<Duration>,
    commit_every: u32,
) -> Row {
    let row = match sandboxed.zip(native) {
        Some((sandboxed, native)) => Row::new(
            key,
            what,
            sandboxed.as_secs_f64() / native.as_secs_f64(),
            Unit::Ratio,
        ),
        None => Row::skipped(key, what, Unit::Ratio, "no CPython or no Python component"),
    };
    // The target is for the strategy's per-tick work; committing every
    // tick adds each side's snapshot, reported alongside.
    if commit_every == 1 {
        row
    } else {
        row.with_target(Target::at_most(4.0))
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
