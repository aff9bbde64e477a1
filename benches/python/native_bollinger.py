"""The Bollinger example run by native CPython against the SDK's stub host,
to compare with the same file in the sandbox (benches/benches/python.rs and
`stratbox bench`).

Each tick is what the runtime does per tick: ``on_tick`` with one candle,
then a snapshot every ``snapshot_every`` ticks (default: every tick, like a
deployment committing every tick). Prints one line: ``native-cpython <µs
per tick> <ticks> <python version>``.

Usage: python benches/python/native_bollinger.py <repo root> <ticks> [snapshot_every]
"""

from __future__ import annotations

import csv
import importlib.util
import sys
import time
from pathlib import Path


def main(root: Path, ticks: int, snapshot_every: int) -> None:
    sys.path.insert(0, str(root / "guest-sdk/python"))
    from stratbox import BlockInfo, Candle, MarketCandle, TickContext
    from stratbox.testing import NativeRunner, StubHost

    spec = importlib.util.spec_from_file_location("strategy", root / "strategies/python/bollinger/strategy.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    with open(root / "data/ETH_BTC-5m.csv", newline="") as file:
        candles = [
            Candle(int(r["timestamp_ms"]), float(r["open"]), float(r["high"]), float(r["low"]),
                   float(r["close"]), float(r["volume"]))
            for r in csv.DictReader(file)
        ]
    inputs = [
        TickContext(n, BlockInfo(0, n, c.timestamp_ms), [MarketCandle("ETH/BTC", c)])
        for n, c in enumerate(candles[i % len(candles)] for i in range(ticks))
    ]
    runner = NativeRunner(module.BollingerReversion(), StubHost(), {"cooldown_ms": 0})
    for tick in inputs[: ticks // 10]:
        runner.tick(tick)
    started = time.perf_counter()
    if snapshot_every == 1:
        for tick in inputs:
            runner.tick(tick)
    else:
        # NativeRunner.tick without the snapshot, which is taken every
        # `snapshot_every` ticks instead.
        strategy, ctx, host = runner.strategy, runner.ctx, runner.host
        for n, tick in enumerate(inputs, start=1):
            host.current_block = tick.block
            strategy.on_tick(ctx, tick)
            if n % snapshot_every == 0:
                runner.last_snapshot = strategy.snapshot()
    elapsed = time.perf_counter() - started
    version = ".".join(str(v) for v in sys.version_info[:3])
    print(f"native-cpython {elapsed / ticks * 1e6:.2f} {ticks} {version}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1)
