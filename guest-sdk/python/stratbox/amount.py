"""Exact token amounts.

Everything that can reach a chain is a non-negative integer of the token's
base units below 2**128: a plain Python ``int``. :class:`TokenAmount` pairs
such an integer with the token's number of decimals so it can be parsed from
and printed as a human decimal string, exactly like the Rust SDK's
``TokenAmount`` (same accepted syntax, same errors, same rounding).

The only floating-point entry points are :meth:`TokenAmount.from_float_floor`
and :meth:`TokenAmount.to_float`, meant for sizing decisions, not
accounting.
"""

from __future__ import annotations

import enum
import math
from decimal import Decimal
from typing import Any, Optional

MAX_UNITS = (1 << 128) - 1
"""The largest amount the world can carry (an unsigned 128-bit integer)."""

MAX_DECIMALS = 38
"""The most decimals for which one whole token still fits in 128 bits."""


class AmountErrorKind(enum.Enum):
    """Why an amount could not be built (the Rust SDK's ``AmountError``)."""

    EMPTY = "empty"
    NEGATIVE = "negative"
    INVALID_CHARACTER = "invalid-character"
    MISSING_DIGIT = "missing-digit"
    TOO_MANY_DECIMALS = "too-many-decimals"
    OVERFLOW = "overflow"
    NOT_FINITE = "not-finite"
    DECIMALS_TOO_LARGE = "decimals-too-large"


class AmountError(ValueError):
    """An amount could not be built. ``kind`` says why; ``position`` is the
    byte offset for character and digit errors, ``max`` the token's decimals
    for :attr:`AmountErrorKind.TOO_MANY_DECIMALS`."""

    def __init__(self, kind: AmountErrorKind, position: Optional[int] = None, max: Optional[int] = None) -> None:
        self.kind = kind
        self.position = position
        self.max = max
        super().__init__(self._message())

    def _message(self) -> str:
        kind = self.kind
        if kind is AmountErrorKind.EMPTY:
            return "empty amount"
        if kind is AmountErrorKind.NEGATIVE:
            return "amount is negative"
        if kind is AmountErrorKind.INVALID_CHARACTER:
            return f"invalid character at byte {self.position} of amount"
        if kind is AmountErrorKind.MISSING_DIGIT:
            return f"expected a digit at byte {self.position} of amount"
        if kind is AmountErrorKind.TOO_MANY_DECIMALS:
            return f"amount has more than {self.max} fractional digits"
        if kind is AmountErrorKind.OVERFLOW:
            return "amount does not fit in 128 bits"
        if kind is AmountErrorKind.NOT_FINITE:
            return "amount is not a finite number"
        return f"token decimals above {MAX_DECIMALS} are not supported"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, AmountError)
            and (self.kind, self.position, self.max) == (other.kind, other.position, other.max)
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.position, self.max))


def check_units(value: Any, what: str = "amount") -> int:
    """``value`` as base units for the world: a :class:`TokenAmount` or an
    ``int`` in ``0..=MAX_UNITS``. Floats are refused (:class:`TypeError`):
    amounts are exact."""
    if isinstance(value, TokenAmount):
        return value.units
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            f"{what} must be an int of base units or a TokenAmount, not {type(value).__name__} "
            f"{value!r} (use TokenAmount.parse or TokenAmount.from_float_floor)"
        )
    if value < 0:
        raise AmountError(AmountErrorKind.NEGATIVE)
    if value > MAX_UNITS:
        raise AmountError(AmountErrorKind.OVERFLOW)
    return value


