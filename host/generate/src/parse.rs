//! Reading a spec file: TOML into [`format`](crate::format), then checks
//! that resolve it into a [`Spec`]. Every refusal names the file, the line
//! and the dotted path of the field.

mod actions;
mod rules;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use crate::error::SpecError;
use crate::format::SpecFile;
use crate::spec::{
    Condition, IndicatorKind, IndicatorSpec, Logic, LongOnlySpec, Operand, PositionSpec, Spec,
};

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
    let written: SpecFile = toml::from_str(text).map_err(|error| SpecError::Syntax {
        file: file.to_owned(),
        line: error.span().map_or(1, |span| line_of(text, &span)),
        message: error.message().trim().replace('\n', " "),
    })?;
    Checker { text, file }.spec(written)
}

fn line_of(text: &str, span: &Range<usize>) -> usize {
    text[..span.start.min(text.len())].matches('\n').count() + 1
}

/// Candle fields usable as series.
pub(crate) const CANDLE_FIELDS: [&str; 4] = ["open", "high", "low", "close"];

/// Names the generated code already uses for its own locals and fields, so
/// an indicator cannot be called that.
const TAKEN: [&str; 18] = [
    "actions",
    "attempt",
    "balance",
    "candle",
    "candles",
    "ctx",
    "entry",
    "exit",
    "in_flight",
    "last_fired",
    "market_candle",
    "now",
    "now_ms",
    "position",
    "previous",
    "spend",
    "state",
    "tick",
];

