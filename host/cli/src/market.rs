//! The market options `backtest` and `sweep` share: tapes (CSV or
//! synthetic) and the simulated venues they drive.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use stratbox_backtest::sim::{AssetConfig, PoolConfig, PoolKind, SimConfig, SimMarket};
use stratbox_runtime::policy::AssetCatalog;
use stratbox_tape::Tape;
use stratbox_tape::synthetic::{SyntheticConfig, generate};

/// Where the candles come from and what they trade against.
#[derive(Debug, Clone, Args)]
pub struct MarketArgs {
    /// Candles, CSV (timestamp_ms,open,high,low,close,volume). Repeat for
    /// more markets; the first one drives the ticks.
    #[arg(long, default_value = "data/ETH_BTC-5m.csv")]
    pub data: Vec<PathBuf>,
    /// Market name of each `--data` file, in order (default: from the file
    /// name, `ETH_BTC-5m.csv` is `ETH/BTC`).
    #[arg(long)]
    pub market: Vec<String>,
    /// Take the driving market's candles from a run recorded in this
    /// journal instead of `--data` (the market is the first `--market`, or
    /// `ETH/BTC`).
    #[arg(long, value_name = "JOURNAL", conflicts_with = "synthetic")]
    pub from_journal: Option<PathBuf>,
    /// The recorded run (id, or deployment id for its latest run).
    #[arg(long, default_value = "1", requires = "from_journal")]
    pub run: String,
    /// Use a synthetic tape (geometric Brownian motion with jumps) of this
    /// many candles instead of `--data`.
    #[arg(long, value_name = "CANDLES")]
    pub synthetic: Option<usize>,
    /// Seed of the synthetic tape: same seed, same candles.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Synthetic stress scenario: 100x the jump frequency, every jump -20%.
    #[arg(long, requires = "synthetic")]
    pub stress: bool,
    /// Use only the first N candles.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Simulated venues (TOML: assets, balances, pools, lending markets,
    /// vaults, gas). Default: one Uniswap v2 pool (0.30% fee) for the
    /// driving market, 1,000 quote tokens deep, and 1 quote token to trade.
    #[arg(long)]
    pub venues: Option<PathBuf>,
}

/// Tapes and venues, ready to build a [`SimMarket`] per run.
#[derive(Debug, Clone)]
pub struct MarketSetup {
    /// The venues.
    pub config: SimConfig,
    /// The tapes; the first drives the ticks.
    pub tapes: Vec<Tape>,
    /// Where the candles came from, for messages.
    pub source: String,
}

impl MarketSetup {
    /// Read the tapes and the venue file.
    pub fn load(args: &MarketArgs) -> anyhow::Result<MarketSetup> {
        let (mut tapes, source) = match (&args.from_journal, args.synthetic) {
            (Some(path), _) => {
                let market = args.market.first().map_or("ETH/BTC", String::as_str);
                let journal = crate::journal::open_existing(path)?;
                let run = journal.find_run(&args.run)?;
                let candles = journal
                    .market_candles(run, market)?
                    .iter()
                    .map(stratbox_backtest::tape_candle)
                    .collect();
                let tape = Tape::new(market, candles).with_context(|| {
                    format!("the {market} candles of run {run} in {}", path.display())
                })?;
                (
                    vec![tape],
                    format!("{market} of run {run} in {}", path.display()),
                )
            }
            (None, Some(candles)) => {
                let market = args.market.first().map_or("SYN/USD", String::as_str);
                let mut config = SyntheticConfig::new(market, candles, args.seed);
                if args.stress {
                    config = config.stressed();
                }
                let tape = generate(&config).context("generating the synthetic tape")?;
                let source = format!(
                    "synthetic {market}, seed {}{}",
                    args.seed,
                    if args.stress { ", stressed" } else { "" }
                );
                (vec![tape], source)
            }
            (None, None) => {
                let mut tapes = Vec::new();
                for (index, path) in args.data.iter().enumerate() {
                    let market = match args.market.get(index) {
                        Some(market) => market.clone(),
                        None => market_of(path)?,
                    };
                    tapes.push(stratbox_tape::load_csv(path, &market)?);
                }
                let source = args
                    .data
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                (tapes, source)
            }
        };
        if let Some(limit) = args.limit {
            tapes[0] = tapes[0].take(limit);
        }
        let config = match &args.venues {
            Some(path) => load_venues(path)?,
            None => default_venues(tapes[0].market())?,
        };
        // Fail here, with the file named, rather than in every run.
        SimMarket::new(config.clone(), tapes.clone())
            .with_context(|| format!("setting up the simulated market ({source})"))?;
        Ok(MarketSetup {
            config,
            tapes,
            source,
        })
    }

    /// A fresh market for one run.
    pub fn market(&self) -> anyhow::Result<SimMarket> {
        Ok(SimMarket::new(self.config.clone(), self.tapes.clone())?)
    }

    /// The assets a policy file may name.
    pub fn assets(&self) -> AssetCatalog {
        self.config
            .assets
            .iter()
            .fold(AssetCatalog::new(), |catalog, (symbol, asset)| {
                catalog.with(symbol.clone(), asset.decimals)
            })
    }
}

/// `ETH_BTC-5m.csv` is market `ETH/BTC`.
pub(crate) fn market_of(path: &Path) -> anyhow::Result<String> {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let pair = stem.split('-').next().unwrap_or_default();
    match pair.split_once('_') {
        Some((base, quote)) if !base.is_empty() && !quote.is_empty() => {
            Ok(format!("{base}/{quote}"))
        }
        _ => anyhow::bail!(
            "cannot tell the market of {} from its name; pass --market BASE/QUOTE",
            path.display()
        ),
    }
}

fn load_venues(path: &Path) -> anyhow::Result<SimConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{} is not a valid venue file", path.display()))
}

/// Decimals of well-known tokens; 18 otherwise.
fn default_decimals(symbol: &str) -> u8 {
    match symbol {
        "BTC" | "WBTC" => 8,
        "USDC" | "USDT" => 6,
        _ => 18,
    }
}

/// One constant-product pool for the driving market, deep enough that a
/// 1-token account moves its price little.
fn default_venues(market: &str) -> anyhow::Result<SimConfig> {
    let Some((base, quote)) = market.split_once('/') else {
        anyhow::bail!("market `{market}` is not BASE/QUOTE; pass --venues");
    };
    let asset = |symbol: &str| {
        (
            symbol.to_owned(),
            AssetConfig {
                decimals: default_decimals(symbol),
            },
        )
    };
    Ok(SimConfig {
        chain_id: 0,
        quote: quote.to_owned(),
        native: None,
        assets: BTreeMap::from([asset(base), asset(quote)]),
        balances: BTreeMap::from([(quote.to_owned(), "1".to_owned())]),
        pools: BTreeMap::from([(
            format!("{base}/{quote}-v2-0.3"),
            PoolConfig {
                kind: PoolKind::ConstantProduct,
                token0: base.to_owned(),
                token1: quote.to_owned(),
                fee_pips: 3_000,
                market: market.to_owned(),
                depth: 1_000.0,
                range: 0.5,
            },
        )]),
        lending: BTreeMap::new(),
        vaults: BTreeMap::new(),
        gas: stratbox_venues::gas::GasModel::free(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn market_names_come_from_file_names() {
        assert_eq!(
            market_of(Path::new("data/ETH_BTC-5m.csv")).unwrap(),
            "ETH/BTC"
        );
        assert!(market_of(Path::new("candles.csv")).is_err());
    }
}
