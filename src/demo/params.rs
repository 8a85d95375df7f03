//! Demo parameters: declarations with defaults and ranges, and parsing of `--set name=value` and
//! of lesson overrides, with messages that name the valid choices. A demo declares its parameters
//! once with [`params!`](crate::demo::params!) (see [`declare`]), which gives both the table below
//! and the typed struct the demo reads.

pub mod declare;

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

pub use declare::{ChoiceParam, FromParams, ItemError, ListItem};

use super::DemoSpec;
use crate::lesson::ParamValue;

/// What a parameter accepts. Every kind is bounded, so every run is bounded in time and memory.
#[derive(Debug, Clone, Copy)]
pub enum ParamKind {
    Int {
        min: i64,
        max: i64,
    },
    /// A duration in milliseconds: `250`, `250ms`, `1.5s`.
    Ms {
        min: u64,
        max: u64,
    },
    /// A comma-separated list of durations: `100,200,300`.
    MsList {
        min_len: usize,
        max_len: usize,
        min: u64,
        max: u64,
    },
    Choice(&'static [&'static str]),
    /// A comma-separated list of items, each checked by `item`.
    TextList {
        max_len: usize,
        item: fn(&str) -> Result<(), ItemError>,
        syntax: &'static str,
    },
}

/// Why a parameter setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error(
        "--set takes NAME=VALUE, got `{set}` (parameters of {demo}: {})",
        names(known)
    )]
    NotNameValue {
        set: String,
        demo: &'static str,
        known: Vec<&'static str>,
    },
    #[error(
        "demo `{demo}` has no parameter `{name}` (parameters: {})",
        names(known)
    )]
    Unknown {
        demo: &'static str,
        name: String,
        known: Vec<&'static str>,
    },
    #[error("{name}: {problem}")]
    Invalid {
        name: &'static str,
        problem: ValueError,
    },
    /// A parameter set that was not built from the demo's own declaration (a programming error,
    /// reported rather than panicked on).
    #[error("parameter `{name}` is missing or does not fit the demo's declaration")]
    Mismatch { name: &'static str },
}

/// What is wrong with a value, measured against its parameter's declaration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("`{text}` is not a whole number ({range})")]
    NotAWholeNumber { text: String, range: String },
    #[error("{n} is out of range ({range})")]
    IntOutOfRange { n: i64, range: String },
    #[error("`{text}` is not a duration (write 250, 250ms or 1.5s)")]
    NotADuration { text: String },
    #[error("{n} ms is out of range ({range})")]
    MsOutOfRange { n: u64, range: String },
    #[error("{n} item(s) given ({range})")]
    ListLength { n: usize, range: String },
    #[error("`{text}` is not one of {}", options.join(", "))]
    NotAChoice {
        text: String,
        options: &'static [&'static str],
    },
    #[error("{n} items given ({range})")]
    TooManyItems { n: usize, range: String },
    #[error("`{item}`: {problem}")]
    BadItem { item: String, problem: ItemError },
}

/// A parameter's declared default, in the same syntax `--set` takes.
#[derive(Debug)]
pub struct ParamSpec {
    pub name: &'static str,
    pub kind: ParamKind,
    pub default: &'static str,
    pub help: &'static str,
}

/// A checked parameter value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ParamVal {
    Int(i64),
    Ms(u64),
    MsList(Vec<u64>),
    Text(String),
    TextList(Vec<String>),
}

impl fmt::Display for ParamVal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamVal::Int(n) => write!(f, "{n}"),
            ParamVal::Ms(n) => write!(f, "{n}"),
            ParamVal::MsList(v) => {
                let parts: Vec<String> = v.iter().map(u64::to_string).collect();
                write!(f, "{}", parts.join(","))
            }
            ParamVal::Text(s) => f.write_str(s),
            ParamVal::TextList(v) => f.write_str(&v.join(",")),
        }
    }
}