/// Rust keywords (2024 edition, strict and reserved).
const KEYWORDS: [&str; 52] = [
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "union", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Lowercase snake-case identifier.
pub(crate) fn is_identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `in_position` as the generated code names it: `InPosition`.
pub(crate) fn camel_case(name: &str) -> String {
    name.split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// Builds refusals for one file.
pub(crate) struct Checker<'a> {
    text: &'a str,
    file: &'a Path,
}

impl Checker<'_> {
    pub(crate) fn invalid(
        &self,
        span: &Range<usize>,
        field: &str,
        reason: impl Into<String>,
    ) -> SpecError {
        SpecError::Invalid {
            file: self.file.to_owned(),
            line: line_of(self.text, span),
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    fn spec(&self, written: SpecFile) -> Result<Spec, SpecError> {
        if *written.version.get_ref() != 1 {
            return Err(self.invalid(&written.version.span(), "version", "only version 1 exists"));
        }
        let name = written.name.get_ref();
        let valid_name = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid_name {
            return Err(self.invalid(
                &written.name.span(),
                "name",
                "a crate name: lowercase letters, digits and `-`, starting with a letter",
            ));
        }
        let indicators = self.indicators(&written.indicators)?;
        let logic = if let Some(rules) = &written.rules {
            let simple = [
                ("entry", written.entry.as_ref().map(Spanned::span)),
                ("exit", written.exit.as_ref().map(Spanned::span)),
                ("position", written.position.as_ref().map(Spanned::span)),
            ];
            if let Some((field, Some(span))) = simple.iter().find(|(_, span)| span.is_some()) {
                return Err(self.invalid(
                    span,
                    field,
                    "belongs to the simple form; a spec with [[rules]] acts through its rules",
                ));
            }
            Logic::Machine(self.machine(&written, rules, &indicators)?)
        } else {
            if let Some(states) = &written.states {
                return Err(self.invalid(
                    &states.span(),
                    "states",
                    "states are for [[rules]], and this spec has none",
                ));
            }
            if let Some(assets) = &written.assets {
                return Err(self.invalid(
                    &assets.span(),
                    "assets",
                    "[assets] serve the actions of [[rules]], and this spec has none",
                ));
            }
            Logic::LongOnly(self.long_only(&written, &indicators)?)
        };
        Ok(Spec {
            name: name.clone(),
            description: written.description,
            market: written.market,
            indicators,
            logic,
        })
    }

    fn indicators(
        &self,
        written: &BTreeMap<String, Spanned<IndicatorSpec>>,
    ) -> Result<BTreeMap<String, IndicatorSpec>, SpecError> {
        let mut fields = BTreeSet::new();
        for (name, indicator) in written {
            let field = format!("indicators.{name}");
            let span = indicator.span();
            let indicator = indicator.get_ref();
            if !is_identifier(name)
                || CANDLE_FIELDS.contains(&name.as_str())
                || TAKEN.contains(&name.as_str())
                || KEYWORDS.contains(&name.as_str())
            {
                return Err(self.invalid(
                    &span,
                    &field,
                    "indicator names are lowercase identifiers other than open, high, low, \
                     close, Rust keywords and the generated code's own names (now, previous, \
                     candle, state, ...)",
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
            // Each series is a field of the generated `Values`: `bands.lower`
            // is `bands_lower`, which an indicator of that name would clash with.
            for series in series_of(name, indicator.kind) {
                if !fields.insert(series.replace('.', "_")) {
                    return Err(self.invalid(
                        &span,
                        &field,
                        format!("clashes with the series `{series}` of another indicator"),
                    ));
                }
            }
        }
        Ok(written
            .iter()
            .map(|(name, indicator)| (name.clone(), indicator.get_ref().clone()))
            .collect())
    }

    fn long_only(
        &self,
        written: &SpecFile,
        indicators: &BTreeMap<String, IndicatorSpec>,
    ) -> Result<LongOnlySpec, SpecError> {
        let missing = |field: &str| {
            self.invalid(
                &(0..0),
                field,
                "missing: give [entry], [exit] and [position], or states and [[rules]]",
            )
        };
        let entry = written.entry.as_ref().ok_or_else(|| missing("entry"))?;
        let exit = written.exit.as_ref().ok_or_else(|| missing("exit"))?;
        let position = written
            .position
            .as_ref()
            .ok_or_else(|| missing("position"))?;
        self.condition(indicators, entry.get_ref(), &entry.span(), "entry")?;
        self.condition(indicators, exit.get_ref(), &exit.span(), "exit")?;
        let span = position.span();
        let sizing: &PositionSpec = position.get_ref();
        match (&sizing.order_size, sizing.order_fraction) {
            (Some(size), None) => {
                if check_decimal(size, written.market.quote_decimals).is_err() {
                    return Err(self.invalid(
                        &span,
                        "position.order_size",
                        format!(
                            "a positive decimal string such as \"0.1\", with at most {} \
                             decimals",
                            written.market.quote_decimals
                        ),
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
        Ok(LongOnlySpec {
            entry: entry.get_ref().clone(),
            exit: exit.get_ref().clone(),
            position: sizing.clone(),
        })
    }

    pub(crate) fn condition(
        &self,
        indicators: &BTreeMap<String, IndicatorSpec>,
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
                    self.condition(indicators, item, span, &format!("{field}.{group}[{index}]"))?;
                }
                Ok(())
            }
            Condition::Compare(comparison) => {
                for (side, operand) in [("left", &comparison.left), ("right", &comparison.right)] {
                    if let Operand::Series(series) = operand
                        && let Err(reason) = check_series(indicators, series)
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

/// The series an indicator gives: its name, or a Bollinger's three bands.
pub(crate) fn series_of(name: &str, kind: IndicatorKind) -> Vec<String> {
    match kind {
        IndicatorKind::Bollinger => ["lower", "middle", "upper"]
            .iter()
            .map(|band| format!("{name}.{band}"))
            .collect(),
        _ => vec![name.to_owned()],
    }
}

fn check_series(indicators: &BTreeMap<String, IndicatorSpec>, series: &str) -> Result<(), String> {
    if CANDLE_FIELDS.contains(&series) {
        return Ok(());
    }
    let (name, band) = match series.split_once('.') {
        Some((name, band)) => (name, Some(band)),
        None => (series, None),
    };
    let Some(indicator) = indicators.get(name) else {
        let known: Vec<&str> = indicators.keys().map(String::as_str).collect();
        return Err(format!(
            "unknown series `{series}` (candle fields: open, high, low, close; indicators: {})",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        ));
    };
    match (indicator.kind, band) {
        (IndicatorKind::Bollinger, Some("lower" | "middle" | "upper")) => Ok(()),
        (IndicatorKind::Bollinger, _) => Err(format!(
            "`{name}` is Bollinger bands: use {name}.lower, {name}.middle or {name}.upper"
        )),
        (_, None) => Ok(()),
        (_, Some(band)) => Err(format!("`{name}` has no `.{band}`")),
    }
}

/// Whether `text` is a positive decimal amount of a token with `decimals`
/// decimals, under the rules of the SDK's `TokenAmount::parse` (which the generated
/// code calls): digits with an optional `.` and digits after it, at most
/// `decimals` fractional digits, at most 38 decimals, within 128 bits. Zero
/// is refused too: no action moves nothing.
pub(crate) fn check_decimal(text: &str, decimals: u8) -> Result<(), String> {
    if decimals > 38 {
        return Err("at most 38 decimals".to_owned());
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (text.contains('.') && !digits(fraction)) {
        return Err(format!("`{text}` is not a decimal such as \"0.5\""));
    }
    if fraction.len() > usize::from(decimals) {
        return Err(format!(
            "`{text}` has more than the asset's {decimals} decimals"
        ));
    }
    let padding = u32::from(decimals) - fraction.len() as u32;
    let units = whole
        .bytes()
        .chain(fraction.bytes())
        .try_fold(0u128, |units, digit| {
            units.checked_mul(10)?.checked_add(u128::from(digit - b'0'))
        })
        .and_then(|units| units.checked_mul(10u128.checked_pow(padding)?))
        .ok_or_else(|| format!("`{text}` is too large"))?;
    if units == 0 {
        return Err("must be more than zero".to_owned());
    }
    Ok(())
}
