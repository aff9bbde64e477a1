//! What "best" means.

use serde::{Deserialize, Serialize};
use stratbox_backtest::Metrics;

/// The metric trials are ranked by; higher [`score`](Objective::score) is
/// better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Objective {
    /// Annualized Sharpe ratio.
    Sharpe,
    /// Annualized Sortino ratio.
    Sortino,
    /// Total return.
    Return,
    /// Smallest maximum drawdown.
    Drawdown,
    /// Share of winning closed trades.
    WinRate,
}

impl Objective {
    /// The score of `metrics`: higher is better (the drawdown negated).
    pub fn score(self, metrics: &Metrics) -> f64 {
        match self {
            Objective::Sharpe => metrics.sharpe,
            Objective::Sortino => metrics.sortino,
            Objective::Return => metrics.total_return,
            Objective::Drawdown => -metrics.max_drawdown,
            Objective::WinRate => metrics.win_rate,
        }
    }

    /// The metric's value as a report shows it (the drawdown positive).
    pub fn value(self, metrics: &Metrics) -> f64 {
        match self {
            Objective::Drawdown => metrics.max_drawdown,
            other => other.score(metrics),
        }
    }

    /// Lower-case name, as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Objective::Sharpe => "sharpe",
            Objective::Sortino => "sortino",
            Objective::Return => "return",
            Objective::Drawdown => "drawdown",
            Objective::WinRate => "win-rate",
        }
    }

    /// Whether [`value`](Objective::value) is a fraction shown in percent.
    pub fn is_fraction(self) -> bool {
        matches!(
            self,
            Objective::Return | Objective::Drawdown | Objective::WinRate
        )
    }
}
