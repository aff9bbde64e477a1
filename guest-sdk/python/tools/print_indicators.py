"""Print the SDK's indicators over the first N candles of a CSV tape, one
line per candle, in the format of the ``parity`` probe: SMA(20) EMA(20)
RSI(14) Bollinger(20, 2) lower/middle/upper and ATR(14), each as ``repr``
(exact) or ``-`` before warm-up.

Usage: python tools/print_indicators.py <tape.csv> <count>
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stratbox.indicators import Atr, Bollinger, Ema, Rsi, Sma  # noqa: E402


def show(value: Optional[Any]) -> str:
    return "-" if value is None else repr(value)


def main(path: str, count: int) -> None:
    sma, ema, rsi, bands, atr = Sma(20), Ema(20), Rsi(14), Bollinger(20, 2.0), Atr(14)
    with open(path, newline="") as file:
        rows = csv.DictReader(file)
        for n, row in enumerate(rows):
            if n >= count:
                break
            high, low, close = float(row["high"]), float(row["low"]), float(row["close"])
            b = bands.update(close)
            print(
                "parity",
                show(sma.update(close)),
                show(ema.update(close)),
                show(rsi.update(close)),
                show(None if b is None else b.lower),
                show(None if b is None else b.middle),
                show(None if b is None else b.upper),
                show(atr.update(high, low, close)),
            )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
