//! What `asyncdojo stats` prints and the lesson browser marks: progress per lesson, due items and
//! streaks, all computed from a passed-in moment. Scheduling logic over the stored progress, so
//! it lives with the scheduler, not with the store.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{Days, NaiveDate};

use crate::lesson::{Lesson, LessonId};
use crate::progress::{Grade, Moment, Progress};

use super::review::{DueItem, due_queue};

/// Consecutive days with activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Streak {
    /// The run of active days ending today, or yesterday when today has no activity yet (a streak
    /// is not broken until a whole day passes without practice).
    pub current: u32,
    /// The longest run ever.
    pub longest: u32,
    pub active_today: bool,
}

/// Streaks from the set of active days, as of `today`.
pub fn streak(days: &BTreeSet<NaiveDate>, today: NaiveDate) -> Streak {
    let mut longest = 0;
    let mut run = 0;
    let mut prev: Option<NaiveDate> = None;
    for &d in days {
        run = match prev {
            Some(p) if p.checked_add_days(Days::new(1)) == Some(d) => run + 1,
            _ => 1,
        };
        longest = longest.max(run);
        prev = Some(d);
    }
    let active_today = days.contains(&today);
    let mut day = if active_today {
        Some(today)
    } else {
        today.pred_opt()
    };
    let mut current = 0;
    while let Some(d) = day {
        if !days.contains(&d) {
            break;
        }
        current += 1;
        day = d.pred_opt();
    }
    Streak {
        current,
        longest,
        active_today,
    }
}

/// How a lesson shows in the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LessonMark {
    /// Not opened, nothing answered.
    Untouched,
    /// Opened or partly answered.
    Started,
    /// Every quiz item answered, the last answer of each Good or Easy.
    Mastered,
    /// Something in it is due for review (takes precedence).
    Due,
}

impl LessonMark {
    /// A one-cell symbol for the lesson list.
    pub fn symbol(self) -> char {
        match self {
            LessonMark::Untouched => ' ',
            LessonMark::Started => '·',
            LessonMark::Mastered => '✓',
            LessonMark::Due => '!',
        }
    }
}

/// One lesson's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct LessonStats {
    pub id: LessonId,
    /// "Q5", "C1".
    pub label: String,
    pub title: String,
    pub read: bool,
    pub demo_runs: u32,
    pub quiz_total: usize,
    /// Quiz items answered at least once.
    pub quiz_answered: usize,
    /// Quiz items whose last answer was Good or Easy.
    pub quiz_good: usize,
    /// Mean of the last score of each answered, scored quiz item.
    pub average_score: Option<f64>,
    /// Items (quiz and interview) due now.
    pub due: usize,
    pub has_notes: bool,
    pub mark: LessonMark,
}

/// Everything `asyncdojo stats` shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    pub today: NaiveDate,
    /// In the order of the lessons passed in (guide order).
    pub lessons: Vec<LessonStats>,
    /// The "due now" queue.
    pub due: Vec<DueItem>,
    pub streak: Streak,
    pub active_days: usize,
    /// Answers recorded (kept ones: each item keeps its newest few).
    pub answers: usize,
}

/// Progress per lesson, due items and streaks as of `now`.
pub fn stats(lessons: &[Lesson], progress: &Progress, now: &Moment) -> Stats {
    let due = due_queue(lessons, progress, now);
    let lesson_stats = lessons
        .iter()
        .map(|l| {
            let lp = progress.lesson(&l.id);
            let items: Vec<_> = l
                .quiz
                .iter()
                .filter_map(|q| lp.and_then(|p| p.quiz.get(&q.id)))
                .filter(|i| !i.attempts.is_empty())
                .collect();
            let scores: Vec<f64> = items
                .iter()
                .filter_map(|i| i.last().and_then(|a| a.score))
                .collect();
            let quiz_good = items
                .iter()
                .filter(|i| i.last().is_some_and(|a| a.grade >= Grade::Good))
                .count();
            let due_here = due.iter().filter(|d| d.key.lesson() == &l.id).count();
            let read = lp.is_some_and(|p| p.is_read());
            let mark = if due_here > 0 {
                LessonMark::Due
            } else if !l.quiz.is_empty() && quiz_good == l.quiz.len() {
                LessonMark::Mastered
            } else if read
                || !items.is_empty()
                || lp.is_some_and(|p| p.demo_runs() > 0 || !p.interview.is_new())
            {
                LessonMark::Started
            } else {
                LessonMark::Untouched
            };
            LessonStats {
                id: l.id.clone(),
                label: l.label(),
                title: l.title.clone(),
                read,
                demo_runs: lp.map_or(0, |p| p.demo_runs()),
                quiz_total: l.quiz.len(),
                quiz_answered: items.len(),
                quiz_good,
                average_score: (!scores.is_empty())
                    .then(|| scores.iter().sum::<f64>() / scores.len() as f64),
                due: due_here,
                has_notes: lp.is_some_and(|p| !p.notes.trim().is_empty()),
                mark,
            }
        })
        .collect();
    let answers = progress
        .lessons
        .values()
        .flat_map(|l| l.quiz.values().chain(std::iter::once(&l.interview)))
        .map(|i| i.attempts.len())
        .sum();
    Stats {
        today: now.day(),
        lessons: lesson_stats,
        due,
        streak: streak(&progress.active_days, now.day()),
        active_days: progress.active_days.len(),
        answers,
    }
}

impl fmt::Display for Stats {
    /// The plain-text report `asyncdojo stats` can print as is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "streak: {} day{} (longest {}), {} active day{}, {} answer{} kept",
            self.streak.current,
            if self.streak.current == 1 { "" } else { "s" },
            self.streak.longest,
            self.active_days,
            if self.active_days == 1 { "" } else { "s" },
            self.answers,
            if self.answers == 1 { "" } else { "s" },
        )?;
        writeln!(f, "due now: {}", self.due.len())?;
        for d in &self.due {
            match d.overdue_days {
                0 => writeln!(f, "  {}", d.key)?,
                n => writeln!(
                    f,
                    "  {} ({n} day{} overdue)",
                    d.key,
                    if n == 1 { "" } else { "s" }
                )?,
            }
        }
        writeln!(f)?;
        // The title column is as wide as the longest title: a report is read whole, not cut.
        let w = self
            .lessons
            .iter()
            .map(|l| l.title.chars().count())
            .max()
            .unwrap_or(0)
            .max("lesson".len());
        writeln!(
            f,
            "     {:<w$} read  demos  quiz   score  due",
            "lesson",
            w = w + 2
        )?;
        for l in &self.lessons {
            writeln!(
                f,
                "{} {:<4} {:<w$} {:<5} {:>5}  {:>2}/{:<2}  {:>5}  {:>3}",
                l.mark.symbol(),
                l.label,
                l.title,
                if l.read { "yes" } else { "no" },
                l.demo_runs,
                l.quiz_good,
                l.quiz_total,
                l.average_score
                    .map_or_else(|| "-".to_owned(), |s| format!("{:.0}%", s * 100.0)),
                l.due,
            )?;
        }
        Ok(())
    }
}
