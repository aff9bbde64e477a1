//! Renders a [`BacktestReport`]: a terminal summary table, and a
//! self-contained HTML page (one file, works offline) with an interactive
//! chart drawn by TradingView Lightweight Charts, embedded in the page:
//! candles and volume with the strategy's trades, denials and failed ticks
//! marked (hover for details), the strategy's own series, equity against
//! buy and hold, drawdown and the profit of each round trip; then the
//! metrics, risk, round-trip, trade, denial and failure tables. The equity
//! and drawdown charts are also drawn by `plotters` as SVG
//! ([`equity_svg`], [`drawdown_svg`]; the page shows them without
//! JavaScript). The JSON form is [`BacktestReport::to_json`]. Every text a
//! report carries (a strategy's log lines, error messages, names) reaches
//! the terminal through [`escape_terminal`].

mod chart_data;
mod charts;
mod html;
mod risk;
mod study;
mod terminal;
#[cfg(test)]
mod tests;

pub use chart_data::{OVERLAY_PREFIX, pane_of};
pub use charts::{drawdown_svg, equity_svg};
pub use html::escape as escape_html;
pub use html::{LIBRARY, LIBRARY_VERSION, html, script_hash};
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
