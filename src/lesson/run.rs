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
    /// Text the run's output (stdout and stderr; the compiler's for Rust) must contain, or
    /// several texts that must each appear (for output whose lines come in no fixed order). A
    /// spot-the-bug snippet runs only with it (or with `by_version`): the failure it teaches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expect>,
    /// Python only: more text the output must contain on the interpreters of each range, for a
    /// snippet whose output says which version ran it (`expect` holds on every version).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_version: Vec<VersionExpect>,
}

/// What a run's output must contain: one text, or a list of texts that must each appear.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Expect {
    One(String),
    All(Vec<String>),
}

impl Expect {
    pub fn texts(&self) -> &[String] {
        match self {
            Expect::One(text) => std::slice::from_ref(text),
            Expect::All(texts) => texts,
        }
    }
}

/// One entry of `run.by_version`: on an interpreter within `python`, the output must also contain
/// `expect`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionExpect {
    pub python: String,
    pub expect: Expect,
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
    /// Every text the output must contain when the snippet runs on Python `version` (for Rust,
    /// pass `None`: only `expect` applies).
    pub fn expected_texts(&self, version: Option<(u32, u32)>) -> Vec<&str> {
        let mut texts: Vec<&str> = self
            .expect
            .iter()
            .flat_map(|e| e.texts())
            .map(String::as_str)
            .collect();
        if let Some(version) = version {
            for v in &self.by_version {
                if PythonRange::parse(&v.python).is_ok_and(|r| r.contains(version)) {
                    texts.extend(v.expect.texts().iter().map(String::as_str));
                }
            }
        }
        texts
    }

    /// Whether the snippet says what its output must contain, on some version at least.
    pub fn has_expect(&self) -> bool {
        self.expect.is_some() || !self.by_version.is_empty()
    }

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
    ];
    for (field, text) in texts {
        if let Some(text) = text {
            r.text(&path(field), text);
        }
    }
    if let Some(expect) = &spec.expect {
        check_expect(expect, &path("expect"), r);
    }
    for (i, v) in spec.by_version.iter().enumerate() {
        let base = path(&format!("by_version[{i}]"));
        check_expect(&v.expect, &format!("{base}.expect"), r);
        if let Err(msg) = PythonRange::parse(&v.python) {
            r.value(&format!("{base}.python"), ProblemKind::WrongType, msg);
        }
    }
    if !spec.by_version.is_empty() && language != Language::Python {
        r.value(
            &path("by_version"),
            ProblemKind::Inconsistent,
            "`by_version` names Python versions; this is a rust snippet",
        );
    }
    if spec.skip.is_some() {
        let others = [
            ("harness", spec.harness.is_some()),
            ("python", spec.python.is_some()),
            ("given", spec.given.is_some()),
            ("then", spec.then.is_some()),
            ("expect", spec.expect.is_some()),
            ("by_version", !spec.by_version.is_empty()),
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
        && !spec.has_expect()
    {
        r.value(
            &format!("{base}.run"),
            ProblemKind::MissingField,
            "a spot-the-bug snippet runs only to show the failure it teaches: give `expect` \
             (text its output must contain), or `skip` with a reason",
        );
    }
}

fn check_expect(expect: &Expect, path: &str, r: &mut Reporter<'_>) {
    match expect {
        Expect::One(text) => r.text(path, text),
        Expect::All(texts) if texts.is_empty() => r.value(
            path,
            ProblemKind::EmptyText,
            "an empty list expects nothing: give the texts the output must contain",
        ),
        Expect::All(texts) => {
            for (i, text) in texts.iter().enumerate() {
                r.text(&format!("{path}[{i}]"), text);
            }
        }
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
