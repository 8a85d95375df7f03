//! Spot the bug: marked lines against the bugs, and every exercise's evidence run.

use super::*;

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
