"""Determinism shims for strategies running in the sandbox.

The component is built with ``componentize-py --stub-wasi``: every WASI call
(clock, randomness, files, sockets, stdout) traps. These shims make the
standard library behave deterministically instead, inside the guest, without
widening the host interface:

- ``print`` (``sys.stdout``) and ``sys.stderr`` go to the host log (info and
  warn), one log line per text line; the ``logging`` module's root logger
  logs to the host at its own levels (``INFO`` and above by default).
- ``time.time()`` and friends return the current tick's block timestamp;
  ``datetime.datetime.now()`` and ``date.today()`` too (UTC).
  ``time.sleep`` raises :class:`~stratbox.SandboxError`.
- ``random`` is reseeded at each callback from the deployment id and the
  callback (tick sequence, action id), so its numbers survive rollbacks
  and restarts; ``random.Random()`` without a seed is seeded the same way.
- ``os.urandom``, ``random.SystemRandom``, ``secrets``, ``open``, ``os``
  file functions, ``input`` and sockets raise
  :class:`~stratbox.SandboxError` (a ``PermissionError``).
- importing a module that was not imported when the strategy was built
  raises ``ModuleNotFoundError`` naming the module (the sandbox has no file
  system; import what you need at the top of your module).

``hash()`` of ``str``/``bytes`` is deterministic without help: the hash
secret is drawn once when the component is built and baked into it.

The shims are installed when the SDK is imported at build time but stay
inert (delegating to the real functions) until :func:`activate` runs at the
first call from the host, so building still has its file system.
"""

from __future__ import annotations

import builtins
import datetime as _datetime
import importlib.machinery
import io
import linecache
import logging
import os
import random
import sys
import time
from typing import Any, Callable, Optional

from .errors import SandboxError
from .types import Level

_LOG_LINE_BYTES = 1024
"""Longest log line the shims emit (the host bounds log bytes per tick)."""


class _Clock:
    """The current callback's time and randomness seed."""

    active = False
    now_ms: Optional[int] = None
    block_reader: Optional[Callable[[], int]] = None
    seed_key: Optional[str] = None
    seed_pending = False
    unseeded_instances = 0


_clock = _Clock()
_log: Optional[Callable[[Level, str], None]] = None


def _now_ms() -> int:
    if _clock.now_ms is None:
        reader = _clock.block_reader
        _clock.now_ms = reader() if reader is not None else 0
    return _clock.now_ms


def activate(log: Callable[[Level, str], None], block_timestamp_ms: Callable[[], int]) -> None:
    """Switch the shims on: from now on the process is inside the sandbox.
    Called once, by the export glue, at the first call from the host."""
    global _log
    if _clock.active:
        return
    _log = log
    _clock.block_reader = block_timestamp_ms
    _clock.active = True
    sys.stdout = _HostLogStream(Level.INFO)
    sys.stderr = _HostLogStream(Level.WARN)
    _route_logging()
    _block_imports()
    _no_source_lines()


def begin_call(seed_key: str, now_ms: Optional[int] = None) -> None:
    """A callback starts: ``time`` reads ``now_ms`` (or, if ``None``, the
    block from the oracle when first asked) and ``random`` will be reseeded
    from ``seed_key`` before its first use."""
    _clock.now_ms = now_ms
    _clock.seed_key = seed_key
    _clock.seed_pending = True
    _clock.unseeded_instances = 0


def end_call() -> None:
    """A callback ends: flush partial lines written to stdout/stderr."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, _HostLogStream):
            stream.flush()


def _forbidden(what: str, why: str) -> SandboxError:
    return SandboxError(f"{what} is not available in the stratbox sandbox: {why}")


# stdout, stderr and logging ---------------------------------------------------


def _emit(level: Level, text: str) -> None:
    if _log is None:
        return
    encoded = text.encode("utf-8")
    if len(encoded) > _LOG_LINE_BYTES:
        text = encoded[: _LOG_LINE_BYTES - 3].decode("utf-8", "ignore") + "..."
    _log(level, text)


class _HostLogStream(io.TextIOBase):
    """A text stream whose lines become host log lines."""

    def __init__(self, level: Level) -> None:
        super().__init__()
        self._level = level
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        lines = (self._pending + text).split("\n")
        self._pending = lines.pop()
        for line in lines:
            _emit(self._level, line)
        return len(text)

    def flush(self) -> None:
        if self._pending:
            line, self._pending = self._pending, ""
            _emit(self._level, line)


class HostLogHandler(logging.Handler):
    """A ``logging`` handler that sends records to the host log."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
        except Exception:  # noqa: BLE001 - a bad format string must not fail the tick
            message = f"{record.msg!r} (unformattable log record)"
        _emit(_level_of(record.levelno), message)


