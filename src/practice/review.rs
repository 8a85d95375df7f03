//! Spaced review: FSRS through the `rs-fsrs` crate (no scheduler of our own, and the only place
//! that crate is used), the stored card per item it reads and writes, and the "due now" queue.
//!
//! The scheduler runs in FSRS's long-term mode (no same-day learning steps, fuzz off): an item
//! comes back after whole days, which suits practice done once or twice a day, and the same history
//! always gives the same schedule. An item is due on the learner's local day its card falls due,
//! so what was failed yesterday evening is due this morning.

use chrono::{DateTime, NaiveDate, Utc};
use rs_fsrs::{Card, FSRS, Parameters, Rating, Seed, State};

use crate::lesson::Lesson;
use crate::progress::{CardState, Grade, ItemKey, Moment, Progress, ReviewCard};

/// The scheduler crate's rating for a grade.
fn rating(grade: Grade) -> Rating {
    match grade {
        Grade::Again => Rating::Again,
        Grade::Hard => Rating::Hard,
        Grade::Good => Rating::Good,
        Grade::Easy => Rating::Easy,
    }
}

impl From<&ReviewCard> for Card {
    fn from(c: &ReviewCard) -> Card {
        Card {
            due: c.due,
            stability: c.stability,
            difficulty: c.difficulty,
            elapsed_days: c.elapsed_days,
            scheduled_days: c.scheduled_days,
            reps: c.reps,
            lapses: c.lapses,
            state: match c.state {
                CardState::New => State::New,
                CardState::Learning => State::Learning,
                CardState::Review => State::Review,
                CardState::Relearning => State::Relearning,
            },
            last_review: c.last_review,
        }
    }
}

impl From<Card> for ReviewCard {
    fn from(c: Card) -> ReviewCard {
        ReviewCard {
            due: c.due,
            stability: c.stability,
            difficulty: c.difficulty,
            elapsed_days: c.elapsed_days,
            scheduled_days: c.scheduled_days,
            reps: c.reps,
            lapses: c.lapses,
            state: match c.state {
                State::New => CardState::New,
                State::Learning => CardState::Learning,
                State::Review => CardState::Review,
                State::Relearning => CardState::Relearning,
            },
            last_review: c.last_review,
        }
    }
}

/// The FSRS scheduler with asyncdojo's settings.
#[derive(Debug, Clone)]
pub struct Scheduler {
    fsrs: FSRS,
}

impl Default for Scheduler {
    fn default() -> Self {
        Scheduler::new()
    }
}

impl Scheduler {
    /// The probability of recall FSRS schedules for.
    pub const DESIRED_RETENTION: f64 = 0.9;

    pub fn new() -> Scheduler {
        let parameters = Parameters {
            request_retention: Self::DESIRED_RETENTION,
            enable_short_term: false,
            enable_fuzz: false,
            seed: Seed::new("asyncdojo"),
            ..Parameters::default()
        };
        Scheduler {
            fsrs: FSRS::new(parameters),
        }
    }

    /// The card after a review graded `grade` at `now`; `None` is an item never reviewed.
    pub fn review(
        &self,
        card: Option<&ReviewCard>,
        grade: Grade,
        now: DateTime<Utc>,
    ) -> ReviewCard {
        let card = card.map_or_else(
            || Card {
                due: now,
                last_review: now,
                ..Card::default()
            },
            Card::from,
        );
        self.fsrs.next(card, now, rating(grade)).card.into()
    }

    /// What each grade would do, for showing "Good: in 3 days" next to the buttons.
    pub fn preview(
        &self,
        card: Option<&ReviewCard>,
        now: DateTime<Utc>,
    ) -> [(Grade, ReviewCard); 4] {
        Grade::ALL.map(|g| (g, self.review(card, g, now)))
    }

    /// The probability FSRS gives of recalling the item at `now` (0 for a new card).
    pub fn retrievability(card: &ReviewCard, now: DateTime<Utc>) -> f64 {
        Card::from(card).get_retrievability(now)
    }
}

/// An item whose review is due.
#[derive(Debug, Clone, PartialEq)]
pub struct DueItem {
    pub key: ItemKey,
    pub due: DateTime<Utc>,
    /// Whole local days since it fell due (0: due today).
    pub overdue_days: i64,
    pub lapses: i32,
}

/// Every item of `lessons` due on `now`'s day, most overdue first (ties in guide order, then item
/// order, the interview question after the lesson's quiz items). Progress kept for items that no
/// longer exist stays in the file but is not offered.
pub fn due_queue(lessons: &[Lesson], progress: &Progress, now: &Moment) -> Vec<DueItem> {
    let mut due = Vec::new();
    for lesson in lessons {
        for key in ItemKey::all_items(lesson) {
            let Some(card) = progress.item(&key).and_then(|i| i.card.as_ref()) else {
                continue;
            };
            if card.is_due(now) {
                due.push(DueItem {
                    overdue_days: (now.day() - now.local_day(card.due)).num_days(),
                    due: card.due,
                    lapses: card.lapses,
                    key,
                });
            }
        }
    }
    // Stable: equal due times keep guide order.
    due.sort_by_key(|d| d.due);
    due
}

/// The local day the next item falls due after `now`'s day (items due today or earlier are in
/// [`due_queue`]); `None` when nothing is scheduled after today.
pub fn next_due_day(lessons: &[Lesson], progress: &Progress, now: &Moment) -> Option<NaiveDate> {
    lessons
        .iter()
        .flat_map(ItemKey::all_items)
        .filter_map(|key| progress.item(&key)?.card.as_ref().map(|c| c.due))
        .map(|due| now.local_day(due))
        .filter(|day| *day > now.day())
        .min()
}

/// Why an item is in the review queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueReason {
    Due,
    /// Never answered: offered after the due items, up to a daily limit.
    New,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueueEntry {
    pub key: ItemKey,
    pub reason: QueueReason,
}

/// What `asyncdojo review` works through: the due items ([`due_queue`]), then up to `new_limit`
/// quiz items never answered, in guide order.
pub fn review_queue(
    lessons: &[Lesson],
    progress: &Progress,
    now: &Moment,
    new_limit: usize,
) -> Vec<QueueEntry> {
    let mut queue: Vec<QueueEntry> = due_queue(lessons, progress, now)
        .into_iter()
        .map(|d| QueueEntry {
            key: d.key,
            reason: QueueReason::Due,
        })
        .collect();
    let new = lessons
        .iter()
        .flat_map(ItemKey::quiz_items)
        .filter(|k| progress.item(k).is_none_or(|i| i.is_new()))
        .take(new_limit)
        .map(|key| QueueEntry {
            key,
            reason: QueueReason::New,
        });
    queue.extend(new);
    queue
}
