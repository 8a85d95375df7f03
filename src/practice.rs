//! Practice mode's logic: scoring quiz answers, the mock interview, spaced review and the numbers
//! built on it. Nothing here draws or reads the terminal; time always comes in as an argument, so
//! every rule is testable.
//!
//! - [`score`]: multiple choice, predict-then-run (scored against a measured run on the virtual
//!   clock) and spot-the-bug, each giving a 0..1 score that maps to an FSRS [`Grade`].
//! - [`evidence`]: the runs practice shows: a prediction's run, a bug's buggy and fixed variants,
//!   an interview question's demo.
//! - [`interview`]: the mock interview as a state machine driven by [`interview::Interview::update`].
//! - [`measure`]: what a predict item measures, in words and units, and the tasks a "which
//!   finishes first" question can name.
//! - [`review`]: FSRS scheduling (through the `rs-fsrs` crate) and the "due now" queue.
//! - [`record`]: an answer graded and scheduled, then handed to progress to keep.
//! - [`mod@stats`]: progress per lesson, due items and streaks.
//!
//! What the learner did is stored by [`crate::progress`] (which never imports this module), keyed
//! by lesson and item ids; its stored types are re-exported here for convenience.

pub mod evidence;
pub mod interview;
pub mod measure;
pub mod record;
pub mod review;
pub mod score;
pub mod stats;

pub use crate::progress::{CardState, Grade, ItemKey, ReviewCard};
pub use evidence::{PracticeRun, RunPurpose, ScoredPrediction};
pub use interview::{
    AnswerRecord, Interview, InterviewAction, InterviewConfig, InterviewEffect, Phase, PickReason,
    Question, Summary,
};
pub use record::{record_interview, record_quiz, record_self_grade};
pub use review::{
    DueItem, QueueEntry, QueueReason, Scheduler, due_queue, next_due_day, review_queue,
};
pub use score::{
    ChoiceResult, Measured, PredictRun, PredictScore, Prediction, QuizOutcome, SpotResult,
    measure_run, predict_request, run_predict, score_choice, score_predict_item, score_prediction,
    score_spot, score_spot_item,
};
pub use stats::{LessonMark, LessonStats, Stats, Streak, stats, streak};

/// Something practice could not do with an item: the wrong kind, an answer that does not fit
/// it, or a demo run that failed. (An incomplete item cannot get here: validation types every
/// quiz item by kind.)
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PracticeError {
    #[error("quiz item `{item}` is a {actual} item, not {expected}")]
    WrongKind {
        item: String,
        expected: &'static str,
        actual: &'static str,
    },
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
