//! `stratbox journal`: list recorded runs, show one tick.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use stratbox_journal::{Call, CallOutcome, CallRecord, Journal, VerdictKind};
use stratbox_report::escape_terminal as esc;
use stratbox_runtime::types::ActionOutcome;

/// Options of `stratbox journal`.
#[derive(Debug, Args)]
pub struct JournalArgs {
    /// The journal database (written by `stratbox demo --journal`).
    #[arg(long, env = "STRATBOX_JOURNAL", global = true)]
    journal: Option<PathBuf>,
    #[command(subcommand)]
    command: JournalCommand,
}

#[derive(Debug, Subcommand)]
enum JournalCommand {
    /// List the recorded runs.
    Runs,
    /// Per deployment: running (its lease is held), paused and why, or
    /// stopped; its last tick, pending transactions and recent failures.
    Status,
    /// Show one call of a run: its input, oracle reads, verdicts, logs, series,
    /// fuel, snapshot and the venue's results.
    Show {
        /// Run id, or a deployment id (its latest run).
        run: String,
        /// Tick sequence number, or `init`.
        tick: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Open an existing journal for reading.
pub fn open_existing(path: &Path) -> anyhow::Result<Journal> {
    if !path.is_file() {
        anyhow::bail!("no journal at {}", path.display());
    }
    Journal::open(path).with_context(|| format!("opening journal {}", path.display()))
}

pub fn run(args: &JournalArgs) -> anyhow::Result<()> {
    let Some(path) = &args.journal else {
        anyhow::bail!("which journal? pass --journal <FILE> or set STRATBOX_JOURNAL");
    };
    let journal = open_existing(path)?;
    match &args.command {
        JournalCommand::Runs => runs(&journal),
        JournalCommand::Status => status(&journal),
        JournalCommand::Show { run, tick, json } => show(&journal, run, tick, *json),
    }
}

fn runs(journal: &Journal) -> anyhow::Result<()> {
    let runs = journal.runs()?;
    // Which process drives each deployment (`stratbox run` holds a lease).
    let now = stratbox_journal::now_ms();
    for lease in journal.leases()? {
        let state = if lease.expires_ms > now {
            format!(
                "lease expires in {}s unless renewed",
                (lease.expires_ms - now).div_ceil(1000)
            )
        } else {
            "lease expired".to_owned()
        };
        println!(
            "deployment {:?} is driven by {} since {} UTC ({state})",
            lease.deployment,
            lease.holder,
            utc(lease.acquired_ms, "%Y-%m-%d %H:%M:%S"),
        );
    }
    if runs.is_empty() {
        println!("no runs recorded");
        return Ok(());
    }
    println!(
        "{:<5} {:<16} {:<19} {:>7} {:>6} {:>8} {:>14}  {:<10} component",
        "run", "deployment", "started (UTC)", "ticks", "failed", "rejected", "fuel", "policy"
    );
    for run in runs {
        let policy = match run.policy_version {
            Some(version) => format!("file v{version}"),
            None => run.policy.replace('_', "-"),
        };
        println!(
            "{:<5} {:<16} {:<19} {:>7} {:>6} {:>8} {:>14}  {:<10} {}",
            run.id.to_string(),
            run.deployment,
            utc(run.started_ms, "%Y-%m-%d %H:%M:%S"),
            run.ticks,
            run.failed,
            run.rejected,
            run.fuel,
            policy,
            run.component_sha256.get(..12).unwrap_or_default()
        );
    }
    Ok(())
}

fn status(journal: &Journal) -> anyhow::Result<()> {
    let now = stratbox_journal::now_ms();
    let states = journal.statuses()?;
    if states.is_empty() {
        println!("no deployments recorded");
        return Ok(());
    }
    for state in states {
        let lease = journal
            .lease(&state.deployment)?
            .filter(|lease| lease.expires_ms > now);
        let condition = match (&lease, state.paused) {
            (Some(lease), false) => format!("running (driven by {})", lease.holder),
            (Some(lease), true) => format!("paused, still held by {}", lease.holder),
            (None, true) => "paused".to_owned(),
            (None, false) => "stopped".to_owned(),
        };
        println!("{}: {condition}", esc(&state.deployment));
        println!("  run          {} ({} ticks)", state.run, state.ticks);
        match &state.last_tick {
            Some((sequence, None)) => println!("  last tick    {sequence} ok"),
            Some((sequence, Some(error))) => println!(
                "  last tick    {sequence} FAILED: {}",
                esc(&error.to_string())
            ),
            None => println!("  last tick    none"),
        }
        println!("  pending tx   {}", state.pending_intents);
        for (sequence, error) in &state.recent_failures {
            println!(
                "  failure      tick {sequence}: {}",
                esc(&error.to_string())
            );
        }
    }
    Ok(())
}

fn show(journal: &Journal, run: &str, tick: &str, json: bool) -> anyhow::Result<()> {
    let run = journal.find_run(run)?;
    let call =
        if tick == "init" {
            Call::Init
        } else {
            Call::Tick(tick.parse().with_context(|| {
                format!("tick must be a sequence number or `init`, not `{tick}`")
            })?)
        };
    let record = journal.call(run, call)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&record)?);
        return Ok(());
    }
    print_call(run.0, &record);
    Ok(())
}

