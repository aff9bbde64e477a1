//! `stratbox report`: render a saved backtest report again.

use std::path::PathBuf;

use clap::Args;

use crate::backtest::read_report;
use crate::output::write_atomically;

/// Options of `stratbox report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A report written by `stratbox backtest --json-out`.
    pub report: PathBuf,
    /// Write the self-contained HTML report to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Print the report as JSON instead of the summary table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &ReportArgs) -> anyhow::Result<()> {
    let report = read_report(&args.report)?;
    if let Some(path) = &args.html {
        write_atomically(path, stratbox_report::html(&report)?.as_bytes())?;
    }
    if args.json {
        println!("{}", report.to_json(true));
    } else {
        print!("{}", stratbox_report::summary(&report));
        if let Some(path) = &args.html {
            println!("{:<14}{}", "html", path.display());
        }
    }
    Ok(())
}
