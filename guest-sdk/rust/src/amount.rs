//! Exact token amounts.
//!
//! Everything that can reach a chain is an unsigned integer in the token's
//! base units. [`Amount`] is the WIT representation of such an integer (two
//! `u64` halves); [`TokenAmount`] pairs the integer with the token's number of
//! decimals so it can be parsed from and printed as a human decimal string.
//!
//! Arithmetic here is exact integer arithmetic that rounds down (toward
//! zero) where it has to round. The only floating-point entry points are
//! [`TokenAmount::from_f64_floor`] and [`TokenAmount::to_f64`], meant for
//! sizing decisions, not accounting.

use std::fmt::{self, Write as _};

use serde::{Deserialize, Serialize};

use crate::types::Amount;

/// The largest number of decimals for which one whole token (`10^decimals`
/// base units) still fits in a `u128`.
const MAX_DECIMALS: u8 = 38;

impl Amount {
    /// Zero.
    pub const ZERO: Amount = Amount { hi: 0, lo: 0 };

    /// Splits a `u128` into the two WIT halves.
    pub const fn from_u128(v: u128) -> Amount {
        Amount {
            hi: (v >> 64) as u64,
            lo: v as u64,
        }
    }

    /// Joins the two WIT halves into a `u128`.
    pub const fn to_u128(self) -> u128 {
        ((self.hi as u128) << 64) | self.lo as u128
    }

    /// Whether the amount is zero.
    pub const fn is_zero(self) -> bool {
        self.hi == 0 && self.lo == 0
    }
}

impl From<u128> for Amount {
    fn from(v: u128) -> Self {
        Amount::from_u128(v)
    }
}

impl From<u64> for Amount {
    fn from(v: u64) -> Self {
        Amount { hi: 0, lo: v }
    }
}

impl From<Amount> for u128 {
    fn from(v: Amount) -> Self {
        v.to_u128()
    }
}

/// Prints the amount as a decimal integer in base units.
impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_u128(), f)
    }
}

/// Why an amount could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmountError {
    /// The text was empty.
    Empty,
    /// The text started with a minus sign, or the number was negative.
    Negative,
    /// A character that is not an ASCII digit (or a misplaced `.`) at this
    /// byte offset of the text.
    InvalidCharacter {
        /// Byte offset of the offending character.
        position: usize,
    },
    /// A digit was expected at this byte offset (before or after the `.`),
    /// as in `".5"` or `"1."`.
    MissingDigit {
        /// Byte offset where a digit was expected.
        position: usize,
    },
    /// More fractional digits than the token has decimals.
    TooManyDecimals {
        /// The token's number of decimals.
        max: u8,
    },
    /// The value does not fit in 128 bits of base units.
    Overflow,
    /// The floating-point value was NaN or infinite.
    NotFinite,
    /// More than 38 decimals: one whole token would not fit in 128 bits.
    DecimalsTooLarge,
}

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AmountError::Empty => f.write_str("empty amount"),
            AmountError::Negative => f.write_str("amount is negative"),
            AmountError::InvalidCharacter { position } => {
                write!(f, "invalid character at byte {position} of amount")
            }
            AmountError::MissingDigit { position } => {
                write!(f, "expected a digit at byte {position} of amount")
            }
            AmountError::TooManyDecimals { max } => {
                write!(f, "amount has more than {max} fractional digits")
            }
            AmountError::Overflow => f.write_str("amount does not fit in 128 bits"),
            AmountError::NotFinite => f.write_str("amount is not a finite number"),
            AmountError::DecimalsTooLarge => {
                write!(f, "token decimals above {MAX_DECIMALS} are not supported")
            }
        }
    }
}

impl std::error::Error for AmountError {}

/// An exact amount of a token: an integer number of base units plus the
/// token's number of decimals (e.g. 6 for USDC, 18 for ETH).
///
/// Equality compares both fields, so `1.5` with 6 decimals is not equal to
/// `1.5` with 18 decimals. There is deliberately no ordering: comparing
/// amounts with different decimals is meaningless, so compare
/// [`units`](Self::units) after checking [`decimals`](Self::decimals).
///
/// Serialized as `{"units": <integer>, "decimals": <integer>}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TokenAmount {
    units: u128,
    decimals: u8,
}

