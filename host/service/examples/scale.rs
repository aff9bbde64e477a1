//! The service's scale benchmark: N Rust deployments (the RSI example)
//! ticking on a paper venue, each once per period, on this machine's
//! worker threads. For each N it prints the sustained tick rate against
//! the schedule's, the latency from a tick's scheduled moment to its
//! commit (p50, p99, max), skipped ticks, resident memory and CPU, and
//! whether the schedule held (no skipped tick, p99 under the period).
//!
//! ```text
//! cargo run --release -p stratbox-service --example scale -- 1000 5000 10000
//!     [--seconds 20] [--every-ms 1000] [--snapshot-every 1]
//! ```
//! Each N runs in a child process of its own, so that memory figures are
//! its alone.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use stratbox_runtime::bundle::{HostSecretKey, Language, StrategyMetadata};
use stratbox_runtime::{Runtime, RuntimeConfig};
use stratbox_service::request::DeploymentRequest;
use stratbox_service::{Quotas, Service, ServiceConfig};
use stratbox_test_artifacts::Guest;

struct Args {
    counts: Vec<usize>,
    seconds: u64,
    every_ms: u64,
    snapshot_every: u32,
    child: bool,
}

fn parse() -> Args {
    let mut args = Args {
        counts: Vec::new(),
        seconds: 20,
        every_ms: 1000,
        snapshot_every: 1,
        child: false,
    };
    let mut words = std::env::args().skip(1);
    while let Some(word) = words.next() {
        let mut value = |name: &str| -> u64 {
            words
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} takes a number"))
        };
        match word.as_str() {
            "--seconds" => args.seconds = value("--seconds"),
            "--every-ms" => args.every_ms = value("--every-ms"),
            "--snapshot-every" => {
                args.snapshot_every = u32::try_from(value("--snapshot-every")).unwrap_or(1);
            }
            "--child" => args.child = true,
            "--bench" => {}
            count => args.counts.push(
                count
                    .parse()
                    .unwrap_or_else(|_| panic!("`{count}` is not a count")),
            ),
        }
    }
    if args.counts.is_empty() {
        args.counts = vec![1_000, 5_000, 10_000];
    }
    args
}

fn main() {
    let args = parse();
    if args.child {
        for count in &args.counts {
            measure(*count, &args);
        }
        return;
    }
    println!(
        "{:>12} {:>10} {:>12} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>6} {:>6}",
        "deployments",
        "created",
        "ticks/s",
        "expected",
        "p50 ms",
        "p99 ms",
        "max ms",
        "skipped",
        "RSS MiB",
        "CPU %",
        "holds"
    );
    let exe = std::env::current_exe().expect("own path");
    for count in &args.counts {
        let status = std::process::Command::new(&exe)
            .args([
                "--child".to_owned(),
                count.to_string(),
                "--seconds".into(),
                args.seconds.to_string(),
                "--every-ms".into(),
                args.every_ms.to_string(),
                "--snapshot-every".into(),
                args.snapshot_every.to_string(),
            ])
            .status()
            .expect("child");
        assert!(status.success(), "the run of {count} failed");
    }
}

fn measure(count: usize, args: &Args) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let key = HostSecretKey::generate().expect("key");
    let config = ServiceConfig {
        data_dir: dir.path().join("data"),
        ..ServiceConfig::default()
    };
    let service = Service::open(config, Arc::new(key.clone()), None).expect("service");
    let tenant = "bench";
    let quotas = Quotas {
        deployments: u64::MAX,
        ..Quotas::default()
    };
    service.create_tenant(tenant, Some(quotas)).expect("tenant");
    let bundle = Runtime::new(RuntimeConfig::default())
        .expect("runtime")
        .seal_bundle(
            &Guest::RsiMomentum.bytes(),
            StrategyMetadata::new("rsi", "1.0.0", Language::Rust, "bench"),
            key.public_key(),
        )
        .expect("seal");
    service.upload_bundle(tenant, &bundle).expect("upload");
    let created = Instant::now();
    for index in 0..count {
        let request: DeploymentRequest = serde_json::from_value(json!({
            "id": format!("d{index}"),
            "bundle": "rsi",
            "venue": {"paper": {
                "feed": {"synthetic": {"candles": 100_000, "seed": 7}},
                "base": "ETH",
                "quote": "BTC"
            }},
            "schedule": {"every_ms": args.every_ms},
            "snapshot_every": args.snapshot_every
        }))
        .expect("request");
        service
            .create_deployment(tenant, request)
            .expect("deployment");
        if (index + 1) % 1_000 == 0 {
            eprint!("\r{count}: {} created", index + 1);
        }
    }
    eprintln!();
    let created = created.elapsed();
    // One period to settle into the schedule.
    std::thread::sleep(Duration::from_millis(args.every_ms * 2));
    let _ = service.take_latencies();
    let (ticks_before, skipped_before) = totals(&service, tenant);
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(args.seconds));
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    let (ticks_after, skipped_after) = totals(&service, tenant);
    let not_running: Vec<(String, String)> = service
        .deployments(tenant)
        .expect("deployments")
        .into_iter()
        .filter(|d| d.state.as_str() != "running")
        .map(|d| (d.id, d.reason.unwrap_or_default()))
        .collect();
    if let Some((id, reason)) = not_running.first() {
        eprintln!(
            "{} deployments stopped running, e.g. {id}: {reason}",
            not_running.len()
        );
    }
    let mut latencies = service.take_latencies();
    latencies.sort_unstable();
    let percentile = |p: f64| -> f64 {
        if latencies.is_empty() {
            return f64::NAN;
        }
        let index = ((latencies.len() - 1) as f64 * p).round() as usize;
        f64::from(latencies[index]) / 1000.0
    };
    let rate = (ticks_after - ticks_before) as f64 / elapsed;
    let expected = count as f64 * 1000.0 / args.every_ms as f64;
    let skipped = skipped_after - skipped_before;
    let p99 = percentile(0.99);
    let holds = skipped == 0 && p99 < args.every_ms as f64;
    println!(
        "{:>12} {:>9.1}s {:>12.0} {:>10.0} {:>9.2} {:>9.2} {:>9.2} {:>9} {:>9.0} {:>6.0} {:>6}",
        count,
        created.as_secs_f64(),
        rate,
        expected,
        percentile(0.5),
        p99,
        percentile(1.0),
        skipped,
        resident_mib(),
        cpu / elapsed * 100.0,
        if holds { "yes" } else { "no" }
    );
}

/// Ticks run and ticks skipped, over every deployment of `tenant`.
fn totals(service: &Service, tenant: &str) -> (u64, u64) {
    service
        .deployments(tenant)
        .expect("deployments")
        .iter()
        .fold((0, 0), |(ticks, skipped), d| {
            (ticks + d.ticks, skipped + d.skipped_ticks)
        })
}

/// Resident memory of this process, MiB.
fn resident_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// CPU time of this process (user + system), seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces): state is
    // the first; utime and stime are the 12th and 13th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Linux reports in clock ticks of 1/100 s.
    (ticks(11) + ticks(12)) / 100.0
}
