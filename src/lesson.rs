//! Lessons: the data types, loading (embedded set or a directory) and validation.
//!
//! - here: the run-time types, and in [`Lesson`] the one list of a lesson's fields;
//! - [`mod@file`]: what that list generates (the file as written, and how it is read);
//! - [`quiz`]: quiz items as written and, once validated, typed by kind;
//! - [`parse`]: one file from bytes to a lesson or its problems; the one place lesson YAML is
//!   parsed at run time, so the YAML crate can be swapped in one file;
//! - [`validate`]: the problems a lesson can have, found in one pass and placed;
//! - [`load`]: the embedded set or a directory; [`spans`]: where each value stands.
//!
//! Everything here is plain data: nothing knows about the terminal.

pub mod file;
pub mod load;
pub mod parse;
pub mod quiz;
pub mod run;
pub mod spans;
pub mod validate;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use load::{LessonSet, LoadError, load_dir, load_embedded, run_notes};
pub use parse::parse_lesson;
pub use quiz::{
    ChoiceItem, Measure, PredictAnswer, PredictItem, QuizItem, QuizKind, QuizTask, SpotItem,
};
pub use run::RunSpec;
pub use validate::{Problem, ProblemKind};

/// The lesson format this build understands. A file with another version is refused with a
/// message, never half-read.
pub const FORMAT_VERSION: u32 = 1;

/// A lesson's stable identifier (`q05-concurrent-http`). Progress and cross-references use it, so
/// reordering or renumbering lessons never breaks them.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LessonId(pub String);

impl fmt::Display for LessonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Interview question or code challenge, numbered separately as the guide numbers them, or a
/// lesson beyond the guide (B1, B2, ...), numbered on its own so that it never takes a number the
/// guide might be read as having (a "Q17").
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum LessonKind {
    #[default]
    Question,
    Challenge,
    Beyond,
}

/// The guide's sections, in the guide's own order, then the lessons beyond the guide. Lessons
/// list in this order, then by number.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Section {
    #[default]
    CoreConcepts,
    TechnicalDeepDive,
    ProductionScenarios,
    CodeChallenges,
    SystemDesign,
    BestPractices,
    CommonMistakes,
    /// Topics the guide does not cover; lessons of kind `beyond`, and only those.
    Beyond,
}

impl Section {
    pub const ALL: [Section; 8] = [
        Section::CoreConcepts,
        Section::TechnicalDeepDive,
        Section::ProductionScenarios,
        Section::CodeChallenges,
        Section::SystemDesign,
        Section::BestPractices,
        Section::CommonMistakes,
        Section::Beyond,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Section::CoreConcepts => "Core concepts",
            Section::TechnicalDeepDive => "Technical deep dive",
            Section::ProductionScenarios => "Production scenarios",
            Section::CodeChallenges => "Code challenges",
            Section::SystemDesign => "System design",
            Section::BestPractices => "Best practices",
            Section::CommonMistakes => "Common mistakes",
            Section::Beyond => "Beyond the guide",
        }
    }
}

/// Programming languages a snippet may be written in. Highlighting and the `p` toggle know these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Python,
    Rust,
}

impl Language {
    pub const NAMES: &'static [&'static str] = &["python", "rust"];

    pub fn name(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::Rust => "rust",
        }
    }

    pub fn parse(name: &str) -> Option<Language> {
        match name {
            "python" => Some(Language::Python),
            "rust" => Some(Language::Rust),
            _ => None,
        }
    }
}

