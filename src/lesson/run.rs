//! How the snippet tests (`tests/snippets.rs`) run a lesson's snippets: the optional `run` field
//! of a `code[]` snippet or a spot-the-bug exercise, its checks, and the notes `check` prints for
//! snippets that are not run. lessons/README.md ("Running snippets") is the reference.
//!
//! The app itself never runs this code (what a learner sees beside a timeline is the demo's own
//! source or its twin); only the tests do, so that what a lesson shows stays true.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::validate::{ProblemKind, Reporter};
use super::{Language, Lesson};

/// The `run` field: whether and how the tests run a snippet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    /// The snippet is not run, and this says why (`check` shows it). Nothing else may be given
    /// with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<String>,
    /// A shared harness from `tests/snippets/` ([`HARNESSES`]): stand-in modules or crates, a
    /// loopback server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub harness: Option<String>,
    /// Python only: the versions the snippet is for, such as `>=3.11` (the default) or
    /// `>=3.12,<3.14`. The tests run it on every interpreter they find in that range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python: Option<String>,
    /// The context the snippet assumes (its top comment says what): Python run first in the
    /// snippet's namespace, Rust compiled beside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given: Option<String>,
    /// Python only: what runs after the snippet in its namespace, to call a fragment that only
    /// defines things (`asyncio.run(main())`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub then: Option<String>,
    /// Text the run's output (stdout and stderr; the compiler's for Rust) must contain. A
    /// spot-the-bug snippet runs only with it: the failure it teaches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<String>,
}

/// A harness a lesson can name: its files are under `tests/snippets/<language>/<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Harness {
    pub name: &'static str,
    pub language: Language,
    /// One line for `check` and the README.
    pub what: &'static str,
}

/// Every harness. `tests/snippets.rs` checks each has its files, and that each file is listed.
pub const HARNESSES: &[Harness] = &[
    Harness {
        name: "aiohttp-loopback",
        language: Language::Python,
        what: "a stand-in `aiohttp` module (the client API the lessons use) that speaks HTTP/1.1 \
               to a loopback server serving canned pages for any host",
    },
    Harness {
        name: "rand-stand-in",
        language: Language::Rust,
        what: "a stand-in `rand` module with `rand::random` (rand is not a dependency here)",
    },
];

pub fn harness(name: &str) -> Option<&'static Harness> {
    HARNESSES.iter().find(|h| h.name == name)
}

/// The Python versions a snippet is for when it does not say: what lessons/README.md promises.
pub const DEFAULT_PYTHON: &str = ">=3.11";

/// A Python version requirement: clauses such as `>=3.11` and `<3.14`, all of which must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonRange {
    clauses: Vec<(Op, (u32, u32))>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Ge,
    Gt,
    Le,
    Lt,
    Eq,
}

impl PythonRange {
    /// `>=3.11`, `>=3.10,<3.14`, `==3.13`. Versions are major.minor.
    pub fn parse(text: &str) -> Result<PythonRange, String> {
        let mut clauses = Vec::new();
        for clause in text.split(',') {
            let clause = clause.trim();
            let (op, rest) = [
                (">=", Op::Ge),
                ("<=", Op::Le),
                ("==", Op::Eq),
                (">", Op::Gt),
                ("<", Op::Lt),
            ]
            .iter()
            .find_map(|&(s, op)| clause.strip_prefix(s).map(|r| (op, r)))
            .ok_or_else(|| {
                format!("`{clause}` does not start with >=, >, <=, < or ==; write e.g. `>=3.11`")
            })?;
            let version = rest
                .trim()
                .split_once('.')
                .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
                .ok_or_else(|| {
                    format!("`{clause}`: write the version as major.minor, e.g. 3.11")
                })?;
            clauses.push((op, version));
        }
        Ok(PythonRange { clauses })
    }

    pub fn contains(&self, version: (u32, u32)) -> bool {
        self.clauses.iter().all(|&(op, v)| match op {
            Op::Ge => version >= v,
            Op::Gt => version > v,
            Op::Le => version <= v,
            Op::Lt => version < v,
            Op::Eq => version == v,
        })
    }
}

impl RunSpec {
    /// The Python versions this snippet is for.
    pub fn python_range(spec: Option<&RunSpec>) -> PythonRange {
        let text = spec
            .and_then(|s| s.python.as_deref())
            .unwrap_or(DEFAULT_PYTHON);
        PythonRange::parse(text).unwrap_or_else(|_| {
            PythonRange::parse(DEFAULT_PYTHON).expect("the default range parses")
        })
    }
}

/// Whether the snippet at `base` is a `code[]` snippet or a spot-the-bug exercise's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SnippetRole {
    Code,
    SpotTheBug,
}

