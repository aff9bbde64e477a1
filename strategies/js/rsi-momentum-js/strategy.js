// RSI momentum in JavaScript: buy when Wilder's RSI falls below `oversold`,
// sell the whole position when it rises above `overbought`, waiting
// `cooldown_ms` between attempts. Positions move only on fills reported by
// the venue. The same strategy as strategies/rust/rsi-momentum, with the
// same config and defaults, so both trade alike over the same candles.
//
// Built by `stratbox build` with componentize-js (all WASI features
// disabled): the component imports only the stratbox world.

import { emit } from 'stratbox:strategy/actions@0.2.1';
import { log, series } from 'stratbox:strategy/logging@0.2.1';
import { intern, name, tickCandles } from 'stratbox:strategy/oracle@0.2.1';

const DEFAULTS = {
  market: 'ETH/BTC',
  base: 'ETH',
  quote: 'BTC',
  quote_decimals: 8,
  period: 14,
  oversold: 30,
  overbought: 70,
  order_size: '0.1',
  cooldown_ms: 3600000,
  max_slippage_bps: 50,
};

const U64 = (1n << 64n) - 1n;

/** Token units (BigInt) to the WIT amount record. */
function amount(units) {
  return { hi: units >> 64n, lo: units & U64 };
}

/** The WIT amount record to token units. */
function units(value) {
  return (BigInt(value.hi) << 64n) | BigInt(value.lo);
}

/** "0.1" with 8 decimals is 10000000n; refuses anything else. */
function parseUnits(text, decimals) {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match || (match[2] || '').length > decimals) {
    throw `order_size: "${text}" is not a decimal with at most ${decimals} places`;
  }
  return BigInt(match[1] + (match[2] || '').padEnd(decimals, '0'));
}

/** Wilder's RSI, computed exactly as the Rust and Python SDKs do. */
class Rsi {
  constructor(period, saved) {
    Object.assign(this, saved ?? {
      period, previousClose: null, changes: 0, avgGain: 0, avgLoss: 0,
    });
  }

  update(close) {
    const previous = this.previousClose;
    this.previousClose = close;
    if (previous === null) return null;
    const change = close - previous;
    const gain = Math.max(change, 0);
    const loss = Math.max(-change, 0);
    const n = this.period;
    if (this.changes < n) {
      this.avgGain += gain;
      this.avgLoss += loss;
      this.changes += 1;
      if (this.changes < n) return null;
      this.avgGain /= n;
      this.avgLoss /= n;
    } else {
      this.avgGain = (this.avgGain * (n - 1) + gain) / n;
      this.avgLoss = (this.avgLoss * (n - 1) + loss) / n;
    }
    if (this.avgLoss === 0) return this.avgGain === 0 ? 50 : 100;
    return 100 - 100 / (1 + this.avgGain / this.avgLoss);
  }
}

let config = null;
let orderSize = 0n;
let rsi = null;
let rsiSeries = null;
// flat -> entering -> long -> exiting -> flat; a failed fill goes back.
let position = { stage: 'flat', pending: null, held: 0n, lastAttemptMs: null };

function coolDown(nowMs) {
  return position.lastAttemptMs === null || nowMs - position.lastAttemptMs >= BigInt(config.cooldown_ms);
}

function attempt(nowMs, sell, buy, spend, next) {
  position.lastAttemptMs = nowMs;
  try {
    const id = emit({
      tag: 'swap',
      val: {
        sell,
        buy,
        amount: { tag: 'exact-in', val: amount(spend) },
        maxSlippageBps: config.max_slippage_bps,
        venue: undefined,
      },
    });
    position.pending = id;
    position.stage = next;
    return { accepted: id };
  } catch (error) {
    const rejection = error.payload ?? error;
    return { rejected: rejection.val ? rejection.val.detail : String(rejection) };
  }
}

// Market names by the id the host interned them under, each asked once.
const marketNames = new Map();

