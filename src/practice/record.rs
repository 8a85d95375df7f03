//! Recording what the learner did: practice grades the answer and its scheduler computes the
//! item's next review; progress keeps both. Every function notes the day's activity.

use crate::progress::{Attempt, AttemptKind, Grade, ItemKey, Moment, Progress};

use super::interview::AnswerRecord;
use super::review::Scheduler;
use super::score::QuizOutcome;

/// Record a scored quiz answer and schedule the item from its score ([`Grade::from_score`]).
/// Returns the grade given.
pub fn record_quiz(
    progress: &mut Progress,
    key: &ItemKey,
    outcome: &QuizOutcome,
    now: &Moment,
) -> Grade {
    let grade = outcome.grade();
    let attempt = Attempt {
        at: now.at,
        kind: outcome.kind().into(),
        score: Some(outcome.score()),
        grade,
        answer_seconds: None,
        notes: None,
    };
    schedule_and_record(progress, key, attempt, now);
    grade
}

/// Record a self-grade (or an override of a measured grade) and schedule the item from it.
pub fn record_self_grade(progress: &mut Progress, key: &ItemKey, grade: Grade, now: &Moment) {
    let attempt = Attempt {
        at: now.at,
        kind: AttemptKind::SelfGrade,
        score: None,
        grade,
        answer_seconds: None,
        notes: None,
    };
    schedule_and_record(progress, key, attempt, now);
}

/// Record a graded interview answer (a skipped one only counts as activity).
pub fn record_interview(progress: &mut Progress, answer: &AnswerRecord, now: &Moment) {
    let Some(grade) = answer.grade else {
        progress.touch(now);
        return;
    };
    let attempt = Attempt {
        at: now.at,
        kind: AttemptKind::SelfGrade,
        score: None,
        grade,
        answer_seconds: Some(answer.answer_time.as_secs()),
        notes: (!answer.notes.trim().is_empty()).then(|| answer.notes.clone()),
    };
    schedule_and_record(progress, &answer.key(), attempt, now);
}

fn schedule_and_record(progress: &mut Progress, key: &ItemKey, attempt: Attempt, now: &Moment) {
    let previous = progress.item(key).and_then(|i| i.card.as_ref());
    let card = Scheduler::new().review(previous, attempt.grade, now.at);
    progress.record(key, attempt, card, now);
}
