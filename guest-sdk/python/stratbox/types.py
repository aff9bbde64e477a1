"""The stratbox world's values as plain Python dataclasses.

They mirror the WIT package ``stratbox:strategy`` (``wit/strategy.wit``) with
Python shapes: every token amount is an exact ``int`` of base units (never a
float), each action kind is its own class, and an action's outcome is either
a :class:`Fill` or a :class:`Failure`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Optional, Union


class Level(enum.IntEnum):
    """Severity of a log line."""

    TRACE = 0
    DEBUG = 1
    INFO = 2
    WARN = 3
    ERROR = 4


@dataclass(frozen=True, slots=True)
class BlockInfo:
    """Chain position of the current observation."""

    chain_id: int
    number: int
    timestamp_ms: int
    """Block timestamp, milliseconds since the Unix epoch, UTC."""


@dataclass(frozen=True, slots=True)
class Candle:
    """One OHLCV candle; ``timestamp_ms`` is its open time."""

    timestamp_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True, slots=True)
class MarketCandle:
    """A candle that closed since the previous tick, for ``market``."""

    market: str
    candle: Candle


@dataclass(frozen=True, slots=True)
class TickContext:
    """Everything the host knows at the start of a tick."""

    sequence: int
    """Sequence number of the tick in this deployment, from 0."""
    block: BlockInfo
    candles: list[MarketCandle]
    """Candles that closed since the previous tick."""


@dataclass(frozen=True, slots=True)
class AssetAmount:
    """An exact amount of an asset, in base units."""

    asset: str
    amount: int


@dataclass(frozen=True, slots=True)
class DeploymentInfo:
    """The deployment this strategy runs as."""

    id: str
    account: str


class PositionKind(enum.Enum):
    """What kind of position a :class:`Position` is."""

    LIQUIDITY = "liquidity"
    SUPPLIED = "supplied"
    BORROWED = "borrowed"
    VAULT_SHARES = "vault-shares"
    PENDING_REDEMPTION = "pending-redemption"


@dataclass(frozen=True, slots=True)
class Position:
    """A position the deployment holds in a venue."""

    id: str
    kind: PositionKind
    venue: str
    amounts: list[AssetAmount]
    tick_range: Optional[tuple[int, int]] = None
    liquidity: Optional[int] = None


@dataclass(frozen=True, slots=True)
class PoolState:
    """State of an AMM pool."""

    pool: str
    token0: str
    token1: str
    reserve0: int
    reserve1: int
    sqrt_price_x96: Optional[int]
    """Uniswap v3 style sqrt(price) as Q64.96 (a 256-bit integer)."""
    tick: Optional[int]
    liquidity: Optional[int]
    fee_pips: int
    """Fee in hundredths of a basis point (3000 = 0.30%)."""
    price: float


@dataclass(frozen=True, slots=True)
class LendingState:
    """State of a lending market for one asset. Rates are annual fractions."""

    market: str
    asset: str
    supply_rate: float
    borrow_rate: float
    utilization: float
    max_ltv: float
    liquidation_threshold: float
    health_factor: Optional[float] = None


@dataclass(frozen=True, slots=True)
class VaultState:
    """State of a vault (ERC-4626 or asynchronous redemption)."""

    vault: str
    asset: str
    share_price: float
    apy: Optional[float]
    shares: int
    pending_redemption: int
    claimable_at_ms: Optional[int] = None


# Actions ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExactIn:
    """Sell exactly ``amount`` base units of the sold asset."""

    amount: int


@dataclass(frozen=True, slots=True)
class ExactOut:
    """Buy exactly ``amount`` base units of the bought asset."""

    amount: int


SwapAmount = Union[ExactIn, ExactOut]


@dataclass(frozen=True, slots=True)
class Swap:
    """Trade ``sell`` for ``buy``."""

    sell: str
    buy: str
    amount: SwapAmount
    max_slippage_bps: int
    venue: Optional[str] = None


@dataclass(frozen=True, slots=True)
class PriceRange:
    """A concentrated-liquidity range as prices of token0 in token1."""

    lower: float
    upper: float


@dataclass(frozen=True, slots=True)
class TickRange:
    """A concentrated-liquidity range as Uniswap v3 ticks."""

    lower: int
    upper: int


LpRange = Union[PriceRange, TickRange]


@dataclass(frozen=True, slots=True)
class LpOpen:
    """Open a concentrated-liquidity position."""

    pool: str
    range: LpRange
    amount0: int
    amount1: int


@dataclass(frozen=True, slots=True)
class LpClose:
    """Close a liquidity position."""

    position: str


@dataclass(frozen=True, slots=True)
class LpCollect:
    """Collect the fees of a liquidity position."""

    position: str


@dataclass(frozen=True, slots=True)
class Supply:
    """Supply ``amount`` of ``asset`` to a lending market."""

    market: str
    asset: str
    amount: int


@dataclass(frozen=True, slots=True)
class Withdraw:
    """Withdraw supplied ``asset`` from a lending market."""

    market: str
    asset: str
    amount: int


@dataclass(frozen=True, slots=True)
class Borrow:
    """Borrow ``asset`` from a lending market."""

    market: str
    asset: str
    amount: int


@dataclass(frozen=True, slots=True)
class Repay:
    """Repay borrowed ``asset``."""

    market: str
    asset: str
    amount: int


@dataclass(frozen=True, slots=True)
class VaultDeposit:
    """Deposit ``amount`` assets into a vault."""

    vault: str
    amount: int


@dataclass(frozen=True, slots=True)
class VaultRequestRedeem:
    """Ask a vault to redeem ``amount`` shares."""

    vault: str
    amount: int


@dataclass(frozen=True, slots=True)
class Hold:
    """Deliberately do nothing this tick, with a reason for the journal."""

    reason: str


Action = Union[
    Swap,
    LpOpen,
    LpClose,
    LpCollect,
    Supply,
    Withdraw,
    Borrow,
    Repay,
    VaultDeposit,
    VaultRequestRedeem,
    Hold,
]


# Verdicts and outcomes ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Denial:
    """Why an action was refused: a stable ``code``, the ``rule`` path that
    produced it and a ``CODE: key=value`` ``detail``."""

    code: str
    rule: str
    detail: str


@dataclass(frozen=True, slots=True)
class Fill:
    """An action was executed."""

    spent: list[AssetAmount]
    received: list[AssetAmount]
    fees: list[AssetAmount] = field(default_factory=list)
    gas: Optional[AssetAmount] = None
    tx_hash: Optional[str] = None
    position: Optional[str] = None

    def spent_of(self, asset: str) -> int:
        """Base units of ``asset`` that left the account."""
        return sum_of(self.spent, asset)

    def received_of(self, asset: str) -> int:
        """Base units of ``asset`` that entered the account."""
        return sum_of(self.received, asset)


@dataclass(frozen=True, slots=True)
class Failure:
    """An action failed at the venue."""

    code: str
    reason: str
    tx_hash: Optional[str] = None


ActionOutcome = Union[Fill, Failure]


def sum_of(amounts: list[AssetAmount], asset: str) -> int:
    """Total base units of ``asset`` in ``amounts``."""
    total = 0
    for entry in amounts:
        if entry.asset == asset:
            total += entry.amount
    return total
