"""The host interface as seen by strategy code.

Inside a component the host is the stratbox world's imports (see
``stratbox._wasm``); natively (unit tests of strategy logic, benchmarks) any
object with these methods stands in, e.g. :class:`stratbox.testing.StubHost`,
so the same strategy code runs in both.
"""

from __future__ import annotations

from typing import Protocol

from .types import (
    Action,
    AssetAmount,
    BlockInfo,
    Candle,
    DeploymentInfo,
    LendingState,
    Level,
    PoolState,
    Position,
    VaultState,
)
from .verdict import Verdict


class Host(Protocol):
    """Oracle reads, action emission and logging. Reads raise
    :class:`~stratbox.OracleUnknown` or :class:`~stratbox.OracleUnavailable`
    when they cannot be answered."""

    def deployment(self) -> DeploymentInfo:
        """See ``oracle.deployment``."""
        ...

    def block(self) -> BlockInfo:
        """See ``oracle.block``."""
        ...

    def price(self, base: str, quote: str) -> float:
        """See ``oracle.price``."""
        ...

    def candles(self, market: str, count: int) -> list[Candle]:
        """See ``oracle.candles``."""
        ...

    def balance(self, asset: str) -> int:
        """See ``oracle.balance``."""
        ...

    def balances(self) -> list[AssetAmount]:
        """See ``oracle.balances``."""
        ...

    def positions(self) -> list[Position]:
        """See ``oracle.positions``."""
        ...

    def pool(self, pool: str) -> PoolState:
        """See ``oracle.pool``."""
        ...

    def lending_market(self, market: str) -> LendingState:
        """See ``oracle.lending-market``."""
        ...

    def vault(self, vault: str) -> VaultState:
        """See ``oracle.vault``."""
        ...

    def emit(self, action: Action) -> Verdict:
        """See ``actions.emit``."""
        ...

    def log(self, level: Level, message: str) -> None:
        """See ``logging.log``."""
        ...

    def series(self, name: str, value: float) -> None:
        """See ``logging.series``."""
        ...
