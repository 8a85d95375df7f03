use super::{SpawnVsAwait, Variant};
use crate::demo::Outcome;
use crate::demo::testing::{self, run_virtual};

fn check(sets: &[&str], work: f64, main: f64, abort_after: f64) {
    let report = run_virtual::<SpawnVsAwait>(&[], sets);
    assert_eq!(report.runs.len(), 3);
    for r in &report.runs {
        testing::clean(r);
        assert_eq!(r.timeline.task("child").unwrap().spawned_ms, 0.0);
    }

    let r = testing::variant(&report, Variant::Await);
    let child = r.timeline.task("child").unwrap();
    assert_eq!(child.polls.first().map(|p| p.0), Some(main));
    assert_eq!(child.finished_ms, Some(main + work));
    assert_eq!(child.outcome, Outcome::Ok);
    assert_eq!(r.total_ms, main + work);
    assert_eq!(r.timeline.count(Outcome::Cancelled), 0);

    let r = testing::variant(&report, Variant::Spawn);
    let child = r.timeline.task("child").unwrap();
    assert_eq!(child.polls.first().map(|p| p.0), Some(0.0));
    assert_eq!(child.finished_ms, Some(work));
    assert_eq!(child.outcome, Outcome::Ok);
    assert_eq!(r.total_ms, main.max(work));
    assert_eq!(r.timeline.count(Outcome::Cancelled), 0);

    let r = testing::variant(&report, Variant::Abort);
    let child = r.timeline.task("child").unwrap();
    assert_eq!(child.polls.first().map(|p| p.0), Some(0.0));
    assert_eq!(r.total_ms, abort_after);
    if abort_after < work {
        assert_eq!(child.outcome, Outcome::Cancelled);
        assert_eq!(child.finished_ms, Some(abort_after));
        assert_eq!(r.timeline.count(Outcome::Cancelled), 1);
    } else {
        assert_eq!(child.outcome, Outcome::Ok);
        assert_eq!(child.finished_ms, Some(work));
        assert_eq!(r.timeline.count(Outcome::Cancelled), 0);
    }
}

#[test]
fn defaults() {
    check(&[], 300.0, 100.0, 150.0);
}

#[test]
fn other_settings() {
    // main longer than the child: spawn takes main's time.
    check(
        &["work_ms=200", "main_ms=500", "abort_after_ms=50"],
        200.0,
        500.0,
        50.0,
    );
    // The abort comes after the child finished: nothing is cancelled.
    check(
        &["work_ms=100", "main_ms=100", "abort_after_ms=400"],
        100.0,
        100.0,
        400.0,
    );
}
