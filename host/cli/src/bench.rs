//! `stratbox bench`: the benchmark suite in one process, printed as one
//! table of figures against the benchmark issue's targets.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Parser};
use indicatif::{ProgressBar, ProgressStyle};
use stratbox_backtest::{DEFAULT_COMMIT_EVERY, wit_candle};
use stratbox_benches::cpython::venv_python;
use stratbox_benches::drive::{SandboxDriver, replay};
use stratbox_benches::machine::Machine;
use stratbox_benches::market::MARKET;
use stratbox_benches::report::{Bound, Row, Target, Unit};
use stratbox_benches::suite::{self, Components, SuiteConfig, thousands};
use stratbox_runtime::RuntimeConfig;
use stratbox_tape::SyntheticConfig;

use crate::backtest::BacktestArgs;
use crate::session::StrategySource;

/// Options of `stratbox bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Smaller sizes (100,000 candles, 1,000 instances, fewer samples):
    /// about a minute instead of several. Other flags override either
    /// preset.
    #[arg(long)]
    quick: bool,
    /// Candles of each RSI replay (full: 1,000,000).
    #[arg(long)]
    candles: Option<usize>,
    /// Instance counts of the density measurements, comma-separated
    /// (full: 1000,10000).
    #[arg(long, value_delimiter = ',')]
    instances: Option<Vec<usize>>,
    /// Timed samples per measurement; medians are reported.
    #[arg(long)]
    samples: Option<usize>,
    /// Ticks per timed batch of the Rust per-tick measurements.
    #[arg(long)]
    batch: Option<usize>,
    /// Replays of the RSI strategy per driver (the fastest is reported).
    #[arg(long)]
    replays: Option<usize>,
    /// Timed compilations per component.
    #[arg(long)]
    compiles: Option<usize>,
    /// Ticks per timed batch of the Python measurements.
    #[arg(long)]
    python_ticks: Option<usize>,
    /// The empty strategy (component file or strategy directory).
    #[arg(long, default_value = "strategies/fixtures/empty")]
    empty: PathBuf,
    /// The oracle-reading strategy (component file or strategy directory).
    #[arg(long, default_value = "strategies/fixtures/oracle-read")]
    oracle_read: PathBuf,
    /// The RSI strategy (component file or strategy directory).
    #[arg(long, default_value = "strategies/rust/rsi-momentum")]
    rsi: PathBuf,
    /// The Python Bollinger strategy (component file or strategy
    /// directory); without a Python toolchain its rows are skipped.
    #[arg(long, default_value = "strategies/python/bollinger")]
    bollinger: PathBuf,
    /// CPython for the native Python baseline (default: `.venv/bin/python`
    /// under `--root`, else `python3`).
    #[arg(long)]
    cpython: Option<PathBuf>,
    /// The repository root: bundled candles and the CPython script.
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Print JSON (machine, sizes, rows) instead of the table.
    #[arg(long)]
    json: bool,
    /// Only the backtest rows: `stratbox backtest`'s cost per tick against
    /// the engine loop alone, RSI over `--candles` synthetic candles
    /// (skips the rest of the suite).
    #[arg(long)]
    backtest_only: bool,
}

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let config = suite_config(args);
    let machine = Machine::current();
    if !machine.optimized {
        eprintln!("warning: a debug build; build with --release for representative figures");
    }
    let rsi = load(&args.rsi)?;
    let bar = ProgressBar::new(if args.backtest_only {
        1
    } else {
        config.steps() + 1
    });
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut rows = Vec::new();
    if !args.backtest_only {
        let components = Components {
            empty: load(&args.empty)?,
            oracle_read: load(&args.oracle_read)?,
            rsi: rsi.clone(),
            python: match StrategySource::load(&args.bollinger) {
                Ok(source) => Some(source.bytes),
                Err(error) => {
                    eprintln!("skipping the Python rows: {error:#}");
                    None
                }
            },
        };
        rows = suite::run(&config, &components, &mut |step| {
            bar.inc(1);
            bar.set_message(step.to_owned());
        })?;
    }
    bar.inc(1);
    bar.set_message("RSI backtest per tick: stratbox backtest and the engine loop");
    rows.extend(backtest_rows(&rsi, config.candles, config.replays)?);
    bar.finish_and_clear();
    if args.json {
        let report = serde_json::json!({
            "machine": machine,
            "candles": config.candles,
            "instances": config.instances,
            "samples": config.samples,
            "rows": rows,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&machine, &config, &rows);
    }
    Ok(())
}

