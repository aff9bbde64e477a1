//! The risk section: one summary line per horizon for terminals, and the
//! full table of VaR and expected shortfall for the HTML page.

use std::fmt::Write as _;

use stratbox_backtest::risk::RiskReport;
use stratbox_risk::{RiskFigure, RiskMethod, TABLE_CONFIDENCES, TABLE_HORIZONS_MS};

use crate::BacktestReport;

/// `1h` or `1d`.
fn horizon(ms: u64) -> String {
    if ms.is_multiple_of(86_400_000) {
        format!("{}d", ms / 86_400_000)
    } else {
        format!("{}h", ms / 3_600_000)
    }
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{:.2}%", v * 100.0))
}

/// The figure of `method` at a horizon and confidence, stressed or not.
fn figure(
    risk: &RiskReport,
    method: RiskMethod,
    horizon_ms: u64,
    confidence: f64,
    stressed: bool,
) -> Option<&RiskFigure> {
    if stressed {
        risk.stressed
            .iter()
            .find(|f| f.horizon_ms == horizon_ms && f.confidence == confidence)
    } else {
        risk.table.as_ref()?.figure(method, horizon_ms, confidence)
    }
}

/// The columns of the table: each method on the fitted model, then Monte
/// Carlo on the stressed one.
const COLUMNS: [(RiskMethod, bool, &str); 4] = [
    (RiskMethod::Historical, false, "historical"),
    (RiskMethod::Parametric, false, "parametric"),
    (RiskMethod::MonteCarlo, false, "Monte Carlo"),
    (RiskMethod::MonteCarlo, true, "stressed MC"),
];

/// Summary rows: `VaR 1d 99%` with each method's figure, and why there
/// are none when there are none.
pub(crate) fn risk_rows(report: &BacktestReport) -> Vec<(String, String)> {
    let Some(risk) = &report.risk else {
        return Vec::new();
    };
    if let Some(reason) = &risk.unavailable {
        return vec![("VaR".to_owned(), format!("n/a ({reason})"))];
    }
    let confidence = TABLE_CONFIDENCES[TABLE_CONFIDENCES.len() - 1];
    TABLE_HORIZONS_MS
        .iter()
        .map(|&horizon_ms| {
            let values: Vec<String> = COLUMNS
                .iter()
                .map(|&(method, stressed, name)| {
                    let value =
                        figure(risk, method, horizon_ms, confidence, stressed).map(|f| f.var);
                    format!("{name} {}", percent(value))
                })
                .collect();
            (
                format!("VaR {} {:.0}%", horizon(horizon_ms), confidence * 100.0),
                values.join(" / "),
            )
        })
        .collect()
}

/// The HTML risk section: VaR and ES for every horizon, confidence and
/// method, and the models simulated.
pub(crate) fn risk_html(page: &mut String, report: &BacktestReport) {
    let Some(risk) = &report.risk else {
        return;
    };
    page.push_str("<h2>Risk</h2>\n");
    if let Some(reason) = &risk.unavailable {
        let _ = writeln!(
            page,
            "<p>No risk figures: {}</p>",
            crate::html::escape(reason)
        );
        return;
    }
    page.push_str(
        "<p>Value-at-risk (VaR) and expected shortfall (ES) of the strategy's equity over the \
         run's latest candles (at most 16,384), as losses of its value. Monte Carlo simulates a Merton jump-diffusion fitted to the run's returns; \
         the stressed model multiplies the jump frequency by 100 with -20% jumps.</p>\n<table><tr><th>horizon</th><th>confidence</th>",
    );
    for (_, _, name) in COLUMNS {
        let _ = write!(page, "<th>VaR {name}</th><th>ES {name}</th>");
    }
    page.push_str("</tr>\n");
    for &horizon_ms in &TABLE_HORIZONS_MS {
        for &confidence in &TABLE_CONFIDENCES {
            let _ = write!(
                page,
                "<tr><td>{}</td><td>{:.0}%</td>",
                horizon(horizon_ms),
                confidence * 100.0
            );
            for (method, stressed, _) in COLUMNS {
                let found = figure(risk, method, horizon_ms, confidence, stressed);
                let _ = write!(
                    page,
                    "<td>{}</td><td>{}</td>",
                    percent(found.map(|f| f.var)),
                    percent(found.map(|f| f.es))
                );
            }
            page.push_str("</tr>\n");
        }
    }
    page.push_str("</table>\n");
    let models = [
        ("fitted", risk.table.as_ref().and_then(|t| t.model.as_ref())),
        ("stressed", risk.stressed_model.as_ref()),
    ];
    for (name, model) in models {
        if let Some(m) = model {
            let _ = writeln!(
                page,
                "<p>{name} model: volatility {:.1}%/yr, {:.1} jumps/yr of mean log size {:.3} (stdev {:.3}).</p>",
                m.volatility * 100.0,
                m.jump_intensity,
                m.jump_mean,
                m.jump_stdev
            );
        }
    }
}
