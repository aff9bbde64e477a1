"""Glue between the component's exports and a :class:`~stratbox.Strategy`
subclass. The module componentize-py wraps (``stratbox_component``) calls
:func:`exports_for` when the component is built."""

from __future__ import annotations

import importlib
import json
import sys
import traceback
from types import ModuleType, TracebackType
from typing import Any, Callable, Optional, TypeVar

from componentize_py_types import Err

from . import _wasm, sandbox
from .context import Context
from .strategy import Strategy
from .types import Level

BUILD_ERROR_PREFIX = "stratbox-build-error: "
"""Prefix of the one JSON line that tells the builder why a build failed."""

_MESSAGE_CHARS = 600

T = TypeVar("T")


def _report(kind: str, **fields: Any) -> None:
    line = json.dumps({"kind": kind, **fields})
    sys.stderr.write(f"{BUILD_ERROR_PREFIX}{line}\n")
    sys.stderr.flush()


def _frames(tb: Optional[TracebackType]) -> list[dict[str, Any]]:
    summary = traceback.StackSummary.extract(traceback.walk_tb(tb), lookup_lines=False)
    return [{"file": frame.filename, "line": frame.lineno, "function": frame.name} for frame in summary]


def _short(text: str) -> str:
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 3] + "..."


def _import_strategy_module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except SyntaxError as error:
        _report("syntax", file=error.filename, line=error.lineno, column=error.offset, message=_short(str(error.msg)))
        raise
    except ImportError as error:
        # `import x.y` names the missing module; `from x import y` names the
        # module and, since Python 3.12, the missing name.
        module = error.name
        name_from = getattr(error, "name_from", None)
        if module and name_from:
            module = f"{module}.{name_from}"
        _report(
            "module-not-found",
            module=module,
            message=_short(str(error)),
            frames=_frames(error.__traceback__),
        )
        raise
    except BaseException as error:
        _report(
            "exception",
            exception=type(error).__name__,
            message=_short(str(error)),
            frames=_frames(error.__traceback__),
        )
        raise


def _find_strategy_class(module: ModuleType) -> type[Strategy]:
    defined = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Strategy)
        and value is not Strategy
        and value.__module__ == module.__name__
    ]
    marked = [cls for cls in defined if cls.__dict__.get("__stratbox_export__")]
    candidates = marked or defined
    if len(candidates) == 1:
        return candidates[0]
    file = getattr(module, "__file__", None)
    if not candidates:
        _report("no-strategy", file=file)
        raise TypeError(f"{file} defines no subclass of stratbox.Strategy")
    names = sorted(cls.__name__ for cls in candidates)
    _report("ambiguous-strategy", file=file, classes=names)
    raise TypeError(f"{file} defines several strategies ({', '.join(names)}); mark one with @stratbox.export")


def exports_for(module_name: str) -> type:
    """Import the strategy module and return the class componentize-py
    exports as ``stratbox:strategy/strategy``. Build errors are reported on
    stderr as one ``stratbox-build-error:`` JSON line, then re-raised."""
    sandbox.install()
    runner = _Runner(_find_strategy_class(_import_strategy_module(module_name)))

    class Exports(_Exports):
        # componentize-py makes one instance per exported function: the
        # strategy lives in the runner they share.
        _runner = runner

    return Exports


def _location(tb: Optional[TracebackType]) -> str:
    frames = traceback.StackSummary.extract(traceback.walk_tb(tb), lookup_lines=False)
    if not frames:
        return ""
    last = frames[-1]
    return f"{_display_path(last.filename)}:{last.lineno} in {last.name}"


def _display_path(guest_path: str) -> str:
    # Sources are mounted at /<n>/ while building; show the path inside the
    # strategy (or SDK) directory.
    parts = guest_path.split("/", 2)
    if len(parts) == 3 and parts[0] == "" and parts[1].isdigit():
        return parts[2]
    return guest_path


