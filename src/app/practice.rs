//! Practice in the app: a quiz or review session and the mock interview. Plain state, updated by
//! actions; scoring is the `practice` module's, running a prediction's demo is an effect.

pub mod code;

use std::collections::BTreeSet;
use std::time::Duration;

use crate::demo::RunRequest;
use crate::demo::asyncio::Runtime;
use crate::lesson::{Lesson, Measure, QuizKind};
use crate::practice::{
    self, ChoiceResult, Grade, Interview, InterviewAction, InterviewConfig, InterviewEffect,
    ItemKey, PredictScore, QuizOutcome, RunPurpose, SpotResult, Summary,
};
use crate::progress::{Moment, Progress};

/// One item of a session, and how far the learner got with it.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemState {
    Choice {
        /// Nothing at first: a stray Enter must not answer option 1.
        selected: Option<usize>,
        result: Option<ChoiceResult>,
    },
    Predict {
        input: String,
        /// The tasks a "which finishes first" prediction can name.
        candidates: Candidates,
        result: Option<Result<PredictScore, String>>,
    },
    Spot {
        cursor: usize,
        marked: BTreeSet<u32>,
        result: Option<SpotResult>,
    },
    /// An interview question due for review: recall the answer, reveal, grade yourself.
    Recall {
        revealed: bool,
        graded: Option<Grade>,
    },
}

/// The tasks a "which finishes first" prediction can name, listed from a run of its demo made
/// when the item is shown (names in spawn order only: nothing about when they finish). Typed
/// answers are matched against them before anything is scored.
#[derive(Debug, Clone, PartialEq)]
pub enum Candidates {
    /// The item predicts a number.
    Unneeded,
    /// To be asked of the edge with the next update.
    Wanted,
    /// The run is on its way.
    Listing,
    Listed(Vec<String>),
    /// The run failed: answers are scored as typed (see [`practice::score::names_match`]).
    Unavailable(String),
}

impl ItemState {
    fn is_done(&self) -> bool {
        match self {
            ItemState::Choice { result, .. } => result.is_some(),
            ItemState::Predict { result, .. } => result.is_some(),
            ItemState::Spot { result, .. } => result.is_some(),
            ItemState::Recall { graded, .. } => graded.is_some(),
        }
    }

    /// Typing goes to the answer box, not to key bindings.
    pub fn takes_text(&self) -> bool {
        matches!(self, ItemState::Predict { result: None, .. })
    }
}

/// What became of one item of a session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tally {
    /// Answered: its 0..1 score (a self-grade counts as [`Grade::score`]) and grade.
    Scored { score: f64, grade: Grade },
    /// Skipped: nothing recorded.
    Skipped,
    /// Answered, but the demo that scores it could not run: nothing recorded.
    Unscored,
}

/// A run through some quiz items: one lesson's, or the review queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QuizSession {
    pub title: String,
    pub items: Vec<ItemKey>,
    pub index: usize,
    pub state: ItemState,
    /// One entry per item left behind (answered, skipped) and for the current one once answered.
    pub tally: Vec<Tally>,
}

impl QuizSession {
    /// The scores of the items answered so far.
    pub fn scores(&self) -> impl Iterator<Item = f64> + '_ {
        self.tally.iter().filter_map(|t| match t {
            Tally::Scored { score, .. } => Some(*score),
            _ => None,
        })
    }
}

/// A quiz or review at its end (or left early): how it went, and what comes back when.
#[derive(Debug, Clone, PartialEq)]
pub struct QuizSummary {
    pub title: String,
    pub items: usize,
    /// Scored Good or better (a score of 0.9 up, or a self-grade of Good or Easy).
    pub right: usize,
    /// Scored Hard (0.5 up to 0.9).
    pub partly: usize,
    /// Scored Again (under 0.5).
    pub wrong: usize,
    pub skipped: usize,
    /// Answered, but the demo could not run to score them.
    pub unscored: usize,
    /// Left when the session was ended early.
    pub not_reached: usize,
    /// The mean score of the answered items.
    pub average: Option<f64>,
    /// Items due for review now, across every lesson.
    pub due_now: usize,
    /// The session's day and the next day an item falls due after it.
    pub today: chrono::NaiveDate,
    pub next_due: Option<chrono::NaiveDate>,
}

