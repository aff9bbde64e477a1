"""Streaming technical indicators: SMA, EMA, RSI (Wilder), Bollinger bands
and ATR (Wilder).

Each gives bit-for-bit the values of the Rust SDK's indicator of the same
name on the same input: the arithmetic is written in the same order, with
plain left-to-right float additions (never ``sum()``, which compensates
rounding errors on Python 3.12+). Each ``update`` returns ``None`` until the
indicator has seen enough values.

Indicators are plain objects that can live in a strategy's ``state``: the
default snapshot serializes them (see :mod:`stratbox.snapshot`).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence


def _check_period(indicator: str, period: int) -> None:
    if isinstance(period, bool) or not isinstance(period, int) or period < 1:
        raise ValueError(f"{indicator} period must be at least 1, got {period!r}")


def _window_sum(values: Iterable[float]) -> float:
    total = 0.0
    for x in values:
        total += x
    return total


class Sma:
    """Simple moving average of the last ``period`` values: the window's
    sum (oldest first) divided by ``period``, recomputed on every update."""

    __slots__ = ("period", "_window", "value")

    def __init__(self, period: int) -> None:
        _check_period("SMA", period)
        self.period = period
        self._window: deque[float] = deque()
        self.value: Optional[float] = None
        """The current average, once warmed up."""

    def update(self, x: float) -> Optional[float]:
        """Add a value; the average from the ``period``-th value on."""
        window = self._window
        if len(window) >= self.period:
            window.popleft()
        window.append(x)
        if len(window) >= self.period:
            self.value = _window_sum(window) / float(self.period)
        return self.value

    def to_json(self) -> dict[str, Any]:
        """State as JSON-ready values."""
        return {"period": self.period, "window": list(self._window), "value": self.value}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Sma:
        """The inverse of :meth:`to_json`."""
        sma = cls(data["period"])
        sma._window.extend(data["window"])
        sma.value = data["value"]
        return sma


class Ema:
    """Exponential moving average with ``alpha = 2 / (period + 1)``, seeded
    with the simple average of the first ``period`` values; then
    ``alpha * x + (1 - alpha) * previous``."""

    __slots__ = ("period", "_seen", "_seed_sum", "value")

    def __init__(self, period: int) -> None:
        _check_period("EMA", period)
        self.period = period
        self._seen = 0
        self._seed_sum = 0.0
        self.value: Optional[float] = None
        """The current average, once warmed up."""

    @property
    def alpha(self) -> float:
        """The smoothing factor ``2 / (period + 1)``."""
        return 2.0 / (float(self.period) + 1.0)

    def update(self, x: float) -> Optional[float]:
        """Add a value; the average from the ``period``-th value on."""
        previous = self.value
        if previous is not None:
            alpha = self.alpha
            self.value = alpha * x + (1.0 - alpha) * previous
        else:
            self._seed_sum += x
            self._seen += 1
            if self._seen >= self.period:
                self.value = self._seed_sum / float(self.period)
        return self.value

    def to_json(self) -> dict[str, Any]:
        """State as JSON-ready values."""
        return {"period": self.period, "seen": self._seen, "seed_sum": self._seed_sum, "value": self.value}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Ema:
        """The inverse of :meth:`to_json`."""
        ema = cls(data["period"])
        ema._seen, ema._seed_sum, ema.value = data["seen"], data["seed_sum"], data["value"]
        return ema


class Rsi:
    """Wilder's relative strength index over ``period`` price changes.

    The first value comes after ``period`` changes (``period + 1`` closes):
    the averages are the plain means of the first gains and losses, then
    Wilder-smoothed: ``(avg * (period - 1) + x) / period``. 100 when there
    are no losses, 50 when the price did not move at all.
    """

    __slots__ = ("period", "_previous_close", "_changes", "_avg_gain", "_avg_loss", "value")

    def __init__(self, period: int) -> None:
        _check_period("RSI", period)
        self.period = period
        self._previous_close: Optional[float] = None
        self._changes = 0
        self._avg_gain = 0.0
        self._avg_loss = 0.0
        self.value: Optional[float] = None
        """The current RSI, once warmed up."""

    def update(self, close: float) -> Optional[float]:
        """Add a close; the RSI from the ``period``-th change on."""
        previous, self._previous_close = self._previous_close, close
        if previous is None:
            return None
        change = close - previous
        gain = change if change > 0.0 else 0.0
        loss = -change if change < 0.0 else 0.0
        n = float(self.period)
        if self._changes < self.period:
            self._avg_gain += gain
            self._avg_loss += loss
            self._changes += 1
            if self._changes < self.period:
                return None
            self._avg_gain /= n
            self._avg_loss /= n
        else:
            self._avg_gain = (self._avg_gain * (n - 1.0) + gain) / n
            self._avg_loss = (self._avg_loss * (n - 1.0) + loss) / n
        if self._avg_loss == 0.0:
            rsi = 50.0 if self._avg_gain == 0.0 else 100.0
        else:
            rsi = 100.0 - 100.0 / (1.0 + self._avg_gain / self._avg_loss)
        self.value = rsi
        return rsi

    def to_json(self) -> dict[str, Any]:
        """State as JSON-ready values."""
        return {
            "period": self.period,
            "previous_close": self._previous_close,
            "changes": self._changes,
            "avg_gain": self._avg_gain,
            "avg_loss": self._avg_loss,
            "value": self.value,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Rsi:
        """The inverse of :meth:`to_json`."""
        rsi = cls(data["period"])
        rsi._previous_close, rsi._changes = data["previous_close"], data["changes"]
        rsi._avg_gain, rsi._avg_loss, rsi.value = data["avg_gain"], data["avg_loss"], data["value"]
        return rsi


@dataclass(frozen=True, slots=True)
class BollingerBands:
    """One reading of Bollinger bands."""

    lower: float
    middle: float
    upper: float


class Bollinger:
    """Bollinger bands: the simple moving average of the last ``period``
    values plus and minus ``k`` population standard deviations of the same
    window, computed in two passes over the window (oldest first)."""

    __slots__ = ("period", "k", "_window", "value")

    def __init__(self, period: int, k: float) -> None:
        _check_period("Bollinger", period)
        if not (math.isfinite(k) and k >= 0.0):
            raise ValueError(f"Bollinger width k must be finite and non-negative, got {k!r}")
        self.period = period
        self.k = float(k)
        self._window: deque[float] = deque()
        self.value: Optional[BollingerBands] = None
        """The current bands, once warmed up."""

    def update(self, x: float) -> Optional[BollingerBands]:
        """Add a value; the bands once ``period`` values have been seen."""
        window = self._window
        if len(window) >= self.period:
            window.popleft()
        window.append(x)
        if len(window) >= self.period:
            n = float(self.period)
            middle = _window_sum(window) / n
            squares = 0.0
            for value in window:
                d = value - middle
                squares = squares + d * d
            width = self.k * math.sqrt(squares / n)
            self.value = BollingerBands(middle - width, middle, middle + width)
        return self.value

    def to_json(self) -> dict[str, Any]:
        """State as JSON-ready values."""
        bands = self.value
        return {
            "period": self.period,
            "k": self.k,
            "window": list(self._window),
            "value": None if bands is None else [bands.lower, bands.middle, bands.upper],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Bollinger:
        """The inverse of :meth:`to_json`."""
        bands = cls(data["period"], data["k"])
        bands._window.extend(data["window"])
        value = data["value"]
        bands.value = None if value is None else BollingerBands(*value)
        return bands


class Atr:
    """Wilder's average true range.

    The true range of a bar is ``max(high - low, |high - previous close|,
    |low - previous close|)``, just ``high - low`` for the first bar. The
    first ATR is the mean of the first ``period`` true ranges, then
    ``(atr * (period - 1) + true_range) / period``.
    """

    __slots__ = ("period", "_previous_close", "_bars", "_seed_sum", "value")

    def __init__(self, period: int) -> None:
        _check_period("ATR", period)
        self.period = period
        self._previous_close: Optional[float] = None
        self._bars = 0
        self._seed_sum = 0.0
        self.value: Optional[float] = None
        """The current ATR, once warmed up."""

    def update(self, high: float, low: float, close: float) -> Optional[float]:
        """Add a bar; the ATR from the ``period``-th bar on."""
        true_range = high - low
        previous, self._previous_close = self._previous_close, close
        if previous is not None:
            true_range = max(true_range, abs(high - previous), abs(low - previous))
        n = float(self.period)
        if self.value is not None:
            self.value = (self.value * (n - 1.0) + true_range) / n
        else:
            self._seed_sum += true_range
            self._bars += 1
            if self._bars >= self.period:
                self.value = self._seed_sum / n
        return self.value

    def to_json(self) -> dict[str, Any]:
        """State as JSON-ready values."""
        return {
            "period": self.period,
            "previous_close": self._previous_close,
            "bars": self._bars,
            "seed_sum": self._seed_sum,
            "value": self.value,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Atr:
        """The inverse of :meth:`to_json`."""
        atr = cls(data["period"])
        atr._previous_close, atr._bars = data["previous_close"], data["bars"]
        atr._seed_sum, atr.value = data["seed_sum"], data["value"]
        return atr


def sma(values: Sequence[float], period: int) -> list[Optional[float]]:
    """:class:`Sma` over ``values``: one output per input."""
    indicator = Sma(period)
    return [indicator.update(x) for x in values]


def ema(values: Sequence[float], period: int) -> list[Optional[float]]:
    """:class:`Ema` over ``values``: one output per input."""
    indicator = Ema(period)
    return [indicator.update(x) for x in values]


def rsi(closes: Sequence[float], period: int) -> list[Optional[float]]:
    """:class:`Rsi` over ``closes``: one output per input."""
    indicator = Rsi(period)
    return [indicator.update(x) for x in closes]


def bollinger(values: Sequence[float], period: int, k: float) -> list[Optional[BollingerBands]]:
    """:class:`Bollinger` over ``values``: one output per input."""
    indicator = Bollinger(period, k)
    return [indicator.update(x) for x in values]


def atr(highs: Sequence[float], lows: Sequence[float], closes: Sequence[float], period: int) -> list[Optional[float]]:
    """:class:`Atr` over bars given as three equally long sequences."""
    if not len(highs) == len(lows) == len(closes):
        raise ValueError(
            f"atr: highs, lows and closes must have the same length (got {len(highs)}, {len(lows)}, {len(closes)})"
        )
    indicator = Atr(period)
    return [indicator.update(h, l, c) for h, l, c in zip(highs, lows, closes)]
