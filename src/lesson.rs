//! Lessons: the data types, loading (embedded set or a directory) and validation.
//!
//! A lesson file is parsed in exactly one place, [`load`], so the YAML crate can be swapped in one
//! file. Everything here is plain data: nothing knows about the terminal.

pub mod load;
pub mod spans;
pub mod validate;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use load::{LessonSet, LoadError, load_dir, load_embedded, parse_lesson};
pub use validate::{Problem, ProblemKind};

/// The lesson format this build understands. A file with another version is refused with a
/// message, never half-read.
pub const FORMAT_VERSION: u32 = 1;

/// A lesson's stable identifier (`q05-concurrent-http`). Progress and cross-references use it, so
/// reordering or renumbering lessons never breaks them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LessonId(pub String);

impl fmt::Display for LessonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Interview question or code challenge: they are numbered separately in the guide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LessonKind {
    Question,
    Challenge,
}

/// The guide's sections, in the guide's own order. Lessons list in this order, then by number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Section {
    CoreConcepts,
    TechnicalDeepDive,
    ProductionScenarios,
    CodeChallenges,
    SystemDesign,
    BestPractices,
    CommonMistakes,
}

impl Section {
    pub const ALL: [Section; 7] = [
        Section::CoreConcepts,
        Section::TechnicalDeepDive,
        Section::ProductionScenarios,
        Section::CodeChallenges,
        Section::SystemDesign,
        Section::BestPractices,
        Section::CommonMistakes,
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

/// One validated lesson. Built only by [`load`], after [`validate`] found no problem.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lesson {
    pub id: LessonId,
    /// The file it came from (`q05-concurrent-http.yaml`), for messages.
    pub file: String,
    pub kind: LessonKind,
    pub number: u32,
    pub section: Section,
    pub title: String,
    pub question: String,
    /// Markdown (a small subset: paragraphs, lists, emphasis, inline and fenced code).
    pub answer: String,
    pub key_points: Vec<String>,
    pub code: Vec<Snippet>,
    pub mapping: Vec<MappingRow>,
    pub demos: Vec<DemoRef>,
    pub spot_the_bug: Vec<BugHunt>,
    pub quiz: Vec<QuizItem>,
}

impl Lesson {
    /// "Q5" or "C1": how the guide and the list name a lesson.
    pub fn label(&self) -> String {
        match self.kind {
            LessonKind::Question => format!("Q{}", self.number),
            LessonKind::Challenge => format!("C{}", self.number),
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

    /// Does `query` name this lesson? Accepts the id, "5", "q5", "Q05", "c1".
    pub fn is_named_by(&self, query: &str) -> bool {
        let q = query.trim().to_ascii_lowercase();
        if q == self.id.0 {
            return true;
        }
        let (prefix, digits) = match q.strip_prefix('q') {
            Some(rest) => (Some(LessonKind::Question), rest),
            None => match q.strip_prefix('c') {
                Some(rest) => (Some(LessonKind::Challenge), rest),
                None => (None, q.as_str()),
            },
        };
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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bug {
    /// 1-based line numbers in the exercise's `code` that carry this bug.
    pub lines: Vec<u32>,
    pub why: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QuizKind {
    /// Multiple choice: `options` and a 1-based `answer`.
    Choice,
    /// Predict, then run: commit to a number or a name, then the demo runs and measures it.
    Predict,
    /// Mark the wrong lines of one of the lesson's `spot_the_bug` exercises.
    SpotTheBug,
}

/// What a predict item measures in the demo's run. Written as one string in a lesson:
/// `total_ms`, `first_finished`, `outcome:rejected`, `metric:max_in_flight`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Measure {
    /// The run's total time in milliseconds.
    TotalMs,
    /// The name of the task that finished first.
    FirstFinished,
    /// How many tasks ended with this outcome (`rejected`, `timeout`, ...).
    OutcomeCount(String),
    /// A value from the run's `metrics`.
    Metric(String),
}

/// A quiz item. Kept flat, not a tagged enum, so a wrong field is reported at its own path;
/// validation checks that each kind has exactly the fields it uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuizItem {
    pub id: String,
    pub kind: QuizKind,
    pub prompt: String,
    /// Choice: the options, shown in order.
    #[serde(default)]
    pub options: Vec<String>,
    /// Choice: the 1-based number of the right option. Predict: the value the demo measures.
    #[serde(default)]
    pub answer: Option<ParamValue>,
    /// Predict: the demo, its variant and parameters.
    #[serde(default)]
    pub demo: Option<String>,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default)]
    pub params: BTreeMap<String, ParamValue>,
    #[serde(default)]
    pub measure: Option<Measure>,
    /// Predict: how far off (percent of the answer) a numeric prediction may be and still count.
    #[serde(default)]
    pub tolerance_pct: Option<u32>,
    /// Spot-the-bug: the id of the lesson's exercise.
    #[serde(default)]
    pub exercise: Option<String>,
    pub explanation: String,
}

impl TryFrom<String> for Measure {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        match text.as_str() {
            "total_ms" => return Ok(Measure::TotalMs),
            "first_finished" => return Ok(Measure::FirstFinished),
            _ => {}
        }
        if let Some(outcome) = text.strip_prefix("outcome:") {
            return Ok(Measure::OutcomeCount(outcome.to_owned()));
        }
        if let Some(metric) = text.strip_prefix("metric:") {
            return Ok(Measure::Metric(metric.to_owned()));
        }
        Err(format!(
            "unknown measure `{text}` (expected total_ms, first_finished, outcome:NAME or metric:NAME)"
        ))
    }
}

impl From<Measure> for String {
    fn from(measure: Measure) -> String {
        match measure {
            Measure::TotalMs => "total_ms".into(),
            Measure::FirstFinished => "first_finished".into(),
            Measure::OutcomeCount(o) => format!("outcome:{o}"),
            Measure::Metric(m) => format!("metric:{m}"),
        }
    }
}

impl QuizItem {
    /// The right option of a choice item, 1-based, when the answer is a plain number.
    pub fn choice_answer(&self) -> Option<usize> {
        match self.answer {
            Some(ParamValue::Int(n)) if n >= 1 => usize::try_from(n).ok(),
            _ => None,
        }
    }
}
