//! EMA crossover: go long when the fast EMA crosses above the slow EMA, exit
//! when it crosses back below.
//!
//! Config (JSON, every field optional):
//!
//! ```json
//! { "market": "ETH/BTC", "base": "ETH", "quote": "BTC", "quote_decimals": 8,
//!   "fast": 12, "slow": 26, "order_size": "0.1", "cooldown_ms": 0,
//!   "max_slippage_bps": 50 }
//! ```

use serde::{Deserialize, Serialize};
use stratbox_sdk::prelude::*;

/// Configuration of [`EmaCrossover`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Market whose candles drive the strategy.
    pub market: String,
    /// Asset bought.
    pub base: String,
    /// Asset spent.
    pub quote: String,
    /// Decimals of the quote asset (for `order_size`).
    pub quote_decimals: u8,
    /// Fast EMA period.
    pub fast: usize,
    /// Slow EMA period.
    pub slow: usize,
    /// Quote amount spent per entry, as a decimal string.
    pub order_size: String,
    /// Minimum time between two attempts.
    pub cooldown_ms: u64,
    /// Slippage tolerance of each swap.
    pub max_slippage_bps: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            market: "ETH/BTC".into(),
            base: "ETH".into(),
            quote: "BTC".into(),
            quote_decimals: 8,
            fast: 12,
            slow: 26,
            order_size: "0.1".into(),
            cooldown_ms: 0,
            max_slippage_bps: 50,
        }
    }
}

/// Which EMA was on top at the last candle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Trend {
    Up,
    Down,
}

/// The strategy's whole state.
#[derive(Debug, Serialize, Deserialize)]
pub struct EmaCrossover {
    config: Config,
    order_size: Amount,
    fast: Ema,
    slow: Ema,
    trend: Option<Trend>,
    position: LongOnly,
}

impl Strategy for EmaCrossover {
    fn init(config: &str, _ctx: &mut Context<'_>) -> Result<Self, Error> {
        let config: Config = parse_config(config)?;
        if config.fast == 0 || config.fast >= config.slow {
            return Err("need 1 <= fast < slow".into());
        }
        let order_size = TokenAmount::parse(&config.order_size, config.quote_decimals)?;
        if order_size.is_zero() {
            return Err("order_size must be positive".into());
        }
        Ok(EmaCrossover {
            fast: Ema::new(config.fast),
            slow: Ema::new(config.slow),
            trend: None,
            position: LongOnly::new(
                &config.base,
                &config.quote,
                config.cooldown_ms,
                config.max_slippage_bps,
            ),
            order_size: order_size.into(),
            config,
        })
    }

    fn on_tick(&mut self, ctx: &mut Context<'_>, tick: &TickContext) -> Result<(), Error> {
        let now = tick.block.timestamp_ms;
        for market_candle in &tick.candles {
            if market_candle.market != self.config.market {
                continue;
            }
            let close = market_candle.candle.close;
            let (Some(fast), Some(slow)) = (self.fast.update(close), self.slow.update(close))
            else {
                continue;
            };
            // Plotted over the price by reports.
            ctx.series(SERIES_FAST, fast);
            ctx.series(SERIES_SLOW, slow);
            let trend = if fast > slow { Trend::Up } else { Trend::Down };
            let crossed = self.trend.is_some_and(|previous| previous != trend);
            self.trend = Some(trend);
            if !crossed {
                continue;
            }
            let attempt = match trend {
                Trend::Up => self.position.enter(ctx, now, self.order_size),
                Trend::Down => self.position.exit(ctx, now),
            };
            if let Attempt::Rejected(Rejection::Denied(d) | Rejection::Invalid(d)) = attempt {
                ctx.warn(&format!("crossover {trend:?} rejected: {}", d.detail));
            }
        }
        Ok(())
    }

    fn on_action_result(
        &mut self,
        ctx: &mut Context<'_>,
        id: ActionId,
        outcome: &ActionOutcome,
    ) -> Result<(), Error> {
        let now = ctx.block().timestamp_ms;
        self.position.on_result(id, outcome, now);
        Ok(())
    }
}

/// Series names (`ctx.series`) of the two averages.
const SERIES_FAST: &str = "overlay:ema fast";
const SERIES_SLOW: &str = "overlay:ema slow";

stratbox_sdk::export_strategy!(EmaCrossover);
