//! What progress keys and stores per item: the item's key, the grades it was given and its review
//! card. Plain data: the grading rules and the scheduler that fills these in are practice's.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Moment;
use crate::lesson::{Lesson, LessonId, QuizItem};

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

    /// The keys of a lesson's quiz items, in the lesson's order.
    pub fn quiz_items(lesson: &Lesson) -> impl Iterator<Item = ItemKey> + '_ {
        lesson.quiz.iter().map(|q| ItemKey::quiz(&lesson.id, &q.id))
    }

    /// Every item of a lesson: its quiz items, then its interview question.
    pub fn all_items(lesson: &Lesson) -> impl Iterator<Item = ItemKey> + '_ {
        ItemKey::quiz_items(lesson).chain(std::iter::once(ItemKey::interview(&lesson.id)))
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

/// How well an item was recalled: FSRS's four ratings. Self-grades use them directly; measured
/// answers get one from their score ([`Grade::from_score`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Grade {
    Again,
    Hard,
    Good,
    Easy,
}

impl Grade {
    pub const ALL: [Grade; 4] = [Grade::Again, Grade::Hard, Grade::Good, Grade::Easy];

    /// A measured score's rating: 0.9 and over is Good, 0.5 and over Hard, below that Again.
    /// A score never earns Easy: that is the learner's own call.
    pub fn from_score(score: f64) -> Grade {
        if score >= 0.9 {
            Grade::Good
        } else if score >= 0.5 {
            Grade::Hard
        } else {
            Grade::Again
        }
    }

    /// The 0..1 score a grade stands for, where a self-grade has to count next to measured
    /// scores (a session's average, how weak a lesson is): the least score that earns it, and 1
    /// for Easy. `Grade::from_score(g.score())` is `g` for every grade but Easy.
    pub fn score(self) -> f64 {
        match self {
            Grade::Again => 0.0,
            Grade::Hard => 0.5,
            Grade::Good => 0.9,
            Grade::Easy => 1.0,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Grade::Again => "again",
            Grade::Hard => "hard",
            Grade::Good => "good",
            Grade::Easy => "easy",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Grade::Again => "Again",
            Grade::Hard => "Hard",
            Grade::Good => "Good",
            Grade::Easy => "Easy",
        }
    }
}

/// FSRS's card states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CardState {
    New,
    Learning,
    Review,
    Relearning,
}

/// An item's FSRS memory state, as stored in the progress file. Our own type (not the scheduler
/// crate's) so the file format does not change when that crate does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewCard {
    pub due: DateTime<Utc>,
    pub stability: f64,
    pub difficulty: f64,
    pub elapsed_days: i64,
    pub scheduled_days: i64,
    pub reps: i32,
    pub lapses: i32,
    pub state: CardState,
    pub last_review: DateTime<Utc>,
}

impl ReviewCard {
    /// Is it due on `now`'s local day (or earlier)?
    pub fn is_due(&self, now: &Moment) -> bool {
        now.local_day(self.due) <= now.day()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grade_s_score_earns_that_grade_back_except_easy() {
        for g in Grade::ALL {
            let back = Grade::from_score(g.score());
            let expected = if g == Grade::Easy { Grade::Good } else { g };
            assert_eq!(back, expected, "{g:?}");
        }
    }
}
