"""Named strategy states with optional transition rules and a timer, kept
in the snapshot (the Rust SDK's ``StateMachine``)."""

from __future__ import annotations

from typing import Any, Iterable, Optional


class TransitionError(ValueError):
    """A transition that the machine's table does not allow."""

    def __init__(self, source: str, target: str) -> None:
        super().__init__(f"transition {source} -> {target} is not allowed")
        self.source = source
        self.target = target


class StateMachine:
    """The current state (a string), when it was entered and which moves are
    allowed. Times are whatever millisecond clock the caller passes in
    (typically the tick's timestamp); the machine never reads a clock.

    >>> phase = StateMachine("flat", [("flat", "entering"), ("entering", "long")])
    >>> phase.transition("entering", 1_000)
    'flat'
    >>> phase.elapsed_ms(4_000)
    3000
    """

    __slots__ = ("_state", "_entered_at_ms", "_transitions", "_allowed")

    def __init__(self, initial: str, allowed: Optional[Iterable[tuple[str, str]]] = None) -> None:
        self._state = initial
        self._entered_at_ms = 0
        self._transitions = 0
        self._allowed: Optional[list[tuple[str, str]]] = None if allowed is None else [tuple(p) for p in allowed]  # type: ignore[misc]

    @property
    def state(self) -> str:
        """The current state."""
        return self._state

    def is_in(self, state: str) -> bool:
        """Whether the current state is ``state``."""
        return self._state == state

    @property
    def entered_at_ms(self) -> int:
        """When the current state was entered (0 until the first move)."""
        return self._entered_at_ms

    @property
    def transitions(self) -> int:
        """How many transitions happened."""
        return self._transitions

    def elapsed_ms(self, now_ms: int) -> int:
        """Milliseconds spent in the current state at ``now_ms`` (0 if the
        clock went backwards)."""
        return max(0, now_ms - self._entered_at_ms)

    def can_transition(self, target: str) -> bool:
        """Whether :meth:`transition` to ``target`` would succeed now."""
        return target == self._state or self._allowed is None or (self._state, target) in self._allowed

    def transition(self, target: str, now_ms: int) -> str:
        """Move to ``target`` at ``now_ms`` and return the previous state.

        Moving to the current state is a no-op (the timer keeps running). A
        move the table forbids raises :class:`TransitionError` and changes
        nothing."""
        if target == self._state:
            return target
        if not self.can_transition(target):
            raise TransitionError(self._state, target)
        previous, self._state = self._state, target
        self._entered_at_ms = now_ms
        self._transitions += 1
        return previous

    def to_json(self) -> dict[str, Any]:
        """State as JSON-ready values."""
        return {
            "state": self._state,
            "entered_at_ms": self._entered_at_ms,
            "transitions": self._transitions,
            "allowed": None if self._allowed is None else [list(p) for p in self._allowed],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StateMachine:
        """The inverse of :meth:`to_json`."""
        allowed = data["allowed"]
        machine = cls(data["state"], None if allowed is None else [(a, b) for a, b in allowed])
        machine._entered_at_ms = data["entered_at_ms"]
        machine._transitions = data["transitions"]
        return machine