def _level_of(levelno: int) -> Level:
    if levelno >= logging.ERROR:
        return Level.ERROR
    if levelno >= logging.WARNING:
        return Level.WARN
    if levelno >= logging.INFO:
        return Level.INFO
    if levelno >= logging.DEBUG:
        return Level.DEBUG
    return Level.TRACE


def _route_logging() -> None:
    # Record fields that would ask the OS for process or thread details.
    logging.logProcesses = False
    logging.logThreads = False
    logging.logMultiprocessing = False
    if hasattr(logging, "logAsyncioTasks"):
        logging.logAsyncioTasks = False
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    # Handlers configured at build time write to the build's stdout/stderr;
    # they are replaced by host handlers keeping their level and format.
    for logger in loggers:
        for index, handler in enumerate(list(logger.handlers)):
            if type(handler) is logging.StreamHandler:
                replacement = HostLogHandler(handler.level)
                replacement.setFormatter(handler.formatter)
                logger.handlers[index] = replacement
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(HostLogHandler())
        root.setLevel(logging.INFO)
    logging.lastResort = HostLogHandler(logging.WARNING)


# Imports ----------------------------------------------------------------------


class _NoFileSystemFinder:
    """Stands in for the path-based finder, which would touch files."""

    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> None:
        raise ModuleNotFoundError(
            f"module {name!r} is not available in the stratbox sandbox: only modules imported when the "
            "strategy was built exist (import it at the top of your module)",
            name=name,
        )

    @staticmethod
    def invalidate_caches() -> None:
        """Nothing is cached."""


def _block_imports() -> None:
    sys.meta_path[:] = [
        finder if finder is not importlib.machinery.PathFinder else _NoFileSystemFinder
        for finder in sys.meta_path
    ]
    if _NoFileSystemFinder not in sys.meta_path:
        sys.meta_path.append(_NoFileSystemFinder)  # type: ignore[arg-type]
    sys.path_importer_cache.clear()


def _no_source_lines() -> None:
    """Tracebacks (``logging.exception``, warnings) look up source lines
    through ``linecache``, whose loaders read files below the shims: there
    are no source files in the sandbox, so there are no lines."""
    setattr(linecache, "updatecache", lambda filename, module_globals=None: [])
    setattr(linecache, "lazycache", lambda filename, module_globals: False)
    setattr(linecache, "checkcache", lambda filename=None: None)


# Patches installed at import time, inert until activate() ----------------------