impl TokenAmount {
    /// An amount of `units` base units of a token with `decimals` decimals.
    ///
    /// Any `decimals` is accepted here; [`parse`](Self::parse) and
    /// [`from_f64_floor`](Self::from_f64_floor) reject more than 38.
    pub const fn new(units: u128, decimals: u8) -> Self {
        TokenAmount { units, decimals }
    }

    /// An [`Amount`] (e.g. a balance from the oracle) of a token with
    /// `decimals` decimals.
    pub const fn from_amount(amount: Amount, decimals: u8) -> Self {
        TokenAmount::new(amount.to_u128(), decimals)
    }

    /// The amount in base units.
    pub const fn units(self) -> u128 {
        self.units
    }

    /// The token's number of decimals.
    pub const fn decimals(self) -> u8 {
        self.decimals
    }

    /// The amount in base units, as the WIT type.
    pub const fn to_amount(self) -> Amount {
        Amount::from_u128(self.units)
    }

    /// Whether the amount is zero.
    pub const fn is_zero(self) -> bool {
        self.units == 0
    }

    /// Parses a decimal string exactly: `"1.5"` with 6 decimals is
    /// 1 500 000 units.
    ///
    /// Accepted: ASCII digits with an optional `.` followed by at least one
    /// digit (`"0"`, `"10"`, `"007"`, `"1.5"`, `"1.500000"`). Rejected:
    /// empty text, signs, whitespace, exponents, `_` separators, a missing
    /// integer or fractional part (`".5"`, `"1."`), more fractional digits
    /// than `decimals` (even trailing zeros; nothing is ever rounded), values
    /// above `u128::MAX` units, and `decimals` above 38.
    ///
    /// Errors are reported in this order of precedence: decimals, emptiness,
    /// sign, the first bad character, then the digit count, then overflow.
    pub fn parse(text: &str, decimals: u8) -> Result<Self, AmountError> {
        if decimals > MAX_DECIMALS {
            return Err(AmountError::DecimalsTooLarge);
        }
        if text.is_empty() {
            return Err(AmountError::Empty);
        }
        if text.starts_with('-') {
            return Err(AmountError::Negative);
        }
        let bytes = text.as_bytes();
        let mut dot = None;
        for (position, &b) in bytes.iter().enumerate() {
            match b {
                b'0'..=b'9' => {}
                b'.' if dot.is_none() => dot = Some(position),
                _ => return Err(AmountError::InvalidCharacter { position }),
            }
        }
        let (int_digits, frac_digits) = match dot {
            None => (bytes, &bytes[bytes.len()..]),
            Some(position) => (&bytes[..position], &bytes[position + 1..]),
        };
        if int_digits.is_empty() {
            return Err(AmountError::MissingDigit { position: 0 });
        }
        if dot.is_some() && frac_digits.is_empty() {
            return Err(AmountError::MissingDigit {
                position: bytes.len(),
            });
        }
        if frac_digits.len() > usize::from(decimals) {
            return Err(AmountError::TooManyDecimals { max: decimals });
        }
        let mut units: u128 = 0;
        for &b in int_digits.iter().chain(frac_digits) {
            units = units
                .checked_mul(10)
                .and_then(|u| u.checked_add(u128::from(b - b'0')))
                .ok_or(AmountError::Overflow)?;
        }
        // `frac_digits.len() <= decimals <= 38`, so the power fits in u128.
        let missing = u32::from(decimals) - frac_digits.len() as u32;
        units = units
            .checked_mul(10u128.pow(missing))
            .ok_or(AmountError::Overflow)?;
        Ok(TokenAmount { units, decimals })
    }

