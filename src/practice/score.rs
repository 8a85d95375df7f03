//! Scoring each kind of quiz item. Every result has a 0..1 [`score`](QuizOutcome::score) and the
//! FSRS [`Grade`] it maps to, so measured answers feed the review schedule, not only self-grades.
//!
//! Predictions are scored against a *measured* run: [`run_predict`] runs the item's demo on tokio's
//! paused (virtual) clock, which makes the measurement exact and repeatable, and
//! [`score_prediction`] is the pure comparison.

use crate::demo::asyncio::RunOn;
use crate::demo::asyncio::{self, Runtime};
use crate::demo::engine::{self, Start};
use crate::demo::run::Run;
use crate::demo::{Clock, Outcome, RunRequest};
use crate::lesson::{
    BugHunt, ChoiceItem, Lesson, Measure, PredictAnswer, PredictItem, QuizItem, QuizKind, SpotItem,
};

use super::PracticeError;
use crate::progress::Grade;

/// How far off (percent of the measured value) a numeric prediction may be and still count, when
/// the item does not say.
pub const DEFAULT_TOLERANCE_PCT: u32 = 10;

fn wrong_kind(item: &QuizItem, expected: QuizKind) -> PracticeError {
    PracticeError::WrongKind {
        item: item.id.clone(),
        expected: expected.name(),
        actual: item.kind().name(),
    }
}

fn choice(item: &QuizItem) -> Result<&ChoiceItem, PracticeError> {
    item.as_choice()
        .ok_or_else(|| wrong_kind(item, QuizKind::Choice))
}

fn predict(item: &QuizItem) -> Result<&PredictItem, PracticeError> {
    item.as_predict()
        .ok_or_else(|| wrong_kind(item, QuizKind::Predict))
}

fn spot(item: &QuizItem) -> Result<&SpotItem, PracticeError> {
    item.as_spot()
        .ok_or_else(|| wrong_kind(item, QuizKind::SpotTheBug))
}

// ---------------------------------------------------------------------------------------------
// Multiple choice
// ---------------------------------------------------------------------------------------------

/// A multiple-choice answer, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceResult {
    /// The option the learner chose, 1-based.
    pub chosen: usize,
    /// The right option, 1-based.
    pub answer: usize,
    pub correct: bool,
    /// The item's explanation, shown after answering whatever the answer.
    pub explanation: String,
}

impl ChoiceResult {
    pub fn score(&self) -> f64 {
        if self.correct { 1.0 } else { 0.0 }
    }
}

/// Check a choice (1-based, as shown) against a choice item.
pub fn score_choice(item: &QuizItem, chosen: usize) -> Result<ChoiceResult, PracticeError> {
    let choice = choice(item)?;
    if chosen == 0 || chosen > choice.options.len() {
        return Err(PracticeError::NoSuchOption {
            chosen,
            options: choice.options.len(),
        });
    }
    Ok(ChoiceResult {
        chosen,
        answer: choice.answer,
        correct: chosen == choice.answer,
        explanation: item.explanation.clone(),
    })
}

// ---------------------------------------------------------------------------------------------
// Predict, then run
// ---------------------------------------------------------------------------------------------

/// What the learner committed to before the run.
#[derive(Debug, Clone, PartialEq)]
pub enum Prediction {
    Number(f64),
    /// A task name, for `first_finished`.
    Name(String),
}

impl Prediction {
    /// Read what the learner typed for an item measuring `measure`. Numbers may carry `_` or `,`
    /// digit separators; for a time in milliseconds (`total_ms`, a metric ending `_ms`) a trailing
    /// `ms`, or `s` (seconds), is accepted.
    pub fn parse(measure: &Measure, text: &str) -> Result<Prediction, PracticeError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(PracticeError::BadPrediction(
                "type a prediction first".into(),
            ));
        }
        if *measure == Measure::FirstFinished {
            return Ok(Prediction::Name(text.to_owned()));
        }
        let ms = super::measure::unit(measure) == super::measure::Unit::Ms;
        let mut number = text.to_ascii_lowercase();
        let mut scale = 1.0;
        if ms {
            if let Some(n) = number.strip_suffix("ms") {
                number = n.to_owned();
            } else if let Some(n) = number.strip_suffix('s') {
                number = n.to_owned();
                scale = 1000.0;
            }
        }
        let digits: String = number
            .trim()
            .chars()
            .filter(|c| *c != '_' && *c != ',')
            .collect();
        match digits.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Prediction::Number(v * scale)),
            _ => Err(PracticeError::BadPrediction(format!(
                "`{text}` is not a number{}",
                if ms {
                    " (milliseconds, e.g. 1200 or 1.2s)"
                } else {
                    ""
                }
            ))),
        }
    }
}

