//! RSI momentum: buy when Wilder's RSI falls below `oversold`, sell the whole
//! position when it rises above `overbought`, waiting `cooldown_ms` between
//! attempts. Positions move only on fills reported by the venue.
//!
//! Config (JSON, every field optional):
//!
//! ```json
//! { "market": "ETH/BTC", "base": "ETH", "quote": "BTC", "quote_decimals": 8,
//!   "period": 14, "oversold": 30, "overbought": 70,
//!   "order_size": "0.1", "cooldown_ms": 3600000, "max_slippage_bps": 50 }
//! ```

use serde::{Deserialize, Serialize};
use stratbox_sdk::prelude::*;

/// Configuration of [`RsiMomentum`].
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
    /// RSI period.
    pub period: usize,
    /// Buy below this RSI.
    pub oversold: f64,
    /// Sell above this RSI.
    pub overbought: f64,
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
            period: 14,
            oversold: 30.0,
            overbought: 70.0,
            order_size: "0.1".into(),
            cooldown_ms: 3_600_000,
            max_slippage_bps: 50,
        }
    }
}

/// The strategy's whole state; the default snapshot is this, as JSON.
#[derive(Debug, Serialize, Deserialize)]
pub struct RsiMomentum {
    config: Config,
    order_size: Amount,
    rsi: Rsi,
    position: LongOnly,
}

impl Strategy for RsiMomentum {
    fn init(config: &str, _ctx: &mut Context<'_>) -> Result<Self, Error> {
        let config: Config = parse_config(config)?;
        if config.period == 0 {
            return Err("period must be at least 1".into());
        }
        if !(0.0..=100.0).contains(&config.oversold)
            || !(0.0..=100.0).contains(&config.overbought)
            || config.oversold >= config.overbought
        {
            return Err("need 0 <= oversold < overbought <= 100".into());
        }
        let order_size = TokenAmount::parse(&config.order_size, config.quote_decimals)?;
        if order_size.is_zero() {
            return Err("order_size must be positive".into());
        }
        Ok(RsiMomentum {
            rsi: Rsi::new(config.period),
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
            let Some(rsi) = self.rsi.update(market_candle.candle.close) else {
                continue;
            };
            let attempt = if rsi < self.config.oversold {
                self.position.enter(ctx, now, self.order_size)
            } else if rsi > self.config.overbought {
                self.position.exit(ctx, now)
            } else {
                Attempt::Skipped
            };
            match attempt {
                Attempt::Skipped => {}
                Attempt::Accepted(id) => ctx.info(&format!(
                    "rsi={rsi:.2} -> action {id} ({:?})",
                    self.position.stage()
                )),
                Attempt::Rejected(rejection) => ctx.warn(&format!(
                    "rsi={rsi:.2} -> rejected: {}",
                    rejection_text(&rejection)
                )),
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

fn rejection_text(rejection: &Rejection) -> &str {
    match rejection {
        Rejection::Denied(d) | Rejection::Invalid(d) => &d.detail,
    }
}

stratbox_sdk::export_strategy!(RsiMomentum);