def _patch(owner: Any, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    original = getattr(owner, name, None)
    if original is None:
        return
    replacement = make(original)
    replacement.__name__ = getattr(original, "__name__", name)
    replacement.__doc__ = getattr(original, "__doc__", None)
    setattr(owner, name, replacement)


def _refuse(what: str, why: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            if _clock.active:
                raise _forbidden(what, why)
            return original(*args, **kwargs)

        return refuse

    return make


def _clocked(convert: Callable[[int], Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def now(*args: Any, **kwargs: Any) -> Any:
            if _clock.active:
                return convert(_now_ms())
            return original(*args, **kwargs)

        return now

    return make


def _with_default_time(original: Callable[..., Any]) -> Callable[..., Any]:
    """``gmtime()``, ``localtime()``, ``ctime()`` without an argument read
    the C clock; in the sandbox they read the tick's time, in UTC."""

    def at(secs: Optional[float] = None) -> Any:
        if _clock.active:
            return original(_now_ms() / 1000.0 if secs is None else secs)
        return original(secs)

    return at


def _install_time() -> None:
    for name in ("time", "monotonic", "perf_counter", "process_time", "thread_time"):
        _patch(time, name, _clocked(lambda ms: ms / 1000.0))
    for name in ("time_ns", "monotonic_ns", "perf_counter_ns", "process_time_ns", "thread_time_ns"):
        _patch(time, name, _clocked(lambda ms: ms * 1_000_000))
    gmtime, localtime = time.gmtime, time.localtime

    def local(secs: Optional[float] = None) -> Any:
        # No time zones in the sandbox: local time is UTC.
        if _clock.active:
            return gmtime(_now_ms() / 1000.0 if secs is None else secs)
        return localtime(secs)

    _patch(time, "gmtime", _with_default_time)
    _patch(time, "localtime", lambda _original: local)
    _patch(time, "ctime", _with_default_time)

    original_asctime, original_strftime = time.asctime, time.strftime

    def asctime(t: Any = None) -> str:
        if t is None and _clock.active:
            t = time.gmtime()
        return original_asctime() if t is None else original_asctime(t)

    def strftime(format: str, t: Any = None) -> str:
        if t is None and _clock.active:
            t = time.gmtime()
        return original_strftime(format) if t is None else original_strftime(format, t)

    time.asctime = asctime
    time.strftime = strftime
    _patch(time, "sleep", _refuse("time.sleep", "a tick cannot wait; act on the next tick instead"))


def _install_datetime() -> None:
    base_datetime, base_date = _datetime.datetime, _datetime.date
    utc = _datetime.timezone.utc

    class datetime(base_datetime):  # noqa: N801 - stands in for the stdlib class
        @classmethod
        def now(cls, tz: Optional[_datetime.tzinfo] = None) -> Any:
            if not _clock.active:
                return super().now(tz)
            moment = cls.fromtimestamp(_now_ms() / 1000.0, utc)
            return moment.replace(tzinfo=None) if tz is None else moment.astimezone(tz)

        @classmethod
        def utcnow(cls) -> Any:
            if not _clock.active:
                return base_datetime.now(utc).replace(tzinfo=None)
            return cls.now()

        @classmethod
        def today(cls) -> Any:
            return cls.now()

    class date(base_date):  # noqa: N801 - stands in for the stdlib class
        @classmethod
        def today(cls) -> Any:
            if not _clock.active:
                return super().today()
            return datetime.now().date()

    datetime.__module__ = date.__module__ = "datetime"
    datetime.__qualname__, date.__qualname__ = "datetime", "date"
    setattr(_datetime, "datetime", datetime)
    setattr(_datetime, "date", date)


_RANDOM_FUNCTIONS = (
    "random", "uniform", "triangular", "randint", "choice", "randrange", "sample", "shuffle",
    "choices", "normalvariate", "lognormvariate", "expovariate", "vonmisesvariate", "gammavariate",
    "gauss", "betavariate", "binomialvariate", "paretovariate", "weibullvariate", "getstate",
    "getrandbits", "randbytes",
)


def _install_random() -> None:
    generator = random._inst  # type: ignore[attr-defined]
    original_seed = random.Random.seed

    def reseed_if_pending() -> None:
        if _clock.active and _clock.seed_pending:
            _clock.seed_pending = False
            original_seed(generator, _clock.seed_key)

    def seeding(original: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            reseed_if_pending()
            return original(*args, **kwargs)

        return call

    for name in _RANDOM_FUNCTIONS:
        _patch(random, name, seeding)

    def seed(self: random.Random, a: Any = None, version: int = 2) -> None:
        if a is None and _clock.active:
            if self is generator:
                _clock.seed_pending = False
                a = _clock.seed_key
            else:
                # `random.Random()` seeds itself from the OS; here from the
                # callback's key and how many such generators came before.
                _clock.unseeded_instances += 1
                a = f"{_clock.seed_key}/instance/{_clock.unseeded_instances}"
        elif self is generator:
            _clock.seed_pending = False
        original_seed(self, a, version)

    def setstate(original: Callable[..., Any]) -> Callable[..., Any]:
        def call(state: Any) -> None:
            _clock.seed_pending = False
            original(state)

        return call

    random.Random.seed = seed  # type: ignore[method-assign]
    random.seed = generator.seed
    _patch(random, "setstate", setstate)
    urandom_refusal = _refuse("os.urandom", "randomness must be reproducible; use `random`, seeded per deployment")
    _patch(random, "_urandom", urandom_refusal)


def _install_os() -> None:
    no_randomness = "randomness must be reproducible; use `random`, seeded per deployment"
    for name in ("urandom", "getrandom"):
        _patch(os, name, _refuse(f"os.{name}", no_randomness))
    no_files = "strategies have no file system; read data through the oracle and keep state in `self.state`"
    for name in (
        "open", "listdir", "scandir", "stat", "lstat", "mkdir", "makedirs", "remove", "unlink", "rename",
        "replace", "rmdir", "removedirs", "chdir", "getcwd", "access", "chmod", "utime", "truncate",
        "symlink", "link", "readlink", "walk", "fwalk",
    ):
        _patch(os, name, _refuse(f"os.{name}", no_files))
    _patch(builtins, "open", _refuse("open", no_files))
    _patch(io, "open", _refuse("io.open", no_files))
    _patch(builtins, "input", _refuse("input", "strategies have no standard input"))


def _install_socket() -> None:
    try:
        import socket
    except ImportError:
        # Not built into this interpreter: `import socket` then fails with a
        # ModuleNotFoundError in the sandbox, which is clear enough.
        return
    no_network = "strategies have no network; read data through the oracle"
    _patch(socket.socket, "__init__", _refuse("socket.socket", no_network))
    for name in ("create_connection", "create_server", "getaddrinfo", "gethostbyname", "gethostbyname_ex",
                 "gethostbyaddr", "socketpair", "fromfd", "getfqdn"):
        _patch(socket, name, _refuse(f"socket.{name}", no_network))


def install() -> None:
    """Install the (still inert) shims. Idempotent."""
    if getattr(sys, "_stratbox_shims", False):
        return
    _install_time()
    _install_datetime()
    _install_random()
    _install_os()
    _install_socket()
    setattr(sys, "_stratbox_shims", True)
