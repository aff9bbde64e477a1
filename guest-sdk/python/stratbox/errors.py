"""Exceptions the SDK raises."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .verdict import Rejected


class StratboxError(Exception):
    """Base class of the SDK's own exceptions."""


class OracleError(StratboxError):
    """An oracle read could not be answered; ``subject`` is what was asked
    for (a market, asset, pool, vault...) as the host described it."""

    def __init__(self, subject: str) -> None:
        super().__init__(subject)
        self.subject = subject


class OracleUnknown(OracleError):
    """The market, pair, pool, lending market or vault is not known to this
    deployment."""

    def __str__(self) -> str:
        return f"unknown to the oracle: {self.subject}"


class OracleUnavailable(OracleError):
    """The data exists but cannot be served now (e.g. not enough history)."""

    def __str__(self) -> str:
        return f"unavailable from the oracle: {self.subject}"


class ActionRejected(StratboxError):
    """Raised by :meth:`Rejected.expect` for authors who prefer exceptions
    to result values; ``rejection`` says who refused and why."""

    def __init__(self, rejection: Rejected) -> None:
        super().__init__(f"{rejection.kind.value}: {rejection.denial.detail} (rule {rejection.denial.rule})")
        self.rejection = rejection


class SandboxError(StratboxError, PermissionError):
    """Something the sandbox does not offer was used: files, sockets,
    operating-system randomness, sleeping, or importing a module after the
    strategy was built. It is a :class:`PermissionError` (an ``OSError``), so
    code that already copes with I/O failures copes with it too."""
