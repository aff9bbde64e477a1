"""Stable-yield rotator.

Keeps one stable asset in whichever lending market or vault pays the most,
but moves only when the extra yield over a horizon pays for the move: the
rate gain on the deployed amount over ``horizon_days`` must exceed the
estimated cost of moving (a fixed cost plus a proportional one), and
``cooldown_ms`` must have passed since the last move.

A move is two actions: leave the current venue (``withdraw`` or
``vault_request_redeem``), then, once the venue reports the funds back,
enter the new one (``supply`` or ``vault_deposit``). Idle funds are deployed
to the best venue without the cost test.

Config (JSON)::

    {"asset": "USDC", "decimals": 6,
     "venues": [{"kind": "lending", "id": "aave-usdc"},
                {"kind": "vault", "id": "morpho-usdc"}],
     "horizon_days": 30, "move_cost": "5", "move_cost_bps": 5,
     "cooldown_ms": 86400000}
"""

from __future__ import annotations

import logging
from typing import Any, Optional

import stratbox
from stratbox import Context, Fill, OracleError, TickContext, TokenAmount

log = logging.getLogger("rotator")

DEFAULTS: dict[str, Any] = {
    "asset": "USDC",
    "decimals": 6,
    "venues": [],
    "horizon_days": 30,
    "move_cost": "5",
    "move_cost_bps": 5,
    "cooldown_ms": 86_400_000,
}

YEAR_DAYS = 365.0


class YieldRotator(stratbox.Strategy):
    """Moves a stable asset to the best-paying venue when the move pays."""

    def init(self, config: dict[str, Any], ctx: Context) -> None:
        unknown = sorted(set(config) - set(DEFAULTS))
        if unknown:
            raise ValueError(f"unknown config fields: {', '.join(unknown)}")
        self.config = {**DEFAULTS, **config}
        venues = self.config["venues"]
        if not venues:
            raise ValueError("config.venues must list at least one lending market or vault")
        for venue in venues:
            if venue.get("kind") not in ("lending", "vault") or not venue.get("id"):
                raise ValueError(f"bad venue {venue!r}: need kind 'lending' or 'vault' and an id")
        self.move_cost = TokenAmount.parse(self.config["move_cost"], self.config["decimals"]).units
        self.state = {
            "current": None,  # venue id holding the funds
            "deployed": 0,  # base units in `current`
            "target": None,  # venue to enter once the funds are back
            "pending": None,  # action id awaiting its outcome
            "last_move_ms": None,
        }

    # Rates ----------------------------------------------------------------

    def _rates(self, ctx: Context) -> dict[str, float]:
        rates: dict[str, float] = {}
        for venue in self.config["venues"]:
            try:
                if venue["kind"] == "lending":
                    rates[venue["id"]] = ctx.lending_market(venue["id"]).supply_rate
                else:
                    apy = ctx.vault(venue["id"]).apy
                    if apy is not None:
                        rates[venue["id"]] = apy
            except OracleError as error:
                log.warning("no rate for %s: %s", venue["id"], error)
        return rates

    def _kind(self, venue_id: str) -> str:
        for venue in self.config["venues"]:
            if venue["id"] == venue_id:
                return venue["kind"]
        raise KeyError(venue_id)

    # Decisions -------------------------------------------------------------

    def on_tick(self, ctx: Context, tick: TickContext) -> None:
        state = self.state
        if state["pending"] is not None:
            return
        rates = self._rates(ctx)
        if not rates:
            return
        # Highest rate; the first listed venue wins a tie.
        best = max(rates, key=lambda venue_id: rates[venue_id])
        now = tick.block.timestamp_ms
        current: Optional[str] = state["current"]
        if current is None:
            self._deploy_idle(ctx, state["target"] or best, now)
            return
        if best == current or current not in rates:
            return
        if not self._cooled_down(now):
            return
        amount = state["deployed"]
        gain = amount * (rates[best] - rates[current]) * self.config["horizon_days"] / YEAR_DAYS
        cost = self.move_cost + amount * self.config["move_cost_bps"] // 10_000
        if gain <= cost:
            log.info("stay in %s: moving to %s gains %.0f <= cost %d", current, best, gain, cost)
            return
        log.info("rotate %s -> %s: gain %.0f > cost %d", current, best, gain, cost)
        asset = self.config["asset"]
        if self._kind(current) == "lending":
            verdict = ctx.withdraw(current, asset, amount)
        else:
            verdict = ctx.vault_request_redeem(current, ctx.vault(current).shares)
        if verdict:
            state["pending"] = verdict.id
            state["target"] = best
            state["last_move_ms"] = now
        else:
            log.warning("leaving %s was refused: %s", current, verdict.detail)

    def _deploy_idle(self, ctx: Context, venue_id: str, now: int) -> None:
        asset = self.config["asset"]
        idle = ctx.balance(asset)
        if idle == 0:
            return
        if self._kind(venue_id) == "lending":
            verdict = ctx.supply(venue_id, asset, idle)
        else:
            verdict = ctx.vault_deposit(venue_id, idle)
        if verdict:
            self.state["pending"] = verdict.id
            self.state["target"] = venue_id
            log.info("deploy %s %s into %s", TokenAmount(idle, self.config["decimals"]), asset, venue_id)
        else:
            log.warning("deploying into %s was refused: %s", venue_id, verdict.detail)

    def _cooled_down(self, now: int) -> bool:
        last = self.state["last_move_ms"]
        return last is None or now - last >= self.config["cooldown_ms"]

    # Outcomes --------------------------------------------------------------

    def on_action_result(self, ctx: Context, id: int, outcome: stratbox.ActionOutcome) -> None:
        state = self.state
        if state["pending"] != id:
            return
        state["pending"] = None
        asset = self.config["asset"]
        if not isinstance(outcome, Fill):
            log.warning("action %d failed: %s %s", id, outcome.code, outcome.reason)
            if state["current"] is None:
                state["target"] = None
            return
        if state["current"] is None:
            # Entered the target venue.
            state["current"] = state["target"]
            state["deployed"] = outcome.spent_of(asset)
            state["target"] = None
        else:
            # Left the current venue; the funds are idle until next tick.
            state["current"] = None
            state["deployed"] = 0
