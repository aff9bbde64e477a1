//! Journal writes: one tick (input candle, two oracle reads, one emission,
//! two logs, snapshot reference, policy state) per transaction.

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use stratbox_journal::{Committed, DigestOnly, Durability, Journal, NewRun, RunPolicy};
use stratbox_runtime::policy::AssetCatalog;
use stratbox_runtime::types::{
    Action, Amount, BlockInfo, Candle, Level, MarketCandle, Swap, SwapAmount,
};
use stratbox_runtime::{
    AcceptedAction, CallTrace, DeploymentSpec, Emission, LogRecord, OracleRead, TickInput,
    TickReport,
};

fn tick(sequence: u64) -> (TickInput, TickReport) {
    let block = BlockInfo {
        chain_id: 0,
        number: sequence,
        timestamp_ms: 1_700_000_000_000 + sequence * 300_000,
    };
    let candle = Candle {
        timestamp_ms: block.timestamp_ms,
        open: 0.0512,
        high: 0.0515,
        low: 0.0510,
        close: 0.0513,
        volume: 1234.5,
    };
    let action = Action::Swap(Swap {
        sell: "BTC".into(),
        buy: "ETH".into(),
        amount: SwapAmount::ExactIn(Amount::from_u128(10_000_000)),
        max_slippage_bps: 50,
        venue: None,
    });
    let input = TickInput {
        block,
        candles: vec![MarketCandle {
            market: "ETH/BTC".into(),
            candle,
        }],
        results: Vec::new(),
    };
    let trace = CallTrace {
        emissions: vec![Emission {
            action: action.clone(),
            verdict: Ok(sequence + 1),
        }],
        logs: vec![
            LogRecord {
                level: Level::Info,
                message: "rsi=28.41 -> action 7 (Entering)".into(),
            },
            LogRecord {
                level: Level::Debug,
                message: "position flat, cooling down".into(),
            },
        ],
        oracle_reads: vec![
            OracleRead::Block { response: block },
            OracleRead::Price {
                base: "ETH".into(),
                quote: "BTC".into(),
                response: Ok(0.0513),
            },
        ],
        fuel_used: 187_000,
        rebuild_fuel: None,
        duration: Duration::from_micros(3),
    };
    let report = TickReport {
        sequence,
        actions: vec![AcceptedAction {
            id: sequence + 1,
            action,
        }],
        committed: true,
        trace,
    };
    (input, report)
}

fn record(c: &mut Criterion, name: &str, durability: Durability) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut journal =
        Journal::open_with(&dir.path().join("journal.db"), durability).expect("journal");
    let run = journal
        .begin_run(&NewRun {
            spec: DeploymentSpec::new("bench", "{}"),
            component_sha256: "0".repeat(64),
            component_path: None,
            policy: RunPolicy::AllowAll,
            initial_policy_state: None,
            assets: AssetCatalog::new().with("ETH", 18).with("BTC", 8),
            label: None,
        })
        .expect("run");
    let snapshot = vec![7u8; 400];
    let policy_state = br#"{"allowances":{},"last_action_ms":{"swap":1700000000000}}"#.to_vec();
    let mut sequence = 0;
    let mut group = c.benchmark_group("journal");
    group.throughput(Throughput::Elements(1));
    if durability == Durability::Full {
        group.sample_size(20);
    }
    group.bench_function(name, |b| {
        b.iter_batched(
            || {
                sequence += 1;
                tick(sequence)
            },
            |(input, report)| {
                let committed = Committed {
                    snapshot: Some(&snapshot),
                    next_sequence: report.sequence + 1,
                    next_action_id: report.sequence + 2,
                    policy_state: Some(&policy_state),
                };
                journal
                    .record_tick(run, &input, &Ok(report), committed, &mut DigestOnly)
                    .expect("recorded");
            },
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn writes(c: &mut Criterion) {
    record(c, "record-tick/synchronous-normal", Durability::Normal);
    record(c, "record-tick/synchronous-full", Durability::Full);
}

criterion_group!(benches, writes);
criterion_main!(benches);
