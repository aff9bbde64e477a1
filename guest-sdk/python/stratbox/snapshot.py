"""The default snapshot format: a strategy's ``state`` as JSON.

Plain JSON values (dicts with string keys, lists, strings, ints of any size,
floats, booleans, ``None``) round-trip as themselves; floats exactly (Python
writes the shortest text that reads back as the same float). The SDK's own
stateful objects (indicators, :class:`~stratbox.TokenAmount`,
:class:`~stratbox.StateMachine`) round-trip too: they are written as
``{"$stratbox": "<type>", "v": ...}``. Tuples come back as lists.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from .amount import TokenAmount
from .indicators import Atr, Bollinger, Ema, Rsi, Sma
from .state_machine import StateMachine

_TAG = "$stratbox"

_TYPES: dict[str, Any] = {
    "Sma": Sma,
    "Ema": Ema,
    "Rsi": Rsi,
    "Bollinger": Bollinger,
    "Atr": Atr,
    "TokenAmount": TokenAmount,
    "StateMachine": StateMachine,
}
_NAMES = {cls: name for name, cls in _TYPES.items()}


class SnapshotError(ValueError):
    """The state cannot be written as, or read back from, a snapshot."""


def _encode(value: Any) -> Any:
    name = _NAMES.get(type(value))
    if name is None:
        raise TypeError(
            f"{type(value).__name__} cannot be stored in a snapshot: keep JSON values, SDK indicators, "
            "TokenAmount and StateMachine in `state`, or override snapshot()/restore()"
        )
    return {_TAG: name, "v": value.to_json()}


def _decode(obj: dict[str, Any]) -> Any:
    name = obj.get(_TAG)
    if name is None:
        return obj
    cls = _TYPES.get(name)
    if cls is None:
        raise SnapshotError(f"unknown type {name!r} in snapshot")
    return cls.from_json(obj["v"])


def dumps(state: Any) -> bytes:
    """``state`` as snapshot bytes (UTF-8 JSON, keys in insertion order)."""
    try:
        return json.dumps(state, default=_encode, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError) as error:
        raise SnapshotError(str(error)) from error


def loads(data: bytes) -> Any:
    """The state stored by :func:`dumps`."""
    try:
        return json.loads(data.decode("utf-8"), object_hook=_decode)
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError) as error:
        raise SnapshotError(f"unreadable snapshot: {error}") from error


Encoder = Callable[[Any], Any]