file::lesson_fields! {
    /// One validated lesson. Built only by [`parse`], after [`validate`] found no problem.
    ///
    /// The list of a lesson file's fields: each one here is a field of `Lesson`, a field the
    /// file may (`Optional`) or must (`Required`) have, and read on every path (see [`mod@file`]).
    /// `file` (where it came from), `quiz` and the file's `format_version` are added by the macro.
    pub struct Lesson {
        pub id: LessonId = Required,
        pub kind: LessonKind = Required,
        pub number: u32 = Required,
        pub section: Section = Required,
        pub title: String = Required,
        pub question: String = Required,
        /// Markdown (a small subset: paragraphs, lists, emphasis, inline and fenced code).
        pub answer: String = Required,
        pub key_points: Vec<String> = Required,
        pub code: Vec<Snippet> = Required,
        pub mapping: Vec<MappingRow> = Required,
        pub demos: Vec<DemoRef> = Optional,
        pub spot_the_bug: Vec<BugHunt> = Required,
    }
}

impl Lesson {
    /// "Q5", "C1" or "B1": how the guide and the list name a lesson.
    pub fn label(&self) -> String {
        match self.kind {
            LessonKind::Question => format!("Q{}", self.number),
            LessonKind::Challenge => format!("C{}", self.number),
            LessonKind::Beyond => format!("B{}", self.number),
        }
    }

    /// The key lessons sort by: the guide's section order, then questions before challenges,
    /// then number.
    pub fn guide_order(&self) -> (Section, LessonKind, u32) {
        (self.section, self.kind, self.number)
    }

    pub fn snippet(&self, language: Language) -> Option<&Snippet> {
        self.code.iter().find(|s| s.language == language)
    }

    /// Does `query` name this lesson? Accepts the id, "5", "q5", "Q05", "c1", "b1".
    pub fn is_named_by(&self, query: &str) -> bool {
        let q = query.trim().to_ascii_lowercase();
        if q == self.id.0 {
            return true;
        }
        let prefixes = [
            ('q', LessonKind::Question),
            ('c', LessonKind::Challenge),
            ('b', LessonKind::Beyond),
        ];
        let (prefix, digits) = prefixes
            .iter()
            .find_map(|&(letter, kind)| Some((Some(kind), q.strip_prefix(letter)?)))
            .unwrap_or((None, q.as_str()));
        let Ok(n) = digits.parse::<u32>() else {
            return false;
        };
        // A bare number means a question: the guide numbers challenges separately.
        let kind = prefix.unwrap_or(LessonKind::Question);
        kind == self.kind && n == self.number
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snippet {
    pub language: Language,
    /// A short caption ("corrected: bounded fan-out").
    #[serde(default)]
    pub title: String,
    pub source: String,
    /// How the snippet tests run it (see [`run`]); absent: run as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingRow {
    pub asyncio: String,
    pub tokio: String,
    #[serde(default)]
    pub note: String,
}

/// A demo the lesson runs, with the parameters it overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoRef {
    pub demo: String,
    /// Variants to run side by side; empty means the demo's defaults.
    #[serde(default)]
    pub variants: Vec<String>,
    /// Parameter overrides, checked against the demo's declared parameters.
    #[serde(default)]
    pub params: BTreeMap<String, ParamValue>,
    /// One sentence telling the learner what to look at.
    pub caption: String,
}

/// A parameter value as written in a lesson: a number, a string (`250ms`, `fixed-rate`) or a list.
/// The demo's own parameter declaration decides what it means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    Int(i64),
    Text(String),
    List(Vec<ParamValue>),
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Int(n) => write!(f, "{n}"),
            ParamValue::Text(s) => f.write_str(s),
            ParamValue::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                Ok(())
            }
        }
    }
}

/// Where a spot-the-bug snippet comes from: the interview guide's own code, or written here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BugOrigin {
    Guide,
    Original,
}

/// A spot-the-bug exercise: a snippet, the lines that are wrong and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BugHunt {
    pub id: String,
    pub title: String,
    pub origin: BugOrigin,
    pub language: Language,
    pub code: String,
    pub bugs: Vec<Bug>,
    /// How the corrected code differs, in prose (Markdown).
    pub fix: String,
    /// A demo that shows this bug: practice runs it when the exercise is answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// How the snippet tests run it (see [`run`]); absent: a Python snippet is only
    /// syntax-checked, a Rust one compiled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunSpec>,
}