/// `stratbox backtest`'s arguments, parsed as its command line is.
#[derive(Debug, Parser)]
struct BacktestCommand {
    #[command(flatten)]
    args: BacktestArgs,
}

/// Seed of the synthetic tape of the backtest rows: `stratbox backtest
/// --synthetic`'s default.
const BACKTEST_SEED: u64 = 1;

/// The cost per tick of `stratbox backtest` (its own code, from the
/// command line on: simulated venues, policy, report folded per tick, the
/// JSON report) against the engine loop alone (`Deployment::tick` over the
/// same candles with paper fills, as the RSI rows of the suite drive it),
/// both at the backtest's default snapshot interval and on the same
/// runtime configuration; the fastest of `replays` runs each, the two
/// alternating. Loading, compiling and generating the tape are left out
/// of both.
fn backtest_rows(rsi: &[u8], candles: usize, replays: usize) -> anyhow::Result<Vec<Row>> {
    let dir = tempfile::tempdir()?;
    let component = dir.path().join("rsi-momentum.wasm");
    std::fs::write(&component, rsi)?;
    let count = candles.to_string();
    let seed = BACKTEST_SEED.to_string();
    let command = BacktestCommand::try_parse_from([
        "backtest",
        component
            .to_str()
            .context("a temporary path that is not UTF-8")?,
        "--synthetic",
        &count,
        "--seed",
        &seed,
        "--market",
        MARKET,
        "--quiet",
    ])?;
    // Compiled in the worker like every command's; not timed here. The
    // suite's compile figures are its own in-process runtimes': Cranelift
    // itself, without the worker's process start and artifact copy.
    let runtime = crate::runtime::isolated(RuntimeConfig::default())?;
    let loaded = runtime.load(rsi)?;
    let tape = stratbox_tape::generate(&SyntheticConfig::new(MARKET, candles, BACKTEST_SEED))?;
    let inputs: Vec<_> = tape.candles().iter().map(wit_candle).collect();

    // Alternately, so that other work on the machine slows both alike.
    let (mut cli, mut engine) = (Duration::MAX, Duration::MAX);
    let mut equity_points = 0;
    for _ in 0..replays.max(1) {
        let report = match crate::backtest::backtest(&command.args)? {
            Ok(report) => report,
            Err(stopped) => return Err(crate::backtest::stopped_error(&stopped)),
        };
        let json = Instant::now();
        std::hint::black_box(report.to_json(false));
        let loop_seconds = report.metrics.ticks as f64 / report.metrics.ticks_per_second;
        cli = cli.min(Duration::from_secs_f64(loop_seconds) + json.elapsed());
        equity_points = report.equity.len();

        let mut driver = SandboxDriver::new(&runtime, &loaded, "{}", DEFAULT_COMMIT_EVERY)?;
        engine = engine.min(replay(&mut driver, &inputs)?.elapsed);
    }

    let per_tick = |elapsed: Duration| elapsed.as_secs_f64() / candles.max(1) as f64;
    let (cli, engine) = (per_tick(cli), per_tick(engine));
    let snapshots = format!("snapshot every {DEFAULT_COMMIT_EVERY} ticks");
    let n = thousands(candles);
    Ok(vec![
        Row::new(
            "backtest.cli",
            format!(
                "stratbox backtest per tick, RSI over {n} synthetic candles (simulated venues, report folded per tick, JSON; {snapshots})"
            ),
            cli,
            Unit::Seconds,
        )
        .with_note(format!(
            "the report keeps {equity_points} equity points; loading, compiling and the tape are not timed"
        )),
        Row::new(
            "backtest.engine",
            format!(
                "engine loop alone per tick, the same candles (Deployment::tick, paper fills; {snapshots})"
            ),
            engine,
            Unit::Seconds,
        ),
        Row::new(
            "backtest.vs-engine",
            "stratbox backtest per tick / engine loop per tick",
            cli / engine,
            Unit::Ratio,
        )
        .with_target(Target::at_most(2.0)),
    ])
}