impl std::fmt::Display for Prediction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Prediction::Number(n) => write!(f, "{n}"),
            Prediction::Name(s) => f.write_str(s),
        }
    }
}

/// What the run measured.
#[derive(Debug, Clone, PartialEq)]
pub enum Measured {
    Number(f64),
    Name(String),
}

impl std::fmt::Display for Measured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Measured::Number(n) => write!(f, "{n}"),
            Measured::Name(s) => f.write_str(s),
        }
    }
}

/// A prediction, compared with the measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictScore {
    pub predicted: Prediction,
    pub measured: Measured,
    pub tolerance_pct: u32,
    /// Numeric predictions: how far off, in percent of the measured value (of 1 when it is 0).
    pub error_pct: Option<f64>,
    /// Close enough to count as right.
    pub within_tolerance: bool,
    /// 1 within tolerance, then falling linearly to 0 at three times the tolerance.
    pub score: f64,
}

/// The item's tolerance, or [`DEFAULT_TOLERANCE_PCT`].
pub fn tolerance_pct(item: &QuizItem) -> u32 {
    item.as_predict()
        .and_then(|p| p.tolerance_pct)
        .unwrap_or(DEFAULT_TOLERANCE_PCT)
}

fn normalise_name(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Does the typed name mean the measured one? Case and spacing are ignored, and a bare number
/// names the task whose name ends with that number (`2` for `request 2`).
pub(crate) fn names_match(predicted: &str, measured: &str) -> bool {
    let (p, m) = (normalise_name(predicted), normalise_name(measured));
    if p == m {
        return true;
    }
    if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) {
        let last = m
            .rsplit(|c: char| !c.is_alphanumeric())
            .find(|t| !t.is_empty());
        return last.is_some_and(|t| t.trim_start_matches('0') == p.trim_start_matches('0'));
    }
    false
}

/// Score a prediction against a measurement. Pure: the same inputs always give the same score.
///
/// Numbers: the error is `|predicted - measured| / max(|measured|, 1)`; within `tolerance_pct`
/// (or within half a unit, since answers are whole numbers) the score is 1; beyond, it falls
/// linearly to 0 at three times the tolerance (a tolerance under 5% falls off as if it were 5%).
/// Names: 1 or 0. A number where a name was measured, or the reverse, scores 0.
pub fn score_prediction(
    predicted: &Prediction,
    measured: &Measured,
    tolerance_pct: u32,
) -> PredictScore {
    let tol = f64::from(tolerance_pct) / 100.0;
    let (error_pct, within, score) = match (predicted, measured) {
        (Prediction::Number(p), Measured::Number(m)) => {
            let diff = (p - m).abs();
            let rel = diff / m.abs().max(1.0);
            let within = rel <= tol + 1e-9 || diff <= 0.5;
            let score = if within {
                1.0
            } else {
                let falloff = 2.0 * tol.max(0.05);
                // Rounded to a millionth, so exactly three tolerances off is exactly 0.
                let s = (1.0 - (rel - tol) / falloff).clamp(0.0, 1.0);
                (s * 1e6).round() / 1e6
            };
            (Some(rel * 100.0), within, score)
        }
        (Prediction::Name(p), Measured::Name(m)) => {
            let ok = names_match(p, m);
            (None, ok, if ok { 1.0 } else { 0.0 })
        }
        _ => (None, false, 0.0),
    };
    PredictScore {
        predicted: predicted.clone(),
        measured: measured.clone(),
        tolerance_pct,
        error_pct,
        within_tolerance: within,
        score,
    }
}

