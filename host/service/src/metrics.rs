//! Prometheus metrics of the service, per tenant: ticks, tick latency from
//! schedule to commit, fuel, denials by rule, failures by code, skipped
//! ticks, and deployments by state.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use stratbox_engine::TickRecord;
use stratbox_runtime::TickError;
use stratbox_runtime::types::{ActionOutcome, Rejection};

use crate::request::DeploymentState;

/// Labels of per-tenant series.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TenantLabel {
    /// The tenant.
    pub tenant: String,
}

/// Labels of a tick's result.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TickLabels {
    tenant: String,
    /// `committed` or `failed`.
    result: &'static str,
}

/// Labels of a denial.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DenialLabels {
    tenant: String,
    rule: String,
}

/// Labels of a failure.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FailureLabels {
    tenant: String,
    /// `tick` (the strategy's tick failed) or `action` (the venue failed
    /// an accepted action).
    kind: &'static str,
    code: String,
}

/// Labels of a deployment count.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    tenant: String,
    state: &'static str,
}

/// One tenant's per-tick series (handles sharing the registry's values).
#[derive(Debug, Clone)]
pub struct TenantSeries {
    committed: Counter,
    failed: Counter,
    latency: Histogram,
    fuel: Counter,
}

type HistogramFamily = Family<TenantLabel, Histogram, fn() -> Histogram>;

/// The service's metrics and their registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    ticks: Family<TickLabels, Counter>,
    latency: HistogramFamily,
    fuel: Family<TenantLabel, Counter>,
    denials: Family<DenialLabels, Counter>,
    failures: Family<FailureLabels, Counter>,
    skipped: Family<TenantLabel, Counter>,
    deployments: Family<StateLabels, Gauge>,
}

fn latency_histogram() -> Histogram {
    // 50 µs to ~1.6 s.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("stratbox");
        let ticks = Family::<TickLabels, Counter>::default();
        registry.register("ticks", "Ticks run, by result", ticks.clone());
        let latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "tick_latency_seconds",
            "Time from a tick's scheduled moment to its commit",
            latency.clone(),
        );
        let fuel = Family::<TenantLabel, Counter>::default();
        registry.register("fuel", "Fuel burnt by ticks", fuel.clone());
        let denials = Family::<DenialLabels, Counter>::default();
        registry.register("denials", "Actions denied, by rule", denials.clone());
        let failures = Family::<FailureLabels, Counter>::default();
        registry.register(
            "failures",
            "Failed ticks and failed actions, by code",
            failures.clone(),
        );
        let skipped = Family::<TenantLabel, Counter>::default();
        registry.register(
            "skipped_ticks",
            "Scheduled ticks skipped (behind schedule, or over the fuel quota)",
            skipped.clone(),
        );
        let deployments = Family::<StateLabels, Gauge>::default();
        registry.register("deployments", "Deployments, by state", deployments.clone());
        Metrics {
            registry,
            ticks,
            latency,
            fuel,
            denials,
            failures,
            skipped,
            deployments,
        }
    }
}

impl Metrics {
    /// The handles of `tenant`'s per-tick series, looked up once per
    /// deployment rather than at every tick.
    pub fn tenant(&self, tenant: &str) -> TenantSeries {
        let label = TenantLabel {
            tenant: tenant.to_owned(),
        };
        let result = |result| {
            self.ticks
                .get_or_create(&TickLabels {
                    tenant: tenant.to_owned(),
                    result,
                })
                .clone()
        };
        TenantSeries {
            committed: result("committed"),
            failed: result("failed"),
            latency: self.latency.get_or_create(&label).clone(),
            fuel: self.fuel.get_or_create(&label).clone(),
        }
    }

    /// Count a tick of `tenant` (whose series are `series`) that took
    /// `latency_seconds` from its scheduled moment to its commit.
    pub fn tick(
        &self,
        tenant: &str,
        series: &TenantSeries,
        record: &TickRecord,
        latency_seconds: f64,
    ) {
        let trace = match &record.result {
            Ok(report) => {
                series.committed.inc();
                &report.trace
            }
            Err(failure) => {
                series.failed.inc();
                self.failures
                    .get_or_create(&FailureLabels {
                        tenant: tenant.to_owned(),
                        kind: "tick",
                        code: tick_error_code(&failure.error),
                    })
                    .inc();
                &*failure.trace
            }
        };
        series.latency.observe(latency_seconds);
        series.fuel.inc_by(trace.fuel_used);
        for emission in &trace.emissions {
            if let Err(Rejection::Denied(denial) | Rejection::Invalid(denial)) = &emission.verdict {
                let rule = if denial.rule.is_empty() {
                    denial.code.clone()
                } else {
                    denial.rule.clone()
                };
                self.denials
                    .get_or_create(&DenialLabels {
                        tenant: tenant.to_owned(),
                        rule,
                    })
                    .inc();
            }
        }
        for (_, outcome) in &record.outcomes {
            if let ActionOutcome::Failed(failure) = outcome {
                self.failures
                    .get_or_create(&FailureLabels {
                        tenant: tenant.to_owned(),
                        kind: "action",
                        code: failure.code.clone(),
                    })
                    .inc();
            }
        }
    }

    /// Count `n` skipped ticks of `tenant`.
    pub fn skipped(&self, tenant: &str, n: u64) {
        self.skipped
            .get_or_create(&TenantLabel {
                tenant: tenant.to_owned(),
            })
            .inc_by(n);
    }

    /// A deployment of `tenant` moved from `from` (`None`: it is new) to
    /// `to` (`None`: it is deleted).
    pub fn state_change(
        &self,
        tenant: &str,
        from: Option<DeploymentState>,
        to: Option<DeploymentState>,
    ) {
        if let Some(from) = from {
            self.deployments
                .get_or_create(&StateLabels {
                    tenant: tenant.to_owned(),
                    state: from.as_str(),
                })
                .dec();
        }
        if let Some(to) = to {
            self.deployments
                .get_or_create(&StateLabels {
                    tenant: tenant.to_owned(),
                    state: to.as_str(),
                })
                .inc();
        }
    }

    /// The metrics in the Prometheus text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// The stable name of a tick error's kind: its variant, in snake case
/// (`out_of_fuel`, `guest_trap`, `memory_limit`...), for labels.
pub fn tick_error_code(error: &TickError) -> String {
    let variant = match serde_json::to_value(error) {
        Ok(serde_json::Value::String(name)) => name,
        Ok(serde_json::Value::Object(map)) => map.keys().next().cloned().unwrap_or_default(),
        _ => return "unknown".to_owned(),
    };
    let mut code = String::with_capacity(variant.len() + 4);
    for (index, c) in variant.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if index > 0 {
                code.push('_');
            }
            code.push(c.to_ascii_lowercase());
        } else {
            code.push(c);
        }
    }
    code
}
