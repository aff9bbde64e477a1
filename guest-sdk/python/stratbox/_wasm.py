"""The host of a running component: every call crosses into the runtime.

Converts between the bindings componentize-py generates for the stratbox
world (``wit_world``) and the SDK's own types. Imported only inside a
component.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, TypeVar

from componentize_py_types import Err
from wit_world.exports import strategy as wit_strategy
from wit_world.imports import actions as wit_actions
from wit_world.imports import logging as wit_logging
from wit_world.imports import oracle as wit_oracle
from wit_world.imports import types as wit_types

from .amount import check_units
from .errors import OracleUnavailable, OracleUnknown
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
    VaultDeposit,
    VaultRequestRedeem,
    VaultState,
    Withdraw,
)
from .verdict import Accepted, Rejected, RejectionKind, Verdict

T = TypeVar("T")

_U64 = (1 << 64) - 1

_LEVELS = {
    Level.TRACE: wit_types.Level.TRACE,
    Level.DEBUG: wit_types.Level.DEBUG,
    Level.INFO: wit_types.Level.INFO,
    Level.WARN: wit_types.Level.WARN,
    Level.ERROR: wit_types.Level.ERROR,
}

_POSITION_KINDS = {
    wit_oracle.PositionKind.LIQUIDITY: PositionKind.LIQUIDITY,
    wit_oracle.PositionKind.SUPPLIED: PositionKind.SUPPLIED,
    wit_oracle.PositionKind.BORROWED: PositionKind.BORROWED,
    wit_oracle.PositionKind.VAULT_SHARES: PositionKind.VAULT_SHARES,
    wit_oracle.PositionKind.PENDING_REDEMPTION: PositionKind.PENDING_REDEMPTION,
}


# World -> SDK -----------------------------------------------------------------


def units(amount: wit_types.Amount) -> int:
    """A WIT ``amount`` as an int."""
    return (amount.hi << 64) | amount.lo


def _optional_units(amount: Optional[wit_types.Amount]) -> Optional[int]:
    return None if amount is None else units(amount)


def _asset_amounts(values: list[wit_types.AssetAmount]) -> list[AssetAmount]:
    return [AssetAmount(v.asset, units(v.amount)) for v in values]


def block(info: wit_types.BlockInfo) -> BlockInfo:
    """A WIT ``block-info``."""
    return BlockInfo(info.chain_id, info.number, info.timestamp_ms)


def candle(c: wit_types.Candle) -> Candle:
    """A WIT ``candle``."""
    return Candle(c.timestamp_ms, c.open, c.high, c.low, c.close, c.volume)


# The instance's side of the host's name table: each name crosses the
# boundary once (``oracle.intern`` or ``oracle.name``); ticks and reads carry
# its id.
_ids: dict[str, int] = {}
_names: dict[int, str] = {}


def name_id(name: str) -> int:
    """The host's id of ``name``, interned the first time."""
    known = _ids.get(name)
    if known is not None:
        return known
    found = wit_oracle.intern(name)
    _ids[name] = found
    _names[found] = name
    return found


def name_of(id: int) -> str:
    """The name behind an id the host sent (``#<id>`` if it has none)."""
    known = _names.get(id)
    if known is not None:
        return known
    found = wit_oracle.name(id)
    if found is None:
        return f"#{id}"
    _ids[found] = id
    _names[id] = found
    return found


def _market_candle(mc: wit_types.MarketCandle) -> MarketCandle:
    return MarketCandle(name_of(mc.market), candle(mc.candle))


def tick_context(ctx: wit_strategy.TickContext) -> TickContext:
    """A WIT ``tick-context``: the first candle inline, any others fetched."""
    if ctx.candle is None:
        candles = []
    elif ctx.candle_count <= 1:
        candles = [_market_candle(ctx.candle)]
    else:
        candles = [_market_candle(mc) for mc in wit_oracle.tick_candles()]
    return TickContext(ctx.sequence, block(ctx.block), candles)


def outcome(value: wit_strategy.ActionOutcome) -> ActionOutcome:
    """A WIT ``action-outcome``."""
    if isinstance(value, wit_strategy.ActionOutcome_Filled):
        fill = value.value
        return Fill(
            _asset_amounts(fill.spent),
            _asset_amounts(fill.received),
            _asset_amounts(fill.fees),
            None if fill.gas is None else AssetAmount(fill.gas.asset, units(fill.gas.amount)),
            fill.tx_hash,
            fill.position,
        )
    failure = value.value
    return Failure(failure.code, failure.reason, failure.tx_hash)


def _read(call: Callable[[], T]) -> T:
    try:
        return call()
    except Err as error:
        reason = error.value
        if isinstance(reason, wit_oracle.OracleError_Unknown):
            raise OracleUnknown(reason.value) from None
        raise OracleUnavailable(reason.value) from None


# SDK -> world -----------------------------------------------------------------


def amount(value: Any) -> wit_types.Amount:
    """An int (or TokenAmount) as a WIT ``amount``."""
    value = check_units(value)
    return wit_types.Amount(value >> 64, value & _U64)