    /// Converts a non-negative float to an amount, rounding toward zero.
    ///
    /// The float is first written as the shortest decimal string that reads
    /// back as the same `f64` (what `format!("{value}")` prints), and that
    /// decimal is truncated to `decimals` fractional digits. So `0.29` with 2
    /// decimals is 29 units, although the nearest `f64` to 0.29 is slightly
    /// below it. `-0.0` is zero.
    ///
    /// This is for sizing decisions ("spend 30% of the balance"), not for
    /// accounting: keep balances and fills as exact [`TokenAmount`]s.
    ///
    /// Errors: [`NotFinite`](AmountError::NotFinite) for NaN and infinities,
    /// [`Negative`](AmountError::Negative) for values below zero,
    /// [`Overflow`](AmountError::Overflow) above `u128::MAX` units,
    /// [`DecimalsTooLarge`](AmountError::DecimalsTooLarge) above 38 decimals.
    pub fn from_f64_floor(value: f64, decimals: u8) -> Result<Self, AmountError> {
        if decimals > MAX_DECIMALS {
            return Err(AmountError::DecimalsTooLarge);
        }
        if !value.is_finite() {
            return Err(AmountError::NotFinite);
        }
        if value < 0.0 {
            return Err(AmountError::Negative);
        }
        // From 1e39 on, the result exceeds u128::MAX (about 3.4e38) units
        // whatever the decimals; bail out before formatting a number with
        // hundreds of digits.
        if value >= 1e39 {
            return Err(AmountError::Overflow);
        }
        // `{}` never uses exponent notation for f64 and prints the shortest
        // round-tripping representation; `abs` turns -0.0 into "0".
        let text = format!("{}", value.abs());
        let truncated = match text.split_once('.') {
            Some((int, frac)) => {
                let keep = frac.len().min(usize::from(decimals));
                if keep == 0 {
                    int.to_owned()
                } else {
                    format!("{int}.{}", &frac[..keep])
                }
            }
            None => text,
        };
        TokenAmount::parse(&truncated, decimals)
    }

    /// The amount in whole tokens as the nearest `f64` (exact when the
    /// decimal value has an exact `f64` representation, otherwise correctly
    /// rounded, hence deterministic). For display and sizing, not
    /// accounting.
    pub fn to_f64(self) -> f64 {
        // Both operands exact and one IEEE division: correctly rounded.
        const EXACT_INT: u128 = 1 << 53;
        if self.units <= EXACT_INT && self.decimals <= 22 {
            let mut scale = 1.0_f64;
            for _ in 0..self.decimals {
                scale *= 10.0;
            }
            return self.units as f64 / scale;
        }
        // General case: let the (correctly rounding) float parser do it.
        format!("{}e-{}", self.units, self.decimals)
            .parse()
            .unwrap_or(f64::NAN)
    }

    /// `units * bps / 10_000`, rounded down, for basis-point fractions
    /// (`mul_bps(2_500)` is 25%).
    ///
    /// Exact for every `u128` amount (no intermediate overflow). With
    /// `bps <= 10_000` the result never overflows; above that (more than
    /// the whole amount) it saturates at `u128::MAX` units. Use
    /// [`mul_ratio`](Self::mul_ratio) to detect overflow instead.
    pub fn mul_bps(self, bps: u32) -> Self {
        const DENOMINATOR: u128 = 10_000;
        let bps = u128::from(bps);
        let quotient = self.units / DENOMINATOR;
        let remainder = self.units % DENOMINATOR;
        // remainder * bps < 10_000 * 2^32: no overflow.
        let units = quotient
            .checked_mul(bps)
            .and_then(|u| u.checked_add(remainder * bps / DENOMINATOR))
            .unwrap_or(u128::MAX);
        TokenAmount { units, ..self }
    }

    /// `units * numerator / denominator`, rounded down, computed with a
    /// 256-bit intermediate so that it is exact for all `u128` inputs.
    ///
    /// `None` if `denominator` is zero or the result does not fit in
    /// `u128`.
    pub fn mul_ratio(self, numerator: u128, denominator: u128) -> Option<Self> {
        let units = mul_div_floor(self.units, numerator, denominator)?;
        Some(TokenAmount { units, ..self })
    }
}

/// Prints the canonical decimal form: no trailing fractional zeros and no
/// trailing dot (`"1.5"`, `"0"`, `"0.000001"`, `"1000"`).
///
/// A precision prints exactly that many fractional digits, padding with
/// zeros or cutting extra digits off (rounding toward zero, never up):
/// `format!("{:.2}", x)` prints `"1.50"` for 1.5 and `"1.23"` for 1.239.
/// Width, fill, alignment (right by default, like numbers) and `0` padding
/// are honored.
impl fmt::Display for TokenAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.units.to_string();
        let decimals = usize::from(self.decimals);
        // Left-pad so there is at least one integer digit.
        let padded = if digits.len() <= decimals {
            let mut s = "0".repeat(decimals + 1 - digits.len());
            s.push_str(&digits);
            s
        } else {
            digits
        };
        let (int, frac) = padded.split_at(padded.len() - decimals);
        let frac = match f.precision() {
            None => frac.trim_end_matches('0').to_owned(),
            Some(p) if p <= frac.len() => frac[..p].to_owned(),
            Some(p) => format!("{frac:0<p$}"),
        };
        let text = if frac.is_empty() {
            int.to_owned()
        } else {
            format!("{int}.{frac}")
        };
        pad_number(f, &text)
    }
}

