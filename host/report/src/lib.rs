//! Renders a [`BacktestReport`]: a terminal summary table, and a
//! self-contained HTML page with an equity curve (trade markers included)
//! and a drawdown chart drawn by `plotters` as inline SVG. The JSON form is
//! [`BacktestReport::to_json`]. Every text a report carries (a strategy's
//! log lines, error messages, names) reaches the terminal through
//! [`escape_terminal`].

mod charts;
mod html;
mod risk;
mod study;
mod terminal;
#[cfg(test)]
mod tests;

pub use charts::{drawdown_svg, equity_svg};
pub use html::html;
pub use stratbox_backtest::report::BacktestReport;
pub use study::{model_text, probability_text, study_histogram_svg, study_html};
pub use terminal::{escape_terminal, failure_line, summary};

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// Drawing a chart failed.
    #[error("could not draw the {chart} chart: {reason}")]
    Chart {
        /// Which chart.
        chart: &'static str,
        /// Drawing backend diagnostic.
        reason: String,
    },
}