class _Runner:
    """The strategy instance and its context, shared by every export."""

    def __init__(self, strategy_type: type[Strategy]) -> None:
        self.strategy_type = strategy_type
        self.host = _wasm.WasmHost()
        self.ctx = Context(self.host)
        self.strategy: Optional[Strategy] = None
        self.deployment_id = ""
        self.last_error = ""

    def run(self, call: str, seed_key: str, now_ms: Optional[int], body: Callable[[], T]) -> T:
        sandbox.begin_call(seed_key, now_ms)
        try:
            return body()
        except Err:
            raise
        except BaseException as error:  # noqa: BLE001 - every failure becomes the guest's error
            raise Err(self.describe(call, error)) from None
        finally:
            sandbox.end_call()

    def describe(self, call: str, error: BaseException) -> str:
        """Log the failure with a compact traceback; return the message the
        host reports."""
        where = _location(error.__traceback__)
        message = f"{type(error).__name__}: {error}"
        if where:
            message = f"{message} (at {where})"
        message = _short(message)
        frames = traceback.StackSummary.extract(traceback.walk_tb(error.__traceback__), lookup_lines=False)
        trail = " > ".join(f"{_display_path(f.filename)}:{f.lineno} {f.name}" for f in frames[-8:])
        self.host.log(Level.ERROR, _short(f"{call} failed: {message}; traceback: {trail}"))
        return message

    def strategy_or_fail(self) -> Strategy:
        if self.strategy is None:
            raise RuntimeError("strategy called before init")
        return self.strategy


class _Exports:
    """The ``stratbox:strategy/strategy`` interface."""

    _runner: _Runner

    def init(self, config: str) -> None:
        """``init`` export."""
        runner = self._runner
        host = runner.host
        sandbox.activate(host.log, lambda: host.block().timestamp_ms)
        if not runner.deployment_id:
            runner.deployment_id = host.deployment().id

        def body() -> None:
            parsed = json.loads(config) if config.strip() else {}
            strategy = runner.strategy_type()
            strategy.init(parsed, runner.ctx)
            runner.strategy = strategy

        runner.run("init", f"{runner.deployment_id}:init", None, body)

    def on_tick(self, ctx: Any) -> None:
        """``on-tick`` export. Its error carries no payload: the message
        waits for ``last-error``."""
        runner = self._runner
        tick = _wasm.tick_context(ctx)
        seed = f"{runner.deployment_id}:tick:{tick.sequence}"
        try:
            runner.run(
                "on_tick", seed, tick.block.timestamp_ms, lambda: runner.strategy_or_fail().on_tick(runner.ctx, tick)
            )
        except Err as error:
            runner.last_error = error.value if isinstance(error.value, str) else repr(error.value)
            raise Err(None) from None

    def last_error(self) -> str:
        """``last-error`` export: why the last ``on-tick`` failed."""
        runner = self._runner
        message, runner.last_error = runner.last_error, ""
        return message

    def on_action_result(self, id: int, outcome: Any) -> None:
        """``on-action-result`` export."""
        runner = self._runner
        result = _wasm.outcome(outcome)
        runner.run(
            "on_action_result",
            f"{runner.deployment_id}:action:{id}",
            None,
            lambda: runner.strategy_or_fail().on_action_result(runner.ctx, id, result),
        )

    def snapshot(self) -> bytes:
        """``snapshot`` export. The interface has no error case: a failure
        is logged and traps, and the host keeps the previous snapshot."""
        runner = self._runner
        sandbox.begin_call(f"{runner.deployment_id}:snapshot", None)
        try:
            return bytes(runner.strategy_or_fail().snapshot())
        except BaseException as error:  # noqa: BLE001
            message = runner.describe("snapshot", error)
        finally:
            sandbox.end_call()
        raise RuntimeError(f"snapshot failed: {message}")

    def restore(self, state: bytes) -> None:
        """``restore`` export."""
        runner = self._runner
        runner.run(
            "restore",
            f"{runner.deployment_id}:restore",
            None,
            lambda: runner.strategy_or_fail().restore(bytes(state)),
        )