impl QuizSummary {
    pub fn answered(&self) -> usize {
        self.right + self.partly + self.wrong
    }
}

/// The summary of `q` against progress as it is `now` (its answers already recorded).
pub fn quiz_summary(
    q: &QuizSession,
    lessons: &[Lesson],
    progress: &Progress,
    now: &Moment,
) -> QuizSummary {
    let count = |f: &dyn Fn(&Tally) -> bool| q.tally.iter().filter(|t| f(t)).count();
    let graded = |g: &dyn Fn(Grade) -> bool| {
        count(&|t: &Tally| matches!(t, Tally::Scored { grade, .. } if g(*grade)))
    };
    let scores: Vec<f64> = q.scores().collect();
    QuizSummary {
        title: q.title.clone(),
        items: q.items.len(),
        right: graded(&|g| g >= Grade::Good),
        partly: graded(&|g| g == Grade::Hard),
        wrong: graded(&|g| g == Grade::Again),
        skipped: count(&|t| *t == Tally::Skipped),
        unscored: count(&|t| *t == Tally::Unscored),
        not_reached: q.items.len().saturating_sub(q.tally.len()),
        average: (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64),
        due_now: practice::due_queue(lessons, progress, now).len(),
        today: now.day(),
        next_due: practice::next_due_day(lessons, progress, now),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum PracticeView {
    Quiz(QuizSession),
    Interview(Interview),
    /// The interview's end: what was asked and how it went.
    Summary(Summary),
    /// A quiz's or review's end.
    QuizDone(QuizSummary),
}

impl PracticeView {
    pub fn takes_text(&self) -> bool {
        match self {
            PracticeView::Quiz(q) => q.state.takes_text(),
            PracticeView::Interview(i) => matches!(i.phase(), practice::Phase::Answering { .. }),
            PracticeView::Summary(_) | PracticeView::QuizDone(_) => false,
        }
    }

    /// The countdown needs a redraw every second while it runs.
    pub fn needs_ticks(&self) -> bool {
        matches!(self, PracticeView::Interview(i) if matches!(i.phase(), practice::Phase::Answering { .. }))
    }
}

/// What practice asks the edge to do.
#[derive(Debug, Clone)]
pub enum PracticeEffect {
    None,
    /// Progress changed: save it.
    Save,
    /// Run the prediction's demo on the virtual clock and score what was typed.
    ScorePredict {
        key: ItemKey,
        typed: String,
    },
    /// Run a demo to show next to the answer, on `runtime` (saving progress first when `save`).
    Run {
        purpose: RunPurpose,
        request: RunRequest,
        runtime: Runtime,
        save: bool,
    },
    /// Tell the learner something (the status bar): why a key did nothing.
    Message(String),
    /// The session is over: show its summary.
    Finished,
    /// Leave practice.
    Close,
}

pub fn start_quiz(title: String, items: Vec<ItemKey>, lessons: &[Lesson]) -> Option<QuizSession> {
    let first = items.first()?;
    let state = initial_state(first, lessons)?;
    Some(QuizSession {
        title,
        items,
        index: 0,
        state,
        tally: Vec::new(),
    })
}

pub fn start_interview(
    lessons: &[Lesson],
    progress: &Progress,
    now: &Moment,
    seed: u64,
) -> Interview {
    let config = InterviewConfig {
        seed,
        ..InterviewConfig::default()
    };
    Interview::new(lessons, progress, now, config)
}

fn initial_state(key: &ItemKey, lessons: &[Lesson]) -> Option<ItemState> {
    let (_, item) = key.resolve(lessons)?;
    Some(match item.map(|i| i.kind()) {
        None => ItemState::Recall {
            revealed: false,
            graded: None,
        },
        Some(QuizKind::Choice) => ItemState::Choice {
            selected: None,
            result: None,
        },
        Some(QuizKind::Predict) => ItemState::Predict {
            input: String::new(),
            candidates: match item.and_then(|i| i.as_predict()).map(|p| &p.measure) {
                Some(Measure::FirstFinished) => Candidates::Wanted,
                _ => Candidates::Unneeded,
            },
            result: None,
        },
        Some(QuizKind::SpotTheBug) => ItemState::Spot {
            cursor: 0,
            marked: BTreeSet::new(),
            result: None,
        },
    })
}

/// Keys inside a quiz session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuizKey {
    Up,
    Down,
    Toggle,
    /// `s`: skip what is not answered yet (where it is not text).
    Skip,
    Submit,
    Char(char),
    Backspace,
    Grade(Grade),
    Back,
}

/// Enter on a choice with none chosen.
pub fn pick_an_option(options: usize) -> String {
    format!("pick an option with 1-{options} or ↑/↓, then Enter")
}

/// Enter on spot-the-bug with no line marked.
pub const MARK_A_LINE: &str = "mark at least one line with Space (↑/↓ move), or press s to skip";

/// A "which finishes first" answer typed before the tasks are listed.
pub const STILL_LISTING: &str =
    "still listing the tasks that could finish first: Enter again in a moment";

pub fn quiz_key(
    q: &mut QuizSession,
    key: QuizKey,
    lessons: &[Lesson],
    progress: &mut Progress,
    now: &Moment,
) -> PracticeEffect {
    if key == QuizKey::Back {
        // Leaving before anything happened is just leaving; otherwise say how it went.
        return if q.tally.is_empty() {
            PracticeEffect::Close
        } else {
            PracticeEffect::Finished
        };
    }
    let Some((lesson, item)) = q.items.get(q.index).and_then(|k| k.resolve(lessons)) else {
        return PracticeEffect::Close;
    };
    let current = q.items[q.index].clone();
    if q.state.is_done() {
        if matches!(key, QuizKey::Submit | QuizKey::Skip) {
            return next_item(q, lessons);
        }
        return PracticeEffect::None;
    }
    let options = item
        .and_then(|i| i.as_choice())
        .map_or(0, |c| c.options.len());
    match (&mut q.state, key) {
        // Space skips what is not answered yet (the item's own hint says so), except where it
        // marks a line; `s` skips everywhere but in a prediction, where it is text. In a
        // prediction Space skips only while nothing is typed: a task name may have a space in it.
        (ItemState::Predict { input, .. }, QuizKey::Char(' ')) if input.is_empty() => {
            return skip(q, lessons);
        }
        (ItemState::Choice { .. } | ItemState::Recall { .. }, QuizKey::Toggle) => {
            return skip(q, lessons);
        }
        (
            ItemState::Choice { .. } | ItemState::Recall { .. } | ItemState::Spot { .. },
            QuizKey::Skip,
        ) => return skip(q, lessons),
        // With none chosen, ↓ picks the first option and ↑ the last.
        (ItemState::Choice { selected, .. }, QuizKey::Up) => {
            *selected = Some(selected.map_or(options.saturating_sub(1), |s| s.saturating_sub(1)));
        }
        (ItemState::Choice { selected, .. }, QuizKey::Down) => {
            *selected = Some(selected.map_or(0, |s| (s + 1).min(options.saturating_sub(1))));
        }
        (ItemState::Choice { selected, .. }, QuizKey::Char(c)) if c.is_ascii_digit() => {
            if let Some(d) = c.to_digit(10).filter(|&d| d >= 1 && d as usize <= options) {
                *selected = Some(d as usize - 1);
            }
        }
        (ItemState::Choice { selected: None, .. }, QuizKey::Submit) => {
            return PracticeEffect::Message(pick_an_option(options));
        }
        (
            ItemState::Choice {
                selected: Some(selected),
                result,
            },
            QuizKey::Submit,
        ) => {
            let Some(item) = item else {
                return PracticeEffect::None;
            };
            if let Ok(r) = practice::score_choice(item, *selected + 1) {
                let outcome = QuizOutcome::Choice(r.clone());
                let grade = practice::record_quiz(progress, &current, &outcome, now);
                q.tally.push(Tally::Scored {
                    score: outcome.score(),
                    grade,
                });
                *result = Some(r);
                return PracticeEffect::Save;
            }
        }
        (ItemState::Predict { input, .. }, QuizKey::Char(c))
            if input.chars().count() < 40 && !crate::text::is_forbidden(c) =>
        {
            input.push(c);
        }
        (ItemState::Predict { input, .. }, QuizKey::Backspace) => {
            input.pop();
        }
        (
            ItemState::Predict {
                input, candidates, ..
            },
            QuizKey::Submit,
        ) if !input.trim().is_empty() => {
            // A task is named by what the learner typed only when it names one of the listed
            // tasks: anything else is answered with the list, not scored.
            let typed = match candidates {
                Candidates::Listed(names) => match practice::measure::pick_task(input, names) {
                    Ok(name) => name.to_owned(),
                    Err(e) => return PracticeEffect::Message(e.to_string()),
                },
                Candidates::Wanted | Candidates::Listing => {
                    return PracticeEffect::Message(STILL_LISTING.into());
                }
                Candidates::Unneeded | Candidates::Unavailable(_) => input.clone(),
            };
            return PracticeEffect::ScorePredict {
                key: current,
                typed,
            };
        }
        (ItemState::Spot { cursor, .. }, QuizKey::Up) => *cursor = cursor.saturating_sub(1),
        (ItemState::Spot { cursor, .. }, QuizKey::Down) => {
            let lines = spot_code(lesson, item).map_or(0, |c| c.lines().count());
            *cursor = (*cursor + 1).min(lines.saturating_sub(1));
        }
        (ItemState::Spot { cursor, marked, .. }, QuizKey::Toggle) => {
            let line = *cursor as u32 + 1;
            if !marked.remove(&line) {
                marked.insert(line);
            }
        }
        // Nothing marked is no answer (it would score 0): say how to answer, or to skip.
        (ItemState::Spot { marked, .. }, QuizKey::Submit) if marked.is_empty() => {
            return PracticeEffect::Message(MARK_A_LINE.into());
        }
        (ItemState::Spot { marked, result, .. }, QuizKey::Submit) => {
            let Some(item) = item else {
                return PracticeEffect::None;
            };
            let lines: Vec<u32> = marked.iter().copied().collect();
            if let Ok(r) = practice::score_spot_item(lesson, item, &lines) {
                let outcome = QuizOutcome::Spot(r.clone());
                let grade = practice::record_quiz(progress, &current, &outcome, now);
                q.tally.push(Tally::Scored {
                    score: outcome.score(),
                    grade,
                });
                *result = Some(r);
                // The answer is in; where a demo shows the bug, its run backs the reveal (on
                // asyncio for Python code, where the twin runs it: see `evidence_runtime`).
                let evidence = practice::score::exercise(lesson, item)
                    .ok()
                    .and_then(|hunt| {
                        let request = practice::evidence::evidence_request(hunt.evidence.as_ref()?);
                        Some((request.ok()?, practice::evidence::evidence_runtime(hunt)))
                    });
                return match evidence {
                    Some((request, runtime)) => PracticeEffect::Run {
                        purpose: RunPurpose::Evidence(current),
                        request,
                        runtime,
                        save: true,
                    },
                    None => PracticeEffect::Save,
                };
            }
        }
        (ItemState::Recall { revealed, .. }, QuizKey::Submit) => *revealed = true,
        (
            ItemState::Recall {
                revealed: true,
                graded,
            },
            QuizKey::Grade(g),
        ) => {
            practice::record_self_grade(progress, &current, g, now);
            q.tally.push(Tally::Scored {
                score: g.score(),
                grade: g,
            });
            *graded = Some(g);
            return PracticeEffect::Save;
        }
        _ => {}
    }
    PracticeEffect::None
}

/// The tasks listed for the current item came back (or could not be listed).
pub fn candidates_listed(q: &mut QuizSession, key: &ItemKey, listed: Result<Vec<String>, String>) {
    if q.items.get(q.index) != Some(key) {
        return;
    }
    if let ItemState::Predict {
        candidates: slot @ (Candidates::Wanted | Candidates::Listing),
        ..
    } = &mut q.state
    {
        *slot = match listed {
            Ok(names) if !names.is_empty() => Candidates::Listed(names),
            Ok(_) => Candidates::Unavailable("the run had no tasks to name".into()),
            Err(e) => Candidates::Unavailable(e),
        };
    }
}

/// A prediction came back scored (or failed to run).
pub fn predict_scored(
    q: &mut QuizSession,
    key: &ItemKey,
    result: Result<PredictScore, String>,
    progress: &mut Progress,
    now: &Moment,
) -> PracticeEffect {
    if q.items.get(q.index) != Some(key) {
        return PracticeEffect::None;
    }
    // Scoring runs off the UI thread: a second Enter may ask twice; the first answer counts.
    let ItemState::Predict {
        result: slot @ None,
        ..
    } = &mut q.state
    else {
        return PracticeEffect::None;
    };
    let (effect, tally) = match &result {
        Ok(score) => {
            let outcome = QuizOutcome::Predict(score.clone());
            let grade = practice::record_quiz(progress, key, &outcome, now);
            let tally = Tally::Scored {
                score: outcome.score(),
                grade,
            };
            (PracticeEffect::Save, tally)
        }
        Err(_) => (PracticeEffect::None, Tally::Unscored),
    };
    *slot = Some(result);
    q.tally.push(tally);
    effect
}

/// Skip the current item: nothing is recorded (as an unanswered item never was), the session
/// counts it.
fn skip(q: &mut QuizSession, lessons: &[Lesson]) -> PracticeEffect {
    q.tally.push(Tally::Skipped);
    next_item(q, lessons)
}

fn next_item(q: &mut QuizSession, lessons: &[Lesson]) -> PracticeEffect {
    loop {
        q.index += 1;
        let Some(key) = q.items.get(q.index) else {
            return PracticeEffect::Finished;
        };
        if let Some(state) = initial_state(key, lessons) {
            q.state = state;
            return PracticeEffect::None;
        }
    }
}

/// The code of a spot-the-bug item's exercise.
pub fn spot_code<'a>(
    lesson: &'a Lesson,
    item: Option<&crate::lesson::QuizItem>,
) -> Option<&'a str> {
    let ex = &item?.as_spot()?.exercise;
    lesson
        .spot_the_bug
        .iter()
        .find(|h| &h.id == ex)
        .map(|h| h.code.as_str())
}

