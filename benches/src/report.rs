//! The rows of a suite run: what was measured, its figure, and the target
//! it is held to.

use serde::Serialize;

/// What a figure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Seconds (of one operation).
    Seconds,
    /// Operations per second.
    PerSecond,
    /// A ratio of two measurements (sandboxed over native, fuel on over
    /// off).
    Ratio,
    /// Bytes.
    Bytes,
}

/// Which side of its target a figure must fall on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// The figure must not exceed the target.
    AtMost,
    /// The figure must reach the target.
    AtLeast,
}

/// A goal from the benchmark issue.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Target {
    /// Which side.
    pub bound: Bound,
    /// The goal, in the row's unit.
    pub value: f64,
}

impl Target {
    /// The figure must not exceed `value`.
    pub fn at_most(value: f64) -> Target {
        Target {
            bound: Bound::AtMost,
            value,
        }
    }

    /// The figure must reach `value`.
    pub fn at_least(value: f64) -> Target {
        Target {
            bound: Bound::AtLeast,
            value,
        }
    }
}

/// One line of the comparison table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Stable identifier, e.g. `rsi.vs-native`.
    pub key: String,
    /// What was measured, for people.
    pub what: String,
    /// The median figure, in `unit`; `None` if the measurement was skipped.
    pub value: Option<f64>,
    /// What the figure counts.
    pub unit: Unit,
    /// The goal, if the issue sets one.
    pub target: Option<Target>,
    /// Why the row was skipped, or how the figure was obtained.
    pub note: Option<String>,
}

impl Row {
    /// A measured row without a target.
    pub fn new(key: impl Into<String>, what: impl Into<String>, value: f64, unit: Unit) -> Row {
        Row {
            key: key.into(),
            what: what.into(),
            value: Some(value),
            unit,
            target: None,
            note: None,
        }
    }

    /// A row that could not be measured, and why.
    pub fn skipped(key: impl Into<String>, what: impl Into<String>, unit: Unit, why: &str) -> Row {
        Row {
            key: key.into(),
            what: what.into(),
            value: None,
            unit,
            target: None,
            note: Some(why.to_owned()),
        }
    }

    /// Hold the row to `target`.
    pub fn with_target(mut self, target: Target) -> Row {
        self.target = Some(target);
        self
    }

    /// Add a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Row {
        self.note = Some(note.into());
        self
    }

    /// How far the figure is from its target, as a factor where 1 is the
    /// target and more is worse (figure over target for upper bounds,
    /// target over figure for lower ones); `None` without a target or a
    /// figure.
    pub fn factor(&self) -> Option<f64> {
        let (value, target) = (self.value?, self.target?);
        Some(match target.bound {
            Bound::AtMost => value / target.value,
            Bound::AtLeast => target.value / value,
        })
    }

    /// Whether the figure meets its target; `None` without a target or a
    /// figure.
    pub fn met(&self) -> Option<bool> {
        self.factor().map(|factor| factor <= 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors_are_above_one_exactly_when_a_target_is_missed() {
        let fast = Row::new("a", "a", 200e-9, Unit::Seconds).with_target(Target::at_most(300e-9));
        assert_eq!(fast.met(), Some(true));
        let slow = Row::new("b", "b", 1.5e6, Unit::PerSecond).with_target(Target::at_least(2e6));
        assert_eq!(slow.met(), Some(false));
        assert!((slow.factor().unwrap_or_default() - 2.0 / 1.5).abs() < 1e-12);
        let skipped =
            Row::skipped("c", "c", Unit::Ratio, "no CPython").with_target(Target::at_most(4.0));
        assert_eq!((skipped.met(), skipped.factor()), (None, None));
    }
}
