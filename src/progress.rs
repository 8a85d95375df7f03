//! What the learner did: lessons read, demos run, quiz results, review state and notes, keyed by
//! lesson id and item id (never positions), so editing or reordering lessons never loses it.
//!
//! Stored data only: [`Progress`] keeps what practice computed (an answer's grade and score, the
//! review card its scheduler gave the item), never grades or schedules anything itself; [`item`]
//! holds the stored shapes of an item (key, grade, review card), [`moment`] the time every record
//! carries, and [`store`] reads and writes the file (versioned JSON in the platform data
//! directory, written atomically). Progress for a lesson or item that no longer exists is kept in
//! the file, just not shown.

pub mod item;
pub mod moment;
pub mod store;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::demo::asyncio::RunOn;
use crate::lesson::{LessonId, QuizKind};

pub use item::{CardState, Grade, ItemKey, ReviewCard};
pub use moment::Moment;
pub use store::{
    DATA_ENV, FILE_NAME, FORMAT_VERSION, Opened, SaveError, SetAsideReason, Store, Warning,
    default_data_dir, resolve_data_dir,
};

/// How many attempts are kept per item (the newest), so the file stays small.
pub const MAX_ATTEMPTS: usize = 20;

/// All progress: what the file holds (besides its version).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    #[serde(default)]
    pub lessons: BTreeMap<LessonId, LessonProgress>,
    /// Local days with any activity: the streak.
    #[serde(default)]
    pub active_days: BTreeSet<NaiveDate>,
    /// How the learner likes the app set up. Absent from files written before it existed.
    #[serde(default, skip_serializing_if = "Preferences::is_unset")]
    pub preferences: Preferences,
}

/// The learner's settings, kept with their progress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    /// Where a lesson's demos start: tokio, the asyncio twin, or both. `None` until the learner
    /// has said (the app asks on its first start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<RunOn>,
}

impl Preferences {
    pub fn is_unset(&self) -> bool {
        *self == Preferences::default()
    }
}

/// One lesson's progress.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LessonProgress {
    /// When the lesson was first and last opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_read: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_read: Option<DateTime<Utc>>,
    /// Runs per demo id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub demos_run: BTreeMap<String, u32>,
    /// Quiz items by item id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub quiz: BTreeMap<String, ItemProgress>,
    /// The lesson's interview question (mock interviews, self-graded).
    #[serde(default, skip_serializing_if = "ItemProgress::is_new")]
    pub interview: ItemProgress,
    /// The learner's own notes on the lesson.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
}

impl LessonProgress {
    pub fn is_read(&self) -> bool {
        self.first_read.is_some()
    }

    pub fn demo_runs(&self) -> u32 {
        self.demos_run.values().sum()
    }
}

/// One item's answers and review state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemProgress {
    /// The newest [`MAX_ATTEMPTS`], oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<Attempt>,
    /// FSRS state; `None` until first graded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<ReviewCard>,
}

impl ItemProgress {
    /// Never answered.
    pub fn is_new(&self) -> bool {
        self.attempts.is_empty() && self.card.is_none()
    }

    pub fn last(&self) -> Option<&Attempt> {
        self.attempts.last()
    }
}

/// How an attempt was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttemptKind {
    Choice,
    Predict,
    SpotTheBug,
    /// The learner graded themselves (interview questions, or overriding a measured grade).
    SelfGrade,
}

impl From<QuizKind> for AttemptKind {
    fn from(k: QuizKind) -> Self {
        match k {
            QuizKind::Choice => AttemptKind::Choice,
            QuizKind::Predict => AttemptKind::Predict,
            QuizKind::SpotTheBug => AttemptKind::SpotTheBug,
        }
    }
}

/// One answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    pub kind: AttemptKind,
    /// Measured answers: 0..1. Self-grades have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The rating the scheduler was given.
    pub grade: Grade,
    /// Interview answers: seconds from the countdown's start to the reveal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_seconds: Option<u64>,
    /// Interview answers: the notes typed while answering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

impl Progress {
    pub fn lesson(&self, id: &LessonId) -> Option<&LessonProgress> {
        self.lessons.get(id)
    }

    fn lesson_mut(&mut self, id: &LessonId) -> &mut LessonProgress {
        self.lessons.entry(id.clone()).or_default()
    }

    pub fn item(&self, key: &ItemKey) -> Option<&ItemProgress> {
        match key {
            ItemKey::Quiz { lesson, item } => self.lesson(lesson)?.quiz.get(item),
            ItemKey::Interview { lesson } => Some(&self.lesson(lesson)?.interview),
        }
    }

    fn item_mut(&mut self, key: &ItemKey) -> &mut ItemProgress {
        match key {
            ItemKey::Quiz { lesson, item } => self
                .lesson_mut(lesson)
                .quiz
                .entry(item.clone())
                .or_default(),
            ItemKey::Interview { lesson } => &mut self.lesson_mut(lesson).interview,
        }
    }

    /// Note activity on `now`'s local day (every recording method does this).
    pub fn touch(&mut self, now: &Moment) {
        self.active_days.insert(now.day());
    }

    /// The learner opened a lesson.
    pub fn mark_read(&mut self, lesson: &LessonId, now: &Moment) {
        let l = self.lesson_mut(lesson);
        l.first_read.get_or_insert(now.at);
        l.last_read = Some(now.at);
        self.touch(now);
    }

    /// A demo of the lesson ran.
    pub fn record_demo_run(&mut self, lesson: &LessonId, demo: &str, now: &Moment) {
        *self
            .lesson_mut(lesson)
            .demos_run
            .entry(demo.to_owned())
            .or_default() += 1;
        self.touch(now);
    }

    /// Replace the lesson's notes.
    pub fn set_notes(&mut self, lesson: &LessonId, notes: String, now: &Moment) {
        self.lesson_mut(lesson).notes = notes;
        self.touch(now);
    }

    /// Keep an answer and the review card the scheduler gave the item for it (practice grades
    /// the answer and schedules the item; this only stores the result).
    pub fn record(&mut self, key: &ItemKey, attempt: Attempt, card: ReviewCard, now: &Moment) {
        let item = self.item_mut(key);
        item.card = Some(card);
        item.attempts.push(attempt);
        if item.attempts.len() > MAX_ATTEMPTS {
            let extra = item.attempts.len() - MAX_ATTEMPTS;
            item.attempts.drain(..extra);
        }
        self.touch(now);
    }
}