def _lending(op: Any) -> wit_actions.LendingOp:
    return wit_actions.LendingOp(op.market, op.asset, amount(op.amount))


def action(value: Action) -> wit_actions.Action:
    """An SDK action as a WIT ``action``."""
    if isinstance(value, Swap):
        kind = wit_actions.SwapAmount_ExactIn if isinstance(value.amount, ExactIn) else wit_actions.SwapAmount_ExactOut
        return wit_actions.Action_Swap(
            wit_actions.Swap(value.sell, value.buy, kind(amount(value.amount.amount)), value.max_slippage_bps, value.venue)
        )
    if isinstance(value, Hold):
        return wit_actions.Action_Hold(value.reason)
    if isinstance(value, Supply):
        return wit_actions.Action_Supply(_lending(value))
    if isinstance(value, Withdraw):
        return wit_actions.Action_Withdraw(_lending(value))
    if isinstance(value, Borrow):
        return wit_actions.Action_Borrow(_lending(value))
    if isinstance(value, Repay):
        return wit_actions.Action_Repay(_lending(value))
    if isinstance(value, VaultDeposit):
        return wit_actions.Action_VaultDeposit(wit_actions.VaultOp(value.vault, amount(value.amount)))
    if isinstance(value, VaultRequestRedeem):
        return wit_actions.Action_VaultRequestRedeem(wit_actions.VaultOp(value.vault, amount(value.amount)))
    if isinstance(value, LpOpen):
        if isinstance(value.range, PriceRange):
            lp_range: wit_actions.LpRange = wit_actions.LpRange_Price((value.range.lower, value.range.upper))
        else:
            lp_range = wit_actions.LpRange_Ticks((value.range.lower, value.range.upper))
        return wit_actions.Action_LpOpen(
            wit_actions.LpOpen(value.pool, lp_range, amount(value.amount0), amount(value.amount1))
        )
    if isinstance(value, LpClose):
        return wit_actions.Action_LpClose(wit_actions.LpClose(value.position))
    if isinstance(value, LpCollect):
        return wit_actions.Action_LpCollect(wit_actions.LpCollect(value.position))
    raise TypeError(f"not a stratbox action: {value!r}")


class WasmHost:
    """The :class:`~stratbox.host.Host` of a component: the stratbox world's
    imports."""

    def deployment(self) -> DeploymentInfo:
        info = wit_oracle.deployment()
        return DeploymentInfo(info.id, info.account)

    def block(self) -> BlockInfo:
        return block(wit_oracle.block())

    def price(self, base: str, quote: str) -> float:
        return _read(lambda: wit_oracle.price(name_id(base), name_id(quote)))

    def candles(self, market: str, count: int) -> list[Candle]:
        return [candle(c) for c in _read(lambda: wit_oracle.candles(name_id(market), count))]

    def balance(self, asset: str) -> int:
        return units(_read(lambda: wit_oracle.balance(name_id(asset))))

    def balances(self) -> list[AssetAmount]:
        return _asset_amounts(wit_oracle.balances())

    def positions(self) -> list[Position]:
        return [
            Position(
                p.id,
                _POSITION_KINDS[p.kind],
                p.venue,
                _asset_amounts(p.amounts),
                p.tick_range,
                _optional_units(p.liquidity),
            )
            for p in wit_oracle.positions()
        ]

    def pool(self, pool: str) -> PoolState:
        p = _read(lambda: wit_oracle.pool(name_id(pool)))
        sqrt = p.sqrt_price_x96
        return PoolState(
            p.pool,
            p.token0,
            p.token1,
            units(p.reserve0),
            units(p.reserve1),
            None if sqrt is None else (units(sqrt.hi) << 128) | units(sqrt.lo),
            p.tick,
            _optional_units(p.liquidity),
            p.fee_pips,
            p.price,
        )

    def lending_market(self, market: str) -> LendingState:
        m = _read(lambda: wit_oracle.lending_market(name_id(market)))
        return LendingState(
            m.market, m.asset, m.supply_rate, m.borrow_rate, m.utilization, m.max_ltv,
            m.liquidation_threshold, m.health_factor,
        )

    def vault(self, vault: str) -> VaultState:
        v = _read(lambda: wit_oracle.vault(name_id(vault)))
        return VaultState(
            v.vault, v.asset, v.share_price, v.apy, units(v.shares), units(v.pending_redemption), v.claimable_at_ms
        )

    def emit(self, value: Action) -> Verdict:
        try:
            return Accepted(wit_actions.emit(action(value)))
        except Err as error:
            rejection = error.value
            d = rejection.value
            kind = RejectionKind.DENIED if isinstance(rejection, wit_actions.Rejection_Denied) else RejectionKind.INVALID
            return Rejected(kind, Denial(d.code, d.rule, d.detail))

    def log(self, level: Level, message: str) -> None:
        wit_logging.log(_LEVELS[level], message)

    def series(self, name: str, value: float) -> None:
        wit_logging.series(name_id(name), float(value))
