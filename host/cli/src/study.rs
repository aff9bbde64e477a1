//! `stratbox study`: the probability that a lending position's collateral
//! falls short of its debt under a stressed jump-diffusion fitted to real
//! candles, with confidence intervals and a loss-distribution chart.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use stratbox_risk::{JumpDiffusion, StudyConfig, log_returns, run_study};

use crate::market::market_of;
use crate::output::write_atomically;

/// Options of `stratbox study`.
#[derive(Debug, Args)]
pub struct StudyArgs {
    /// Candles of the collateral (CSV) whose closes the price model is
    /// fitted to.
    #[arg(long, default_value = "data/ETH_BTC-5m.csv")]
    pub data: PathBuf,
    /// Debt over collateral value at the start.
    #[arg(long, default_value_t = 0.75)]
    pub ltv: f64,
    /// Also estimate the probability of reaching this LTV (liquidation).
    #[arg(long)]
    pub liquidation_ltv: Option<f64>,
    /// Horizon (`1d`, `12h`, `30m`).
    #[arg(long, default_value = "1d", value_parser = humantime::parse_duration)]
    pub horizon: Duration,
    /// Time steps per path over the horizon.
    #[arg(long, default_value_t = 24)]
    pub steps: u32,
    /// Simulated paths: the confidence intervals narrow with their square
    /// root.
    #[arg(long, default_value_t = 100_000)]
    pub paths: usize,
    /// Random seed: the same seed gives the same figures.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Jumps per year of the model before the stress, instead of the
    /// fitted frequency. Short candles see many small "jumps" (fat tails):
    /// 100 times that many -20% jumps ruins every position, so name the
    /// rate of crashes you mean to stress (e.g. 4).
    #[arg(long, value_name = "N")]
    pub jumps_per_year: Option<f64>,
    /// Simulate the fitted model as it is, without the stress (100x the
    /// jump frequency, -20% jumps).
    #[arg(long)]
    pub no_stress: bool,
    /// Make every jump a pure loss (no drift compensation between jumps):
    /// a harsher stress.
    #[arg(long)]
    pub uncompensated: bool,
    /// Write the self-contained HTML page with the loss distribution here.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Print the result as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &StudyArgs) -> anyhow::Result<()> {
    let market = market_of(&args.data)?;
    let tape = stratbox_tape::load_csv(&args.data, &market)?;
    let closes: Vec<f64> = tape.candles().iter().map(|c| c.close).collect();
    let returns = log_returns(&closes).context("the candles' closes")?;
    let interval_ms = tape
        .candles()
        .windows(2)
        .map(|w| w[1].timestamp_ms.saturating_sub(w[0].timestamp_ms))
        .min()
        .unwrap_or(0);
    let mut model = JumpDiffusion::fit(&returns, interval_ms)
        .with_context(|| format!("fitting a jump-diffusion to {}", args.data.display()))?;
    if let Some(jumps) = args.jumps_per_year {
        model.jump_intensity = jumps;
    }
    let config = StudyConfig {
        model,
        stressed: !args.no_stress,
        compensate_jumps: !args.uncompensated,
        initial_ltv: args.ltv,
        liquidation_ltv: args.liquidation_ltv,
        horizon_ms: u64::try_from(args.horizon.as_millis()).unwrap_or(u64::MAX),
        steps: args.steps,
        paths: args.paths,
        seed: args.seed,
        ..StudyConfig::default()
    };
    let result = run_study(&config).context("the study")?;
    let source = format!(
        "{} ({} {market} candles, {} returns)",
        args.data.display(),
        tape.len(),
        returns.len()
    );
    if let Some(path) = &args.html {
        write_atomically(
            path,
            stratbox_report::study_html(&result, &source)?.as_bytes(),
        )?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
        return Ok(());
    }
    use stratbox_report::{model_text, probability_text};
    println!("{:<22}{source}", "fitted to");
    println!("{:<22}{}", "model", model_text(&config.model));
    println!("{:<22}{}", "simulated model", model_text(&result.model));
    println!(
        "{:<22}initial LTV {:.1}%, horizon {}, {} steps, {} paths, seed {}",
        "position",
        args.ltv * 100.0,
        humantime::format_duration(args.horizon),
        args.steps,
        args.paths,
        args.seed
    );
    println!(
        "{:<22}{}",
        "shortfall at end",
        probability_text(&result.shortfall_at_end)
    );
    println!(
        "{:<22}{}",
        "shortfall any step",
        probability_text(&result.shortfall_any_time)
    );
    if let (Some(end), Some(any)) = (&result.liquidation_at_end, &result.liquidation_any_time) {
        println!("{:<22}{}", "liquidation at end", probability_text(end));
        println!("{:<22}{}", "liquidation any step", probability_text(any));
    }
    println!(
        "{:<22}{:.3}% of initial collateral",
        "expected shortfall",
        result.expected_shortfall * 100.0
    );
    if let Some(path) = &args.html {
        println!("{:<22}{}", "html", path.display());
    }
    Ok(())
}
