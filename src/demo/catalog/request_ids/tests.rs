use super::{RequestIds, Variant};
use crate::demo::Outcome;
use crate::demo::testing::{self, run_virtual};
use crate::demo::timeline::TimelineSnapshot;

/// Each request's marks, by lane, as `(t_ms, label)`.
fn marks_of<'a>(tl: &'a TimelineSnapshot, lane: &str) -> Vec<(f64, &'a str)> {
    let id = testing::task(tl, lane).id;
    tl.marks
        .iter()
        .filter(|m| m.task == Some(id))
        .map(|m| (m.t_ms, m.label.as_ref()))
        .collect()
}

#[test]
fn interleaved_requests_keep_their_own_id_in_a_task_local_and_see_the_last_in_a_global() {
    let all = [Variant::TaskLocal, Variant::Executor, Variant::Global];
    let report = run_virtual::<RequestIds>(&all, &[]);
    for v in all {
        let r = testing::variant(&report, v);
        testing::clean(r);
        // The three requests overlap: the last arrives at 20 ms, long before the first ends.
        assert_eq!(r.total_ms, 220.0, "{v:?}");
        for id in 1..=3 {
            let request = testing::task(&r.timeline, &format!("request {id}"));
            assert_eq!(request.spawned_ms, f64::from(id - 1) * 10.0);
            assert_eq!(request.outcome, Outcome::Ok);
            let lookup = testing::task(&r.timeline, &format!("lookup {id}"));
            assert_eq!(
                lookup.parent,
                Some(request.id),
                "{v:?}: the child is the request's"
            );
        }
    }

    let tl = &testing::variant(&report, Variant::TaskLocal).timeline;
    assert_eq!(
        marks_of(tl, "request 2"),
        [
            (10.0, "set request=2"),
            (110.0, "thread: request=2"),
            (210.0, "log: request=2")
        ]
    );
    assert_eq!(marks_of(tl, "lookup 2"), [(110.0, "lookup: request=2")]);
    assert_eq!(testing::metric(tl, "wrong_ids"), 0.0);
    assert_eq!(testing::metric(tl, "missing_ids"), 0.0);

    // The blocking closure that reads the task-local itself finds none; the rest is as above.
    let tl = &testing::variant(&report, Variant::Executor).timeline;
    assert_eq!(
        marks_of(tl, "request 2")[1],
        (110.0, "thread: request=none")
    );
    assert_eq!(marks_of(tl, "lookup 2"), [(110.0, "lookup: request=2")]);
    assert_eq!(testing::metric(tl, "wrong_ids"), 0.0);
    assert_eq!(testing::metric(tl, "missing_ids"), 3.0);

    // By 100 ms every request has written the slot: each reads 3, the last to arrive.
    let tl = &testing::variant(&report, Variant::Global).timeline;
    assert_eq!(
        marks_of(tl, "request 1"),
        [
            (0.0, "set request=1"),
            (100.0, "thread: request=3"),
            (200.0, "log: request=3")
        ]
    );
    assert_eq!(marks_of(tl, "lookup 1"), [(100.0, "lookup: request=3")]);
    assert_eq!(testing::metric(tl, "wrong_ids"), 6.0);
    assert_eq!(testing::metric(tl, "missing_ids"), 0.0);
}

#[test]
fn a_global_is_only_right_when_the_requests_do_not_overlap() {
    // Each request ends (200 ms) before the next arrives (300 ms): nobody overwrites the slot.
    let sets = ["requests=4", "arrival_gap_ms=300", "work_ms=100"];
    let r = testing::clean_run::<RequestIds>(Variant::Global, &sets);
    assert_eq!(testing::metric(&r.timeline, "wrong_ids"), 0.0);
    // Overlapping, every request but the last reads a later one's id in all three places.
    let sets = ["requests=5", "arrival_gap_ms=7", "work_ms=50"];
    let r = testing::clean_run::<RequestIds>(Variant::Global, &sets);
    assert_eq!(testing::metric(&r.timeline, "wrong_ids"), 12.0);
    let r = testing::clean_run::<RequestIds>(Variant::TaskLocal, &sets);
    assert_eq!(testing::metric(&r.timeline, "wrong_ids"), 0.0);
    assert_eq!(testing::metric(&r.timeline, "missing_ids"), 0.0);
}
