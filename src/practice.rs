//! Practice mode's logic: scoring quiz answers, the mock interview, and spaced review. Nothing here
//! draws or reads the terminal; time always comes in as an argument, so every rule is testable.
//!
//! - [`score`]: multiple choice, predict-then-run (scored against a measured run on the virtual
//!   clock) and spot-the-bug, each giving a 0..1 score that maps to an FSRS [`Grade`].
//! - [`interview`]: the mock interview as a state machine driven by [`interview::Interview::update`].
//! - [`review`]: FSRS scheduling (through the `rs-fsrs` crate) and the "due now" queue.
//!
//! What the learner did is stored by [`crate::progress`], keyed by lesson and item ids.

pub mod interview;
pub mod review;
pub mod score;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::lesson::{Lesson, LessonId, QuizItem};

pub use interview::{
    AnswerRecord, Interview, InterviewAction, InterviewConfig, InterviewEffect, Phase, PickReason,
    Question, Summary,
};
pub use review::{
    CardState, DueItem, Grade, QueueEntry, QueueReason, ReviewCard, Scheduler, due_queue,
    review_queue,
};
pub use score::{
    ChoiceResult, Measured, PredictRun, PredictScore, Prediction, QuizOutcome, SpotResult,
    measure_run, predict_request, run_predict, score_choice, score_predict_item, score_prediction,
    score_spot, score_spot_item,
};

/// Something practice could not do with an item: the wrong kind, a lesson that lacks a field
/// validation should have required, or a demo run that failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PracticeError {
    #[error("quiz item `{item}` is a {actual} item, not {expected}")]
    WrongKind {
        item: String,
        expected: &'static str,
        actual: &'static str,
    },
    #[error("quiz item `{item}` has no {field}")]
    Incomplete { item: String, field: &'static str },
    #[error("option {chosen} does not exist (the item has {options})")]
    NoSuchOption { chosen: usize, options: usize },
    #[error("quiz item `{item}` refers to exercise `{exercise}`, which the lesson does not have")]
    NoSuchExercise { item: String, exercise: String },
    #[error("could not run the demo: {0}")]
    Demo(String),
    #[error("the run did not measure {0}")]
    NotMeasured(String),
    #[error("{0}")]
    BadPrediction(String),
}

/// What the review schedule and the progress file key an item by. Ids, never positions, so
/// reordering a lesson's items keeps what the learner did.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ItemKey {
    /// A quiz item of a lesson.
    Quiz { lesson: LessonId, item: String },
    /// The lesson's interview question itself (answered out loud, self-graded).
    Interview { lesson: LessonId },
}

impl ItemKey {
    pub fn quiz(lesson: &LessonId, item: &str) -> ItemKey {
        ItemKey::Quiz {
            lesson: lesson.clone(),
            item: item.to_owned(),
        }
    }

    pub fn interview(lesson: &LessonId) -> ItemKey {
        ItemKey::Interview {
            lesson: lesson.clone(),
        }
    }

    pub fn lesson(&self) -> &LessonId {
        match self {
            ItemKey::Quiz { lesson, .. } | ItemKey::Interview { lesson } => lesson,
        }
    }

    /// The lesson and (for a quiz key) the quiz item this key names, if they still exist.
    pub fn resolve<'a>(&self, lessons: &'a [Lesson]) -> Option<(&'a Lesson, Option<&'a QuizItem>)> {
        let lesson = lessons.iter().find(|l| &l.id == self.lesson())?;
        match self {
            ItemKey::Interview { .. } => Some((lesson, None)),
            ItemKey::Quiz { item, .. } => {
                let q = lesson.quiz.iter().find(|q| &q.id == item)?;
                Some((lesson, Some(q)))
            }
        }
    }
}

impl fmt::Display for ItemKey {
    /// `q07-timeouts/late-timer`, or `q07-timeouts (interview)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ItemKey::Quiz { lesson, item } => write!(f, "{lesson}/{item}"),
            ItemKey::Interview { lesson } => write!(f, "{lesson} (interview)"),
        }
    }
}
