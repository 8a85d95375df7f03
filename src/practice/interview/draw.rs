//! Drawing an interview's questions: a weight per lesson from what is due or weak, then a seeded
//! weighted draw without repeats.

use crate::demo::rng::SplitMix64;
use crate::lesson::{Lesson, LessonId};
use crate::progress::{ItemKey, Moment, Progress};

/// Why a lesson was drawn: the largest part of its weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickReason {
    /// Its interview question or a quiz item is due for review.
    Due,
    /// Low scores or lapses.
    Weak,
    /// Never practised.
    New,
    /// None of the above: the base weight every lesson has.
    Random,
}

/// A drawn question: a lesson, whose `question` is asked and whose `answer` is the model answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    pub lesson: LessonId,
    pub reason: PickReason,
    /// The weight it was drawn with.
    pub weight: f64,
}

/// A lesson's draw weight: 1, plus 3 when something in it is due, plus up to 3 for weakness (low
/// last scores, lapses), plus 1 when never practised.
pub fn lesson_weight(lesson: &Lesson, progress: &Progress, now: &Moment) -> (f64, PickReason) {
    const BASE: f64 = 1.0;
    let mut due = false;
    let mut scores = Vec::new();
    let mut lapses = 0;
    let mut seen = false;
    for key in ItemKey::all_items(lesson) {
        let Some(item) = progress.item(&key) else {
            continue;
        };
        if let Some(card) = &item.card {
            seen = true;
            due |= card.is_due(now);
            lapses += card.lapses;
        }
        if let Some(last) = item.attempts.last() {
            seen = true;
            scores.push(last.score.unwrap_or_else(|| last.grade.score()));
        }
    }
    let due_w = if due { 3.0 } else { 0.0 };
    let weakness = if scores.is_empty() {
        0.0
    } else {
        1.0 - scores.iter().sum::<f64>() / scores.len() as f64
    };
    let lapse_weakness = f64::from(lapses.min(3)) / 3.0;
    let weak_w = 3.0 * weakness.max(lapse_weakness);
    let new_w = if seen { 0.0 } else { 1.0 };
    let reason = [
        (due_w, PickReason::Due),
        (weak_w, PickReason::Weak),
        (new_w, PickReason::New),
    ]
    .into_iter()
    .filter(|(w, _)| *w > 0.0)
    .max_by(|a, b| a.0.total_cmp(&b.0))
    .map_or(PickReason::Random, |(_, r)| r);
    (BASE + due_w + weak_w + new_w, reason)
}

/// Draw `count` distinct lessons, each with probability proportional to its [`lesson_weight`],
/// from the crate's seeded generator (the demos' [`SplitMix64`]): the same seed, lessons and
/// progress give the same questions on every platform.
pub fn pick_questions(
    lessons: &[Lesson],
    progress: &Progress,
    now: &Moment,
    count: usize,
    seed: u64,
) -> Vec<Question> {
    let mut pool: Vec<Question> = lessons
        .iter()
        .map(|l| {
            let (weight, reason) = lesson_weight(l, progress, now);
            Question {
                lesson: l.id.clone(),
                reason,
                weight,
            }
        })
        .collect();
    let mut rng = SplitMix64::new(seed);
    let mut picked = Vec::new();
    while picked.len() < count && !pool.is_empty() {
        let total: f64 = pool.iter().map(|q| q.weight).sum();
        let mut r = unit_interval(&mut rng) * total;
        let mut chosen = pool.len() - 1;
        for (i, q) in pool.iter().enumerate() {
            if r < q.weight {
                chosen = i;
                break;
            }
            r -= q.weight;
        }
        picked.push(pool.remove(chosen));
    }
    picked
}

/// A number in `0.0..1.0`, evenly spread: the top 53 bits of the generator's next value (as many
/// as an `f64` holds exactly).
fn unit_interval(rng: &mut SplitMix64) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}
