//! Practice mode's logic: scoring each quiz kind (predictions against virtual-clock runs of the
//! shipped lessons), FSRS scheduling order from a fixed history, and the mock interview flow.

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

// ---------------------------------------------------------------------------------------------
// Multiple choice
// ---------------------------------------------------------------------------------------------

#[test]
fn choice_right_and_wrong_with_the_explanation() {
    let ls = lessons();
    let q = item(lesson(&ls, "q01-sync-vs-async"), "parallel-or-not");
    let right = q.choice_answer().unwrap();
    let r = score_choice(q, right).unwrap();
    assert!(r.correct);
    assert_eq!(r.score(), 1.0);
    assert_eq!(r.explanation, q.explanation);
    assert_eq!(QuizOutcome::Choice(r).grade(), Grade::Good);

    let wrong = if right == 1 { 2 } else { 1 };
    let r = score_choice(q, wrong).unwrap();
    assert!(!r.correct);
    assert_eq!((r.chosen, r.answer), (wrong, right));
    assert!(
        !r.explanation.is_empty(),
        "the explanation shows after any answer"
    );
    assert_eq!(QuizOutcome::Choice(r).grade(), Grade::Again);

    let options = q.as_choice().unwrap().options.len();
    assert_eq!(
        score_choice(q, 0),
        Err(PracticeError::NoSuchOption { chosen: 0, options })
    );
    assert!(score_choice(q, options + 1).is_err());
    let predict = item(lesson(&ls, "q01-sync-vs-async"), "concurrent-total");
    assert!(matches!(
        score_choice(predict, 1),
        Err(PracticeError::WrongKind { .. })
    ));
}

