//! The lending-shortfall study as a self-contained HTML page: the
//! position, the models, the probabilities with their confidence
//! intervals, and the distribution of end equity as an SVG bar chart.

use std::fmt::Write as _;

use plotters::prelude::*;
use stratbox_risk::{JumpDiffusion, Probability, StudyResult};

use crate::ReportError;
use crate::charts::{FONT, SIZE, register_font};
use crate::html::escape;

/// `12.34% (95% CI 12.10% to 12.58%)`.
pub fn probability_text(p: &Probability) -> String {
    format!(
        "{:.2}% (95% CI {:.2}% to {:.2}%, {} of {} paths)",
        p.estimate * 100.0,
        p.low * 100.0,
        p.high * 100.0,
        p.count,
        p.paths
    )
}

/// One line describing a price model.
pub fn model_text(m: &JumpDiffusion) -> String {
    format!(
        "drift {:+.1}%/yr, volatility {:.1}%/yr, {:.1} jumps/yr of mean log size {:.3} (stdev {:.3})",
        m.drift * 100.0,
        m.volatility * 100.0,
        m.jump_intensity,
        m.jump_mean,
        m.jump_stdev
    )
}

/// The histogram of end equity `(C_T - D) / C_0`, as SVG.
pub fn study_histogram_svg(result: &StudyResult) -> Result<String, ReportError> {
    register_font();
    let error = |e: &dyn std::fmt::Display| ReportError::Chart {
        chart: "loss distribution",
        reason: e.to_string(),
    };
    let histogram = &result.histogram;
    let total = histogram.total().max(1) as f64;
    let bars: Vec<(f64, f64, f64)> = histogram
        .counts
        .iter()
        .enumerate()
        .map(|(i, count)| {
            let (low, high) = histogram.bin_edges(i);
            (low * 100.0, high * 100.0, *count as f64 / total * 100.0)
        })
        .collect();
    let top = bars.iter().map(|b| b.2).fold(0.0f64, f64::max).max(1e-3) * 1.1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| error(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "End equity (collateral - debt) in % of initial collateral",
                (FONT, 18),
            )
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(70)
            .build_cartesian_2d(histogram.min * 100.0..histogram.max * 100.0, 0.0..top)
            .map_err(|e| error(&e))?;
        chart
            .configure_mesh()
            .x_label_formatter(&|v| format!("{v:.0}%"))
            .y_label_formatter(&|v| format!("{v:.1}%"))
            .label_style((FONT, 12))
            .draw()
            .map_err(|e| error(&e))?;
        chart
            .draw_series(bars.iter().map(|&(low, high, share)| {
                // Bars below zero are the paths where collateral fell short.
                let color = if high <= 0.0 { RED } else { BLUE };
                Rectangle::new([(low, 0.0), (high, share)], color.mix(0.5).filled())
            }))
            .map_err(|e| error(&e))?;
        root.present().map_err(|e| error(&e))?;
    }
    Ok(svg)
}

/// The study as a self-contained HTML page; `source` says what the model
/// was fitted to.
pub fn study_html(result: &StudyResult, source: &str) -> Result<String, ReportError> {
    let chart = study_histogram_svg(result)?;
    let c = &result.config;
    let mut page = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>stratbox study: lending shortfall</title>\
         <style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}\
         td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f3f3f3}</style></head><body>\n\
         <h1>Lending shortfall under jump stress</h1>\n<table>\n",
    );
    let mut rows = vec![
        ("fitted to", source.to_owned()),
        ("model", model_text(&c.model)),
        ("simulated model", model_text(&result.model)),
        (
            "position",
            format!(
                "initial LTV {:.1}%, horizon {} h in {} steps, {} paths, seed {}",
                c.initial_ltv * 100.0,
                c.horizon_ms as f64 / 3_600_000.0,
                c.steps,
                c.paths,
                c.seed
            ),
        ),
        (
            "shortfall at the end",
            probability_text(&result.shortfall_at_end),
        ),
        (
            "shortfall at any step",
            probability_text(&result.shortfall_any_time),
        ),
    ];
    if let (Some(ltv), Some(end), Some(any)) = (
        c.liquidation_ltv,
        &result.liquidation_at_end,
        &result.liquidation_any_time,
    ) {
        rows.push((
            "liquidation at the end",
            format!("LTV >= {:.1}%: {}", ltv * 100.0, probability_text(end)),
        ));
        rows.push(("liquidation at any step", probability_text(any)));
    }
    rows.push((
        "expected shortfall",
        format!(
            "{:.3}% of initial collateral{}",
            result.expected_shortfall * 100.0,
            result
                .mean_shortfall_when_short
                .map(|m| format!(" ({:.2}% on the paths that fall short)", m * 100.0))
                .unwrap_or_default()
        ),
    ));
    for (name, value) in rows {
        let _ = writeln!(
            page,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(name),
            escape(&value)
        );
    }
    page.push_str("</table>\n<h2>Distribution of end equity</h2>\n");
    page.push_str(&chart);
    page.push_str("\n</body></html>\n");
    Ok(page)
}