/// The full, checked parameter set of one run: every declared parameter has a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Params(BTreeMap<&'static str, ParamVal>);

impl Params {
    /// The declared defaults.
    pub fn defaults(spec: &DemoSpec) -> Params {
        let mut map = BTreeMap::new();
        for p in spec.params {
            // Defaults are part of the code and checked by a test for every demo.
            let value = parse(p, p.default)
                .unwrap_or_else(|e| panic!("default of {}.{} is invalid: {e}", spec.id, p.name));
            map.insert(p.name, value);
        }
        Params(map)
    }

    /// Apply `name=value` settings from the command line.
    pub fn with_sets(mut self, spec: &DemoSpec, sets: &[String]) -> Result<Params, ParamError> {
        for set in sets {
            let Some((name, value)) = set.split_once('=') else {
                return Err(ParamError::NotNameValue {
                    set: set.clone(),
                    demo: spec.id,
                    known: known(spec),
                });
            };
            self.set(spec, name.trim(), value.trim())?;
        }
        Ok(self)
    }

    /// Apply overrides written in a lesson.
    pub fn with_lesson_values(
        mut self,
        spec: &DemoSpec,
        values: &BTreeMap<String, ParamValue>,
    ) -> Result<Params, ParamError> {
        for (name, value) in values {
            self.set(spec, name, &lesson_text(value))?;
        }
        Ok(self)
    }

    pub fn set(&mut self, spec: &DemoSpec, name: &str, value: &str) -> Result<(), ParamError> {
        let p = declared(spec, name)?;
        let v = parse(p, value).map_err(|problem| ParamError::Invalid {
            name: p.name,
            problem,
        })?;
        self.0.insert(p.name, v);
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&ParamVal> {
        self.0.get(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &ParamVal)> {
        self.0.iter().map(|(k, v)| (*k, v))
    }
}

fn known(spec: &DemoSpec) -> Vec<&'static str> {
    spec.params.iter().map(|p| p.name).collect()
}

fn names(known: &[&str]) -> String {
    if known.is_empty() {
        return "none".into();
    }
    known.join(", ")
}

fn declared<'s>(spec: &'s DemoSpec, name: &str) -> Result<&'s ParamSpec, ParamError> {
    spec.param(name).ok_or_else(|| ParamError::Unknown {
        demo: spec.id,
        name: name.to_owned(),
        known: known(spec),
    })
}

/// A lesson's value, written the way `--set` takes it.
fn lesson_text(value: &ParamValue) -> String {
    value.to_string()
}

/// Check a lesson's override without building a whole parameter set.
pub fn check_lesson_value(
    spec: &DemoSpec,
    name: &str,
    value: &ParamValue,
) -> Result<(), ParamError> {
    let p = declared(spec, name)?;
    parse(p, &lesson_text(value))
        .map(|_| ())
        .map_err(|problem| ParamError::Invalid {
            name: p.name,
            problem,
        })
}

/// The declared range, for messages and for `asyncdojo demos`.
pub fn describe(kind: &ParamKind) -> String {
    match kind {
        ParamKind::Int { min, max } => format!("integer {min}..={max}"),
        ParamKind::Ms { min, max } => format!("duration {min}..={max} ms"),
        ParamKind::MsList {
            min_len,
            max_len,
            min,
            max,
        } => format!("{min_len}..={max_len} durations, each {min}..={max} ms"),
        ParamKind::Choice(options) => format!("one of {}", options.join(", ")),
        ParamKind::TextList {
            max_len, syntax, ..
        } => format!("up to {max_len} items: {syntax}"),
    }
}

