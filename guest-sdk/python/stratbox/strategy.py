"""The :class:`Strategy` base class."""

from __future__ import annotations

from typing import Any, TypeVar

from . import snapshot as _snapshot
from .context import Context
from .types import ActionOutcome, TickContext


class Strategy:
    """A trading strategy.

    The host calls :meth:`init` once on a fresh instance, then, per tick,
    :meth:`on_action_result` for each outcome that arrived and
    :meth:`on_tick`. Between ticks it takes a :meth:`snapshot`; after a
    failed tick (or in a new process) it builds a fresh instance, calls
    :meth:`init` with the same config and then :meth:`restore` with the last
    committed snapshot.

    Keep everything that must survive that in ``self.state``: the default
    snapshot is ``self.state`` as JSON (indicators, ``TokenAmount`` and
    ``StateMachine`` included; see :mod:`stratbox.snapshot`). Attributes
    outside ``state`` are rebuilt by :meth:`init`.

    An exception escaping a callback fails the tick: nothing it emitted is
    released and the strategy is rolled back to the last snapshot.
    """

    state: dict[str, Any]

    def __init__(self) -> None:
        self.state = {}

    def init(self, config: Any, ctx: Context) -> None:
        """Set the strategy up from its config (the deployment's JSON config,
        parsed; ``{}`` when empty)."""

    def on_tick(self, ctx: Context, tick: TickContext) -> None:
        """React to a new tick."""
        raise NotImplementedError(f"{type(self).__name__} must implement on_tick(self, ctx, tick)")

    def on_action_result(self, ctx: Context, id: int, outcome: ActionOutcome) -> None:
        """React to the outcome (a :class:`~stratbox.Fill` or a
        :class:`~stratbox.Failure`) of an action emitted earlier."""

    def snapshot(self) -> bytes:
        """Serialize the strategy's state (default: ``state`` as JSON)."""
        return _snapshot.dumps(self.state)

    def restore(self, data: bytes) -> None:
        """Replace the strategy's state with a snapshot (default: JSON into
        ``state``)."""
        self.state = _snapshot.loads(data)


S = TypeVar("S", bound=type)


def export(cls: S) -> S:
    """Mark the class the component exports, when a module defines more
    than one :class:`Strategy` subclass (with exactly one, it is found
    without this)."""
    setattr(cls, "__stratbox_export__", True)
    return cls