#[test]
fn every_choice_item_scores_its_own_answer_right() {
    for l in lessons() {
        for q in l.quiz.iter().filter(|q| q.kind() == QuizKind::Choice) {
            let r = score_choice(q, q.choice_answer().unwrap()).unwrap();
            assert!(r.correct, "{}/{}", l.id, q.id);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Predict, then run
// ---------------------------------------------------------------------------------------------

#[test]
fn every_predict_item_measures_its_answer_on_the_virtual_clock_and_scores_it() {
    let mut checked = 0;
    for l in lessons() {
        for q in l.quiz.iter().filter(|q| q.kind() == QuizKind::Predict) {
            let run = run_predict(q).unwrap_or_else(|e| panic!("{}/{}: {e}", l.id, q.id));
            let expected = expected_answer(q).unwrap();
            // The lesson's answer typed as the prediction scores full marks against the run.
            let typed = match &expected {
                Measured::Number(n) => format!("{n}"),
                Measured::Name(s) => s.clone(),
            };
            let s = score_predict_item(q, &typed, &run.measured).unwrap();
            assert!(s.within_tolerance, "{}/{}: {s:?}", l.id, q.id);
            assert_eq!(s.score, 1.0, "{}/{}", l.id, q.id);
            assert_eq!(s.tolerance_pct, tolerance_pct(q));
            assert_eq!(
                QuizOutcome::Predict(s).grade(),
                Grade::Good,
                "{}/{}",
                l.id,
                q.id
            );
            // A wild guess scores nothing.
            let wild = match &run.measured {
                Measured::Number(n) => format!("{}", n * 3.0 + 10.0),
                Measured::Name(_) => "no such task".to_owned(),
            };
            let s = score_predict_item(q, &wild, &run.measured).unwrap();
            assert_eq!(s.score, 0.0, "{}/{}: {s:?}", l.id, q.id);
            // The run is repeatable: the virtual clock measures the same thing again.
            assert_eq!(run_predict(q).unwrap().measured, run.measured);
            checked += 1;
        }
    }
    assert!(checked >= 19, "only {checked} predict items");
}

#[test]
fn a_prediction_is_scored_by_how_far_off_it_is() {
    let ls = lessons();
    let q = item(lesson(&ls, "q01-sync-vs-async"), "concurrent-total");
    assert_eq!(tolerance_pct(q), DEFAULT_TOLERANCE_PCT);
    let run = run_predict(q).unwrap();
    assert_eq!(run.measured, Measured::Number(200.0));
    assert_eq!(run.runs[0].variant(), "join-all");
    let score = |typed: &str| score_predict_item(q, typed, &run.measured).unwrap();

    for exact in ["200", "200ms", "0.2s", " 200 "] {
        assert_eq!(score(exact).score, 1.0, "{exact}");
    }
    // Within 10%: counts.
    assert!(score("215").within_tolerance);
    assert_eq!(score("180").score, 1.0);
    // 15% off: halfway down the slope (0 at 30%), a Hard.
    let s = score("230");
    assert!(!s.within_tolerance);
    assert!((s.score - 0.75).abs() < 1e-9, "{s:?}");
    assert!((s.error_pct.unwrap() - 15.0).abs() < 1e-9);
    assert_eq!(Grade::from_score(s.score), Grade::Hard);
    // 30% and beyond: Again. Predicting the sequential total (the classic mistake) scores 0.
    assert_eq!(score("260").score, 0.0);
    assert_eq!(score("400").score, 0.0);
    assert_eq!(Grade::from_score(score("400").score), Grade::Again);

    assert!(matches!(
        score_predict_item(q, "soon", &run.measured),
        Err(PracticeError::BadPrediction(_))
    ));
    assert!(score_predict_item(q, "  ", &run.measured).is_err());
}

#[test]
fn first_finished_predictions_match_names_leniently() {
    let ls = lessons();
    let q = item(lesson(&ls, "q01-sync-vs-async"), "first-done");
    let run = run_predict(q).unwrap();
    assert_eq!(run.measured, Measured::Name("request 2".into()));
    for typed in ["request 2", "Request  2", "2", "02"] {
        let s = score_predict_item(q, typed, &run.measured).unwrap();
        assert_eq!(s.score, 1.0, "{typed}");
    }
    for typed in ["request 1", "1", "request", "12"] {
        let s = score_predict_item(q, typed, &run.measured).unwrap();
        assert_eq!(s.score, 0.0, "{typed}");
    }
}

#[test]
fn counts_and_metrics_are_predicted_too() {
    let ls = lessons();
    // A metric (a small count): off by one on 6 is 17% off.
    let q = item(lesson(&ls, "c3-task-scheduler"), "fixed-rate-runs");
    let run = run_predict(q).unwrap();
    assert_eq!(run.measured, Measured::Number(6.0));
    assert_eq!(
        score_predict_item(q, "6", &run.measured).unwrap().score,
        1.0
    );
    let s = score_predict_item(q, "5", &run.measured).unwrap();
    assert!(s.score > 0.5 && s.score < 0.9, "{s:?}");
    assert_eq!(
        score_predict_item(q, "3", &run.measured).unwrap().score,
        0.0
    );
}

#[test]
fn pure_prediction_scoring_edges() {
    let n = |v: f64| Prediction::Number(v);
    // A measured 0: only 0 (or within half a unit) counts; 1 is 100% off.
    assert_eq!(
        score_prediction(&n(0.0), &Measured::Number(0.0), 10).score,
        1.0
    );
    assert_eq!(
        score_prediction(&n(1.0), &Measured::Number(0.0), 10).score,
        0.0
    );
    // Tolerance 0: whole-number answers still count exactly despite float noise.
    assert_eq!(
        score_prediction(&n(300.0), &Measured::Number(300.0001), 0).score,
        1.0
    );
    // A custom tolerance widens the band.
    let s = score_prediction(&n(1250.0), &Measured::Number(1000.0), 25);
    assert!(s.within_tolerance);
    assert!(!score_prediction(&n(1250.0), &Measured::Number(1000.0), 10).within_tolerance);
    // Kinds that do not match score 0.
    assert_eq!(
        score_prediction(&n(2.0), &Measured::Name("request 2".into()), 10).score,
        0.0
    );
    assert_eq!(
        score_prediction(
            &Prediction::Name("200".into()),
            &Measured::Number(200.0),
            10
        )
        .score,
        0.0
    );
    // Parsing.
    use asyncdojo::lesson::Measure;
    assert_eq!(
        Prediction::parse(&Measure::TotalMs, "1,400").unwrap(),
        n(1400.0)
    );
    assert_eq!(
        Prediction::parse(&Measure::TotalMs, "1.4s").unwrap(),
        n(1400.0)
    );
    assert_eq!(
        Prediction::parse(&Measure::Metric("x".into()), "1_000").unwrap(),
        n(1000.0)
    );
    assert!(Prediction::parse(&Measure::Metric("x".into()), "1s").is_err());
    assert_eq!(
        Prediction::parse(&Measure::FirstFinished, " job 3 ").unwrap(),
        Prediction::Name("job 3".into())
    );
}

// ---------------------------------------------------------------------------------------------
// Spot the bug
// ---------------------------------------------------------------------------------------------

#[test]
fn spot_the_bug_on_a_shipped_exercise() {
    let ls = lessons();
    let l = lesson(&ls, "q01-sync-vs-async");
    let q = item(l, "spot-guide-q1");
    // The exercise has two bugs: lines 6-7, and line 9.
    let score = |marks: &[u32]| score_spot_item(l, q, marks).unwrap();

    let all = score(&[6, 7, 9]);
    assert_eq!((all.found, all.missed, all.score), (2, 0, 1.0));
    assert_eq!(all.hits, vec![6, 7, 9]);
    assert!(all.false_marks.is_empty());
    assert!(!all.fix.is_empty());

    // Any line of a bug finds it.
    let any = score(&[9, 6]);
    assert_eq!((any.found, any.score), (2, 1.0));
    assert!(any.bugs.iter().all(|b| b.found && !b.why.is_empty()));

    let half = score(&[7]);
    assert_eq!((half.found, half.missed), (1, 1));
    assert_eq!(half.score, 0.5);
    assert_eq!(
        half.bugs.iter().map(|b| b.found).collect::<Vec<_>>(),
        [true, false]
    );
    assert_eq!(QuizOutcome::Spot(half).grade(), Grade::Hard);

    // A false mark costs: 2 found of 2 bugs + 1 false mark.
    let extra = score(&[6, 9, 1, 1]);
    assert_eq!(extra.false_marks, vec![1]);
    assert!((extra.score - 2.0 / 3.0).abs() < 1e-9);

    // Marking every line does not pay.
    let lines = l.spot_the_bug[0].code.lines().count() as u32;
    let every: Vec<u32> = (1..=lines).collect();
    let shotgun = score(&every);
    assert_eq!(shotgun.found, 2);
    assert_eq!(shotgun.false_marks.len(), lines as usize - 3);
    assert_eq!(QuizOutcome::Spot(shotgun).grade(), Grade::Again);

    let none = score(&[]);
    assert_eq!((none.found, none.missed, none.score), (0, 2, 0.0));

    // The wrong kind is refused.
    assert!(score_spot_item(l, item(l, "parallel-or-not"), &[1]).is_err());
}

#[test]
fn every_spot_item_scores_full_marks_for_its_bug_lines() {
    for l in lessons() {
        for q in l.quiz.iter().filter(|q| q.kind() == QuizKind::SpotTheBug) {
            let hunt = asyncdojo::practice::score::exercise(&l, q).unwrap();
            let lines: Vec<u32> = hunt.bugs.iter().flat_map(|b| b.lines.clone()).collect();
            let r = score_spot(hunt, &lines);
            assert_eq!(r.score, 1.0, "{}/{}", l.id, q.id);
            assert_eq!(r.missed, 0);
        }
    }
}

#[test]
fn spot_scoring_is_found_over_bugs_plus_false_marks() {
    let hunt = BugHunt {
        id: "x".into(),
        title: "x".into(),
        origin: BugOrigin::Original,
        language: Language::Rust,
        code: "a\nb\nc\nd\ne\nf\ng\nh\ni\n".into(),
        bugs: vec![
            Bug {
                lines: vec![3, 4],
                why: "one".into(),
            },
            Bug {
                lines: vec![7],
                why: "two".into(),
            },
        ],
        fix: "fix".into(),
        run: None,
        evidence: None,
    };
    let r = score_spot(&hunt, &[4, 9]);
    assert_eq!(r.hits, vec![4]);
    assert_eq!(r.false_marks, vec![9]);
    assert_eq!((r.found, r.missed), (1, 1));
    assert!((r.score - 1.0 / 3.0).abs() < 1e-9);
    let r = score_spot(&hunt, &[3, 4, 7]);
    assert_eq!(r.score, 1.0);
}

#[test]
fn scores_map_to_fsrs_grades() {
    assert_eq!(Grade::from_score(1.0), Grade::Good);
    assert_eq!(Grade::from_score(0.9), Grade::Good);
    assert_eq!(Grade::from_score(0.89), Grade::Hard);
    assert_eq!(Grade::from_score(0.5), Grade::Hard);
    assert_eq!(Grade::from_score(0.49), Grade::Again);
    assert_eq!(Grade::from_score(0.0), Grade::Again);
}

/// Every exercise's evidence runs its buggy and its fixed variant, and the runs differ: in total
/// time or in a metric. (Real-clock evidence takes a second or two.)
#[test]
fn every_evidence_runs_both_variants_and_they_differ() {
    use asyncdojo::practice::evidence::{evidence_request, run_shown};
    let mut shown = 0;
    for l in lessons() {
        for hunt in &l.spot_the_bug {
            let Some(e) = &hunt.evidence else { continue };
            let at = format!("{}/{}", l.id, hunt.id);
            let run = run_shown(evidence_request(e).expect(&at)).expect(&at);
            assert_eq!(run.error, None, "{at}");
            let names: Vec<&str> = run.runs.iter().map(|r| r.variant()).collect();
            assert_eq!(names, [e.buggy.as_str(), e.fixed.as_str()], "{at}");
            let (bug, fix) = (&run.runs[0], &run.runs[1]);
            let (b, f) = (&bug.timeline, &fix.timeline);
            let metric_differs = b
                .metrics
                .keys()
                .any(|m| matches!((b.metric(m), f.metric(m)), (Some(x), Some(y)) if x != y));
            assert!(
                metric_differs || (bug.span_ms() - fix.span_ms()).abs() >= 1.0,
                "{at}: the buggy and fixed runs look the same"
            );
            shown += 1;
        }
    }
    assert!(
        shown >= 8,
        "evidence on the exercises a demo shows ({shown})"
    );
}

/// What the virtual-clock evidence captions claim is what the runs measure.
#[test]
fn evidence_captions_say_what_the_runs_measure() {
    use asyncdojo::practice::evidence::{evidence_request, run_shown};
    let ls = lessons();
    // (lesson, exercise, metric or "total", buggy value, fixed value)
    let claims = [
        ("q02-event-loop", "thread-sleep", "total", 800.0, 500.0),
        (
            "q02-event-loop",
            "thread-sleep",
            "max_tick_gap_ms",
            500.0,
            100.0,
        ),
        (
            "q04-tasks-vs-coroutines",
            "lazy-background",
            "total",
            400.0,
            300.0,
        ),
        (
            "q05-concurrent-http",
            "gather-leftovers",
            "left_running",
            2.0,
            0.0,
        ),
        (
            "q05-concurrent-http",
            "gather-leftovers",
            "cancelled",
            0.0,
            2.0,
        ),
        ("q07-timeouts", "select-loses-frame", "items_lost", 2.0, 0.0),
        (
            "c3-task-scheduler",
            "guide-scheduler",
            "recurring_runs",
            8.0,
            10.0,
        ),
    ];
    for (lesson_id, exercise, what, bug, fix) in claims {
        let l = lesson(&ls, lesson_id);
        let hunt = l
            .spot_the_bug
            .iter()
            .find(|h| h.id == exercise)
            .expect("exercise");
        let e = hunt.evidence.as_ref().expect("evidence");
        let req = evidence_request(e).expect("request");
        assert_eq!(req.clock, asyncdojo::demo::Clock::Virtual, "{exercise}");
        let run = run_shown(req).expect("run");
        let value = |i: usize| {
            let r = &run.runs[i];
            if what == "total" {
                r.total_ms
            } else {
                r.timeline.metric(what)
            }
        };
        assert_eq!(
            (value(0), value(1)),
            (Some(bug), Some(fix)),
            "{lesson_id}/{exercise}: {what}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Spaced review
// ---------------------------------------------------------------------------------------------

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
fn history(ls: &[Lesson]) -> Progress {
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

// ---------------------------------------------------------------------------------------------
// Mock interview
// ---------------------------------------------------------------------------------------------

#[test]
fn questions_are_drawn_exactly_from_the_seed() {
    let ls = lessons();
    let p = history(&ls);
    let now = at(3, 12, 0);
    let config = InterviewConfig {
        questions: 5,
        seconds_per_question: 180,
        seed: 42,
    };
    let a = Interview::new(&ls, &p, &now, config);
    let b = Interview::new(&ls, &p, &now, config);
    assert_eq!(a.questions(), b.questions(), "same seed, same questions");
    // Pinned: the crate's one seeded generator (SplitMix64) gives the same draw on every platform
    // and version.
    assert_eq!(
        a.questions()
            .iter()
            .map(|q| (q.lesson.0.as_str(), q.reason))
            .collect::<Vec<_>>(),
        [
            ("c3-task-scheduler", PickReason::New),
            ("q02-event-loop", PickReason::Random),
            ("q05-concurrent-http", PickReason::New),
            ("q07-timeouts", PickReason::New),
            ("q01-sync-vs-async", PickReason::Due),
        ]
    );
    assert_eq!(a.questions().len(), 5);
    let mut ids: Vec<&LessonId> = a.questions().iter().map(|q| &q.lesson).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "no lesson twice");
    let c = Interview::new(&ls, &p, &now, InterviewConfig { seed: 43, ..config });
    assert_ne!(a.questions(), c.questions(), "another seed, another draw");
    // More questions than lessons: every lesson once.
    let all = pick_questions(&ls, &p, &now, 50, 1);
    assert_eq!(all.len(), ls.len());
}

#[test]
fn the_draw_leans_toward_due_and_weak_lessons() {
    let ls = lessons();
    let p = history(&ls);
    let now = at(3, 12, 0);
    let q01 = lesson(&ls, "q01-sync-vs-async");
    let (w, reason) = lesson_weight(q01, &p, &now);
    assert_eq!(reason, PickReason::Due);
    assert!(w > 4.0, "{w}");
    let (w_new, reason) = lesson_weight(lesson(&ls, "q16-debugging"), &p, &now);
    assert_eq!((w_new, reason), (2.0, PickReason::New));
    let (w_c1, reason) = lesson_weight(lesson(&ls, "c1-rate-limiter"), &p, &now);
    assert_eq!(
        (w_c1, reason),
        (1.0, PickReason::Random),
        "known well, not due"
    );

    let mut due_hits = 0;
    let mut known_hits = 0;
    for seed in 0..400 {
        let qs = pick_questions(&ls, &p, &now, 5, seed);
        due_hits += qs.iter().filter(|q| q.lesson == q01.id).count();
        known_hits += qs
            .iter()
            .filter(|q| q.lesson.0 == "c1-rate-limiter")
            .count();
    }
    assert!(
        due_hits > 2 * known_hits,
        "due drawn {due_hits} times, well-known {known_hits}"
    );
}

#[test]
fn an_interview_runs_through_update() {
    let ls = lessons();
    let p = Progress::default();
    let config = InterviewConfig {
        questions: 4,
        seconds_per_question: 180,
        seed: 7,
    };
    let mut iv = Interview::new(&ls, &p, &at(0, 9, 0), config);
    let qs: Vec<LessonId> = iv.questions().iter().map(|q| q.lesson.clone()).collect();
    assert_eq!(qs.len(), 4);
    assert_eq!(iv.phase(), Phase::Ready);
    assert_eq!(iv.current().unwrap().lesson, qs[0]);

    // Out-of-phase actions do nothing.
    assert_eq!(
        iv.update(A::Grade {
            grade: Grade::Good,
            at: secs(1)
        }),
        InterviewEffect::None
    );
    assert_eq!(iv.update(A::Type('x')), InterviewEffect::None);
    assert_eq!(iv.notes(), "");

    // Question 1: the countdown runs out.
    iv.update(A::Start { at: secs(10) });
    assert_eq!(iv.phase(), Phase::Answering { started: secs(10) });
    assert_eq!(iv.remaining(secs(70)), Some(secs(120)));
    for c in "uses one threadx".chars() {
        iv.update(A::Type(c));
    }
    iv.update(A::Backspace);
    assert_eq!(iv.notes(), "uses one thread");
    assert_eq!(iv.update(A::Tick { at: secs(189) }), InterviewEffect::None);
    assert_eq!(iv.remaining(secs(189)), Some(secs(1)));
    // A late tick still reveals at the moment time ran out.
    assert_eq!(
        iv.update(A::Tick { at: secs(195) }),
        InterviewEffect::Revealed {
            lesson: qs[0].clone(),
            timed_out: true
        }
    );
    assert_eq!(
        iv.phase(),
        Phase::Revealed {
            started: secs(10),
            revealed: secs(190),
            timed_out: true
        }
    );
    let shown = Reveal::of(lesson(&ls, &qs[0].0));
    assert!(!shown.answer.is_empty() && !shown.key_points.is_empty());
    assert!(shown.demo.is_some());
    let InterviewEffect::Graded(first) = iv.update(A::Grade {
        grade: Grade::Hard,
        at: secs(220),
    }) else {
        panic!("graded")
    };
    assert_eq!(first.lesson, qs[0]);
    assert_eq!(first.grade, Some(Grade::Hard));
    assert_eq!(first.notes, "uses one thread");
    assert_eq!(
        (first.answer_time, first.total_time),
        (secs(180), secs(210))
    );
    assert!(first.timed_out);
    assert_eq!(first.key(), ItemKey::interview(&qs[0]));

    // Question 2: revealed early, notes start empty.
    assert_eq!((iv.phase(), iv.index(), iv.notes()), (Phase::Ready, 1, ""));
    iv.update(A::Start { at: secs(300) });
    assert_eq!(
        iv.update(A::Reveal { at: secs(345) }),
        InterviewEffect::Revealed {
            lesson: qs[1].clone(),
            timed_out: false
        }
    );
    iv.update(A::SetNotes("typed after the reveal".into()));
    let InterviewEffect::Graded(second) = iv.update(A::Grade {
        grade: Grade::Again,
        at: secs(400),
    }) else {
        panic!("graded")
    };
    assert_eq!(
        (second.answer_time, second.total_time),
        (secs(45), secs(100))
    );
    assert!(!second.timed_out);
    assert_eq!(second.notes, "typed after the reveal");

    // Question 3: skipped before starting. Question 4: quit while answering.
    assert_eq!(iv.update(A::Skip { at: secs(410) }), InterviewEffect::None);
    iv.update(A::Start { at: secs(420) });
    iv.update(A::Type('?'));
    assert_eq!(
        iv.update(A::Quit { at: secs(450) }),
        InterviewEffect::Finished
    );
    assert!(iv.is_finished());
    assert_eq!(iv.current(), None);
    assert_eq!(iv.update(A::Start { at: secs(500) }), InterviewEffect::None);

    let summary = iv.summary();
    assert_eq!(summary.answers.len(), 4);
    assert_eq!(summary.answers[2].grade, None);
    assert_eq!(summary.answers[3].grade, None);
    assert_eq!(summary.answers[3].notes, "?");
    assert_eq!(summary.answers[3].total_time, secs(30));
    assert!(summary.not_reached.is_empty());
    assert_eq!(summary.total_time, secs(210 + 100 + 30));
    assert_eq!(summary.grade_counts, [1, 1, 0, 0]);
}

#[test]
fn a_revealed_question_can_be_skipped_instead_of_graded() {
    let ls = lessons();
    let config = InterviewConfig {
        questions: 2,
        seconds_per_question: 180,
        seed: 3,
    };
    let mut iv = Interview::new(&ls, &Progress::default(), &at(0, 9, 0), config);
    iv.update(A::Start { at: secs(10) });
    iv.update(A::Reveal { at: secs(40) });
    assert!(matches!(iv.phase(), Phase::Revealed { .. }));
    assert_eq!(iv.update(A::Skip { at: secs(55) }), InterviewEffect::None);
    assert_eq!(
        (iv.phase(), iv.index()),
        (Phase::Ready, 1),
        "on to question 2"
    );
    let skipped = &iv.answers()[0];
    assert_eq!(skipped.grade, None, "a skip grades nothing");
    assert_eq!(
        (skipped.answer_time, skipped.total_time),
        (secs(30), secs(45))
    );
    // Skipping the last revealed question ends the interview.
    iv.update(A::Start { at: secs(60) });
    iv.update(A::Reveal { at: secs(61) });
    assert_eq!(
        iv.update(A::Skip { at: secs(62) }),
        InterviewEffect::Finished
    );
    assert_eq!(iv.summary().grade_counts, [0, 0, 0, 0]);
}

#[test]
fn an_untimed_interview_and_an_early_quit() {
    let ls = lessons();
    let config = InterviewConfig {
        questions: 3,
        seconds_per_question: 0,
        seed: 1,
    };
    let mut iv = Interview::new(&ls, &Progress::default(), &at(0, 9, 0), config);
    iv.update(A::Start { at: secs(0) });
    assert_eq!(iv.remaining(secs(10_000)), None);
    assert_eq!(
        iv.update(A::Tick { at: secs(10_000) }),
        InterviewEffect::None
    );
    iv.update(A::Reveal { at: secs(10_001) });
    iv.update(A::Grade {
        grade: Grade::Easy,
        at: secs(10_002),
    });
    assert_eq!(
        iv.update(A::Quit { at: secs(10_003) }),
        InterviewEffect::Finished
    );
    let s = iv.summary();
    assert_eq!(s.answers.len(), 1);
    assert_eq!(s.not_reached.len(), 2);
    assert_eq!(s.answers[0].answer_time, secs(10_001));
    assert_eq!(s.grade_counts, [0, 0, 0, 1]);

    let empty = Interview::new(&[], &Progress::default(), &at(0, 9, 0), config);
    assert!(empty.is_finished());
}

// ---------------------------------------------------------------------------------------------
// The practice screen's keys, through the keymap and `App::update`
// ---------------------------------------------------------------------------------------------

mod keys {
    use asyncdojo::app::keymap::action_for;
    use asyncdojo::app::practice::{self, ItemState, PracticeView};
    use asyncdojo::app::{App, Effect, Key, KeyCode, Screen};
    use asyncdojo::practice::{InterviewConfig, ItemKey, Phase, PickReason, Question};

    fn app() -> App {
        App::new(asyncdojo::lesson::load_embedded(&super::Registry), true)
    }

    /// Press a key as the terminal loop does: through the keymap, in the focused pane.
    fn press(app: &mut App, code: KeyCode) -> Effect {
        match action_for(Key::new(code), app.focus(), app.takes_text()) {
            Some(action) => app.update(action),
            None => Effect::None,
        }
    }

    fn quiz(app: &mut App, lesson: &str, items: &[&str]) {
        let id = asyncdojo::lesson::LessonId(lesson.into());
        let keys = items.iter().map(|i| ItemKey::quiz(&id, i)).collect();
        let q = practice::start_quiz("Quiz".into(), keys, &app.lessons).expect("items");
        app.practice.view = Some(PracticeView::Quiz(q));
        app.screen = Screen::Practice;
    }

    fn quiz_state(app: &App) -> (usize, ItemState) {
        match &app.practice.view {
            Some(PracticeView::Quiz(q)) => (q.index, q.state.clone()),
            other => panic!("not in a quiz: {other:?}"),
        }
    }

    #[test]
    fn space_skips_a_prediction_before_anything_is_typed() {
        let mut a = app();
        quiz(
            &mut a,
            "q01-sync-vs-async",
            &["sequential-total", "first-done", "parallel-or-not"],
        );
        assert!(a.takes_text(), "a prediction takes text");
        let _ = press(&mut a, KeyCode::Char(' '));
        let (index, state) = quiz_state(&a);
        assert_eq!(index, 1, "Space skipped the first prediction");
        assert!(
            matches!(state, ItemState::Predict { ref input, result: None, .. } if input.is_empty())
        );
        // Once typing, Space is part of the answer: task names have spaces.
        for c in "request".chars() {
            let _ = press(&mut a, KeyCode::Char(c));
        }
        let _ = press(&mut a, KeyCode::Char(' '));
        let _ = press(&mut a, KeyCode::Char('2'));
        let (index, state) = quiz_state(&a);
        assert_eq!(index, 1);
        assert!(
            matches!(state, ItemState::Predict { ref input, .. } if input == "request 2"),
            "{state:?}"
        );
        let first = ItemKey::quiz(
            &asyncdojo::lesson::LessonId("q01-sync-vs-async".into()),
            "sequential-total",
        );
        assert!(a.progress.item(&first).is_none(), "a skip records nothing");
    }

    #[test]
    fn space_skips_a_choice_and_marks_a_line_in_spot_the_bug() {
        let mut a = app();
        quiz(
            &mut a,
            "q01-sync-vs-async",
            &["parallel-or-not", "spot-guide-q1"],
        );
        let _ = press(&mut a, KeyCode::Char(' '));
        let (index, state) = quiz_state(&a);
        assert_eq!(index, 1);
        let _ = press(&mut a, KeyCode::Char(' '));
        let (_, state_after) = quiz_state(&a);
        assert!(matches!(state, ItemState::Spot { ref marked, .. } if marked.is_empty()));
        assert!(matches!(state_after, ItemState::Spot { ref marked, .. } if marked.len() == 1));
    }

    fn key(lesson: &str, item: &str) -> ItemKey {
        ItemKey::quiz(&asyncdojo::lesson::LessonId(lesson.into()), item)
    }

    /// Do what the app asked of the edge for a run, and feed the run back.
    fn perform(app: &mut App, effect: Effect) {
        if let Effect::RunPractice {
            purpose,
            request,
            runtime,
        } = effect
        {
            let result = asyncdojo::practice::evidence::run_shown_on(request, runtime)
                .map_err(|e| e.to_string());
            let _ = app.update(asyncdojo::app::Action::PracticeRan { purpose, result });
        }
    }

    fn type_keys(app: &mut App, text: &str) {
        for c in text.chars() {
            let effect = press(app, KeyCode::Char(c));
            perform(app, effect);
        }
    }

    #[test]
    fn a_task_is_named_from_the_listed_tasks_and_anything_else_is_not_scored() {
        let mut a = app();
        quiz(&mut a, "q01-sync-vs-async", &["first-done"]);
        let first = key("q01-sync-vs-async", "first-done");
        // Before the tasks are listed, Enter says to wait: nothing is scored.
        let effect @ Effect::RunPractice { .. } = press(&mut a, KeyCode::Char('2')) else {
            panic!("the item asks for its tasks when first shown");
        };
        assert!(matches!(press(&mut a, KeyCode::Enter), Effect::None));
        assert_eq!(a.message.as_deref(), Some(practice::STILL_LISTING));
        perform(&mut a, effect);
        let (_, state) = quiz_state(&a);
        assert!(
            matches!(&state, ItemState::Predict { candidates: practice::Candidates::Listed(names), .. }
                if names == &["request 1", "request 2", "request 3"]),
            "{state:?}"
        );
        // `100` (the 100 ms request) names no task: the answer lists them, nothing is recorded.
        let _ = press(&mut a, KeyCode::Backspace);
        type_keys(&mut a, "100");
        assert!(matches!(press(&mut a, KeyCode::Enter), Effect::None));
        assert_eq!(
            a.message.as_deref(),
            Some(
                "`100` is none of the tasks: type request 1, request 2 or request 3, or its number"
            )
        );
        let (_, state) = quiz_state(&a);
        assert!(
            matches!(state, ItemState::Predict { result: None, .. }),
            "still open"
        );
        assert!(a.progress.item(&first).is_none(), "nothing scored");
        // Its number, or the start of its name, is the task.
        for _ in 0..3 {
            let _ = press(&mut a, KeyCode::Backspace);
        }
        type_keys(&mut a, "2");
        let Effect::ScorePredict { typed, .. } = press(&mut a, KeyCode::Enter) else {
            panic!("a named task is scored");
        };
        assert_eq!(typed, "request 2");
        let _ = press(&mut a, KeyCode::Backspace);
        type_keys(&mut a, "req");
        let _ = press(&mut a, KeyCode::Enter);
        assert!(
            a.message
                .as_deref()
                .is_some_and(|m| m.contains("could be request 1, request 2 or request 3")),
            "{:?}",
            a.message
        );
    }

    #[test]
    fn a_choice_starts_with_none_chosen_and_enter_then_says_how_to_pick() {
        let mut a = app();
        quiz(&mut a, "q01-sync-vs-async", &["parallel-or-not"]);
        let (_, state) = quiz_state(&a);
        assert!(matches!(state, ItemState::Choice { selected: None, .. }));
        let _ = press(&mut a, KeyCode::Enter);
        assert_eq!(
            a.message.as_deref(),
            Some("pick an option with 1-4 or ↑/↓, then Enter")
        );
        let (index, state) = quiz_state(&a);
        assert_eq!(index, 0);
        assert!(matches!(state, ItemState::Choice { result: None, .. }));
        assert!(
            a.progress
                .item(&key("q01-sync-vs-async", "parallel-or-not"))
                .is_none()
        );
        // ↓ picks the first option; Enter answers it.
        let _ = press(&mut a, KeyCode::Down);
        let _ = press(&mut a, KeyCode::Enter);
        let (_, state) = quiz_state(&a);
        assert!(matches!(
            state,
            ItemState::Choice {
                selected: Some(0),
                result: Some(_)
            }
        ));
    }

    #[test]
    fn spot_the_bug_is_skipped_with_s_and_enter_with_nothing_marked_asks_first() {
        let mut a = app();
        quiz(
            &mut a,
            "q01-sync-vs-async",
            &["spot-guide-q1", "parallel-or-not"],
        );
        let spot = key("q01-sync-vs-async", "spot-guide-q1");
        let _ = press(&mut a, KeyCode::Enter);
        assert_eq!(a.message.as_deref(), Some(practice::MARK_A_LINE));
        let (index, state) = quiz_state(&a);
        assert_eq!(index, 0, "nothing marked is not an answer");
        assert!(matches!(state, ItemState::Spot { result: None, .. }));
        assert!(a.progress.item(&spot).is_none(), "no 0% recorded");
        let _ = press(&mut a, KeyCode::Char('s'));
        let (index, _) = quiz_state(&a);
        assert_eq!(index, 1, "s skipped it");
        assert!(a.progress.item(&spot).is_none(), "a skip records nothing");
        match &a.practice.view {
            Some(PracticeView::Quiz(q)) => {
                assert_eq!(q.tally, [practice::Tally::Skipped]);
            }
            other => panic!("{other:?}"),
        }
        // `s` skips a choice too.
        let _ = press(&mut a, KeyCode::Char('s'));
        assert!(matches!(a.practice.view, Some(PracticeView::QuizDone(_))));
    }

    #[test]
    fn a_quiz_ends_on_its_summary_and_what_is_due_next() {
        let mut a = app();
        quiz(
            &mut a,
            "q01-sync-vs-async",
            &["parallel-or-not", "sequential-total", "spot-guide-q1"],
        );
        let _ = press(&mut a, KeyCode::Char('3'));
        let _ = press(&mut a, KeyCode::Enter);
        let _ = press(&mut a, KeyCode::Enter);
        let _ = press(&mut a, KeyCode::Char(' '));
        let (index, _) = quiz_state(&a);
        assert_eq!(index, 2);
        // Esc part-way: the summary, with what was not reached.
        let _ = press(&mut a, KeyCode::Esc);
        let Some(PracticeView::QuizDone(s)) = &a.practice.view else {
            panic!(
                "Esc after an answer shows the summary: {:?}",
                a.practice.view
            );
        };
        assert_eq!(
            (s.items, s.answered(), s.right, s.skipped, s.not_reached),
            (3, 1, 1, 1, 1)
        );
        assert_eq!(s.average, Some(1.0));
        assert_eq!(s.due_now, 0, "the right answer is due later");
        let due = a
            .progress
            .item(&key("q01-sync-vs-async", "parallel-or-not"))
            .and_then(|i| i.card.as_ref())
            .map(|c| a.now.local_day(c.due));
        assert_eq!(s.next_due, due, "the next due day is the answered item's");
        assert!(s.next_due > Some(s.today));
        let _ = press(&mut a, KeyCode::Enter);
        assert_ne!(a.screen, Screen::Practice, "Enter leaves the summary");
        // Esc before anything was answered just leaves.
        quiz(&mut a, "q01-sync-vs-async", &["parallel-or-not"]);
        let _ = press(&mut a, KeyCode::Esc);
        assert_ne!(a.screen, Screen::Practice);
    }

    #[test]
    fn space_after_an_interview_reveal_skips_to_the_next_question() {
        let mut a = app();
        let question = |lesson: &str| Question {
            lesson: asyncdojo::lesson::LessonId(lesson.into()),
            reason: PickReason::New,
            weight: 1.0,
        };
        let i = asyncdojo::practice::Interview::with_questions(
            vec![question("q01-sync-vs-async"), question("q02-event-loop")],
            InterviewConfig::default(),
        );
        a.practice.view = Some(PracticeView::Interview(i));
        a.screen = Screen::Practice;
        let phase = |a: &App| match &a.practice.view {
            Some(PracticeView::Interview(i)) => (i.index(), i.phase()),
            other => panic!("not in the interview: {other:?}"),
        };
        let _ = press(&mut a, KeyCode::Enter);
        let _ = press(&mut a, KeyCode::Enter);
        assert!(matches!(phase(&a), (0, Phase::Revealed { .. })));
        let _ = press(&mut a, KeyCode::Char(' '));
        assert_eq!(
            phase(&a),
            (1, Phase::Ready),
            "Space skipped the revealed question"
        );
    }

    /// A Python for the twins, or `None` with a message; with `ASYNCDOJO_REQUIRE_PYTHON` (or
    /// `CI`) set, a missing one fails instead, as in `tests/asyncio.rs`.
    fn python_or_skip() -> Option<()> {
        match asyncdojo::demo::asyncio::Python::choose(None).probe() {
            Ok(_) => Some(()),
            Err(e) => {
                assert!(
                    !asyncdojo::demo::asyncio::python_required(),
                    "{e}\n(CI or ASYNCDOJO_REQUIRE_PYTHON is set: the asyncio tests must run)"
                );
                eprintln!("skipping an asyncio test: {e}");
                None
            }
        }
    }

    fn hunt<'a>(lessons: &'a [asyncdojo::lesson::Lesson], lesson: &str, id: &str) -> &'a BugHunt {
        super::lesson(lessons, lesson)
            .spot_the_bug
            .iter()
            .find(|h| h.id == id)
            .expect("exercise")
    }

    use asyncdojo::demo::asyncio::Runtime;
    use asyncdojo::lesson::BugHunt;
    use asyncdojo::practice::evidence::{evidence_request, evidence_runtime, run_shown_with};

    #[test]
    fn python_code_runs_its_evidence_on_the_asyncio_twin_where_the_twin_runs_both_variants() {
        let ls = super::lessons();
        let runtime = |lesson, id| evidence_runtime(hunt(&ls, lesson, id));
        assert_eq!(
            runtime("c3-task-scheduler", "guide-scheduler"),
            Runtime::Asyncio
        );
        // Rust code stays on tokio, its own runtime.
        assert_eq!(runtime("q02-event-loop", "thread-sleep"), Runtime::Tokio);
        // Python, but asyncio has only an analogue of spawn-blocking (to_thread).
        assert_eq!(runtime("q02-event-loop", "cpu-loop"), Runtime::Tokio);
        // Python, but the demo has no twin.
        assert_eq!(
            runtime("q05-concurrent-http", "gather-leftovers"),
            Runtime::Tokio
        );

        let mut a = app();
        quiz(&mut a, "c3-task-scheduler", &["spot-guide-scheduler"]);
        let _ = press(&mut a, KeyCode::Char(' '));
        let effect = press(&mut a, KeyCode::Enter);
        let Effect::RunPractice { runtime, .. } = &effect else {
            panic!("the answer asks for the evidence run: {effect:?}");
        };
        assert_eq!(*runtime, Runtime::Asyncio);
        if python_or_skip().is_none() {
            return;
        }
        perform(&mut a, effect);
        use asyncdojo::app::practice_screen::ShownRunState;
        let shown = a.practice.shown_run.as_ref().expect("the run is shown");
        assert_eq!(shown.runtime, Runtime::Asyncio);
        assert_eq!(shown.clock, asyncdojo::demo::Clock::Virtual);
        let ShownRunState::Done { view, .. } = &shown.state else {
            panic!("the run is done: {:?}", shown.state);
        };
        assert_eq!(view.error, None);
        let labels: Vec<&str> = view.runs.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "bug · fixed-delay (sleep(interval))",
                "fix · fixed-rate (sleep until the slot)"
            ]
        );
        // The caption's claim holds on asyncio too: 8 runs before the cancel, then 10.
        let runs: Vec<Option<f64>> = view
            .runs
            .iter()
            .map(|r| r.timeline.metric("recurring_runs"))
            .collect();
        assert_eq!(runs, [Some(8.0), Some(10.0)]);
        // The caption and the timeline's header say it ran on asyncio.
        let area = ratatui::layout::Rect::new(0, 0, 160, 48);
        let mut buf = ratatui::buffer::Buffer::empty(area);
        asyncdojo::ui::draw(&a, area, &mut buf);
        let screen: String = buf.content().iter().map(|c| c.symbol()).collect();
        assert!(screen.contains("Evidence · scheduler · asyncio · virtual clock"));
        assert!(screen.contains("asyncio: bug · fixed-delay (sleep(interval)) 970 ms"));
    }

    #[test]
    fn without_a_python_the_evidence_runs_on_tokio_with_a_note() {
        let ls = super::lessons();
        let h = hunt(&ls, "c3-task-scheduler", "guide-scheduler");
        let request = evidence_request(h.evidence.as_ref().expect("evidence")).expect("request");
        let missing = asyncdojo::demo::asyncio::Python::choose(Some(std::path::Path::new(
            "/nonexistent/python3",
        )));
        let run = run_shown_with(request, Runtime::Asyncio, &missing).expect("never an error");
        assert_eq!(run.runtime, Runtime::Tokio);
        assert_eq!(run.runs.len(), 2);
        assert_eq!(run.error, None);
        let note = run.note.clone().unwrap_or_default();
        assert!(
            note.starts_with("ran on tokio, not asyncio: no Python found"),
            "{note}"
        );

        // The app shows the tokio run, says so, and why.
        let mut a = app();
        quiz(&mut a, "c3-task-scheduler", &["spot-guide-scheduler"]);
        let _ = press(&mut a, KeyCode::Char(' '));
        let Effect::RunPractice { purpose, .. } = press(&mut a, KeyCode::Enter) else {
            panic!("the answer asks for the evidence run");
        };
        let _ = a.update(asyncdojo::app::Action::PracticeRan {
            purpose,
            result: Ok(run),
        });
        let shown = a.practice.shown_run.as_ref().expect("the run is shown");
        assert_eq!(shown.runtime, Runtime::Tokio);
        assert_eq!(a.message, Some(note));
    }
}