/// Keys inside the mock interview. `at` is time since the app started, from the edge.
pub fn interview_key(
    i: &mut Interview,
    key: QuizKey,
    at: Duration,
    lessons: &[Lesson],
    progress: &mut Progress,
    now: &Moment,
) -> (PracticeEffect, Option<Summary>) {
    let action = match (i.phase(), key) {
        (_, QuizKey::Back) => InterviewAction::Quit { at },
        (practice::Phase::Ready, QuizKey::Submit) => InterviewAction::Start { at },
        (practice::Phase::Answering { .. }, QuizKey::Submit) => InterviewAction::Reveal { at },
        (practice::Phase::Answering { .. }, QuizKey::Char(c)) => InterviewAction::Type(c),
        (practice::Phase::Answering { .. }, QuizKey::Backspace) => InterviewAction::Backspace,
        (practice::Phase::Revealed { .. }, QuizKey::Grade(grade)) => {
            InterviewAction::Grade { grade, at }
        }
        (
            practice::Phase::Revealed { .. } | practice::Phase::Ready,
            QuizKey::Toggle | QuizKey::Skip,
        ) => InterviewAction::Skip { at },
        _ => return (PracticeEffect::None, None),
    };
    apply_interview(i, action, lessons, progress, now)
}

pub fn interview_tick(
    i: &mut Interview,
    at: Duration,
    lessons: &[Lesson],
    progress: &mut Progress,
    now: &Moment,
) -> (PracticeEffect, Option<Summary>) {
    apply_interview(i, InterviewAction::Tick { at }, lessons, progress, now)
}

fn apply_interview(
    i: &mut Interview,
    action: InterviewAction,
    lessons: &[Lesson],
    progress: &mut Progress,
    now: &Moment,
) -> (PracticeEffect, Option<Summary>) {
    let index = i.index();
    let effect = match i.update(action) {
        InterviewEffect::Graded(record) => {
            practice::record_interview(progress, &record, now);
            PracticeEffect::Save
        }
        // The reveal (by the learner, or when time ran out) runs the lesson's demo to show it.
        InterviewEffect::Revealed { lesson, .. } => lessons
            .iter()
            .find(|l| l.id == lesson)
            .and_then(|l| practice::interview::Reveal::of(l).demo)
            .and_then(|d| practice::evidence::demo_request(d).ok())
            .map_or(PracticeEffect::None, |request| PracticeEffect::Run {
                purpose: RunPurpose::Interview { index, lesson },
                runtime: practice::evidence::reveal_runtime(&request),
                request,
                save: false,
            }),
        _ => PracticeEffect::None,
    };
    let summary = i.is_finished().then(|| i.summary());
    (effect, summary)
}
