//! Search spaces: the strategy config keys to vary and the values each
//! may take, over a base config.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::SpaceError;

/// Most combinations a grid enumerates ([`Space::grid`]); a larger space
/// wants a model-based search.
pub const MAX_COMBINATIONS: usize = 1_000_000;

/// The values a parameter may take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Domain {
    /// These values, in this order: a grid axis, or a categorical
    /// parameter of a model-based search.
    Values(Vec<Value>),
    /// Every integer from `low` to `high`, both included.
    Int {
        /// Smallest value.
        low: i64,
        /// Largest value.
        high: i64,
    },
    /// Any float from `low` (included) to `high` (excluded).
    Float {
        /// Smallest value.
        low: f64,
        /// Upper bound, excluded.
        high: f64,
    },
}

/// One config key and its domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Param {
    /// Top-level key of the strategy config.
    pub key: String,
    /// Its values.
    pub domain: Domain,
}

/// `KEY=REST`, the key trimmed and not empty.
fn split<'a>(text: &'a str, expected: &'static str) -> Result<(&'a str, &'a str), SpaceError> {
    let Some((key, rest)) = text.split_once('=') else {
        return Err(SpaceError::Syntax {
            text: text.to_owned(),
            expected,
        });
    };
    let key = key.trim();
    if key.is_empty() {
        return Err(SpaceError::EmptyKey {
            text: text.to_owned(),
        });
    }
    Ok((key, rest))
}

impl Param {
    /// Parse `key=v1,v2,...`: each value is JSON (numbers, `true`,
    /// `"text"`) or else taken as a string; blanks around values are
    /// ignored.
    pub fn parse_values(text: &str) -> Result<Param, SpaceError> {
        let (key, values) = split(text, "KEY=V1,V2,...")?;
        let values: Vec<Value> = values
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_owned())))
            .collect();
        if values.is_empty() {
            return Err(SpaceError::NoValues {
                text: text.to_owned(),
            });
        }
        Ok(Param {
            key: key.to_owned(),
            domain: Domain::Values(values),
        })
    }

    /// Parse `key=lo..hi` (floats from `lo` up to `hi` excluded),
    /// `key=lo..=hi` (integers from `lo` to `hi` included) or, without
    /// `..`, a list of values as [`parse_values`](Param::parse_values)
    /// (categorical).
    pub fn parse_range(text: &str) -> Result<Param, SpaceError> {
        let (key, range) = split(text, "KEY=LO..HI, KEY=LO..=HI or KEY=V1,V2,...")?;
        let bad = |reason: &str| SpaceError::BadRange {
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        let domain = if let Some((low, high)) = range.split_once("..=") {
            let (Ok(low), Ok(high)) = (low.trim().parse::<i64>(), high.trim().parse::<i64>())
            else {
                return Err(bad("an integer range lo..=hi needs integer bounds"));
            };
            if low > high {
                return Err(bad("the lower bound is above the upper one"));
            }
            Domain::Int { low, high }
        } else if let Some((low, high)) = range.split_once("..") {
            let (Ok(low), Ok(high)) = (low.trim().parse::<f64>(), high.trim().parse::<f64>())
            else {
                return Err(bad("a float range lo..hi needs numeric bounds"));
            };
            if !(low.is_finite() && high.is_finite()) {
                return Err(bad("the bounds must be finite"));
            }
            if low >= high {
                return Err(bad(
                    "a float range lo..hi needs lo < hi (hi is excluded; lo..=hi is an integer range)",
                ));
            }
            Domain::Float { low, high }
        } else {
            return Param::parse_values(text);
        };
        Ok(Param {
            key: key.to_owned(),
            domain,
        })
    }

    /// Every value a grid tries, in order; `None` for a float range.
    pub fn values(&self) -> Option<Vec<Value>> {
        match &self.domain {
            Domain::Values(values) => Some(values.clone()),
            Domain::Int { low, high } => Some((*low..=*high).map(Value::from).collect()),
            Domain::Float { .. } => None,
        }
    }

    /// How many values a grid tries (saturating); `None` for a float range.
    pub fn count(&self) -> Option<u128> {
        match &self.domain {
            Domain::Values(values) => Some(values.len() as u128),
            Domain::Int { low, high } => Some((i128::from(*high) - i128::from(*low) + 1) as u128),
            Domain::Float { .. } => None,
        }
    }
}

/// A base config and the parameters varied over it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Space {
    base: Map<String, Value>,
    params: Vec<Param>,
}

impl Space {
    /// `params` over `base` (which they override); each key at most once.
    pub fn new(base: Map<String, Value>, params: Vec<Param>) -> Result<Space, SpaceError> {
        for (index, param) in params.iter().enumerate() {
            if params[..index].iter().any(|p| p.key == param.key) {
                return Err(SpaceError::DuplicateKey {
                    key: param.key.clone(),
                });
            }
        }
        Ok(Space { base, params })
    }

    /// `params` over the JSON object `base`.
    pub fn with_base_json(base: &Value, params: Vec<Param>) -> Result<Space, SpaceError> {
        match base {
            Value::Object(map) => Space::new(map.clone(), params),
            _ => Err(SpaceError::BaseNotObject),
        }
    }

    /// The base config.
    pub fn base(&self) -> &Map<String, Value> {
        &self.base
    }