fn utc(ms: u64, format: &str) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map_or_else(|| ms.to_string(), |t| t.format(format).to_string())
}

/// Prints one call; guest- and chain-supplied text (logs, denial details,
/// names, revert reasons) reaches the terminal with its control characters
/// escaped.
fn print_call(run: i64, record: &CallRecord) {
    println!("run {run}, {}", record.call);
    if let Some(input) = &record.input {
        let block = &input.block;
        println!(
            "block        chain {}, number {}, {} UTC",
            block.chain_id,
            block.number,
            utc(block.timestamp_ms, "%Y-%m-%d %H:%M:%S%.3f")
        );
        for candle in &input.candles {
            let c = &candle.candle;
            println!(
                "candle       {} o {} h {} l {} c {} v {}",
                esc(&candle.market),
                c.open,
                c.high,
                c.low,
                c.close,
                c.volume
            );
        }
        for (id, outcome) in &input.results {
            println!("delivered    #{id} {}", esc(&outcome_text(outcome)));
        }
    }
    match &record.outcome {
        CallOutcome::Ok { committed } => println!(
            "outcome      ok{}",
            if *committed { ", committed" } else { "" }
        ),
        CallOutcome::Failed { error, paused } => println!(
            "outcome      FAILED: {}{}",
            esc(&error.to_string()),
            if *paused { " (deployment paused)" } else { "" }
        ),
    }
    match record.rebuild_fuel {
        Some(rebuild) => println!("fuel         {} (+{rebuild} rebuilding)", record.fuel_used),
        None => println!("fuel         {}", record.fuel_used),
    }
    println!("duration     {:.1} µs", record.duration_ns as f64 / 1_000.0);
    if let Some(snapshot) = &record.snapshot {
        println!(
            "snapshot     {} ({} bytes){}",
            snapshot.sha256,
            snapshot.bytes,
            snapshot
                .location
                .as_deref()
                .map(|l| format!(" at {l}"))
                .unwrap_or_default()
        );
    }
    if !record.oracle_reads.is_empty() {
        println!("oracle reads");
        for (i, read) in record.oracle_reads.iter().enumerate() {
            // JSON text: control characters are already escaped.
            println!("  {i:>3}  {} -> {}", read.request, read.response);
        }
    }
    if !record.emissions.is_empty() {
        println!("emissions");
        for (i, emission) in record.emissions.iter().enumerate() {
            let verdict = match (emission.verdict, emission.action_id) {
                (VerdictKind::Accepted, Some(id)) => format!("accepted #{id}"),
                (verdict, _) => format!(
                    "{} {} (rule {})",
                    match verdict {
                        VerdictKind::Invalid => "INVALID",
                        _ => "DENIED",
                    },
                    esc(emission.detail.as_deref().unwrap_or("")),
                    esc(emission.rule.as_deref().unwrap_or(""))
                ),
            };
            println!(
                "  {i:>3}  {} {} -> {verdict}",
                esc(&emission.kind),
                emission.action
            );
        }
    }
    if !record.logs.is_empty() {
        println!("logs");
        for log in &record.logs {
            println!(
                "  {:<5} {}",
                format!("{:?}", log.level).to_lowercase(),
                esc(&log.message)
            );
        }
    }
    if !record.series.is_empty() {
        println!("series");
        for point in &record.series {
            println!("  {:<24} {}", esc(&point.name), point.value);
        }
    }
    if !record.results.is_empty() {
        println!("venue results");
        for result in &record.results {
            println!(
                "  #{} {}",
                result.action_id,
                esc(&outcome_text(&result.outcome))
            );
        }
    }
    if let Some(state) = &record.policy_state {
        println!("policy state {}", esc(&String::from_utf8_lossy(state)));
    }
}

fn outcome_text(outcome: &ActionOutcome) -> String {
    let list = |amounts: &[stratbox_runtime::types::AssetAmount]| {
        amounts
            .iter()
            .map(|a| format!("{} {}", a.amount, a.asset))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match outcome {
        ActionOutcome::Filled(fill) => format!(
            "filled: spent {} received {}{}",
            list(&fill.spent),
            list(&fill.received),
            fill.tx_hash
                .as_deref()
                .map(|h| format!(" tx {h}"))
                .unwrap_or_default()
        ),
        ActionOutcome::Failed(failure) => format!("failed: {} {}", failure.code, failure.reason),
    }
}
