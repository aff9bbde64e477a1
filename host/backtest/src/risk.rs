//! The risk section of a report: value-at-risk and expected shortfall of
//! the strategy's equity over 1 hour and 1 day at 95% and 99%,
//! historical, parametric and Monte Carlo under a Merton jump-diffusion
//! fitted to the run, plus the Monte Carlo figures under the stressed
//! model (jump frequency x100, -20% jumps) of the black-swan study.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};
use stratbox_risk::{
    JumpDiffusion, MonteCarloConfig, RiskFigure, RiskMethod, RiskTable, Series, risk_table,
};

/// Monte Carlo paths of a report's risk figures: 20,000 leaves 200 paths
/// beyond the 99% quantile, and costs ~10 ms per table.
pub const REPORT_PATHS: usize = 20_000;

/// The risk section of a backtest report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskReport {
    /// Figures of the equity's log returns (its latest [`RISK_RETURNS`])
    /// under the fitted model.
    pub table: Option<RiskTable>,
    /// Monte Carlo figures under the stressed model.
    pub stressed: Vec<RiskFigure>,
    /// The stressed model.
    pub stressed_model: Option<JumpDiffusion>,
    /// Why there are no figures (e.g. too few candles), when there are none.
    pub unavailable: Option<String>,
}

/// Log returns the risk figures are computed from: the run's latest, so
/// that a long run's memory stays flat (128 KiB; 57 days of 5-minute
/// candles, 11 days of 1-minute ones).
pub const RISK_RETURNS: usize = 16_384;

/// Distinct spacings of equity points counted to find the usual one.
const MAX_GAPS: usize = 64;

/// Folds the equity curve into the log returns the risk figures need (the
/// latest [`RISK_RETURNS`]) and the spacing of its points.
#[derive(Debug, Clone, Default)]
pub(crate) struct RiskCollector {
    last: Option<(u64, f64)>,
    returns: VecDeque<f64>,
    /// How often each spacing of consecutive points occurs.
    gaps: BTreeMap<u64, u64>,
}

impl RiskCollector {
    /// The next point of the equity curve.
    pub(crate) fn equity(&mut self, timestamp_ms: u64, equity: f64) {
        if let Some((time, previous)) = self.last
            && previous > 0.0
            && equity > 0.0
        {
            if self.returns.capacity() == 0 {
                self.returns.reserve_exact(RISK_RETURNS);
            }
            if self.returns.len() == RISK_RETURNS {
                self.returns.pop_front();
            }
            self.returns.push_back((equity / previous).ln());
            let gap = timestamp_ms.saturating_sub(time);
            if self.gaps.len() < MAX_GAPS || self.gaps.contains_key(&gap) {
                *self.gaps.entry(gap).or_default() += 1;
            }
        }
        self.last = Some((timestamp_ms, equity));
    }

    /// The figures, seeded so that a run always reports the same ones.
    pub(crate) fn finish(mut self) -> RiskReport {
        let interval_ms = self
            .gaps
            .iter()
            .max_by_key(|(gap, count)| (**count, std::cmp::Reverse(**gap)))
            .map_or(0, |(gap, _)| *gap);
        let config = MonteCarloConfig {
            paths: REPORT_PATHS,
            ..MonteCarloConfig::default()
        };
        let returns = self.returns.make_contiguous();
        let table = match risk_table(Series::LogReturns(returns), interval_ms, &config) {
            Ok(table) => table,
            Err(error) => {
                return RiskReport {
                    table: None,
                    stressed: Vec::new(),
                    stressed_model: None,
                    unavailable: Some(error.to_string()),
                };
            }
        };
        let stressed = risk_table(
            Series::LogReturns(returns),
            interval_ms,
            &MonteCarloConfig {
                stressed: true,
                ..config
            },
        )
        .ok();
        RiskReport {
            stressed_model: stressed.as_ref().and_then(|t| t.model),
            stressed: stressed
                .map(|t| {
                    t.figures
                        .into_iter()
                        .filter(|f| f.method == RiskMethod::MonteCarlo)
                        .collect()
                })
                .unwrap_or_default(),
            table: Some(table),
            unavailable: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use stratbox_risk::{HOUR_MS, historical};

    use super::*;

    #[test]
    fn the_figures_are_those_of_the_equity_log_returns_at_the_usual_spacing() {
        let mut collector = RiskCollector::default();
        let mut equity = 100.0;
        let mut time = 0;
        for i in 0..2_000u64 {
            // One gap of a day in the curve: the spacing stays 5 minutes.
            time += if i == 1_000 { 86_400_000 } else { 300_000 };
            equity *= 1.0 + ((i * 7919 % 101) as f64 - 50.0) / 10_000.0;
            collector.equity(time, equity);
        }
        let returns: Vec<f64> = collector.returns.iter().copied().collect();
        let report = collector.finish();
        let table = report.table.expect("figures");
        assert_eq!((table.interval_ms, table.returns), (300_000, 1_999));
        let expected = historical(&returns, 300_000, HOUR_MS, 0.99).unwrap();
        let got = table.figure(RiskMethod::Historical, HOUR_MS, 0.99).unwrap();
        assert_eq!((got.var, got.es), (expected.var, expected.es));
        assert_eq!(report.stressed.len(), 4);
        let stressed = report.stressed_model.unwrap();
        assert!((stressed.jump_mean - 0.8f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn a_long_curve_keeps_only_its_latest_returns() {
        let mut collector = RiskCollector::default();
        for i in 0..(RISK_RETURNS as u64 + 1_000) {
            collector.equity(i * 60_000, 1.0 + (i % 7) as f64 / 100.0);
        }
        assert_eq!(collector.returns.len(), RISK_RETURNS);
        assert_eq!(collector.finish().table.unwrap().returns, RISK_RETURNS);
    }

    #[test]
    fn too_short_a_curve_says_why_it_has_no_figures() {
        let mut collector = RiskCollector::default();
        collector.equity(0, 1.0);
        let report = collector.finish();
        assert!(report.table.is_none());
        assert!(report.unavailable.is_some_and(|r| !r.is_empty()));
    }
}
