//! Quiz items, in two forms. As a lesson file writes one ([`QuizItemFile`]): one flat record
//! whatever its kind, so a wrong field is reported at its own path. As the rest of asyncdojo sees
//! one after validation ([`QuizItem`]): a typed [`QuizTask`] whose kind carries exactly the fields
//! it uses, so an incomplete item cannot reach practice. `check_item` is the only way from the
//! first to the second.

use crate::demo::asyncio::Runtime;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::validate::{DemoCatalog, ProblemKind, Reporter, report_ref};
use super::{Lesson, ParamValue};

/// Each lesson needs this many quiz items, so a practice session has something to draw.
const MIN_QUIZ_ITEMS: usize = 4;

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

impl QuizKind {
    pub fn name(self) -> &'static str {
        match self {
            QuizKind::Choice => "choice",
            QuizKind::Predict => "predict",
            QuizKind::SpotTheBug => "spot-the-bug",
        }
    }
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

/// A quiz item as a lesson file writes it. Kept flat, not a tagged enum, so a wrong field is
/// reported at its own path; validation (`check_item`) checks that each kind has exactly the
/// fields it uses and turns it into a [`QuizItem`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuizItemFile {
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
    /// Predict: the runtime the demo runs on to score it; tokio unless it says asyncio.
    #[serde(default)]
    pub runtime: Option<Runtime>,
    /// Spot-the-bug: the id of the lesson's exercise.
    #[serde(default)]
    pub exercise: Option<String>,
    pub explanation: String,
}

/// A validated quiz item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuizItem {
    pub id: String,
    pub prompt: String,
    /// Shown after answering, whatever the answer.
    pub explanation: String,
    pub task: QuizTask,
}

/// What the learner is asked to do, with exactly what that needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum QuizTask {
    Choice(ChoiceItem),
    Predict(PredictItem),
    SpotTheBug(SpotItem),
}

/// Multiple choice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChoiceItem {
    /// At least two, shown in order.
    pub options: Vec<String>,
    /// The right option, 1-based: always one of `options`.
    pub answer: usize,
}

/// Predict, then run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PredictItem {
    /// A demo that exists, with a variant that runs on the virtual clock and valid parameters.
    pub demo: String,
    pub variant: Option<String>,
    pub params: BTreeMap<String, ParamValue>,
    pub measure: Measure,
    /// What the run measures: a name for `first_finished`, a whole number for the rest.
    pub answer: PredictAnswer,
    /// How far off (percent of the measured value) a prediction may be; `None`: the default.
    pub tolerance_pct: Option<u32>,
    /// The runtime the prediction is scored on: the demo itself, or its asyncio twin.
    pub runtime: Runtime,
}

/// A predict item's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum PredictAnswer {
    Number(u64),
    /// A task name, for `first_finished`.
    Name(String),
}

impl fmt::Display for PredictAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PredictAnswer::Number(n) => write!(f, "{n}"),
            PredictAnswer::Name(s) => f.write_str(s),
        }
    }
}

/// Spot the bug.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpotItem {
    /// The id of one of the lesson's `spot_the_bug` exercises.
    pub exercise: String,
}

impl QuizItem {
    pub fn kind(&self) -> QuizKind {
        match self.task {
            QuizTask::Choice(_) => QuizKind::Choice,
            QuizTask::Predict(_) => QuizKind::Predict,
            QuizTask::SpotTheBug(_) => QuizKind::SpotTheBug,
        }
    }

    pub fn as_choice(&self) -> Option<&ChoiceItem> {
        match &self.task {
            QuizTask::Choice(c) => Some(c),
            _ => None,
        }
    }

    pub fn as_predict(&self) -> Option<&PredictItem> {
        match &self.task {
            QuizTask::Predict(p) => Some(p),
            _ => None,
        }
    }

    pub fn as_spot(&self) -> Option<&SpotItem> {
        match &self.task {
            QuizTask::SpotTheBug(s) => Some(s),
            _ => None,
        }
    }

    /// The right option of a choice item, 1-based.
    pub fn choice_answer(&self) -> Option<usize> {
        self.as_choice().map(|c| c.answer)
    }
}

