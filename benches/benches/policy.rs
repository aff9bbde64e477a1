//! Policy checks per second on one core, for a 20-rule policy (target: at
//! least 1 million). Every verdict is checked, and nothing may be left in
//! flight afterwards.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use stratbox_benches::policy::{Expect, POLICY_20_RULES, PolicyBench, drained_policy, swap};
use stratbox_runtime::types::Action;

fn bench(c: &mut Criterion, name: &str, policy: &str, action: Action, expect: Expect) {
    let mut bench = PolicyBench::new(policy, action, expect).expect("policy");
    let mut group = c.benchmark_group("policy");
    group.throughput(Throughput::Elements(1));
    group.bench_function(name, |b| b.iter(|| bench.check().expect("verdict")));
    group.finish();
    bench.finish().expect("nothing in flight");
}

fn checks(c: &mut Criterion) {
    // Buy ETH with 1000 USDC: every rule evaluated, no price needed.
    bench(
        c,
        "check/20-rules/accept",
        POLICY_20_RULES,
        swap("USDC", "ETH", 1_000_000_000),
        Expect::Accept,
    );
    // Sell 1 ETH: valued through the (recorded) oracle.
    bench(
        c,
        "check/20-rules/accept-priced",
        POLICY_20_RULES,
        swap("ETH", "USDC", 1_000_000_000_000_000_000),
        Expect::Accept,
    );
    // Denied by the last rule (the allowance), after all others passed.
    bench(
        c,
        "check/20-rules/deny-at-last-rule",
        &drained_policy(),
        swap("USDC", "ETH", 1_000_000_000),
        Expect::Deny("ALLOWANCE_EXCEEDED"),
    );
}

criterion_group!(benches, checks);
criterion_main!(benches);
