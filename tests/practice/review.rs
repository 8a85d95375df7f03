//! Spaced review: FSRS cards and the due queue from a fixed history.

use super::*;

#[test]
fn new_cards_are_spaced_by_grade() {
    let s = Scheduler::new();
    let now = at(0, 9, 0).at;
    let days: Vec<i64> = Grade::ALL
        .iter()
        .map(|g| (s.review(None, *g, now).due - now).num_days())
        .collect();
    // FSRS's default weights, long-term mode: Again tomorrow, Hard in 2, Good in 3, Easy in 15.
    assert_eq!(days, [1, 2, 3, 15]);
    let preview = s.preview(None, now);
    assert_eq!(preview[2].0, Grade::Good);
    assert_eq!(preview[2].1, s.review(None, Grade::Good, now));
}

/// A fixed history on fixed days, then the due queue on later days.
pub(crate) fn history(ls: &[Lesson]) -> Progress {
    let q01 = &lesson(ls, "q01-sync-vs-async").id;
    let q02 = &lesson(ls, "q02-event-loop").id;
    let c1 = &lesson(ls, "c1-rate-limiter").id;
    let mut p = Progress::default();
    let wrong = |l: &Lesson, id: &str| {
        let q = item(l, id);
        let right = q.choice_answer().unwrap();
        QuizOutcome::Choice(score_choice(q, if right == 1 { 2 } else { 1 }).unwrap())
    };
    let right = |l: &Lesson, id: &str| {
        let q = item(l, id);
        QuizOutcome::Choice(score_choice(q, q.choice_answer().unwrap()).unwrap())
    };
    // Day 0.
    let g = record_quiz(
        &mut p,
        &ItemKey::quiz(q02, "where-switch"),
        &wrong(lesson(ls, "q02-event-loop"), "where-switch"),
        &at(0, 10, 0),
    );
    assert_eq!(g, Grade::Again);
    record_quiz(
        &mut p,
        &ItemKey::quiz(q01, "parallel-or-not"),
        &wrong(lesson(ls, "q01-sync-vs-async"), "parallel-or-not"),
        &at(0, 9, 0),
    );
    record_quiz(
        &mut p,
        &ItemKey::quiz(q01, "blocking-call"),
        &right(lesson(ls, "q01-sync-vs-async"), "blocking-call"),
        &at(0, 9, 5),
    );
    // A measured prediction 15% off: Hard, from the score, not a self-grade.
    let concurrent = item(lesson(ls, "q01-sync-vs-async"), "concurrent-total");
    let measured = run_predict(concurrent).unwrap().measured;
    let s = score_predict_item(concurrent, "230", &measured).unwrap();
    let g = record_quiz(
        &mut p,
        &ItemKey::quiz(q01, "concurrent-total"),
        &QuizOutcome::Predict(s),
        &at(0, 9, 10),
    );
    assert_eq!(g, Grade::Hard);
    record_self_grade(&mut p, &ItemKey::interview(c1), Grade::Easy, &at(0, 11, 0));
    // Day 1: the failed item is reviewed again, and remembered.
    record_quiz(
        &mut p,
        &ItemKey::quiz(q02, "where-switch"),
        &right(lesson(ls, "q02-event-loop"), "where-switch"),
        &at(1, 6, 0),
    );
    p
}

#[test]
fn the_due_queue_follows_a_fixed_history() {
    let ls = lessons();
    let p = history(&ls);
    let keys = |now: &Moment| -> Vec<String> {
        due_queue(&ls, &p, now)
            .iter()
            .map(|d| d.key.to_string())
            .collect()
    };
    // Day 0: nothing is due yet (everything was just reviewed).
    assert!(keys(&at(0, 23, 0)).is_empty());
    // Day 1, early: the Again from 9:00 on day 0 is due all day 1, also before 9:00 (review is
    // by day). where-switch, failed on day 0, was reviewed again at 6:00 on day 1.
    assert_eq!(keys(&at(1, 7, 0)), ["q01-sync-vs-async/parallel-or-not"]);
    // Day 3: the Hard (2 days) and the Good (3 days) from day 0 join, most overdue first.
    let day3 = due_queue(&ls, &p, &at(3, 12, 0));
    assert_eq!(
        day3.iter().map(|d| d.key.to_string()).collect::<Vec<_>>(),
        [
            "q01-sync-vs-async/parallel-or-not",
            "q01-sync-vs-async/concurrent-total",
            "q01-sync-vs-async/blocking-call",
        ]
    );
    assert_eq!(
        day3.iter().map(|d| d.overdue_days).collect::<Vec<_>>(),
        [2, 1, 0]
    );
    // Day 4: where-switch (Good 3 days after its day-1 review) is due too.
    assert_eq!(
        keys(&at(4, 12, 0)).last().unwrap(),
        "q02-event-loop/where-switch"
    );
    // Day 15: the interview question graded Easy on day 0 is due too, last.
    let day15 = keys(&at(15, 12, 0));
    assert_eq!(day15.len(), 5);
    assert_eq!(day15.last().unwrap(), "c1-rate-limiter (interview)");

    // The review queue: due items first, then new quiz items in guide order up to the limit.
    let q = review_queue(&ls, &p, &at(1, 7, 0), 3);
    assert_eq!(
        q.iter()
            .map(|e| (e.key.to_string(), e.reason))
            .collect::<Vec<_>>(),
        [
            (
                "q01-sync-vs-async/parallel-or-not".to_owned(),
                QueueReason::Due
            ),
            (
                "q01-sync-vs-async/sequential-total".to_owned(),
                QueueReason::New
            ),
            ("q01-sync-vs-async/first-done".to_owned(), QueueReason::New),
            (
                "q01-sync-vs-async/spot-guide-q1".to_owned(),
                QueueReason::New
            ),
        ]
    );
}

#[test]
fn the_schedule_is_in_local_days() {
    let ls = lessons();
    let mut p = Progress::default();
    let key = ItemKey::quiz(&lesson(&ls, "q01-sync-vs-async").id, "parallel-or-not");
    // Failed at 23:30 UTC, which is 00:30 the next day at UTC+1.
    let late = at(0, 23, 30);
    record_self_grade(&mut p, &key, Grade::Again, &late);
    let plus_one = |m: Moment| Moment {
        at: m.at,
        offset: chrono::FixedOffset::east_opt(3600).unwrap(),
    };
    // Due 23:30 UTC on day 1: for a UTC learner, due on day 1; at UTC+1 it falls on day 2.
    assert_eq!(due_queue(&ls, &p, &at(1, 0, 10)).len(), 1);
    assert!(due_queue(&ls, &p, &plus_one(at(1, 12, 0))).is_empty());
    assert_eq!(due_queue(&ls, &p, &plus_one(at(1, 23, 5))).len(), 1);
}