function marketName(id) {
  let known = marketNames.get(id);
  if (known === undefined) {
    known = name(id) ?? `#${id}`;
    marketNames.set(id, known);
  }
  return known;
}

/** The candles that closed since the previous tick: the first is inline. */
function closedCandles(ctx) {
  if (ctx.candle === undefined) return [];
  if (ctx.candleCount <= 1) return [ctx.candle];
  return tickCandles();
}

// Why the last onTick failed: its result carries no message, the host asks
// lastError for it.
let lastError = '';

function unitsOf(amounts, asset) {
  return amounts.filter((a) => a.asset === asset).reduce((sum, a) => sum + units(a.amount), 0n);
}

function tick(ctx) {
  const nowMs = ctx.block.timestampMs;
  for (const { market, candle } of closedCandles(ctx)) {
    if (marketName(market) !== config.market) continue;
    const value = rsi.update(candle.close);
    if (value === null) continue;
    // Plotted by reports in a pane of its own. The id is learned once per
    // instance (ids are never kept in a snapshot).
    rsiSeries ??= intern('rsi');
    series(rsiSeries, value);
    let result = null;
    if (value < config.oversold) {
      if (position.stage === 'flat' && coolDown(nowMs)) {
        result = attempt(nowMs, config.quote, config.base, orderSize, 'entering');
      }
    } else if (value > config.overbought) {
      if (position.stage === 'long' && coolDown(nowMs) && position.held > 0n) {
        result = attempt(nowMs, config.base, config.quote, position.held, 'exiting');
      }
    }
    if (result?.accepted !== undefined) {
      log('info', `rsi=${value.toFixed(2)} -> action ${result.accepted} (${position.stage})`);
    } else if (result?.rejected !== undefined) {
      log('warn', `rsi=${value.toFixed(2)} -> rejected: ${result.rejected}`);
    }
  }
}

export const strategy = {
  init(text) {
    const given = text.trim() === '' ? {} : JSON.parse(text);
    const unknown = Object.keys(given).filter((key) => !(key in DEFAULTS));
    if (unknown.length > 0) throw `unknown config fields: ${unknown.join(', ')}`;
    config = { ...DEFAULTS, ...given };
    if (!(config.period >= 1)) throw 'period must be at least 1';
    if (!(config.oversold >= 0 && config.overbought <= 100 && config.oversold < config.overbought)) {
      throw 'need 0 <= oversold < overbought <= 100';
    }
    orderSize = parseUnits(config.order_size, config.quote_decimals);
    if (orderSize === 0n) throw 'order_size must be positive';
    rsi = new Rsi(config.period);
  },

  onTick(ctx) {
    try {
      tick(ctx);
    } catch (error) {
      lastError = String(error?.payload ?? error);
      throw error;
    }
  },

  lastError() {
    const message = lastError;
    lastError = '';
    return message;
  },

  onActionResult(id, outcome) {
    if (position.pending !== id) return;
    position.pending = null;
    const fill = outcome.tag === 'filled' ? outcome.val : null;
    if (position.stage === 'entering') {
      if (fill) position.held += unitsOf(fill.received, config.base);
      position.stage = fill ? 'long' : 'flat';
    } else if (position.stage === 'exiting') {
      if (fill) {
        const sold = unitsOf(fill.spent, config.base);
        position.held = sold >= position.held ? 0n : position.held - sold;
        position.stage = position.held === 0n ? 'flat' : 'long';
      } else {
        position.stage = 'long';
      }
    }
  },

  snapshot() {
    const state = { rsi, position };
    const text = JSON.stringify(state, (_, v) => (typeof v === 'bigint' ? `${v}n` : v));
    return new TextEncoder().encode(text);
  },

  restore(bytes) {
    const state = JSON.parse(new TextDecoder().decode(bytes), (_, v) =>
      typeof v === 'string' && /^\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v,
    );
    rsi = new Rsi(config.period, state.rsi);
    position = state.position;
  },
};