/// Check a lesson's quiz items, reporting every problem; each item that has none comes back
/// typed, in order. `None` for an item means a problem was reported for it.
pub(crate) fn check_quiz(
    lesson: &Lesson,
    items: &[QuizItemFile],
    r: &mut Reporter<'_>,
    catalog: &dyn DemoCatalog,
) -> Vec<Option<QuizItem>> {
    if items.len() < MIN_QUIZ_ITEMS {
        r.value(
            "quiz",
            ProblemKind::MissingField,
            format!(
                "has {} item(s); a lesson needs at least {MIN_QUIZ_ITEMS}",
                items.len()
            ),
        );
    }
    let mut ids = HashMap::new();
    let mut checked = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let base = format!("quiz[{i}]");
        if let Some(first) = ids.insert(item.id.as_str(), i) {
            r.value(
                &format!("{base}.id"),
                ProblemKind::Duplicate,
                format!("id `{}` is already used by quiz[{first}]", item.id),
            );
        }
        checked.push(check_item(lesson, item, &base, r, catalog));
    }
    checked
}

/// One item: its text, the fields its kind needs and those it must not carry. The typed item,
/// or `None` once a problem that leaves it incomplete was reported.
pub(crate) fn check_item(
    lesson: &Lesson,
    item: &QuizItemFile,
    base: &str,
    r: &mut Reporter<'_>,
    catalog: &dyn DemoCatalog,
) -> Option<QuizItem> {
    r.text(&format!("{base}.id"), &item.id);
    r.text(&format!("{base}.prompt"), &item.prompt);
    r.text(&format!("{base}.explanation"), &item.explanation);
    let task = match item.kind {
        QuizKind::Choice => check_choice(item, base, r).map(QuizTask::Choice),
        QuizKind::Predict => check_predict(item, base, r, catalog).map(QuizTask::Predict),
        QuizKind::SpotTheBug => check_spot(lesson, item, base, r).map(QuizTask::SpotTheBug),
    }?;
    Some(QuizItem {
        id: item.id.clone(),
        prompt: item.prompt.clone(),
        explanation: item.explanation.clone(),
        task,
    })
}

/// Fields each quiz kind must not carry: a stray field is almost always a mistake.
fn forbid(item: &QuizItemFile, base: &str, fields: &[&str], r: &mut Reporter<'_>) {
    for &field in fields {
        let present = match field {
            "options" => !item.options.is_empty(),
            "answer" => item.answer.is_some(),
            "demo" => item.demo.is_some(),
            "variant" => item.variant.is_some(),
            "params" => !item.params.is_empty(),
            "measure" => item.measure.is_some(),
            "tolerance_pct" => item.tolerance_pct.is_some(),
            "runtime" => item.runtime.is_some(),
            "exercise" => item.exercise.is_some(),
            _ => false,
        };
        if present {
            r.key(
                &format!("{base}.{field}"),
                ProblemKind::Inconsistent,
                format!("a {} item does not use `{field}`", item.kind.name()),
            );
        }
    }
}

fn check_choice(item: &QuizItemFile, base: &str, r: &mut Reporter<'_>) -> Option<ChoiceItem> {
    forbid(
        item,
        base,
        &[
            "demo",
            "variant",
            "params",
            "measure",
            "tolerance_pct",
            "runtime",
            "exercise",
        ],
        r,
    );
    let n = item.options.len();
    if n < 2 {
        r.value(
            &format!("{base}.options"),
            ProblemKind::MissingField,
            format!("a choice item needs at least 2 options (has {n})"),
        );
    }
    for (j, option) in item.options.iter().enumerate() {
        r.text(&format!("{base}.options[{j}]"), option);
    }
    let path = format!("{base}.answer");
    let answer = match &item.answer {
        None => {
            r.key(&path, ProblemKind::MissingField, "missing field `answer`");
            None
        }
        Some(ParamValue::Int(a)) => match usize::try_from(*a) {
            Ok(a) if (1..=n).contains(&a) => Some(a),
            _ => {
                r.value(
                    &path,
                    ProblemKind::OutOfRange,
                    format!("option {a} does not exist ({n} options)"),
                );
                None
            }
        },
        Some(other) => {
            r.value(
                &path,
                ProblemKind::WrongType,
                format!(
                    "`{other}` is not an option number; give the 1-based number of the right option"
                ),
            );
            None
        }
    };
    Some(ChoiceItem {
        options: item.options.clone(),
        answer: answer?,
    })
}

