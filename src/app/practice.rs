//! Practice in the app: a quiz or review session and the mock interview. Plain state, updated by
//! actions; scoring is the `practice` module's, running a prediction's demo is an effect.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::demo::RunRequest;
use crate::lesson::{Lesson, QuizKind};
use crate::practice::{
    self, ChoiceResult, Grade, Interview, InterviewAction, InterviewConfig, InterviewEffect,
    ItemKey, PredictScore, QuizOutcome, RunPurpose, SpotResult, Summary,
};
use crate::progress::{Moment, Progress};

/// One item of a session, and how far the learner got with it.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemState {
    Choice {
        selected: usize,
        result: Option<ChoiceResult>,
    },
    Predict {
        input: String,
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

/// A run through some quiz items: one lesson's, or the review queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QuizSession {
    pub title: String,
    pub items: Vec<ItemKey>,
    pub index: usize,
    pub state: ItemState,
    /// Scores of the items answered so far (self-graded recalls count by grade).
    pub scores: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PracticeView {
    Quiz(QuizSession),
    Interview(Interview),
    /// The interview's end: what was asked and how it went.
    Summary(Summary),
}

impl PracticeView {
    pub fn takes_text(&self) -> bool {
        match self {
            PracticeView::Quiz(q) => q.state.takes_text(),
            PracticeView::Interview(i) => matches!(i.phase(), practice::Phase::Answering { .. }),
            PracticeView::Summary(_) => false,
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
    /// Run a demo to show next to the answer (saving progress first when `save`).
    Run {
        purpose: RunPurpose,
        request: RunRequest,
        save: bool,
    },
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
        scores: Vec::new(),
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
            selected: 0,
            result: None,
        },
        Some(QuizKind::Predict) => ItemState::Predict {
            input: String::new(),
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
    Submit,
    Char(char),
    Backspace,
    Grade(Grade),
    Back,
}

pub fn quiz_key(
    q: &mut QuizSession,
    key: QuizKey,
    lessons: &[Lesson],
    progress: &mut Progress,
    now: &Moment,
) -> PracticeEffect {
    if key == QuizKey::Back {
        return PracticeEffect::Close;
    }
    let Some((lesson, item)) = q.items.get(q.index).and_then(|k| k.resolve(lessons)) else {
        return PracticeEffect::Close;
    };
    let current = q.items[q.index].clone();
    if q.state.is_done() {
        if key == QuizKey::Submit {
            return next_item(q, lessons);
        }
        return PracticeEffect::None;
    }
    match (&mut q.state, key) {
        // Space skips what is not answered yet (the status bar says so), except where it marks a
        // line. In a prediction it is text, so it skips only while nothing is typed: a task name
        // may have a space in it.
        (ItemState::Predict { input, .. }, QuizKey::Char(' ')) if input.is_empty() => {
            return next_item(q, lessons);
        }
        (ItemState::Choice { .. } | ItemState::Recall { .. }, QuizKey::Toggle) => {
            return next_item(q, lessons);
        }
        (ItemState::Choice { selected, .. }, QuizKey::Up) => *selected = selected.saturating_sub(1),
        (ItemState::Choice { selected, .. }, QuizKey::Down) => {
            let n = item
                .and_then(|i| i.as_choice())
                .map_or(0, |c| c.options.len());
            *selected = (*selected + 1).min(n.saturating_sub(1));
        }
        (ItemState::Choice { selected, .. }, QuizKey::Char(c)) if c.is_ascii_digit() => {
            let n = item
                .and_then(|i| i.as_choice())
                .map_or(0, |c| c.options.len());
            if let Some(d) = c.to_digit(10).filter(|&d| d >= 1 && d as usize <= n) {
                *selected = d as usize - 1;
            }
        }
        (ItemState::Choice { selected, result }, QuizKey::Submit) => {
            let Some(item) = item else {
                return PracticeEffect::None;
            };
            if let Ok(r) = practice::score_choice(item, *selected + 1) {
                let outcome = QuizOutcome::Choice(r.clone());
                q.scores.push(outcome.score());
                practice::record_quiz(progress, &current, &outcome, now);
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
        (ItemState::Predict { input, .. }, QuizKey::Submit) if !input.trim().is_empty() => {
            return PracticeEffect::ScorePredict {
                key: current,
                typed: input.clone(),
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
        (ItemState::Spot { marked, result, .. }, QuizKey::Submit) => {
            let Some(item) = item else {
                return PracticeEffect::None;
            };
            let lines: Vec<u32> = marked.iter().copied().collect();
            if let Ok(r) = practice::score_spot_item(lesson, item, &lines) {
                let outcome = QuizOutcome::Spot(r.clone());
                q.scores.push(outcome.score());
                practice::record_quiz(progress, &current, &outcome, now);
                *result = Some(r);
                // The answer is in; where a demo shows the bug, its run backs the reveal.
                let evidence = practice::score::exercise(lesson, item)
                    .ok()
                    .and_then(|hunt| hunt.evidence.as_ref())
                    .and_then(|e| practice::evidence::evidence_request(e).ok());
                return match evidence {
                    Some(request) => PracticeEffect::Run {
                        purpose: RunPurpose::Evidence(current),
                        request,
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
            q.scores.push(g.score());
            *graded = Some(g);
            return PracticeEffect::Save;
        }
        _ => {}
    }
    PracticeEffect::None
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
    let effect = match &result {
        Ok(score) => {
            let outcome = QuizOutcome::Predict(score.clone());
            q.scores.push(outcome.score());
            practice::record_quiz(progress, key, &outcome, now);
            PracticeEffect::Save
        }
        Err(_) => PracticeEffect::None,
    };
    *slot = Some(result);
    effect
}

fn next_item(q: &mut QuizSession, lessons: &[Lesson]) -> PracticeEffect {
    loop {
        q.index += 1;
        let Some(key) = q.items.get(q.index) else {
            return PracticeEffect::Close;
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
        (practice::Phase::Revealed { .. } | practice::Phase::Ready, QuizKey::Toggle) => {
            InterviewAction::Skip { at }
        }
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
                request,
                save: false,
            }),
        _ => PracticeEffect::None,
    };
    let summary = i.is_finished().then(|| i.summary());
    (effect, summary)
}