/// A demo whose variants show a spot-the-bug exercise's bug: one variant behaves as the buggy
/// code does, the other as the fix. Practice runs both with the same parameters and draws them on
/// one time axis, on the virtual clock when both variants support it, else on the real one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// A demo id (`asyncdojo demos`).
    pub demo: String,
    /// The variant that behaves like the buggy code.
    pub buggy: String,
    /// The variant that behaves like the fix.
    pub fixed: String,
    /// Parameter overrides for both runs, checked against the demo's declared parameters.
    #[serde(default)]
    pub params: BTreeMap<String, ParamValue>,
    /// One sentence telling the learner what to look at.
    pub caption: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bug {
    /// 1-based line numbers in the exercise's `code` that carry this bug.
    pub lines: Vec<u32>,
    pub why: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped-format fixture, moved by `edit` into another kind and section.
    fn parsed(edit: impl Fn(String) -> String) -> parse::Parsed {
        let fixture = include_str!("../tests/fixtures/valid/q01-sync-vs-async.yaml");
        let text = edit(fixture.to_owned());
        parse_lesson(
            "q01-sync-vs-async.yaml",
            text.as_bytes(),
            &crate::demo::Registry,
        )
    }

    fn as_beyond(text: String) -> String {
        text.replace("kind: question", "kind: beyond")
            .replace("section: core-concepts", "section: beyond")
    }

    fn problems(result: parse::Parsed) -> Vec<String> {
        match result {
            Ok(_) => Vec::new(),
            Err(problems) => problems.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_beyond_lesson_is_labelled_b_and_lists_after_the_guide() {
        let (lesson, _) = parsed(as_beyond).expect("a beyond lesson in the beyond section");
        assert_eq!(lesson.label(), "B1");
        assert_eq!(lesson.section.title(), "Beyond the guide");
        assert!(lesson.is_named_by("b1") && lesson.is_named_by("B01"));
        // A bare number still means a guide question.
        assert!(!lesson.is_named_by("1") && !lesson.is_named_by("q1"));
        let (guide_q1, _) = parsed(|t| t).expect("the fixture is valid");
        assert!(guide_q1.guide_order() < lesson.guide_order());
        assert_eq!(Section::ALL.last(), Some(&Section::Beyond));
        let mut sorted = Section::ALL;
        sorted.sort();
        assert_eq!(sorted, Section::ALL, "ALL is in list order");
    }

    #[test]
    fn kind_and_section_beyond_go_together() {
        let beyond_in_guide = problems(parsed(|t| t.replace("kind: question", "kind: beyond")));
        assert_eq!(
            beyond_in_guide,
            [
                "q01-sync-vs-async.yaml:5:10: section: a lesson of kind `beyond` belongs in section `beyond`"
            ]
        );
        let question_beyond = problems(parsed(|t| {
            t.replace("section: core-concepts", "section: beyond")
        }));
        assert_eq!(question_beyond.len(), 1, "{question_beyond:?}");
        assert!(
            question_beyond[0].starts_with(
                "q01-sync-vs-async.yaml:3:7: kind: section `beyond` holds only lessons of kind `beyond`"
            ),
            "{question_beyond:?}"
        );
    }

    #[test]
    fn unknown_kinds_and_sections_are_refused() {
        let section = problems(parsed(|t| {
            as_beyond(t).replace("section: beyond", "section: beyond-the-guide")
        }));
        assert!(
            section
                .iter()
                .any(|p| p.contains("section: unknown variant `beyond-the-guide`")),
            "{section:?}"
        );
        let kind = problems(parsed(|t| {
            as_beyond(t).replace("kind: beyond", "kind: extra")
        }));
        assert!(
            kind.iter()
                .any(|p| p.contains("kind: unknown variant `extra`")),
            "{kind:?}"
        );
    }
}
