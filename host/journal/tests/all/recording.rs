//! A real paper run recorded call by call: everything the run reported is
//! in the journal, in order, with the venue's results and the policy state.

use std::sync::Arc;

use stratbox_journal::{Call, CallOutcome, EmissionRow, Journal, ReadRow, VerdictKind};
use stratbox_runtime::policy::PolicyEngine;
use stratbox_test_artifacts::Guest;

use crate::support::{Judge, POLICY, assets, eager, record};

#[test]
fn every_tick_is_journaled_as_it_ran() {
    let (journal, run, paper) = record(
        Journal::in_memory().unwrap(),
        Guest::RsiMomentum,
        &eager(),
        400,
        Judge::File(POLICY),
    );
    let summary = &journal.runs().unwrap()[0];
    assert_eq!((summary.id, summary.ticks, summary.failed), (run, 400, 0));
    assert_eq!(summary.policy, "file");

    let init = journal.call(run, Call::Init).unwrap();
    assert!(init.snapshot.is_some(), "init commits the first snapshot");
    let mut price_reads = 0;
    let mut results = 0;
    for (sequence, tick) in paper.ticks.iter().enumerate() {
        let report = tick.result.as_ref().unwrap();
        let recorded = journal.call(run, Call::Tick(sequence as u64)).unwrap();
        assert_eq!(recorded.outcome, CallOutcome::Ok { committed: true });
        assert_eq!(recorded.fuel_used, report.trace.fuel_used);
        assert_eq!(recorded.logs, report.trace.logs);
        let emissions: Vec<EmissionRow> = report
            .trace
            .emissions
            .iter()
            .map(|e| EmissionRow::from_emission(e).unwrap())
            .collect();
        assert_eq!(recorded.emissions, emissions);
        let reads: Vec<ReadRow> = report
            .trace
            .oracle_reads
            .iter()
            .map(|r| ReadRow::from_read(r).unwrap())
            .collect();
        assert_eq!(recorded.oracle_reads, reads);
        assert_eq!(recorded.reads().unwrap(), report.trace.oracle_reads);
        price_reads += reads.iter().filter(|r| r.read == "price").count();
        assert_eq!(recorded.results.len(), tick.outcomes.len());
        results += recorded.results.len();
        assert!(recorded.snapshot.is_some());
        assert!(recorded.policy_state.is_some());
        assert_eq!(recorded.input.unwrap().block.number, sequence as u64);
    }
    assert!(price_reads > 0, "the policy valued some sells");
    assert!(results > 0, "the venue filled something");
}

#[test]
fn denials_are_journaled_with_code_rule_and_detail() {
    let (journal, run, _) = record(
        Journal::in_memory().unwrap(),
        Guest::RsiMomentum,
        &eager(),
        600,
        Judge::File(POLICY),
    );
    let mut denied = Vec::new();
    for sequence in journal.tick_sequences(run).unwrap() {
        for emission in journal.call(run, Call::Tick(sequence)).unwrap().emissions {
            if emission.verdict == VerdictKind::Denied {
                denied.push(emission);
            }
        }
    }
    assert!(!denied.is_empty(), "the BTC allowance runs out");
    for emission in denied {
        assert_eq!(emission.code.as_deref(), Some("ALLOWANCE_EXCEEDED"));
        assert_eq!(emission.rule.as_deref(), Some("allowances.btc"));
        let detail = emission.detail.unwrap();
        assert!(
            detail.starts_with("ALLOWANCE_EXCEEDED: allowance=btc amount=0.1 available="),
            "{detail}"
        );
    }
    assert!(journal.runs().unwrap()[0].rejected > 0);
}

#[test]
fn the_policy_state_survives_a_restart_through_the_journal() {
    let (journal, run, paper) = record(
        Journal::in_memory().unwrap(),
        Guest::RsiMomentum,
        &eager(),
        300,
        Judge::File(POLICY),
    );
    let point = journal
        .resume_point(run)
        .unwrap()
        .expect("something was recorded");
    assert_eq!(point.last_call, Call::Tick(299));
    assert_eq!(point.snapshot.next_sequence, 300);
    let last_id = paper
        .reports()
        .flat_map(|r| r.actions.iter().map(|a| a.id))
        .max()
        .unwrap_or(0);
    assert_eq!(point.snapshot.next_action_id, last_id + 1);
    let state = point.policy_state.expect("the engine journals its state");
    let file = stratbox_policy::parse(POLICY, std::path::Path::new("p.toml"), &assets()).unwrap();
    let engine = PolicyEngine::with_state(Arc::clone(&file.compiled), &state).unwrap();
    let allowance = engine
        .state()
        .allowance("btc")
        .expect("consulted during the run");
    assert!(
        allowance.balance < 30_000_000,
        "some of the 0.3 BTC was spent and journaled"
    );
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&state).unwrap(),
        serde_json::from_slice::<serde_json::Value>(
            &stratbox_runtime::Policy::persistent_state(&engine).unwrap()
        )
        .unwrap()
    );
}