fn suite_config(args: &BenchArgs) -> SuiteConfig {
    let python = args
        .cpython
        .clone()
        .or_else(|| venv_python(&args.root))
        .or_else(|| Some(PathBuf::from("python3")));
    let mut config = if args.quick {
        SuiteConfig::quick(args.root.clone(), python)
    } else {
        SuiteConfig::full(args.root.clone(), python)
    };
    let set = |slot: &mut usize, value: Option<usize>| {
        if let Some(value) = value {
            *slot = value.max(1);
        }
    };
    set(&mut config.candles, args.candles);
    set(&mut config.samples, args.samples);
    set(&mut config.batch, args.batch);
    set(&mut config.replays, args.replays);
    set(&mut config.compiles, args.compiles);
    set(&mut config.python_ticks, args.python_ticks);
    if let Some(instances) = &args.instances {
        config.instances = instances.iter().map(|&n| n.max(1)).collect();
    }
    config
}

fn load(path: &Path) -> anyhow::Result<Vec<u8>> {
    Ok(StrategySource::load(path)
        .with_context(|| format!("loading {}", path.display()))?
        .bytes)
}

fn print_table(machine: &Machine, config: &SuiteConfig, rows: &[Row]) {
    println!(
        "stratbox bench: {} ({} CPUs{}), {}{}; medians of {} samples",
        machine.cpu,
        machine.cpus,
        machine
            .memory_bytes
            .map_or_else(String::new, |bytes| format!(
                ", {:.0} GiB",
                bytes as f64 / GIB
            )),
        machine.os,
        machine
            .load_average
            .map_or_else(String::new, |load| format!(", load {load:.2} at start")),
        config.samples,
    );
    let table: Vec<[String; 4]> = rows
        .iter()
        .map(|row| {
            [
                row.what.clone(),
                row.value
                    .map_or_else(|| "skipped".to_owned(), |v| format_value(v, row.unit)),
                row.target.map_or_else(
                    || "-".to_owned(),
                    |t| {
                        let sign = match t.bound {
                            Bound::AtMost => "<=",
                            Bound::AtLeast => ">=",
                        };
                        format!("{sign} {}", format_value(t.value, row.unit))
                    },
                ),
                verdict(row),
            ]
        })
        .collect();
    let header = ["what", "measured", "target", "met?"];
    let width = |column: usize| {
        table
            .iter()
            .map(|line| line[column].chars().count())
            .chain([header[column].len()])
            .max()
            .unwrap_or(0)
    };
    let widths = [width(0), width(1), width(2)];
    let line = |cells: [&str; 4]| {
        println!(
            "{:<w0$}  {:>w1$}  {:>w2$}  {}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
    };
    line(header);
    for cells in &table {
        line([&cells[0], &cells[1], &cells[2], &cells[3]]);
    }
    let notes: Vec<String> = rows
        .iter()
        .filter_map(|row| Some(format!("  {}: {}", row.key, row.note.as_ref()?)))
        .collect();
    if !notes.is_empty() {
        println!("notes:");
        notes.iter().for_each(|note| println!("{note}"));
    }
}

const GIB: f64 = (1u64 << 30) as f64;

fn verdict(row: &Row) -> String {
    match (row.met(), row.factor()) {
        (Some(true), Some(factor)) => format!("met ({factor:.2}x of target)"),
        (Some(false), Some(factor)) => format!("MISSED by {factor:.2}x"),
        _ => "-".to_owned(),
    }
}

fn format_value(value: f64, unit: Unit) -> String {
    match unit {
        Unit::Seconds => {
            let (scaled, suffix) = if value < 1e-6 {
                (value * 1e9, "ns")
            } else if value < 1e-3 {
                (value * 1e6, "µs")
            } else if value < 1.0 {
                (value * 1e3, "ms")
            } else {
                (value, "s")
            };
            format!("{} {suffix}", three_digits(scaled))
        }
        Unit::PerSecond => {
            let (scaled, suffix) = if value >= 1e6 {
                (value / 1e6, " M/s")
            } else if value >= 1e3 {
                (value / 1e3, " k/s")
            } else {
                (value, " /s")
            };
            format!("{}{suffix}", three_digits(scaled))
        }
        Unit::Ratio => format!("{value:.2}x"),
        Unit::Bytes => {
            let (scaled, suffix) = if value >= GIB {
                (value / GIB, "GiB")
            } else if value >= 1024.0 * 1024.0 {
                (value / (1024.0 * 1024.0), "MiB")
            } else if value >= 1024.0 {
                (value / 1024.0, "KiB")
            } else {
                (value, "B")
            };
            format!("{} {suffix}", three_digits(scaled))
        }
    }
}

/// Three significant digits (`1.23`, `12.3`, `123`).
fn three_digits(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}
