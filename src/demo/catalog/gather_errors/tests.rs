use super::{GatherErrors, Variant};
use crate::demo::Outcome;
use crate::demo::testing::{self, run_virtual};

const ALL: [Variant; 4] = [
    Variant::TryJoinAll,
    Variant::JoinAll,
    Variant::JoinSetAbort,
    Variant::Detached,
];

/// Every variant with one failing child at `fail` and the others at `latencies` (all later
/// than `fail`, so each has a sibling still waiting when the error comes).
fn check(sets: &[&str], fail: f64, latencies: &[f64]) {
    let report = run_virtual::<GatherErrors>(&ALL, sets);
    let last = latencies.iter().copied().fold(fail, f64::max);
    let n = latencies.len();
    for variant in ALL {
        let r = testing::variant(&report, variant);
        testing::clean(r);
        let tl = &r.timeline;
        let failing = testing::task(tl, "failing");
        assert_eq!(failing.outcome, Outcome::Error, "{variant:?}");
        assert_eq!(failing.finished_ms, Some(fail), "{variant:?}");
        let caller = testing::task(tl, "caller");
        for i in 1..=n {
            let c = testing::task(tl, &format!("child {i}"));
            assert_eq!(c.parent, Some(caller.id), "{variant:?} child {i}");
            assert_eq!(c.spawned_ms, 0.0, "{variant:?} child {i}");
        }
        let children = |outcome| {
            (1..=n)
                .map(|i| testing::task(tl, &format!("child {i}")))
                .filter(|c| c.outcome == outcome)
                .count()
        };
        let metric = |name| testing::metric(tl, name);
        assert_eq!(metric("failed"), 1.0, "{variant:?}");
        match variant {
            // Stop at the first error and cancel the rest: nothing runs past fail_ms.
            Variant::TryJoinAll | Variant::JoinSetAbort => {
                assert_eq!(r.total_ms, fail, "{variant:?}");
                assert_eq!(caller.outcome, Outcome::Error, "{variant:?}");
                assert_eq!(caller.finished_ms, Some(fail), "{variant:?}");
                assert_eq!(children(Outcome::Cancelled), n, "{variant:?}");
                for i in 1..=n {
                    let c = testing::task(tl, &format!("child {i}"));
                    assert_eq!(c.finished_ms, Some(fail), "{variant:?} child {i}");
                }
                assert_eq!(metric("completed"), 0.0, "{variant:?}");
                assert_eq!(metric("cancelled"), n as f64, "{variant:?}");
                assert_eq!(metric("caller_returned_ms"), fail, "{variant:?}");
                assert_eq!(metric("left_running"), 0.0, "{variant:?}");
            }
            // Wait for all: every child answers, and the caller returns with the last one.
            Variant::JoinAll => {
                assert_eq!(r.total_ms, last);
                assert_eq!(caller.outcome, Outcome::Ok);
                assert_eq!(caller.detail, format!("{n} ok, 1 failed"));
                assert_eq!(caller.finished_ms, Some(last));
                assert_eq!(children(Outcome::Ok), n);
                assert_eq!(metric("completed"), n as f64);
                assert_eq!(metric("cancelled"), 0.0);
                assert_eq!(metric("caller_returned_ms"), last);
                assert_eq!(metric("left_running"), 0.0);
            }
            // The caller returns at the error; the others run on to their own end.
            Variant::Detached => {
                assert_eq!(r.total_ms, last);
                assert_eq!(caller.outcome, Outcome::Error);
                assert_eq!(caller.finished_ms, Some(fail));
                for (i, &latency) in latencies.iter().enumerate() {
                    let c = testing::task(tl, &format!("child {}", i + 1));
                    assert_eq!(c.outcome, Outcome::Ok, "child {}", i + 1);
                    assert_eq!(c.finished_ms, Some(latency), "child {}", i + 1);
                    assert!(c.is_alive_at(fail), "child {} outlives its caller", i + 1);
                }
                assert_eq!(metric("completed"), n as f64);
                assert_eq!(metric("cancelled"), 0.0);
                assert_eq!(metric("caller_returned_ms"), fail);
                assert_eq!(metric("left_running"), n as f64);
            }
        }
    }
}

#[test]
fn defaults() {
    check(&[], 100.0, &[200.0, 300.0, 400.0]);
}

#[test]
fn other_settings() {
    // The lesson's checkout: the lamp fails at 10 ms, desk and chair take 50 and 90.
    check(&["fail_ms=10", "latencies_ms=50,90"], 10.0, &[50.0, 90.0]);
    check(
        &["fail_ms=250", "latencies_ms=1000,300,600,400"],
        250.0,
        &[1000.0, 300.0, 600.0, 400.0],
    );
}

#[test]
fn children_done_before_the_error_keep_their_answer_in_every_variant() {
    // child 1 answers at 50, before the failure at 100; child 2 is still waiting.
    let report = run_virtual::<GatherErrors>(&ALL, &["fail_ms=100", "latencies_ms=50,300"]);
    for variant in ALL {
        let r = testing::variant(&report, variant);
        testing::clean(r);
        let first = testing::task(&r.timeline, "child 1");
        assert_eq!(first.outcome, Outcome::Ok, "{variant:?}");
        assert_eq!(first.finished_ms, Some(50.0), "{variant:?}");
        let second = testing::task(&r.timeline, "child 2");
        let expected = match variant {
            Variant::TryJoinAll | Variant::JoinSetAbort => Outcome::Cancelled,
            Variant::JoinAll | Variant::Detached => Outcome::Ok,
        };
        assert_eq!(second.outcome, expected, "{variant:?}");
        assert_eq!(
            testing::metric(&r.timeline, "completed"),
            if expected == Outcome::Ok { 2.0 } else { 1.0 },
            "{variant:?}"
        );
    }
}

#[test]
fn the_failure_is_marked_on_the_failing_child_s_line_of_the_shown_file() {
    let report = run_virtual::<GatherErrors>(&[Variant::Detached], &[]);
    let tl = &testing::variant(&report, Variant::Detached).timeline;
    assert_eq!(testing::mark_times(tl, "the child fails"), [100.0]);
    let mark = tl
        .marks
        .iter()
        .find(|m| m.label == "the child fails")
        .expect("mark");
    assert_eq!(mark.task, Some(testing::task(tl, "failing").id));
    let line = mark.line.expect("made from the shown file") as usize;
    let shown = super::SPEC.source.lines().nth(line - 1).expect("a line");
    assert_eq!(shown.trim(), r#"ctx.mark("the child fails");"#);
}
