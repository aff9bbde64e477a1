"""Bollinger-band mean reversion.

Buys when a candle closes below the lower band (the price stretched far
below its recent mean) and sells the whole position when the price has
reverted to the middle band, waiting ``cooldown_ms`` between attempts. The
position moves only on fills reported by the venue.

Config (JSON, every field optional)::

    {"market": "ETH/BTC", "base": "ETH", "quote": "BTC", "quote_decimals": 8,
     "period": 20, "k": 2.0, "order_size": "0.1", "cooldown_ms": 3600000,
     "max_slippage_bps": 50}
"""

from __future__ import annotations

from typing import Any

import stratbox
from stratbox import Context, Fill, StateMachine, TickContext, TokenAmount
from stratbox.indicators import Bollinger

DEFAULTS: dict[str, Any] = {
    "market": "ETH/BTC",
    "base": "ETH",
    "quote": "BTC",
    "quote_decimals": 8,
    "period": 20,
    "k": 2.0,
    "order_size": "0.1",
    "cooldown_ms": 3_600_000,
    "max_slippage_bps": 50,
}

# flat -> entering -> long -> exiting -> flat; a failed fill goes back.
TRANSITIONS = [
    ("flat", "entering"),
    ("entering", "long"),
    ("entering", "flat"),
    ("long", "exiting"),
    ("exiting", "flat"),
    ("exiting", "long"),
]


class BollingerReversion(stratbox.Strategy):
    """Long-only mean reversion on Bollinger bands."""

    def init(self, config: dict[str, Any], ctx: Context) -> None:
        unknown = sorted(set(config) - set(DEFAULTS))
        if unknown:
            raise ValueError(f"unknown config fields: {', '.join(unknown)}")
        self.config = {**DEFAULTS, **config}
        order_size = TokenAmount.parse(self.config["order_size"], self.config["quote_decimals"])
        if order_size.is_zero():
            raise ValueError("order_size must be positive")
        self.order_units = order_size.units
        self.state = {
            "bands": Bollinger(self.config["period"], self.config["k"]),
            "stage": StateMachine("flat", TRANSITIONS),
            "held": 0,
            "pending": None,
            "last_attempt_ms": None,
        }

    def on_tick(self, ctx: Context, tick: TickContext) -> None:
        now = tick.block.timestamp_ms
        state = self.state
        for market_candle in tick.candles:
            if market_candle.market != self.config["market"]:
                continue
            close = market_candle.candle.close
            bands = state["bands"].update(close)
            if bands is None:
                continue
            # Plotted over the price by reports.
            ctx.series("overlay:upper band", bands.upper)
            ctx.series("overlay:middle band", bands.middle)
            ctx.series("overlay:lower band", bands.lower)
            if not self._cooled_down(now):
                continue
            stage = state["stage"]
            if stage.is_in("flat") and close < bands.lower:
                self._attempt(ctx, now, self.config["quote"], self.config["base"], self.order_units, "entering")
                ctx.info(f"close {close:.6f} < lower {bands.lower:.6f}: buy")
            elif stage.is_in("long") and close >= bands.middle and state["held"] > 0:
                self._attempt(ctx, now, self.config["base"], self.config["quote"], state["held"], "exiting")
                ctx.info(f"close {close:.6f} >= middle {bands.middle:.6f}: sell")

    def on_action_result(self, ctx: Context, id: int, outcome: stratbox.ActionOutcome) -> None:
        state = self.state
        if state["pending"] != id:
            return
        state["pending"] = None
        now = ctx.block().timestamp_ms
        stage = state["stage"]
        base = self.config["base"]
        if isinstance(outcome, Fill):
            if stage.is_in("entering"):
                state["held"] += outcome.received_of(base)
                stage.transition("long", now)
            elif stage.is_in("exiting"):
                state["held"] = max(0, state["held"] - outcome.spent_of(base))
                stage.transition("flat" if state["held"] == 0 else "long", now)
        else:
            ctx.warn(f"action {id} failed: {outcome.code} {outcome.reason}")
            stage.transition("flat" if stage.is_in("entering") else "long", now)

    def _cooled_down(self, now: int) -> bool:
        last = self.state["last_attempt_ms"]
        return last is None or now - last >= self.config["cooldown_ms"]

    def _attempt(self, ctx: Context, now: int, sell: str, buy: str, units: int, next_stage: str) -> None:
        self.state["last_attempt_ms"] = now
        verdict = ctx.swap_exact_in(sell, buy, units, self.config["max_slippage_bps"])
        if verdict:
            self.state["pending"] = verdict.id
            self.state["stage"].transition(next_stage, now)
        else:
            ctx.warn(f"{sell}->{buy} rejected: {verdict.code} ({verdict.detail})")