    /// The parameters, in order.
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// The parameter named `key`.
    pub fn param(&self, key: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.key == key)
    }

    /// The base with `values` (one per parameter, in order) set.
    pub fn config(&self, values: &[Value]) -> Value {
        let mut config = self.base.clone();
        for (param, value) in self.params.iter().zip(values) {
            config.insert(param.key.clone(), value.clone());
        }
        Value::Object(config)
    }

    /// The searched parameters of `config`, `key -> value`, in parameter
    /// order.
    pub fn values_of(&self, config: &Value) -> Map<String, Value> {
        self.params
            .iter()
            .map(|p| {
                (
                    p.key.clone(),
                    config.get(&p.key).cloned().unwrap_or(Value::Null),
                )
            })
            .collect()
    }

    /// Combinations of a grid over every parameter (saturating); `None`
    /// when a parameter is a float range.
    pub fn combinations(&self) -> Option<u128> {
        self.params
            .iter()
            .try_fold(1u128, |total, p| Some(total.saturating_mul(p.count()?)))
    }

    /// Every combination over the base, the first parameter varying
    /// slowest (without parameters: the base alone).
    pub fn grid(&self) -> Result<Vec<Value>, SpaceError> {
        let mut axes = Vec::with_capacity(self.params.len());
        for param in &self.params {
            let Some(values) = param.values() else {
                return Err(SpaceError::NotEnumerable {
                    key: param.key.clone(),
                });
            };
            axes.push(values);
        }
        let combinations = self.combinations().unwrap_or(u128::MAX);
        if combinations > MAX_COMBINATIONS as u128 {
            return Err(SpaceError::TooLarge {
                combinations,
                limit: MAX_COMBINATIONS,
            });
        }
        let mut configs = Vec::with_capacity(combinations as usize);
        let mut at = vec![0usize; axes.len()];
        if axes.iter().any(Vec::is_empty) {
            return Ok(configs);
        }
        loop {
            let values: Vec<Value> = at
                .iter()
                .zip(&axes)
                .map(|(i, axis)| axis[*i].clone())
                .collect();
            configs.push(self.config(&values));
            // The last axis varies fastest.
            let mut axis = axes.len();
            loop {
                if axis == 0 {
                    return Ok(configs);
                }
                axis -= 1;
                at[axis] += 1;
                if at[axis] < axes[axis].len() {
                    break;
                }
                at[axis] = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn grid_axes_parse_json_values_and_combine() {
        let param = Param::parse_values("period=7, 14,x").unwrap();
        assert_eq!(param.key, "period");
        assert_eq!(
            param.domain,
            Domain::Values(vec![Value::from(7), Value::from(14), Value::from("x")])
        );
        assert_eq!(
            Param::parse_values("period").unwrap_err().to_string(),
            "period: expected KEY=V1,V2,..."
        );
        assert_eq!(
            Param::parse_values("=1").unwrap_err().to_string(),
            "=1: the key is empty"
        );
        assert_eq!(
            Param::parse_values("a= ,").unwrap_err().to_string(),
            "a= ,: no values"
        );

        let base: Map<String, Value> = serde_json::from_str(r#"{"cooldown_ms": 0}"#).unwrap();
        let space = Space::new(
            base,
            vec![
                Param::parse_values("a=1,2").unwrap(),
                Param::parse_values("b=3,4,5").unwrap(),
            ],
        )
        .unwrap();
        let configs = space.grid().unwrap();
        assert_eq!(configs.len(), 6);
        assert_eq!(configs[0], json!({"cooldown_ms": 0, "a": 1, "b": 3}));
        assert_eq!(configs[1], json!({"cooldown_ms": 0, "a": 1, "b": 4}));
        assert_eq!(configs[5], json!({"cooldown_ms": 0, "a": 2, "b": 5}));
        assert_eq!(
            Space::new(Map::new(), vec![]).unwrap().grid().unwrap(),
            vec![json!({})]
        );
    }

    #[test]
    fn ranges_parse_as_floats_integers_or_lists() {
        let float = Param::parse_range("threshold=0.5..2").unwrap();
        assert_eq!(
            float.domain,
            Domain::Float {
                low: 0.5,
                high: 2.0
            }
        );
        assert_eq!(float.values(), None);
        let int = Param::parse_range("period = 3..=5").unwrap();
        assert_eq!(int.key, "period");
        assert_eq!(int.domain, Domain::Int { low: 3, high: 5 });
        assert_eq!(int.values().unwrap(), vec![json!(3), json!(4), json!(5)]);
        let list = Param::parse_range("mode=fast,slow").unwrap();
        assert_eq!(
            list.domain,
            Domain::Values(vec![json!("fast"), json!("slow")])
        );
        for bad in [
            "x=2..1",
            "x=1..1",
            "x=a..b",
            "x=1.5..=3",
            "x=5..=4",
            "x=1..inf",
        ] {
            assert!(Param::parse_range(bad).is_err(), "{bad}");
        }

        let space = Space::new(Map::new(), vec![int.clone(), float.clone()]).unwrap();
        assert_eq!(space.combinations(), None);
        assert!(matches!(
            space.grid(),
            Err(SpaceError::NotEnumerable { key }) if key == "threshold"
        ));
        assert!(matches!(
            Space::new(Map::new(), vec![int.clone(), int]),
            Err(SpaceError::DuplicateKey { .. })
        ));
        let huge = Param::parse_range("x=0..=10000000").unwrap();
        assert!(matches!(
            Space::new(Map::new(), vec![huge]).unwrap().grid(),
            Err(SpaceError::TooLarge { .. })
        ));
    }
}