class TokenAmount:
    """An exact amount of a token: ``units`` base units of a token with
    ``decimals`` decimals (6 for USDC, 18 for ETH).

    Equality compares both fields. There is deliberately no ordering across
    tokens: compare :attr:`units` after checking :attr:`decimals`.
    """

    __slots__ = ("_units", "_decimals")

    def __init__(self, units: int, decimals: int) -> None:
        self._units = check_units(units)
        if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 255:
            raise ValueError(f"decimals must be an int in 0..=255, got {decimals!r}")
        self._decimals = decimals

    @property
    def units(self) -> int:
        """The amount in base units."""
        return self._units

    @property
    def decimals(self) -> int:
        """The token's number of decimals."""
        return self._decimals

    def is_zero(self) -> bool:
        """Whether the amount is zero."""
        return self._units == 0

    @classmethod
    def parse(cls, text: str, decimals: int) -> TokenAmount:
        """Parse a decimal string exactly: ``"1.5"`` with 6 decimals is
        1 500 000 units.

        Accepted: ASCII digits with an optional ``.`` followed by at least
        one digit. Rejected (in this order): more than 38 decimals, empty
        text, a leading ``-``, the first character that is not a digit or
        the single dot, a missing integer or fractional part (``".5"``,
        ``"1."``), more fractional digits than ``decimals``, more than
        ``MAX_UNITS`` units. Nothing is ever rounded.
        """
        if decimals > MAX_DECIMALS:
            raise AmountError(AmountErrorKind.DECIMALS_TOO_LARGE)
        if text == "":
            raise AmountError(AmountErrorKind.EMPTY)
        if text.startswith("-"):
            raise AmountError(AmountErrorKind.NEGATIVE)
        raw = text.encode("utf-8")
        dot: Optional[int] = None
        for position, byte in enumerate(raw):
            if 0x30 <= byte <= 0x39:
                continue
            if byte == 0x2E and dot is None:
                dot = position
                continue
            raise AmountError(AmountErrorKind.INVALID_CHARACTER, position=position)
        if dot is None:
            int_digits, frac_digits = raw, b""
        else:
            int_digits, frac_digits = raw[:dot], raw[dot + 1 :]
        if not int_digits:
            raise AmountError(AmountErrorKind.MISSING_DIGIT, position=0)
        if dot is not None and not frac_digits:
            raise AmountError(AmountErrorKind.MISSING_DIGIT, position=len(raw))
        if len(frac_digits) > decimals:
            raise AmountError(AmountErrorKind.TOO_MANY_DECIMALS, max=decimals)
        units = int(int_digits + frac_digits) * 10 ** (decimals - len(frac_digits))
        if units > MAX_UNITS:
            raise AmountError(AmountErrorKind.OVERFLOW)
        return cls(units, decimals)

    @classmethod
    def from_float_floor(cls, value: float, decimals: int) -> TokenAmount:
        """A non-negative float as an amount, rounded toward zero.

        The float is first written as the shortest decimal that reads back
        as the same float, and that decimal is truncated to ``decimals``
        fractional digits, so ``0.29`` with 2 decimals is 29 units. For
        sizing decisions, not accounting.
        """
        if decimals > MAX_DECIMALS:
            raise AmountError(AmountErrorKind.DECIMALS_TOO_LARGE)
        value = float(value)
        if not math.isfinite(value):
            raise AmountError(AmountErrorKind.NOT_FINITE)
        if value < 0.0:
            raise AmountError(AmountErrorKind.NEGATIVE)
        if value >= 1e39:
            raise AmountError(AmountErrorKind.OVERFLOW)
        # `repr` is the shortest round-tripping form; Decimal's "f" format
        # spells it without an exponent, as Rust's `{}` does.
        text = format(Decimal(repr(abs(value))), "f")
        integer, _, fraction = text.partition(".")
        keep = fraction[:decimals]
        return cls.parse(f"{integer}.{keep}" if keep else integer, decimals)

    def to_float(self) -> float:
        """The amount in whole tokens as the nearest float (correctly
        rounded, hence deterministic). For display and sizing."""
        # Python's float parser rounds correctly, as Rust's does.
        return float(f"{self._units}e-{self._decimals}")

    def mul_bps(self, bps: int) -> TokenAmount:
        """``units * bps / 10_000`` rounded down, saturating at
        ``MAX_UNITS`` (``mul_bps(2_500)`` is 25%)."""
        return TokenAmount(min(self._units * bps // 10_000, MAX_UNITS), self._decimals)

    def mul_ratio(self, numerator: int, denominator: int) -> Optional[TokenAmount]:
        """``units * numerator / denominator`` rounded down; ``None`` if the
        denominator is zero or the result exceeds ``MAX_UNITS``."""
        if denominator == 0:
            return None
        units = self._units * numerator // denominator
        if units > MAX_UNITS:
            return None
        return TokenAmount(units, self._decimals)

    def to_decimal_string(self, places: Optional[int] = None) -> str:
        """The canonical decimal form (``"1.5"``, ``"0"``), or exactly
        ``places`` fractional digits, padding with zeros or cutting extra
        digits off (never rounding up)."""
        digits = str(self._units)
        decimals = self._decimals
        if len(digits) <= decimals:
            digits = "0" * (decimals + 1 - len(digits)) + digits
        integer, fraction = digits[: len(digits) - decimals], digits[len(digits) - decimals :]
        if places is None:
            fraction = fraction.rstrip("0")
        elif places <= len(fraction):
            fraction = fraction[:places]
        else:
            fraction = fraction.ljust(places, "0")
        return f"{integer}.{fraction}" if fraction else integer

    def __str__(self) -> str:
        return self.to_decimal_string()

    def __repr__(self) -> str:
        return f"TokenAmount(units={self._units}, decimals={self._decimals})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TokenAmount):
            return NotImplemented
        return (self._units, self._decimals) == (other._units, other._decimals)

    def __hash__(self) -> int:
        return hash((self._units, self._decimals))

    def to_json(self) -> dict[str, int]:
        """``{"units": ..., "decimals": ...}``, as the Rust SDK serializes it."""
        return {"units": self._units, "decimals": self._decimals}

    @classmethod
    def from_json(cls, data: dict[str, int]) -> TokenAmount:
        """The inverse of :meth:`to_json`."""
        return cls(data["units"], data["decimals"])
