"""TokenAmount: the same accepted syntax, errors and rounding as the Rust
SDK (cases mirror guest-sdk/rust/src/amount.rs)."""

import unittest

from stratbox import MAX_UNITS, AmountError, AmountErrorKind, TokenAmount
from stratbox.amount import check_units

K = AmountErrorKind


def parse(text: str, decimals: int) -> int:
    return TokenAmount.parse(text, decimals).units


class ParseTest(unittest.TestCase):
    def test_accepts(self) -> None:
        cases = [
            ("1.5", 6, 1_500_000), ("0", 6, 0), ("0.0", 6, 0), ("10", 6, 10_000_000), ("007", 0, 7),
            ("0.000001", 6, 1), ("1.500000", 6, 1_500_000), ("1", 18, 10**18),
            ("340282366920938463463374607431768211455", 0, MAX_UNITS),
            ("3.40282366920938463463374607431768211455", 38, MAX_UNITS), ("1", 38, 10**38),
        ]
        for text, decimals, units in cases:
            with self.subTest(text=text, decimals=decimals):
                self.assertEqual(parse(text, decimals), units)

    def test_rejects_in_rust_order(self) -> None:
        cases = [
            ("", 6, AmountError(K.EMPTY)), ("-1", 6, AmountError(K.NEGATIVE)),
            ("+1", 6, AmountError(K.INVALID_CHARACTER, position=0)),
            (" 1", 6, AmountError(K.INVALID_CHARACTER, position=0)),
            ("1 ", 6, AmountError(K.INVALID_CHARACTER, position=1)),
            ("1e6", 6, AmountError(K.INVALID_CHARACTER, position=1)),
            ("1_000", 6, AmountError(K.INVALID_CHARACTER, position=1)),
            ("1.2.3", 6, AmountError(K.INVALID_CHARACTER, position=3)),
            ("1½", 6, AmountError(K.INVALID_CHARACTER, position=1)),
            (".5", 6, AmountError(K.MISSING_DIGIT, position=0)),
            ("1.", 6, AmountError(K.MISSING_DIGIT, position=2)),
            (".", 6, AmountError(K.MISSING_DIGIT, position=0)),
            ("1.5", 0, AmountError(K.TOO_MANY_DECIMALS, max=0)),
            ("0.0000001", 6, AmountError(K.TOO_MANY_DECIMALS, max=6)),
            ("340282366920938463463374607431768211456", 0, AmountError(K.OVERFLOW)),
            ("4", 38, AmountError(K.OVERFLOW)), ("1", 39, AmountError(K.DECIMALS_TOO_LARGE)),
        ]
        for text, decimals, expected in cases:
            with self.subTest(text=text, decimals=decimals):
                with self.assertRaises(AmountError) as caught:
                    TokenAmount.parse(text, decimals)
                self.assertEqual(caught.exception, expected)


class FormatTest(unittest.TestCase):
    def test_canonical(self) -> None:
        show = lambda units, decimals: str(TokenAmount(units, decimals))  # noqa: E731
        self.assertEqual(show(1_500_000, 6), "1.5")
        self.assertEqual(show(0, 6), "0")
        self.assertEqual(show(1, 6), "0.000001")
        self.assertEqual(show(10_000_000, 6), "10")
        self.assertEqual(show(123_456_789, 3), "123456.789")
        self.assertEqual(show(MAX_UNITS, 38), "3.40282366920938463463374607431768211455")

    def test_places_pad_or_cut(self) -> None:
        self.assertEqual(TokenAmount(15, 1).to_decimal_string(2), "1.50")
        self.assertEqual(TokenAmount(1_239, 3).to_decimal_string(2), "1.23")
        self.assertEqual(TokenAmount(7, 0).to_decimal_string(2), "7.00")

    def test_round_trip(self) -> None:
        for units, decimals in [(1_500_000, 6), (1, 18), (MAX_UNITS, 0), (MAX_UNITS, 38)]:
            amount = TokenAmount(units, decimals)
            self.assertEqual(TokenAmount.parse(str(amount), decimals), amount)


class FloatTest(unittest.TestCase):
    def test_from_float_floor(self) -> None:
        conv = lambda v, d: TokenAmount.from_float_floor(v, d).units  # noqa: E731
        self.assertEqual(conv(1.5, 6), 1_500_000)
        self.assertEqual(conv(0.29, 2), 29)
        self.assertEqual(conv(0.1 + 0.2, 1), 3)
        self.assertEqual(conv(1.9999999, 6), 1_999_999)
        self.assertEqual(conv(-0.0, 18), 0)
        self.assertEqual(conv(1e-7, 6), 0)
        self.assertEqual(conv(1e-7, 7), 1)
        self.assertEqual(conv(1e20, 18), 10**38)
        self.assertEqual(conv(2.0**100, 0), 1_267_650_600_228_229_400_000_000_000_000)
        for value, kind in [(float("nan"), K.NOT_FINITE), (float("inf"), K.NOT_FINITE), (-1.0, K.NEGATIVE),
                            (1e21, K.OVERFLOW)]:
            with self.assertRaises(AmountError) as caught:
                TokenAmount.from_float_floor(value, 18)
            self.assertIs(caught.exception.kind, kind)

    def test_to_float(self) -> None:
        self.assertEqual(TokenAmount(1_500_000, 6).to_float(), 1.5)
        self.assertEqual(TokenAmount(1_100_000, 6).to_float(), 1.1)
        self.assertEqual(TokenAmount(10**17, 18).to_float(), 0.1)
        self.assertEqual(TokenAmount(1_234_567_890_123_456_789_012, 18).to_float(), 1_234.567_890_123_457)
        self.assertEqual(TokenAmount(MAX_UNITS, 38).to_float(), 3.402_823_669_209_384_5)


class ArithmeticTest(unittest.TestCase):
    def test_mul_bps(self) -> None:
        a = TokenAmount(1_000_000, 6)
        self.assertEqual(a.mul_bps(2_500).units, 250_000)
        self.assertEqual(TokenAmount(9_999, 0).mul_bps(3).units, 2)
        big = TokenAmount(MAX_UNITS, 18)
        self.assertEqual(big.mul_bps(9_999).units, 340_248_338_684_246_369_617_028_269_971_025_034_633)
        self.assertEqual(big.mul_bps(10_001).units, MAX_UNITS)

    def test_mul_ratio(self) -> None:
        a = TokenAmount(1_000, 6)
        self.assertEqual(a.mul_ratio(2, 3), TokenAmount(666, 6))
        self.assertIsNone(a.mul_ratio(1, 0))
        self.assertIsNone(TokenAmount(MAX_UNITS, 0).mul_ratio(2, 1))
        self.assertEqual(
            TokenAmount(MAX_UNITS, 0).mul_ratio(10**30 + 7, 10**30 + 11),
            TokenAmount(340_282_366_920_938_463_463_374_607_430_407_081_987, 0),
        )


class BoundaryTest(unittest.TestCase):
    def test_amounts_must_be_exact_integers_in_range(self) -> None:
        self.assertEqual(check_units(5), 5)
        self.assertEqual(check_units(TokenAmount(7, 2)), 7)
        for bad in (1.5, True, "5", None):
            with self.assertRaises(TypeError):
                check_units(bad)
        with self.assertRaises(AmountError):
            check_units(-1)
        with self.assertRaises(AmountError):
            check_units(MAX_UNITS + 1)


if __name__ == "__main__":
    unittest.main()
