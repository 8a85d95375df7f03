//! Practice mode's logic, one file per theme: scoring each quiz kind (predictions against
//! virtual-clock runs of the shipped lessons), FSRS scheduling order from a fixed history, the
//! mock interview flow, and the practice screen's keys. Shared helpers live here.

use std::time::Duration;

use asyncdojo::demo::Registry;
use asyncdojo::lesson::{self, Bug, BugHunt, BugOrigin, Language, Lesson, LessonId, QuizKind};
use asyncdojo::practice::interview::{Reveal, lesson_weight, pick_questions};
use asyncdojo::practice::score::{
    DEFAULT_TOLERANCE_PCT, expected_answer, score_predict_item, score_spot_item, tolerance_pct,
};
use asyncdojo::practice::{
    Grade, Interview, InterviewAction as A, InterviewConfig, InterviewEffect, ItemKey, Measured,
    Phase, PickReason, PracticeError, Prediction, QueueReason, QuizOutcome, Scheduler, due_queue,
    record_quiz, record_self_grade, review_queue, run_predict, score_choice, score_prediction,
    score_spot,
};
use asyncdojo::progress::{Moment, Progress};
use chrono::{DateTime, Days, TimeZone, Utc};

fn lessons() -> Vec<Lesson> {
    let set = lesson::load_embedded(&Registry);
    assert!(set.problems.is_empty());
    set.lessons
}

fn lesson<'a>(lessons: &'a [Lesson], id: &str) -> &'a Lesson {
    lessons.iter().find(|l| l.id.0 == id).expect("lesson")
}

fn item<'a>(lesson: &'a Lesson, id: &str) -> &'a lesson::QuizItem {
    lesson.quiz.iter().find(|q| q.id == id).expect("item")
}

fn at(day: u64, hour: u32, minute: u32) -> Moment {
    let base = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap();
    let t: DateTime<Utc> = base.checked_add_days(Days::new(day)).unwrap()
        + chrono::Duration::hours(i64::from(hour))
        + chrono::Duration::minutes(i64::from(minute));
    Moment::utc(t)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

mod choice;
mod code;
mod interview;
mod keys;
mod predict;
mod review;
mod spot;
