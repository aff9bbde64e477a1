"""Indicators against hand-computed values (the Rust SDK's cases); parity
with the Rust SDK on real candles is tested from Rust
(tests/python/tests/all/sdk_parity.rs)."""

import math
import unittest

from stratbox import indicators
from stratbox.indicators import Atr, Bollinger, BollingerBands, Ema, Rsi, Sma


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9


class IndicatorTest(unittest.TestCase):
    def test_sma(self) -> None:
        self.assertEqual(indicators.sma([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 3), [None, None, 2.0, 3.0, 4.0, 5.0])
        sma = Sma(2)
        for x in (1e16, 0.1, 0.2):
            sma.update(x)
        self.assertEqual(sma.update(0.3), (0.2 + 0.3) / 2.0)

    def test_ema(self) -> None:
        self.assertEqual(indicators.ema([2.0, 4.0, 6.0, 8.0, 3.0, 4.5], 3), [None, None, 4.0, 6.0, 4.5, 4.5])
        out = indicators.ema([1.0, 3.0, 2.0, 6.0, 5.0, 4.0, 8.0], 4)
        for got, want in zip(out[3:], [3.0, 3.8, 3.88, 5.528]):
            self.assertTrue(close(got, want), (got, want))
        self.assertEqual(Ema(3).alpha, 0.5)

    def test_rsi(self) -> None:
        out = indicators.rsi([10.0, 12.0, 11.0, 14.0, 13.0, 15.0], 3)
        self.assertEqual(out[:3], [None, None, None])
        for got, want in zip(out[3:], [250.0 / 3.0, 200.0 / 3.0, 475.0 / 6.0]):
            self.assertTrue(close(got, want), (got, want))
        self.assertEqual(indicators.rsi([1.0, 2.0, 1.5, 1.5], 1), [None, 100.0, 0.0, 50.0])
        self.assertEqual(indicators.rsi([5.0] * 10, 3)[9], 50.0)

    def test_bollinger(self) -> None:
        out = indicators.bollinger([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], 8, 2.0)
        self.assertEqual(out[-1], BollingerBands(1.0, 5.0, 9.0))
        bands = Bollinger(8, 2.0)
        for x in (2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0):
            bands.update(x)
        b = bands.update(10.0)
        assert b is not None
        self.assertTrue(close(b.middle, 6.0) and close(b.upper, 6.0 + 2.0 * math.sqrt(5.0)))
        with self.assertRaises(ValueError):
            Bollinger(20, -1.0)

    def test_atr(self) -> None:
        out = indicators.atr([10.0, 12.0, 11.5, 13.0, 12.0], [8.0, 9.5, 10.0, 12.0, 9.0],
                             [9.0, 11.0, 10.5, 12.5, 9.5], 3)
        self.assertEqual(out[:2], [None, None])
        for got, want in zip(out[2:], [13.0 / 6.0, 41.0 / 18.0, 145.0 / 54.0]):
            self.assertTrue(close(got, want), (got, want))
        with self.assertRaises(ValueError):
            indicators.atr([1.0], [1.0, 2.0], [1.0], 1)

    def test_zero_periods_are_refused(self) -> None:
        for make in (lambda: Sma(0), lambda: Ema(0), lambda: Rsi(0), lambda: Atr(0), lambda: Bollinger(0, 2.0)):
            with self.assertRaises(ValueError):
                make()


if __name__ == "__main__":
    unittest.main()
