//! Journal writes: one tick (input candle, two oracle reads, one emission,
//! two logs, snapshot reference and policy state) per SQLite transaction.

use std::time::Duration;

use stratbox_journal::{Committed, DigestOnly, Durability, Journal, NewRun, RunId, RunPolicy};
use stratbox_runtime::policy::AssetCatalog;
use stratbox_runtime::types::{
    Action, Amount, BlockInfo, Candle, Level, MarketCandle, Swap, SwapAmount,
};
use stratbox_runtime::{
    AcceptedAction, CallTrace, DeploymentSpec, Emission, LogRecord, OracleRead, SeriesPoint,
    TickInput, TickReport,
};

use crate::BenchError;

/// A journal in a temporary directory with one run to record ticks in.
#[derive(Debug)]
pub struct JournalBench {
    journal: Journal,
    run: RunId,
    snapshot: Vec<u8>,
    policy_state: Vec<u8>,
    _dir: tempfile::TempDir,
}

impl JournalBench {
    /// A fresh journal committing with `durability`.
    pub fn new(durability: Durability) -> Result<Self, BenchError> {
        let dir = tempfile::tempdir()?;
        let mut journal = Journal::open_with(&dir.path().join("journal.db"), durability)?;
        let run = journal.begin_run(&NewRun {
            spec: DeploymentSpec::new("bench", "{}"),
            component_sha256: "0".repeat(64),
            component_path: None,
            policy: RunPolicy::AllowAll,
            initial_policy_state: None,
            assets: AssetCatalog::new().with("ETH", 18).with("BTC", 8),
            label: None,
        })?;
        Ok(JournalBench {
            journal,
            run,
            snapshot: vec![7u8; 400],
            policy_state: br#"{"allowances":{},"last_action_ms":{"swap":1700000000000}}"#.to_vec(),
            _dir: dir,
        })
    }

    /// Record one tick (made by [`tick`], sequences increasing) in its own
    /// transaction.
    pub fn record(&mut self, (input, report): (TickInput, TickReport)) -> Result<(), BenchError> {
        let committed = Committed {
            snapshot: Some(&self.snapshot),
            next_sequence: report.sequence + 1,
            next_action_id: report.sequence + 2,
            policy_state: Some(&self.policy_state),
        };
        self.journal
            .record_tick(self.run, &input, &Ok(report), committed, &mut DigestOnly)?;
        Ok(())
    }
}

/// Tick `sequence`: one ETH/BTC candle in; a swap, two logs and two oracle
/// reads out.
pub fn tick(sequence: u64) -> (TickInput, TickReport) {
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
        series: vec![SeriesPoint {
            name: "rsi".into(),
            value: 28.41,
        }],
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