/// Writes an ASCII number honoring width, fill, alignment and `0` padding
/// but not precision (which [`fmt::Formatter::pad`] would apply as a
/// truncation).
fn pad_number(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    let Some(pad) = f.width().and_then(|w| w.checked_sub(text.len())) else {
        return f.write_str(text);
    };
    let (fill, before, after) = if f.sign_aware_zero_pad() {
        ('0', pad, 0)
    } else {
        match f.align() {
            Some(fmt::Alignment::Left) => (f.fill(), 0, pad),
            Some(fmt::Alignment::Center) => (f.fill(), pad / 2, pad - pad / 2),
            Some(fmt::Alignment::Right) | None => (f.fill(), pad, 0),
        }
    };
    for _ in 0..before {
        f.write_char(fill)?;
    }
    f.write_str(text)?;
    for _ in 0..after {
        f.write_char(fill)?;
    }
    Ok(())
}

impl From<TokenAmount> for Amount {
    fn from(v: TokenAmount) -> Self {
        v.to_amount()
    }
}

/// Full 256-bit product of two `u128`s, as `(high, low)` halves.
fn widening_mul(a: u128, b: u128) -> (u128, u128) {
    const MASK: u128 = u64::MAX as u128;
    let (a1, a0) = (a >> 64, a & MASK);
    let (b1, b0) = (b >> 64, b & MASK);
    // Each partial product is below 2^128.
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    // Sum of three values below 2^64: below 2^66.
    let mid = (p00 >> 64) + (p01 & MASK) + (p10 & MASK);
    let low = (p00 & MASK) | (mid << 64);
    // The full product is below 2^256, so this does not overflow.
    let high = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (high, low)
}

