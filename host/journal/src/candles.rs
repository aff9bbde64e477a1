//! A recorded run's candles, so that a backtest can run over exactly the
//! market a journaled (paper or live) run saw.

use rusqlite::params;
use stratbox_runtime::TickInput;
use stratbox_runtime::types::Candle;

use crate::error::{JournalError, json};
use crate::journal::Journal;
use crate::model::RunId;

impl Journal {
    /// The candles of `market` the run's ticks received, in tick order,
    /// each once (a candle redelivered after a failed tick counts once).
    pub fn market_candles(&self, run: RunId, market: &str) -> Result<Vec<Candle>, JournalError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT context FROM ticks
             WHERE deployment = ?1 AND call = 'tick' AND context IS NOT NULL
             ORDER BY sequence",
        )?;
        let contexts = statement.query_map(params![run.0], |row| row.get::<_, String>(0))?;
        let mut candles: Vec<Candle> = Vec::new();
        for context in contexts {
            let input: TickInput = serde_json::from_str(&context?).map_err(json("tick context"))?;
            for candle in input.candles.into_iter().filter(|c| c.market == market) {
                let newer = candles
                    .last()
                    .is_none_or(|last| candle.candle.timestamp_ms > last.timestamp_ms);
                if newer {
                    candles.push(candle.candle);
                }
            }
        }
        Ok(candles)
    }
}
