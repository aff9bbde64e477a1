"""Python SDK for stratbox strategies (WebAssembly components built with
componentize-py).

A strategy is one :class:`Strategy` subclass in ``strategy.py``::

    import stratbox
    from stratbox.indicators import Rsi

    class Dip(stratbox.Strategy):
        def init(self, config, ctx):
            self.state = {"rsi": Rsi(config.get("period", 14))}

        def on_tick(self, ctx, tick):
            for mc in tick.candles:
                value = self.state["rsi"].update(mc.candle.close)
                if value is not None and value < 30:
                    verdict = ctx.swap_exact_in("BTC", "ETH", 10_000_000, 50)
                    if not verdict:
                        ctx.warn(f"policy said no: {verdict.detail}")

Build it with ``stratbox build <dir>``.
"""

from .amount import MAX_DECIMALS, MAX_UNITS, AmountError, AmountErrorKind, TokenAmount
from .context import Context
from .errors import (
    ActionRejected,
    OracleError,
    OracleUnavailable,
    OracleUnknown,
    SandboxError,
    StratboxError,
)
from .host import Host
from .snapshot import SnapshotError
from .state_machine import StateMachine, TransitionError
from .strategy import Strategy, export
from .types import (
    Action,
    ActionOutcome,
    AssetAmount,
    BlockInfo,
    Borrow,
    Candle,
    DeploymentInfo,
    Denial,
    ExactIn,
    ExactOut,
    Failure,
    Fill,
    Hold,
    LendingState,
    Level,
    LpClose,
    LpCollect,
    LpOpen,
    MarketCandle,
    PoolState,
    Position,
    PositionKind,
    PriceRange,
    Repay,
    Supply,
    Swap,
    TickContext,
    TickRange,
    VaultDeposit,
    VaultRequestRedeem,
    VaultState,
    Withdraw,
)
from .verdict import Accepted, Rejected, RejectionKind, Verdict

__all__ = [
    "MAX_DECIMALS", "MAX_UNITS", "AmountError", "AmountErrorKind", "TokenAmount", "Context",
    "ActionRejected", "OracleError", "OracleUnavailable", "OracleUnknown", "SandboxError", "StratboxError",
    "Host", "SnapshotError", "StateMachine", "TransitionError", "Strategy", "export", "Action",
    "ActionOutcome", "AssetAmount", "BlockInfo", "Borrow", "Candle", "DeploymentInfo", "Denial", "ExactIn",
    "ExactOut", "Failure", "Fill", "Hold", "LendingState", "Level", "LpClose", "LpCollect", "LpOpen",
    "MarketCandle", "PoolState", "Position", "PositionKind", "PriceRange", "Repay", "Supply", "Swap",
    "TickContext", "TickRange", "VaultDeposit", "VaultRequestRedeem", "VaultState", "Withdraw", "Accepted",
    "Rejected", "RejectionKind", "Verdict",
]