/// The request that runs a predict item's demo: its variant and parameters, on the virtual clock.
pub fn predict_request(item: &QuizItem) -> Result<RunRequest, PracticeError> {
    let predict = predict(item)?;
    let demo = predict.demo.as_str();
    let variants: Vec<String> = predict.variant.iter().cloned().collect();
    let sets: Vec<String> = predict
        .params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    RunRequest::build(demo, &variants, &sets, Clock::Virtual)
        .map_err(|e| PracticeError::Demo(e.to_string()))
}

/// Read what `measure` asks for from one variant's run.
pub fn measure_run(measure: &Measure, run: &Run) -> Result<Measured, PracticeError> {
    if let Some(err) = &run.error {
        return Err(PracticeError::Demo(err.to_string()));
    }
    let tl = &run.timeline;
    match measure {
        Measure::TotalMs => Ok(Measured::Number(run.span_ms())),
        Measure::FirstFinished => tl
            .first_finished()
            .map(|t| Measured::Name(t.name.clone()))
            .ok_or_else(|| PracticeError::NotMeasured("a finished task".into())),
        Measure::OutcomeCount(name) => {
            let outcome = Outcome::parse(name)
                .ok_or_else(|| PracticeError::NotMeasured(format!("outcome `{name}`")))?;
            Ok(Measured::Number(tl.count(outcome) as f64))
        }
        Measure::Metric(name) => tl
            .metric(name)
            .map(Measured::Number)
            .ok_or_else(|| PracticeError::NotMeasured(format!("metric `{name}`"))),
    }
}

/// A predict item's demo, run and measured.
#[derive(Debug, Clone)]
pub struct PredictRun {
    /// Every variant's run, for drawing next to the score.
    pub runs: Vec<Run>,
    pub measured: Measured,
}

/// The runtime a predict item is measured on.
pub fn predict_runtime(item: &QuizItem) -> Runtime {
    item.as_predict().map_or(Runtime::Tokio, |p| p.runtime)
}

/// Run a predict item's demo on the virtual clock, through the engine on the item's runtime (the
/// twin on the tracer's virtual clock is as instant and exact as tokio's paused clock), blocking
/// until it ends, and measure it.
pub fn run_predict(item: &QuizItem) -> Result<PredictRun, PracticeError> {
    let request = predict_request(item)?;
    let measure = &predict(item)?.measure;
    let runtimes = match predict_runtime(item) {
        Runtime::Tokio => RunOn::Tokio,
        Runtime::Asyncio => RunOn::Asyncio,
    };
    let start = Start {
        request,
        runtimes,
        twin_variants: Vec::new(),
    };
    let done = engine::run_to_end(start, &asyncio::Python::chosen())
        .map_err(|e| PracticeError::Demo(e.to_string()))?;
    if let Some(why) = done.not_run {
        return Err(PracticeError::Demo(why));
    }
    let first = done
        .runs
        .first()
        .ok_or_else(|| PracticeError::Demo("the demo ran no variant".into()))?;
    let measured = measure_run(measure, first)?;
    Ok(PredictRun {
        runs: done.runs,
        measured,
    })
}

/// Score a typed prediction for a predict item against a measurement (from [`run_predict`], or
/// [`measure_run`] on a run the caller made).
pub fn score_predict_item(
    item: &QuizItem,
    typed: &str,
    measured: &Measured,
) -> Result<PredictScore, PracticeError> {
    let measure = &predict(item)?.measure;
    let predicted = Prediction::parse(measure, typed)?;
    Ok(score_prediction(&predicted, measured, tolerance_pct(item)))
}

/// The lesson's own answer for a predict item, as a measurement (what the test suite checks the
/// demo really produces); `None` for another kind of item.
pub fn expected_answer(item: &QuizItem) -> Option<Measured> {
    Some(match &item.as_predict()?.answer {
        PredictAnswer::Number(n) => Measured::Number(*n as f64),
        PredictAnswer::Name(s) => Measured::Name(s.clone()),
    })
}

// ---------------------------------------------------------------------------------------------
// Spot the bug
// ---------------------------------------------------------------------------------------------