/// The checks on one `run` field; `base` is the snippet's path (`code[0]`).
pub(crate) fn check_run(
    spec: &RunSpec,
    language: Language,
    role: SnippetRole,
    base: &str,
    r: &mut Reporter<'_>,
) {
    let path = |field: &str| format!("{base}.run.{field}");
    let texts = [
        ("skip", &spec.skip),
        ("given", &spec.given),
        ("then", &spec.then),
        ("expect", &spec.expect),
    ];
    for (field, text) in texts {
        if let Some(text) = text {
            r.text(&path(field), text);
        }
    }
    if spec.skip.is_some() {
        let others = [
            ("harness", spec.harness.is_some()),
            ("python", spec.python.is_some()),
            ("given", spec.given.is_some()),
            ("then", spec.then.is_some()),
            ("expect", spec.expect.is_some()),
        ];
        for (field, given) in others {
            if given {
                r.value(
                    &path(field),
                    ProblemKind::Inconsistent,
                    format!("`{field}` says how to run a snippet that `skip` says is not run; keep one of them"),
                );
            }
        }
    }
    if let Some(name) = &spec.harness {
        match harness(name) {
            None => {
                let known: Vec<&str> = HARNESSES.iter().map(|h| h.name).collect();
                r.value(
                    &path("harness"),
                    ProblemKind::UnknownHarness,
                    format!("unknown harness `{name}` (known: {})", known.join(", ")),
                );
            }
            Some(h) if h.language != language => r.value(
                &path("harness"),
                ProblemKind::Inconsistent,
                format!(
                    "`{name}` is a {} harness; this is a {} snippet",
                    h.language.name(),
                    language.name()
                ),
            ),
            Some(_) => {}
        }
    }
    if let Some(text) = &spec.python {
        if language != Language::Python {
            r.value(
                &path("python"),
                ProblemKind::Inconsistent,
                "`python` names Python versions; this is a rust snippet",
            );
        } else if let Err(msg) = PythonRange::parse(text) {
            r.value(&path("python"), ProblemKind::WrongType, msg);
        }
    }
    if spec.then.is_some() && language != Language::Python {
        r.value(
            &path("then"),
            ProblemKind::Inconsistent,
            "`then` runs after a Python snippet; Rust snippets are compiled, not run",
        );
    }
    // A Python spot-the-bug snippet runs only to show its failure; anything else about how to run
    // it would never be used.
    if role == SnippetRole::SpotTheBug
        && language == Language::Python
        && spec.skip.is_none()
        && spec.expect.is_none()
    {
        r.value(
            &format!("{base}.run"),
            ProblemKind::MissingField,
            "a spot-the-bug snippet runs only to show the failure it teaches: give `expect` \
             (text its output must contain), or `skip` with a reason",
        );
    }
}

/// Something `check` reports that is not a problem: a snippet the tests do not run, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub file: String,
    pub line: usize,
    pub col: usize,
    /// `code[0].run.skip`
    pub path: String,
    pub message: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.col, self.path, self.message
        )
    }
}

/// Each snippet of `lesson` that the tests do not run, as (path of its `run.skip`, message).
/// Spot-the-bug Python snippets without `run` are counted by [`unrun_spot_the_bug`] instead: not
/// running them is the rule, not an exception.
pub fn skipped(lesson: &Lesson) -> Vec<(String, String)> {
    let code = lesson
        .code
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("code[{i}]"), s.run.as_ref()));
    let hunts = lesson
        .spot_the_bug
        .iter()
        .enumerate()
        .map(|(i, h)| (format!("spot_the_bug[{i}]"), h.run.as_ref()));
    code.chain(hunts)
        .filter_map(|(base, run)| {
            let reason = run?.skip.as_ref()?;
            let reason = reason.split_whitespace().collect::<Vec<_>>().join(" ");
            Some((format!("{base}.run.skip"), format!("not run: {reason}")))
        })
        .collect()
}

/// How many Python spot-the-bug snippets are only syntax-checked: those without a `run` field.
pub fn unrun_spot_the_bug(lesson: &Lesson) -> usize {
    lesson
        .spot_the_bug
        .iter()
        .filter(|h| h.language == Language::Python && h.run.is_none())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_hold_every_clause() {
        let r = PythonRange::parse(">=3.12,<3.14").unwrap();
        assert!(!r.contains((3, 11)));
        assert!(r.contains((3, 12)));
        assert!(r.contains((3, 13)));
        assert!(!r.contains((3, 14)));
        assert!(PythonRange::parse("==3.10").unwrap().contains((3, 10)));
        assert!(PythonRange::parse("> 3.10").unwrap().contains((3, 11)));
        assert!(!PythonRange::parse("<=3.10").unwrap().contains((3, 11)));
    }

    #[test]
    fn malformed_ranges_say_what_to_write() {
        assert!(PythonRange::parse("3.11").unwrap_err().contains(">="));
        assert!(
            PythonRange::parse(">=3")
                .unwrap_err()
                .contains("major.minor")
        );
        assert!(
            PythonRange::parse(">=3.x")
                .unwrap_err()
                .contains("major.minor")
        );
        assert!(PythonRange::parse("").is_err());
    }

    #[test]
    fn the_default_range_is_the_readme_promise() {
        let r = RunSpec::python_range(None);
        assert!(!r.contains((3, 10)) && r.contains((3, 11)) && r.contains((3, 14)));
    }
}