fn parse(p: &ParamSpec, text: &str) -> Result<ParamVal, ValueError> {
    let range = || describe(&p.kind);
    match p.kind {
        ParamKind::Int { min, max } => {
            let n: i64 = text
                .trim()
                .parse()
                .map_err(|_| ValueError::NotAWholeNumber {
                    text: text.to_owned(),
                    range: range(),
                })?;
            if n < min || n > max {
                return Err(ValueError::IntOutOfRange { n, range: range() });
            }
            Ok(ParamVal::Int(n))
        }
        ParamKind::Ms { min, max } => {
            let n = parse_ms(text)?;
            if n < min || n > max {
                return Err(ValueError::MsOutOfRange { n, range: range() });
            }
            Ok(ParamVal::Ms(n))
        }
        ParamKind::MsList {
            min_len,
            max_len,
            min,
            max,
        } => {
            let items: Vec<&str> = text
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            if items.len() < min_len || items.len() > max_len {
                return Err(ValueError::ListLength {
                    n: items.len(),
                    range: range(),
                });
            }
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let n = parse_ms(item)?;
                if n < min || n > max {
                    return Err(ValueError::MsOutOfRange { n, range: range() });
                }
                out.push(n);
            }
            Ok(ParamVal::MsList(out))
        }
        ParamKind::Choice(options) => {
            let t = text.trim();
            if options.contains(&t) {
                Ok(ParamVal::Text(t.to_owned()))
            } else {
                Err(ValueError::NotAChoice {
                    text: t.to_owned(),
                    options,
                })
            }
        }
        ParamKind::TextList { max_len, item, .. } => {
            let items: Vec<String> = text
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            if items.len() > max_len {
                return Err(ValueError::TooManyItems {
                    n: items.len(),
                    range: range(),
                });
            }
            for i in &items {
                item(i).map_err(|problem| ValueError::BadItem {
                    item: i.clone(),
                    problem,
                })?;
            }
            Ok(ParamVal::TextList(items))
        }
    }
}

/// `250`, `250ms`, `1s`, `1.5s` → milliseconds.
fn parse_ms(text: &str) -> Result<u64, ValueError> {
    let t = text.trim();
    let bad = || ValueError::NotADuration { text: t.to_owned() };
    if let Some(ms) = t.strip_suffix("ms") {
        return ms.trim().parse().map_err(|_| bad());
    }
    if let Some(s) = t.strip_suffix('s') {
        let secs: f64 = s.trim().parse().map_err(|_| bad())?;
        if !(0.0..=86_400.0).contains(&secs) {
            return Err(bad());
        }
        return Ok((secs * 1000.0).round() as u64);
    }
    t.parse().map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: ParamSpec = ParamSpec {
        name: "work_ms",
        kind: ParamKind::Ms { min: 0, max: 5000 },
        default: "100",
        help: "",
    };

    #[test]
    fn durations_accept_units() {
        assert_eq!(parse(&SPEC, "250"), Ok(ParamVal::Ms(250)));
        assert_eq!(parse(&SPEC, "250ms"), Ok(ParamVal::Ms(250)));
        assert_eq!(parse(&SPEC, "1.5s"), Ok(ParamVal::Ms(1500)));
    }

    #[test]
    fn out_of_range_names_the_range() {
        let err = parse(&SPEC, "9000").unwrap_err().to_string();
        assert_eq!(err, "9000 ms is out of range (duration 0..=5000 ms)");
        let err = parse(&SPEC, "soon").unwrap_err().to_string();
        assert!(err.contains("is not a duration"), "{err}");
    }

    #[test]
    fn lists_are_bounded_in_length_and_value() {
        let list = ParamSpec {
            name: "l",
            kind: ParamKind::MsList {
                min_len: 1,
                max_len: 3,
                min: 0,
                max: 100,
            },
            default: "1",
            help: "",
        };
        assert_eq!(parse(&list, "1, 2,3"), Ok(ParamVal::MsList(vec![1, 2, 3])));
        let err = |text: &str| parse(&list, text).unwrap_err().to_string();
        assert!(err("1,2,3,4").contains("4 item(s) given"));
        assert!(err("").contains("0 item(s) given"));
        assert!(err("1,200").contains("200 ms is out of range"));
    }
}