/// One of the exercise's bugs, and whether the learner found it.
#[derive(Debug, Clone, PartialEq)]
pub struct BugFinding {
    pub lines: Vec<u32>,
    pub why: String,
    /// Any of its lines was marked.
    pub found: bool,
}

/// Marked lines compared with the real bugs.
#[derive(Debug, Clone, PartialEq)]
pub struct SpotResult {
    /// Every bug, in the exercise's order, with its explanation.
    pub bugs: Vec<BugFinding>,
    /// Marked lines that carry a bug (sorted, 1-based).
    pub hits: Vec<u32>,
    /// Marked lines that carry none (sorted, 1-based).
    pub false_marks: Vec<u32>,
    /// Bugs found and missed.
    pub found: usize,
    pub missed: usize,
    /// `found / (bugs + false marks)`: 1 only for every bug and no false mark; marking every line
    /// scores poorly.
    pub score: f64,
    /// How the corrected code differs (Markdown).
    pub fix: String,
}

/// Score marked lines (1-based, any order, duplicates ignored) against an exercise.
pub fn score_spot(hunt: &BugHunt, marked: &[u32]) -> SpotResult {
    let mut marked: Vec<u32> = marked.to_vec();
    marked.sort_unstable();
    marked.dedup();
    let bug_line = |line: u32| hunt.bugs.iter().any(|b| b.lines.contains(&line));
    let (hits, false_marks): (Vec<u32>, Vec<u32>) =
        marked.iter().copied().partition(|&l| bug_line(l));
    let bugs: Vec<BugFinding> = hunt
        .bugs
        .iter()
        .map(|b| BugFinding {
            lines: b.lines.clone(),
            why: b.why.clone(),
            found: b.lines.iter().any(|l| marked.contains(l)),
        })
        .collect();
    let found = bugs.iter().filter(|b| b.found).count();
    let missed = bugs.len() - found;
    let denominator = bugs.len() + false_marks.len();
    let score = if denominator == 0 {
        1.0
    } else {
        found as f64 / denominator as f64
    };
    SpotResult {
        bugs,
        hits,
        false_marks,
        found,
        missed,
        score,
        fix: hunt.fix.clone(),
    }
}

/// The exercise a spot-the-bug item refers to.
pub fn exercise<'a>(lesson: &'a Lesson, item: &QuizItem) -> Result<&'a BugHunt, PracticeError> {
    let id = &spot(item)?.exercise;
    lesson
        .spot_the_bug
        .iter()
        .find(|h| &h.id == id)
        .ok_or_else(|| PracticeError::NoSuchExercise {
            item: item.id.clone(),
            exercise: id.clone(),
        })
}

/// Score marked lines for a spot-the-bug item of `lesson`.
pub fn score_spot_item(
    lesson: &Lesson,
    item: &QuizItem,
    marked: &[u32],
) -> Result<SpotResult, PracticeError> {
    Ok(score_spot(exercise(lesson, item)?, marked))
}

// ---------------------------------------------------------------------------------------------
// Any kind
// ---------------------------------------------------------------------------------------------

/// A scored answer of any kind: what the quiz pane shows and what progress records.
#[derive(Debug, Clone, PartialEq)]
pub enum QuizOutcome {
    Choice(ChoiceResult),
    Predict(PredictScore),
    Spot(SpotResult),
}

impl QuizOutcome {
    pub fn kind(&self) -> QuizKind {
        match self {
            QuizOutcome::Choice(_) => QuizKind::Choice,
            QuizOutcome::Predict(_) => QuizKind::Predict,
            QuizOutcome::Spot(_) => QuizKind::SpotTheBug,
        }
    }

    /// 0..1.
    pub fn score(&self) -> f64 {
        match self {
            QuizOutcome::Choice(c) => c.score(),
            QuizOutcome::Predict(p) => p.score,
            QuizOutcome::Spot(s) => s.score,
        }
    }

    /// The FSRS rating this answer gives the item: [`Grade::from_score`].
    pub fn grade(&self) -> Grade {
        Grade::from_score(self.score())
    }
}
