//! Exact decimal numbers as written in policy files (`"1000"`, `"0.5"`),
//! turned into token base units only once the token's decimals are known.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Powers of ten as `f64`, computed by repeated multiplication so the values
/// are the same on every platform (unlike `powi`, which may differ).
pub(crate) const POW10: [f64; 39] = {
    let mut table = [1.0; 39];
    let mut i = 1;
    while i < 39 {
        table[i] = table[i - 1] * 10.0;
        i += 1;
    }
    table
};

/// A non-negative decimal number, exact: `digits / 10^scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    digits: u128,
    scale: u32,
}

/// Why a decimal text or conversion was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecimalError {
    /// Not of the form `123` or `123.45`.
    #[error("`{0}` is not a decimal number like \"1000\" or \"0.25\"")]
    Syntax(String),
    /// More significant digits than fit in 128 bits.
    #[error("`{0}` is too large")]
    TooLarge(String),
    /// More fractional digits than the token has decimals.
    #[error("{value} has more than the token's {decimals} decimals")]
    TooPrecise {
        /// The number.
        value: String,
        /// The token's decimals.
        decimals: u8,
    },
}

impl Decimal {
    /// A whole number.
    pub const fn whole(value: u128) -> Self {
        Decimal {
            digits: value,
            scale: 0,
        }
    }

    /// The number in base units of a token with `decimals` decimals
    /// (`"1.5"` with 6 decimals is `1500000`).
    pub fn to_units(self, decimals: u8) -> Result<u128, DecimalError> {
        let decimals_u32 = u32::from(decimals);
        if self.scale > decimals_u32 {
            return Err(DecimalError::TooPrecise {
                value: self.to_string(),
                decimals,
            });
        }
        10u128
            .checked_pow(decimals_u32 - self.scale)
            .and_then(|factor| self.digits.checked_mul(factor))
            .ok_or_else(|| DecimalError::TooLarge(self.to_string()))
    }

    /// The number as a float (for limits compared with prices).
    pub fn to_f64(self) -> f64 {
        // `scale` is at most 38: a u128 has at most 39 digits.
        self.digits as f64 / POW10[self.scale as usize]
    }
}

impl FromStr for Decimal {
    type Err = DecimalError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let syntax = || DecimalError::Syntax(text.to_owned());
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) => (whole, fraction),
            None => (text, ""),
        };
        let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || !all_digits(whole)
            || !all_digits(fraction)
            || (text.contains('.') && fraction.is_empty())
        {
            return Err(syntax());
        }
        let mut digits: u128 = 0;
        for byte in whole.bytes().chain(fraction.bytes()) {
            digits = digits
                .checked_mul(10)
                .and_then(|d| d.checked_add(u128::from(byte - b'0')))
                .ok_or_else(|| DecimalError::TooLarge(text.to_owned()))?;
        }
        let scale = u32::try_from(fraction.len()).map_err(|_| syntax())?;
        if scale > 38 {
            return Err(DecimalError::TooLarge(text.to_owned()));
        }
        Ok(Decimal { digits, scale })
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scale = 10u128.pow(self.scale);
        let (whole, fraction) = (self.digits / scale, self.digits % scale);
        if self.scale == 0 {
            return write!(f, "{whole}");
        }
        write!(f, "{whole}.{fraction:0width$}", width = self.scale as usize)
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DecimalVisitor;

        impl Visitor<'_> for DecimalVisitor {
            type Value = Decimal;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative decimal number as a string (\"0.5\") or an integer")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
                v.parse().map_err(E::custom)
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
                Ok(Decimal::whole(u128::from(v)))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
                u64::try_from(v)
                    .map(|v| Decimal::whole(u128::from(v)))
                    .map_err(|_| E::custom(format!("{v} is negative")))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
                Err(E::custom(format!(
                    "write {v} as a string (\"{v}\") so that it stays exact"
                )))
            }
        }

        deserializer.deserialize_any(DecimalVisitor)
    }
}

#[cfg(feature = "json-schema")]
impl schemars::JsonSchema for Decimal {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Decimal".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A non-negative decimal number, exact: a string such as \"1000\" or \"0.25\", or an integer.",
            "oneOf": [
                { "type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$" },
                { "type": "integer", "minimum": 0 }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn parses_and_prints_exactly() {
        for text in [
            "0",
            "1000",
            "0.5",
            "1.250",
            "340282366920938463463374607431768211455",
        ] {
            assert_eq!(dec(text).to_string(), text);
        }
        for bad in ["", ".5", "5.", "-1", "1e5", "1.2.3", " 1", "1,000", "0x10"] {
            assert!(
                matches!(bad.parse::<Decimal>(), Err(DecimalError::Syntax(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            "340282366920938463463374607431768211456".parse::<Decimal>(),
            Err(DecimalError::TooLarge(_))
        ));
    }

    #[test]
    fn converts_to_base_units() {
        assert_eq!(dec("1.5").to_units(6), Ok(1_500_000));
        assert_eq!(dec("1000").to_units(0), Ok(1000));
        assert_eq!(dec("0.000000000000000001").to_units(18), Ok(1));
        assert_eq!(
            dec("0.001").to_units(2),
            Err(DecimalError::TooPrecise {
                value: "0.001".into(),
                decimals: 2
            })
        );
        assert!(matches!(
            dec("1000000000000000000000").to_units(18),
            Err(DecimalError::TooLarge(_))
        ));
        assert_eq!(dec("2.5").to_f64(), 2.5);
    }
}
