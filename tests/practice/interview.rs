//! The mock interview: the draw, its flow through update, skips and early quits.

use super::review::history;
use super::*;

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
            ("b1-cancellation-in-depth", PickReason::New),
            ("q03-coroutines", PickReason::New),
            ("q07-timeouts", PickReason::New),
            ("q10-data-pipeline", PickReason::New),
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