/// `floor(a * b / d)`, or `None` if `d == 0` or the quotient exceeds
/// `u128::MAX`.
fn mul_div_floor(a: u128, b: u128, d: u128) -> Option<u128> {
    if d == 0 {
        return None;
    }
    let (high, low) = widening_mul(a, b);
    if high == 0 {
        return Some(low / d);
    }
    // The quotient fits in 128 bits iff high < d.
    if high >= d {
        return None;
    }
    // Restoring long division of the 256-bit (high, low) by d, one bit of
    // `low` at a time. Invariant: remainder < d before each step.
    let mut remainder = high;
    let mut quotient: u128 = 0;
    for bit in (0..128).rev() {
        let carry = remainder >> 127;
        remainder = (remainder << 1) | ((low >> bit) & 1);
        quotient <<= 1;
        // The true shifted remainder is carry * 2^128 + remainder < 2 * d;
        // when carry is set it certainly exceeds d, and the wrapping
        // subtraction yields the correct (< d) result.
        if carry == 1 || remainder >= d {
            remainder = remainder.wrapping_sub(d);
            quotient |= 1;
        }
    }
    Some(quotient)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, decimals: u8) -> Result<u128, AmountError> {
        TokenAmount::parse(text, decimals).map(TokenAmount::units)
    }

    #[test]
    fn amount_halves() {
        let v = (7u128 << 64) | 9;
        let a = Amount::from_u128(v);
        assert_eq!((a.hi, a.lo), (7, 9));
        assert_eq!(a.to_u128(), v);
        assert_eq!(u128::from(a), v);
        assert_eq!(Amount::from(v), a);
        assert_eq!(Amount::from(5u64), Amount { hi: 0, lo: 5 });
        assert_eq!(Amount::from_u128(u128::MAX).to_u128(), u128::MAX);
        assert!(Amount::ZERO.is_zero());
        assert!(!Amount::from(1u64).is_zero());
        assert!(!Amount { hi: 1, lo: 0 }.is_zero());
    }

    #[test]
    fn amount_display() {
        assert_eq!(Amount::ZERO.to_string(), "0");
        assert_eq!(Amount { hi: 1, lo: 0 }.to_string(), "18446744073709551616");
        assert_eq!(
            Amount::from_u128(u128::MAX).to_string(),
            "340282366920938463463374607431768211455"
        );
        assert_eq!(format!("{:>5}", Amount::from(42u64)), "   42");
    }

    #[test]
    fn parse_accepts() {
        assert_eq!(parse("1.5", 6), Ok(1_500_000));
        assert_eq!(parse("0", 6), Ok(0));
        assert_eq!(parse("0.0", 6), Ok(0));
        assert_eq!(parse("10", 6), Ok(10_000_000));
        assert_eq!(parse("007", 0), Ok(7));
        assert_eq!(parse("0.000001", 6), Ok(1));
        assert_eq!(parse("1.500000", 6), Ok(1_500_000));
        assert_eq!(parse("123", 0), Ok(123));
        assert_eq!(parse("1", 18), Ok(1_000_000_000_000_000_000));
        assert_eq!(
            parse("340282366920938463463374607431768211455", 0),
            Ok(u128::MAX)
        );
        assert_eq!(
            parse("3.40282366920938463463374607431768211455", 38),
            Ok(u128::MAX)
        );
        assert_eq!(parse("1", 38), Ok(10u128.pow(38)));
    }

    #[test]
    fn parse_rejects() {
        use AmountError::*;
        assert_eq!(parse("", 6), Err(Empty));
        assert_eq!(parse("-1", 6), Err(Negative));
        assert_eq!(parse("+1", 6), Err(InvalidCharacter { position: 0 }));
        assert_eq!(parse(" 1", 6), Err(InvalidCharacter { position: 0 }));
        assert_eq!(parse("1 ", 6), Err(InvalidCharacter { position: 1 }));
        assert_eq!(parse("1e6", 6), Err(InvalidCharacter { position: 1 }));
        assert_eq!(parse("1_000", 6), Err(InvalidCharacter { position: 1 }));
        assert_eq!(parse("1,5", 6), Err(InvalidCharacter { position: 1 }));
        assert_eq!(parse("1.2.3", 6), Err(InvalidCharacter { position: 3 }));
        assert_eq!(parse("1½", 6), Err(InvalidCharacter { position: 1 }));
        assert_eq!(parse(".5", 6), Err(MissingDigit { position: 0 }));
        assert_eq!(parse("1.", 6), Err(MissingDigit { position: 2 }));
        assert_eq!(parse(".", 6), Err(MissingDigit { position: 0 }));
        assert_eq!(parse("1.5", 0), Err(TooManyDecimals { max: 0 }));
        assert_eq!(parse("1.0", 0), Err(TooManyDecimals { max: 0 }));
        assert_eq!(parse("0.0000001", 6), Err(TooManyDecimals { max: 6 }));
        assert_eq!(parse("1.5000000", 6), Err(TooManyDecimals { max: 6 }));
        assert_eq!(
            parse("340282366920938463463374607431768211456", 0),
            Err(Overflow)
        );
        assert_eq!(parse("4", 38), Err(Overflow));
        assert_eq!(parse("1", 39), Err(DecimalsTooLarge));
    }

    #[test]
    fn display_is_canonical() {
        let show = |units, decimals| TokenAmount::new(units, decimals).to_string();
        assert_eq!(show(1_500_000, 6), "1.5");
        assert_eq!(show(0, 6), "0");
        assert_eq!(show(0, 0), "0");
        assert_eq!(show(1, 6), "0.000001");
        assert_eq!(show(10_000_000, 6), "10");
        assert_eq!(show(1_000, 0), "1000");
        assert_eq!(show(123_456_789, 3), "123456.789");
        assert_eq!(
            show(u128::MAX, 38),
            "3.40282366920938463463374607431768211455"
        );
        assert_eq!(show(5, 40), "0.0000000000000000000000000000000000000005");
    }

    #[test]
    fn display_formatting_options() {
        let x = TokenAmount::new(15, 1);
        assert_eq!(format!("{x:<6}|"), "1.5   |");
        assert_eq!(format!("{x:6}|"), "   1.5|");
        assert_eq!(format!("{x:^7}|"), "  1.5  |");
        assert_eq!(format!("{x:*>5}"), "**1.5");
        assert_eq!(format!("{x:2}"), "1.5");
        assert_eq!(format!("{x:.2}"), "1.50");
        assert_eq!(format!("{x:.0}"), "1");
        assert_eq!(format!("{x:08.2}"), "00001.50");
        assert_eq!(format!("{:.2}", TokenAmount::new(7, 0)), "7.00");
        // Extra digits are cut off, not rounded.
        assert_eq!(format!("{:.2}", TokenAmount::new(1_239, 3)), "1.23");
        assert_eq!(format!("{:.3}", TokenAmount::new(1, 6)), "0.000");
        assert_eq!(format!("{:>8.1}|", TokenAmount::new(0, 18)), "     0.0|");
    }

    #[test]
    fn display_parse_round_trip() {
        for (units, decimals) in [(1_500_000, 6), (1, 18), (u128::MAX, 0), (u128::MAX, 38)] {
            let a = TokenAmount::new(units, decimals);
            assert_eq!(TokenAmount::parse(&a.to_string(), decimals), Ok(a));
        }
    }

    #[test]
    fn from_f64_floor() {
        use AmountError::*;
        let conv = |v, d| TokenAmount::from_f64_floor(v, d).map(TokenAmount::units);
        assert_eq!(conv(1.5, 6), Ok(1_500_000));
        assert_eq!(conv(0.29, 2), Ok(29));
        assert_eq!(conv(0.1 + 0.2, 1), Ok(3)); // 0.30000000000000004
        assert_eq!(conv(1.999_999_9, 6), Ok(1_999_999));
        assert_eq!(conv(2.0, 0), Ok(2));
        assert_eq!(conv(2.9, 0), Ok(2));
        assert_eq!(conv(0.0, 18), Ok(0));
        assert_eq!(conv(-0.0, 18), Ok(0));
        assert_eq!(conv(1e-7, 6), Ok(0));
        assert_eq!(conv(1e-7, 7), Ok(1));
        assert_eq!(conv(1e20, 18), Ok(10u128.pow(38)));
        // 2^100 is exactly 1267650600228229401496703205376, but its shortest
        // round-tripping decimal is 1.2676506002282294e30.
        assert_eq!(
            conv(2f64.powi(100), 0),
            Ok(1_267_650_600_228_229_400_000_000_000_000)
        );
        assert_eq!(conv(f64::NAN, 6), Err(NotFinite));
        assert_eq!(conv(f64::INFINITY, 6), Err(NotFinite));
        assert_eq!(conv(f64::NEG_INFINITY, 6), Err(NotFinite));
        assert_eq!(conv(-1.0, 6), Err(Negative));
        assert_eq!(conv(-1e-300, 6), Err(Negative));
        assert_eq!(conv(1e21, 18), Err(Overflow));
        assert_eq!(conv(f64::MAX, 0), Err(Overflow));
        assert_eq!(conv(1.0, 39), Err(DecimalsTooLarge));
    }

    #[test]
    fn to_f64() {
        assert_eq!(TokenAmount::new(1_500_000, 6).to_f64(), 1.5);
        assert_eq!(TokenAmount::new(1_100_000, 6).to_f64(), 1.1);
        assert_eq!(TokenAmount::new(0, 18).to_f64(), 0.0);
        assert_eq!(TokenAmount::new(123_456_789, 0).to_f64(), 123_456_789.0);
        assert_eq!(TokenAmount::new(10u128.pow(17), 18).to_f64(), 0.1);
        assert_eq!(
            TokenAmount::new(1_234_567_890_123_456_789_012, 18).to_f64(),
            1_234.567_890_123_457 // nearest f64 to 1234.567890123456789012
        );
        assert_eq!(TokenAmount::new(u128::MAX, 0).to_f64(), u128::MAX as f64);
        assert_eq!(
            TokenAmount::new(u128::MAX, 38).to_f64(),
            3.402_823_669_209_384_5
        );
    }

    #[test]
    fn mul_bps() {
        let a = TokenAmount::new(1_000_000, 6);
        assert_eq!(a.mul_bps(2_500).units(), 250_000);
        assert_eq!(a.mul_bps(0).units(), 0);
        assert_eq!(a.mul_bps(10_000), a);
        assert_eq!(a.mul_bps(1).units(), 100);
        assert_eq!(a.mul_bps(1).decimals(), 6);
        // floor(9_999 * 3 / 10_000) = floor(2.9997)
        assert_eq!(TokenAmount::new(9_999, 0).mul_bps(3).units(), 2);
        let max = TokenAmount::new(u128::MAX, 18);
        assert_eq!(max.mul_bps(10_000), max);
        // floor((2^128 - 1) / 2): 2^127 - 1.
        assert_eq!(max.mul_bps(5_000).units(), (1u128 << 127) - 1);
        // floor((2^128 - 1) * 9_999 / 10_000), computed with Python integers.
        assert_eq!(
            max.mul_bps(9_999).units(),
            340_248_338_684_246_369_617_028_269_971_025_034_633
        );
        assert_eq!(max.mul_bps(10_001).units(), u128::MAX);
        assert_eq!(
            TokenAmount::new(1, 0).mul_bps(u32::MAX).units(),
            u128::from(u32::MAX) / 10_000
        );
    }

    #[test]
    fn mul_ratio() {
        let a = TokenAmount::new(1_000, 6);
        assert_eq!(a.mul_ratio(1, 3).map(TokenAmount::units), Some(333));
        assert_eq!(a.mul_ratio(2, 3).map(TokenAmount::units), Some(666));
        assert_eq!(a.mul_ratio(0, 3).map(TokenAmount::units), Some(0));
        assert_eq!(a.mul_ratio(1, 0), None);
        assert_eq!(a.mul_ratio(1, 3).map(TokenAmount::decimals), Some(6));

        let max = TokenAmount::new(u128::MAX, 0);
        let ratio = |n, d| max.mul_ratio(n, d).map(TokenAmount::units);
        assert_eq!(ratio(u128::MAX, u128::MAX), Some(u128::MAX));
        assert_eq!(ratio(1, 1), Some(u128::MAX));
        assert_eq!(ratio(2, 1), None);
        assert_eq!(ratio(u128::MAX, u128::MAX - 1), None);
        assert_eq!(ratio(u128::MAX - 1, u128::MAX), Some(u128::MAX - 1));
        assert_eq!(ratio(1, 2), Some((1u128 << 127) - 1));
        // The following were computed with Python integers:
        // (2**128-1) * 3 // 4
        assert_eq!(
            ratio(3, 4),
            Some(255_211_775_190_703_847_597_530_955_573_826_158_591)
        );
        // (2**128-1) * (10**30 + 7) // (10**30 + 11)
        assert_eq!(
            ratio(10u128.pow(30) + 7, 10u128.pow(30) + 11),
            Some(340_282_366_920_938_463_463_374_607_430_407_081_987)
        );
        // (2**128-1) * 2**100 // (2**101 + 1)
        assert_eq!(
            ratio(1 << 100, (1 << 101) + 1),
            Some(170_141_183_460_469_231_731_687_303_715_816_996_863)
        );
        // 10**30 * 10**20 // (3 * 10**12): the product needs 167 bits.
        assert_eq!(
            TokenAmount::new(10u128.pow(30), 0)
                .mul_ratio(10u128.pow(20), 3 * 10u128.pow(12))
                .map(TokenAmount::units),
            Some(33_333_333_333_333_333_333_333_333_333_333_333_333)
        );
        // 10**30 * 10**20 // 3 is about 3.3e49: does not fit.
        assert_eq!(
            TokenAmount::new(10u128.pow(30), 0).mul_ratio(10u128.pow(20), 3),
            None
        );
    }

    #[test]
    fn widening_mul_matches_known_products() {
        assert_eq!(widening_mul(0, u128::MAX), (0, 0));
        assert_eq!(widening_mul(u128::MAX, 1), (0, u128::MAX));
        // (2^128-1)^2 = (2^128-2) * 2^128 + 1
        assert_eq!(widening_mul(u128::MAX, u128::MAX), (u128::MAX - 1, 1));
        assert_eq!(widening_mul(1 << 64, 1 << 64), (1, 0));
    }

    #[test]
    fn into_amount() {
        let t = TokenAmount::new((3u128 << 64) | 4, 18);
        assert_eq!(Amount::from(t), Amount { hi: 3, lo: 4 });
        assert_eq!(TokenAmount::from_amount(Amount { hi: 3, lo: 4 }, 18), t);
    }

    #[test]
    fn serde_round_trip() {
        for a in [
            TokenAmount::new(1_500_000, 6),
            TokenAmount::new(u128::MAX, 38),
        ] {
            let json = serde_json::to_string(&a).expect("serialize");
            let back: TokenAmount = serde_json::from_str(&json).expect("deserialize");
            assert_eq!(back, a);
        }
        let json = serde_json::to_string(&TokenAmount::new(15, 1)).expect("serialize");
        assert_eq!(json, r#"{"units":15,"decimals":1}"#);
    }

    #[test]
    fn error_display() {
        assert_eq!(
            AmountError::TooManyDecimals { max: 6 }.to_string(),
            "amount has more than 6 fractional digits"
        );
        assert_eq!(
            AmountError::InvalidCharacter { position: 3 }.to_string(),
            "invalid character at byte 3 of amount"
        );
    }
}
