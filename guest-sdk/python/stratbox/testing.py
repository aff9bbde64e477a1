"""Run strategies natively, without a sandbox: a :class:`StubHost` that
serves reads from dictionaries, judges actions with a function and records
everything, plus :class:`NativeRunner` that drives a strategy the way the
runtime does (init, outcomes, tick, snapshot)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .context import Context
from .errors import OracleUnavailable, OracleUnknown
from .strategy import Strategy
from .types import (
    Action,
    ActionOutcome,
    AssetAmount,
    BlockInfo,
    Candle,
    DeploymentInfo,
    LendingState,
    Level,
    PoolState,
    Position,
    TickContext,
    VaultState,
)
from .verdict import Accepted, Verdict


@dataclass
class StubHost:
    """An in-memory host. Unknown keys answer :class:`~stratbox.OracleUnknown`;
    ``policy`` (default: accept everything) judges each action."""

    deployment_info: DeploymentInfo = field(default_factory=lambda: DeploymentInfo("native", "native"))
    current_block: BlockInfo = field(default_factory=lambda: BlockInfo(0, 0, 0))
    prices: dict[tuple[str, str], float] = field(default_factory=dict)
    candle_history: dict[str, list[Candle]] = field(default_factory=dict)
    asset_balances: dict[str, int] = field(default_factory=dict)
    open_positions: list[Position] = field(default_factory=list)
    pools: dict[str, PoolState] = field(default_factory=dict)
    lending_markets: dict[str, LendingState] = field(default_factory=dict)
    vaults: dict[str, VaultState] = field(default_factory=dict)
    policy: Optional[Callable[[Action], Optional[Verdict]]] = None
    emitted: list[tuple[Action, Verdict]] = field(default_factory=list)
    logs: list[tuple[Level, str]] = field(default_factory=list)
    series_points: list[tuple[str, float]] = field(default_factory=list)
    next_action_id: int = 1

    def deployment(self) -> DeploymentInfo:
        return self.deployment_info

    def block(self) -> BlockInfo:
        return self.current_block

    def price(self, base: str, quote: str) -> float:
        return _lookup(self.prices, (base, quote), f"{base}/{quote}")

    def candles(self, market: str, count: int) -> list[Candle]:
        history = _lookup(self.candle_history, market, market)
        if len(history) < count:
            raise OracleUnavailable(f"{market}: {len(history)} candles, {count} asked")
        return history[len(history) - count :]

    def balance(self, asset: str) -> int:
        return self.asset_balances.get(asset, 0)

    def balances(self) -> list[AssetAmount]:
        return [AssetAmount(a, v) for a, v in self.asset_balances.items() if v]

    def positions(self) -> list[Position]:
        return list(self.open_positions)

    def pool(self, pool: str) -> PoolState:
        return _lookup(self.pools, pool, pool)

    def lending_market(self, market: str) -> LendingState:
        return _lookup(self.lending_markets, market, market)

    def vault(self, vault: str) -> VaultState:
        return _lookup(self.vaults, vault, vault)

    def emit(self, action: Action) -> Verdict:
        verdict = self.policy(action) if self.policy is not None else None
        if verdict is None:
            verdict = Accepted(self.next_action_id)
            self.next_action_id += 1
        self.emitted.append((action, verdict))
        return verdict

    def log(self, level: Level, message: str) -> None:
        self.logs.append((level, message))

    def series(self, name: str, value: float) -> None:
        self.series_points.append((name, value))


def _lookup(table: dict[Any, Any], key: Any, subject: str) -> Any:
    try:
        return table[key]
    except KeyError:
        raise OracleUnknown(subject) from None


class NativeRunner:
    """Drives a strategy like the runtime does: ``init`` with the config,
    then per tick the outcomes and ``on_tick``, then a snapshot."""

    def __init__(self, strategy: Strategy, host: StubHost, config: Any = None) -> None:
        self.strategy = strategy
        self.host = host
        self.ctx = Context(host)
        self.sequence = 0
        strategy.init({} if config is None else config, self.ctx)
        self.last_snapshot = strategy.snapshot()

    def tick(self, tick: TickContext, outcomes: Optional[list[tuple[int, ActionOutcome]]] = None) -> bytes:
        """Run one tick and return the snapshot taken after it."""
        self.host.current_block = tick.block
        for action_id, outcome in outcomes or []:
            self.strategy.on_action_result(self.ctx, action_id, outcome)
        self.strategy.on_tick(self.ctx, tick)
        self.sequence = tick.sequence + 1
        self.last_snapshot = self.strategy.snapshot()
        return self.last_snapshot
