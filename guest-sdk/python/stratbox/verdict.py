"""What the policy answered when an action was emitted.

Every action helper of :class:`~stratbox.Context` returns a verdict as a
value: :class:`Accepted` (truthy, with the action id) or :class:`Rejected`
(falsy, with the denial). A denial never raises by itself; call
:meth:`Rejected.expect` (or ``verdict.expect()`` on either) to turn it into
an :class:`~stratbox.ActionRejected` exception.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal, Union

from .errors import ActionRejected
from .types import Denial


class RejectionKind(enum.Enum):
    """Who refused an action."""

    DENIED = "denied"
    """The deployment's policy refused it."""
    INVALID = "invalid"
    """The action is malformed (zero amount, unknown asset, inverted
    range, emitted outside a tick...)."""


@dataclass(frozen=True, slots=True)
class Accepted:
    """The policy accepted the action; it is released if the tick succeeds."""

    id: int
    accepted: Literal[True] = True

    def __bool__(self) -> bool:
        return True

    def expect(self) -> int:
        """The action id."""
        return self.id


@dataclass(frozen=True, slots=True)
class Rejected:
    """The action was refused; nothing will be executed."""

    kind: RejectionKind
    denial: Denial
    accepted: Literal[False] = False

    def __bool__(self) -> bool:
        return False

    @property
    def code(self) -> str:
        """Stable machine code, e.g. ``AMOUNT_ABOVE_MAX``."""
        return self.denial.code

    @property
    def rule(self) -> str:
        """Path of the policy rule, e.g. ``swap.max_amount.USDC``."""
        return self.denial.rule

    @property
    def detail(self) -> str:
        """``CODE: key=value ...`` detail."""
        return self.denial.detail

    def expect(self) -> int:
        """Raise :class:`~stratbox.ActionRejected`."""
        raise ActionRejected(self)


Verdict = Union[Accepted, Rejected]
