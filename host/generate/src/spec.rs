//! The spec format, as a user writes it, and its validation.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::error::SpecError;

/// A rule-based, long-only strategy: buy `position.order_size` (or a
/// fraction of the quote balance) when `entry` holds and the position is
/// flat, sell everything when `exit` holds and the position is long, at
/// most once per `position.cooldown_ms`. Positions move only on fills.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Format version; 1.
    pub version: Spanned<u32>,
    /// Crate name of the generated strategy (lowercase, digits, `-`).
    pub name: Spanned<String>,
    /// One line for the generated crate's documentation.
    #[serde(default)]
    pub description: Option<String>,
    /// The market whose candles drive the strategy.
    pub market: MarketSpec,
    /// Indicators by name, updated on every candle of the market.
    #[serde(default)]
    pub indicators: BTreeMap<String, Spanned<IndicatorSpec>>,
    /// When to buy.
    pub entry: Spanned<Condition>,
    /// When to sell.
    pub exit: Spanned<Condition>,
    /// Order sizing, cooldown and slippage.
    pub position: Spanned<PositionSpec>,
}

/// The traded market.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketSpec {
    /// Market name as the candles carry it (`ETH/BTC`).
    pub name: String,
    /// Asset bought.
    pub base: String,
    /// Asset spent.
    pub quote: String,
    /// Decimals of the quote asset.
    pub quote_decimals: u8,
}

/// An indicator kind, as in the guest SDK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorKind {
    /// Simple moving average of closes.
    Sma,
    /// Exponential moving average of closes.
    Ema,
    /// Wilder's RSI of closes.
    Rsi,
    /// Bollinger bands of closes: `.lower`, `.middle`, `.upper`.
    Bollinger,
    /// Wilder's average true range.
    Atr,
}

/// One indicator.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorSpec {
    /// Which indicator.
    pub kind: IndicatorKind,
    /// Its period, in candles.
    pub period: usize,
    /// Bollinger width in standard deviations (default 2).
    #[serde(default)]
    pub k: Option<f64>,
}

/// A condition: a comparison, or all / any of nested conditions.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Condition {
    /// Every nested condition holds.
    All {
        /// The conditions.
        all: Vec<Condition>,
    },
    /// At least one nested condition holds.
    Any {
        /// The conditions.
        any: Vec<Condition>,
    },
    /// A comparison of two series or numbers.
    Compare(Comparison),
}

/// `left op right`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    /// A series (`close`, `open`, `high`, `low`, an indicator, or a
    /// Bollinger band such as `bands.lower`) or a number.
    pub left: Operand,
    /// The comparison.
    pub op: Operator,
    /// Same as `left`.
    pub right: Operand,
}

/// A series name or a constant.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Operand {
    /// A constant.
    Number(f64),
    /// A series.
    Series(String),
}

/// How two operands compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Operator {
    /// `<`
    #[serde(rename = "<")]
    Less,
    /// `<=`
    #[serde(rename = "<=")]
    LessOrEqual,
    /// `>`
    #[serde(rename = ">")]
    Greater,
    /// `>=`
    #[serde(rename = ">=")]
    GreaterOrEqual,
    /// `left` was at or below `right` at the previous candle and is above
    /// it now.
    #[serde(rename = "crosses_above")]
    CrossesAbove,
    /// `left` was at or above `right` at the previous candle and is below
    /// it now.
    #[serde(rename = "crosses_below")]
    CrossesBelow,
}

/// Order sizing.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PositionSpec {
    /// Quote amount spent per entry, a decimal string (`"0.1"`).
    #[serde(default)]
    pub order_size: Option<String>,
    /// Or: this fraction of the quote balance per entry (0 < f <= 1).
    #[serde(default)]
    pub order_fraction: Option<f64>,
    /// Minimum time between two attempts, ms.
    #[serde(default)]
    pub cooldown_ms: u64,
    /// Slippage tolerance of each swap, basis points.
    #[serde(default = "default_slippage")]
    pub max_slippage_bps: u32,
}

fn default_slippage() -> u32 {
    50
}

/// Read and validate the spec at `file`.
pub fn load(file: &Path) -> Result<Spec, SpecError> {
    let text = std::fs::read_to_string(file).map_err(|source| SpecError::Read {
        file: file.to_owned(),
        source,
    })?;
    parse(&text, file)
}

/// Parse and validate spec `text`; `file` names it in errors.
pub fn parse(text: &str, file: &Path) -> Result<Spec, SpecError> {
    let spec: Spec = toml::from_str(text).map_err(|error| SpecError::Syntax {
        file: file.to_owned(),
        line: error.span().map_or(1, |span| line_of(text, &span)),
        message: error.message().trim().replace('\n', " "),
    })?;
    Validator { text, file }.validate(&spec)?;
    Ok(spec)
}

fn line_of(text: &str, span: &Range<usize>) -> usize {
    text[..span.start.min(text.len())].matches('\n').count() + 1
}

struct Validator<'a> {
    text: &'a str,
    file: &'a Path,
}

