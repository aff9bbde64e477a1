"""A strategy's handle on the outside world during one callback."""

from __future__ import annotations

from typing import Any, Optional

from .amount import check_units
from .host import Host
from .types import (
    Action,
    AssetAmount,
    BlockInfo,
    Borrow,
    Candle,
    DeploymentInfo,
    ExactIn,
    ExactOut,
    Hold,
    LendingState,
    Level,
    LpClose,
    LpCollect,
    LpOpen,
    LpRange,
    PoolState,
    Position,
    Repay,
    Supply,
    Swap,
    VaultDeposit,
    VaultRequestRedeem,
    VaultState,
    Withdraw,
)
from .verdict import Verdict


class Context:
    """Oracle reads, action emission and logging.

    Reads return values or raise :class:`~stratbox.OracleUnknown` /
    :class:`~stratbox.OracleUnavailable`. Every action helper returns the
    policy's verdict as a value (:class:`~stratbox.Accepted` or
    :class:`~stratbox.Rejected`); a denial never raises unless you call
    ``.expect()`` on it. Amounts are ``int`` base units (or
    :class:`~stratbox.TokenAmount`); floats are refused.
    """

    __slots__ = ("_host",)

    def __init__(self, host: Host) -> None:
        self._host = host

    # Oracle -----------------------------------------------------------------

    def deployment(self) -> DeploymentInfo:
        """The deployment this strategy runs as."""
        return self._host.deployment()

    def block(self) -> BlockInfo:
        """The current block (or simulated step)."""
        return self._host.block()

    def price(self, base: str, quote: str) -> float:
        """Price of one ``base`` in ``quote``."""
        return self._host.price(base, quote)

    def candles(self, market: str, count: int) -> list[Candle]:
        """The ``count`` most recent closed candles of ``market``, oldest
        first."""
        return self._host.candles(market, count)

    def balance(self, asset: str) -> int:
        """Balance of ``asset`` in base units."""
        return self._host.balance(asset)

    def balances(self) -> list[AssetAmount]:
        """All non-zero balances."""
        return self._host.balances()

    def positions(self) -> list[Position]:
        """Open positions."""
        return self._host.positions()

    def pool(self, pool: str) -> PoolState:
        """State of an AMM pool."""
        return self._host.pool(pool)

    def lending_market(self, market: str) -> LendingState:
        """State of a lending market."""
        return self._host.lending_market(market)

    def vault(self, vault: str) -> VaultState:
        """State of a vault."""
        return self._host.vault(vault)

    # Actions ----------------------------------------------------------------

    def emit(self, action: Action) -> Verdict:
        """Emit any action; the verdict comes back immediately."""
        return self._host.emit(action)

    def swap_exact_in(
        self, sell: str, buy: str, amount: Any, max_slippage_bps: int, venue: Optional[str] = None
    ) -> Verdict:
        """Sell exactly ``amount`` base units of ``sell`` for ``buy``."""
        return self.emit(Swap(sell, buy, ExactIn(check_units(amount)), max_slippage_bps, venue))

    def swap_exact_out(
        self, sell: str, buy: str, amount: Any, max_slippage_bps: int, venue: Optional[str] = None
    ) -> Verdict:
        """Buy exactly ``amount`` base units of ``buy`` with ``sell``."""
        return self.emit(Swap(sell, buy, ExactOut(check_units(amount)), max_slippage_bps, venue))

    def lp_open(self, pool: str, range: LpRange, amount0: Any, amount1: Any) -> Verdict:
        """Open a concentrated-liquidity position (at most ``amount0`` and
        ``amount1`` deposited)."""
        return self.emit(LpOpen(pool, range, check_units(amount0, "amount0"), check_units(amount1, "amount1")))

    def lp_close(self, position: str) -> Verdict:
        """Close a liquidity position."""
        return self.emit(LpClose(position))

    def lp_collect(self, position: str) -> Verdict:
        """Collect the fees of a liquidity position."""
        return self.emit(LpCollect(position))

    def supply(self, market: str, asset: str, amount: Any) -> Verdict:
        """Supply ``amount`` of ``asset`` to a lending market."""
        return self.emit(Supply(market, asset, check_units(amount)))

    def withdraw(self, market: str, asset: str, amount: Any) -> Verdict:
        """Withdraw supplied ``asset`` from a lending market."""
        return self.emit(Withdraw(market, asset, check_units(amount)))

    def borrow(self, market: str, asset: str, amount: Any) -> Verdict:
        """Borrow ``asset`` from a lending market."""
        return self.emit(Borrow(market, asset, check_units(amount)))

    def repay(self, market: str, asset: str, amount: Any) -> Verdict:
        """Repay borrowed ``asset``."""
        return self.emit(Repay(market, asset, check_units(amount)))

    def vault_deposit(self, vault: str, assets: Any) -> Verdict:
        """Deposit ``assets`` base units into a vault."""
        return self.emit(VaultDeposit(vault, check_units(assets, "assets")))

    def vault_request_redeem(self, vault: str, shares: Any) -> Verdict:
        """Ask a vault to redeem ``shares`` (asynchronous vaults pay later)."""
        return self.emit(VaultRequestRedeem(vault, check_units(shares, "shares")))

    def hold(self, reason: str) -> Verdict:
        """Record a deliberate decision to do nothing."""
        return self.emit(Hold(reason))

    # Logging ----------------------------------------------------------------

    def log(self, level: Level, message: str) -> None:
        """Log a line at ``level``. Log bytes per tick are bounded by the
        host. (``print`` and the ``logging`` module also end up here.)"""
        self._host.log(level, message)

    def series(self, name: str, value: float) -> None:
        """Record this tick's point of the named series (an indicator, a
        signal): journaled with the tick and plotted by reports. At most 64
        points per tick and 32 distinct series per deployment by default;
        more end the tick with a resource error. Points recorded outside a
        tick (in ``init``, ``snapshot``, ``restore``) are dropped."""
        self._host.series(name, value)

    def debug(self, message: str) -> None:
        """Log at debug level."""
        self._host.log(Level.DEBUG, message)

    def info(self, message: str) -> None:
        """Log at info level."""
        self._host.log(Level.INFO, message)

    def warn(self, message: str) -> None:
        """Log at warn level."""
        self._host.log(Level.WARN, message)

    def error(self, message: str) -> None:
        """Log at error level."""
        self._host.log(Level.ERROR, message)