fn check_predict(
    item: &QuizItemFile,
    base: &str,
    r: &mut Reporter<'_>,
    catalog: &dyn DemoCatalog,
) -> Option<PredictItem> {
    forbid(item, base, &["options", "exercise"], r);
    let Some(demo) = &item.demo else {
        r.value(
            base,
            ProblemKind::MissingField,
            "a predict item needs `demo`",
        );
        return None;
    };
    let variants: Vec<String> = item.variant.iter().cloned().collect();
    let problems = catalog.check_ref(demo, &variants, &item.params);
    let clean = problems.is_empty();
    report_ref(r, base, "variant", problems);
    if clean && let Some(msg) = catalog.check_predictable(demo, item.variant.as_deref()) {
        let path = if item.variant.is_some() {
            format!("{base}.variant")
        } else {
            format!("{base}.demo")
        };
        r.value(&path, ProblemKind::UnknownVariant, msg);
    }
    let runtime = item.runtime.unwrap_or_default();
    if clean
        && runtime == Runtime::Asyncio
        && let Some(msg) = catalog.check_asyncio(demo, item.variant.as_deref())
    {
        r.value(&format!("{base}.runtime"), ProblemKind::UnknownVariant, msg);
    }
    let Some(measure) = &item.measure else {
        r.value(
            base,
            ProblemKind::MissingField,
            "a predict item needs `measure`",
        );
        return None;
    };
    let path = format!("{base}.answer");
    let answer = match (measure, &item.answer) {
        (_, None) => {
            r.value(
                base,
                ProblemKind::MissingField,
                "a predict item needs `answer`: the value the run measures",
            );
            None
        }
        (Measure::FirstFinished, Some(ParamValue::Text(name))) => {
            Some(PredictAnswer::Name(name.clone()))
        }
        (Measure::FirstFinished, Some(_)) => {
            r.value(
                &path,
                ProblemKind::WrongType,
                "first_finished is answered with a task name",
            );
            None
        }
        (_, Some(ParamValue::Int(n))) if *n >= 0 => Some(PredictAnswer::Number(n.unsigned_abs())),
        (_, Some(_)) => {
            r.value(
                &path,
                ProblemKind::WrongType,
                "this measure is answered with a whole number (0 or more)",
            );
            None
        }
    };
    Some(PredictItem {
        demo: demo.clone(),
        variant: item.variant.clone(),
        params: item.params.clone(),
        measure: measure.clone(),
        answer: answer?,
        tolerance_pct: item.tolerance_pct,
        runtime,
    })
}

fn check_spot(
    lesson: &Lesson,
    item: &QuizItemFile,
    base: &str,
    r: &mut Reporter<'_>,
) -> Option<SpotItem> {
    forbid(
        item,
        base,
        &[
            "options",
            "answer",
            "demo",
            "variant",
            "params",
            "measure",
            "tolerance_pct",
            "runtime",
        ],
        r,
    );
    match &item.exercise {
        None => {
            r.value(
                base,
                ProblemKind::MissingField,
                "a spot-the-bug item needs `exercise`: the id of one of this lesson's spot_the_bug entries",
            );
            None
        }
        Some(ex) if !lesson.spot_the_bug.iter().any(|h| &h.id == ex) => {
            let known: Vec<&str> = lesson.spot_the_bug.iter().map(|h| h.id.as_str()).collect();
            r.value(
                &format!("{base}.exercise"),
                ProblemKind::UnknownField,
                format!(
                    "no spot_the_bug exercise `{ex}` in this lesson (have: {})",
                    known.join(", ")
                ),
            );
            None
        }
        Some(ex) => Some(SpotItem {
            exercise: ex.clone(),
        }),
    }
}