impl Validator<'_> {
    fn invalid(&self, span: &Range<usize>, field: &str, reason: impl Into<String>) -> SpecError {
        SpecError::Invalid {
            file: self.file.to_owned(),
            line: line_of(self.text, span),
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    fn validate(&self, spec: &Spec) -> Result<(), SpecError> {
        if *spec.version.get_ref() != 1 {
            return Err(self.invalid(&spec.version.span(), "version", "only version 1 exists"));
        }
        let name = spec.name.get_ref();
        let valid_name = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid_name {
            return Err(self.invalid(
                &spec.name.span(),
                "name",
                "a crate name: lowercase letters, digits and `-`, starting with a letter",
            ));
        }
        for (name, indicator) in &spec.indicators {
            let field = format!("indicators.{name}");
            let span = indicator.span();
            let indicator = indicator.get_ref();
            if !is_identifier(name) || RESERVED.contains(&name.as_str()) {
                return Err(self.invalid(
                    &span,
                    &field,
                    "indicator names are lowercase identifiers other than open/high/low/close",
                ));
            }
            if indicator.period == 0 {
                return Err(self.invalid(&span, &format!("{field}.period"), "must be at least 1"));
            }
            match (indicator.kind, indicator.k) {
                (IndicatorKind::Bollinger, Some(k)) if !(k.is_finite() && k > 0.0) => {
                    return Err(self.invalid(&span, &format!("{field}.k"), "must be positive"));
                }
                (IndicatorKind::Bollinger, _) | (_, None) => {}
                (_, Some(_)) => {
                    return Err(self.invalid(
                        &span,
                        &format!("{field}.k"),
                        "only Bollinger bands take `k`",
                    ));
                }
            }
        }
        self.condition(spec, spec.entry.get_ref(), &spec.entry.span(), "entry")?;
        self.condition(spec, spec.exit.get_ref(), &spec.exit.span(), "exit")?;
        let span = spec.position.span();
        let position = spec.position.get_ref();
        match (&position.order_size, position.order_fraction) {
            (Some(size), None) => {
                let valid = !size.is_empty()
                    && size.chars().all(|c| c.is_ascii_digit() || c == '.')
                    && size.matches('.').count() <= 1
                    && size.chars().any(|c| c.is_ascii_digit() && c != '0');
                if !valid {
                    return Err(self.invalid(
                        &span,
                        "position.order_size",
                        "a positive decimal string such as \"0.1\"",
                    ));
                }
            }
            (None, Some(fraction)) if fraction > 0.0 && fraction <= 1.0 => {}
            (None, Some(_)) => {
                return Err(self.invalid(&span, "position.order_fraction", "must be in (0, 1]"));
            }
            _ => {
                return Err(self.invalid(
                    &span,
                    "position",
                    "give exactly one of order_size and order_fraction",
                ));
            }
        }
        Ok(())
    }

    fn condition(
        &self,
        spec: &Spec,
        condition: &Condition,
        span: &Range<usize>,
        field: &str,
    ) -> Result<(), SpecError> {
        match condition {
            Condition::All { all: items } | Condition::Any { any: items } => {
                let group = if matches!(condition, Condition::All { .. }) {
                    "all"
                } else {
                    "any"
                };
                if items.is_empty() {
                    return Err(self.invalid(span, &format!("{field}.{group}"), "is empty"));
                }
                for (index, item) in items.iter().enumerate() {
                    self.condition(spec, item, span, &format!("{field}.{group}[{index}]"))?;
                }
                Ok(())
            }
            Condition::Compare(comparison) => {
                for (side, operand) in [("left", &comparison.left), ("right", &comparison.right)] {
                    if let Operand::Series(series) = operand
                        && let Err(reason) = check_series(spec, series)
                    {
                        return Err(self.invalid(span, &format!("{field}.{side}"), reason));
                    }
                }
                if matches!(
                    (&comparison.left, &comparison.right),
                    (Operand::Number(_), Operand::Number(_))
                ) {
                    return Err(self.invalid(span, field, "compares two constants"));
                }
                Ok(())
            }
        }
    }
}

/// Candle fields usable as series.
pub(crate) const RESERVED: [&str; 4] = ["open", "high", "low", "close"];

fn is_identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn check_series(spec: &Spec, series: &str) -> Result<(), String> {
    if RESERVED.contains(&series) {
        return Ok(());
    }
    let (name, band) = match series.split_once('.') {
        Some((name, band)) => (name, Some(band)),
        None => (series, None),
    };
    let Some(indicator) = spec.indicators.get(name) else {
        let known: Vec<&str> = spec.indicators.keys().map(String::as_str).collect();
        return Err(format!(
            "unknown series `{series}` (candle fields: open, high, low, close; indicators: {})",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        ));
    };
    match (indicator.get_ref().kind, band) {
        (IndicatorKind::Bollinger, Some("lower" | "middle" | "upper")) => Ok(()),
        (IndicatorKind::Bollinger, _) => Err(format!(
            "`{name}` is Bollinger bands: use {name}.lower, {name}.middle or {name}.upper"
        )),
        (_, None) => Ok(()),
        (_, Some(band)) => Err(format!("`{name}` has no `.{band}`")),
    }
}
