//! Where asyncio and tokio genuinely differ, each side pinned.

use super::*;

/// Names of the tasks with `outcome`, in id order.
fn with_outcome(run: &VariantRun, outcome: Outcome) -> Vec<&str> {
    run.timeline
        .tasks
        .iter()
        .filter(|t| t.outcome == outcome)
        .map(|t| t.name.as_str())
        .collect()
}

/// An operation answering exactly at the limit: tokio's timeout, biased select! and the
/// deadline set count it on time; asyncio.timeout, wait_for and as_completed(timeout=) time it
/// out, because the deadline's timer was set before the operation's and fires first.
#[test]
fn a_deadline_hit_exactly_is_on_time_for_tokio_and_late_for_asyncio() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let set = &["latencies_ms=250,100,400,250", "timeout_ms=250"];
    let variants = ["timeout", "select", "deadline-set"];
    let (tokio, twin) = both(py, "timeouts", &variants, set, Clock::Virtual);
    for (v, late) in [
        ("timeout", Outcome::Timeout),
        ("select", Outcome::Timeout),
        ("deadline-set", Outcome::Cancelled),
    ] {
        let t = tokio.run(v).unwrap();
        let a = twin.report.run(v).unwrap();
        assert_eq!(
            with_outcome(t, Outcome::Ok),
            ["main", "op 1", "op 2", "op 4"],
            "{v}"
        );
        assert_eq!(with_outcome(t, late), ["op 3"], "{v}");
        assert_eq!(with_outcome(a, Outcome::Ok), ["main", "op 2"], "{v}");
        assert_eq!(with_outcome(a, late), ["op 1", "op 3", "op 4"], "{v}");
        assert_eq!(t.timeline.metric("completed"), Some(3.0), "{v}");
        assert_eq!(a.timeline.metric("completed"), Some(1.0), "{v}");
        // Everything ends at the limit on both.
        assert_eq!(t.total_ms, 250.0);
        assert_eq!(a.total_ms, 250.0);
    }
}

/// A zero-length sleep: tokio's completes on its first poll without yielding; asyncio.sleep(0)
/// always yields to the loop once, so every other ready task runs first.
#[test]
fn a_zero_sleep_yields_in_asyncio_and_not_in_tokio() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let (tokio, twin) = both(
        py,
        "gather",
        &["join-all"],
        &["latencies_ms=300,0,300,50"],
        Clock::Virtual,
    );
    let (t, a) = (
        tokio.run("join-all").unwrap(),
        twin.report.run("join-all").unwrap(),
    );
    // In tokio request 2 is done before request 3 starts; in asyncio all four start first.
    assert_eq!(t.timeline.metric("max_in_flight"), Some(3.0));
    assert_eq!(a.timeline.metric("max_in_flight"), Some(4.0));
    let (mut vt, mut va) = (view(t), view(a));
    vt.metrics.clear();
    va.metrics.clear();
    assert_eq!(va, vt, "apart from the metric, the runs agree");

    let set = &["work_ms=0", "main_ms=0", "abort_after_ms=0"];
    let (tokio, twin) = both(py, "spawn-vs-await", &["spawn"], set, Clock::Virtual);
    let labels = |r: &VariantRun| -> Vec<String> {
        r.timeline
            .marks
            .iter()
            .map(|m| m.label.to_string())
            .collect()
    };
    assert_eq!(
        labels(tokio.run("spawn").unwrap()),
        ["main's work done: join the child", "child starts"]
    );
    assert_eq!(
        labels(twin.report.run("spawn").unwrap()),
        ["child starts", "main's work done: join the child"]
    );
}

/// Stopping at the first error. tokio's try_join_all drops the other futures inside the caller
/// before it returns; asyncio's nearest, gather and then cancel() on every task, only asks them to
/// stop: they are still running when the caller returns, and gather hears of the failure one loop
/// step late, so a child due at that very instant finishes first. And a cancelled Task takes one
/// more step, to receive its CancelledError (a TaskGroup's children too), where tokio's dropped or
/// aborted futures are never polled again.
#[test]
fn cancel_only_asks_so_the_cancelled_outlive_their_caller_in_asyncio() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let variants = ["try-join-all", "join-set-abort"];
    let set = &["fail_ms=10", "latencies_ms=50,90"];
    let (tokio, twin) = both(py, "gather-errors", &variants, set, Clock::Virtual);
    let (t, a) = (
        tokio.run("try-join-all").unwrap(),
        twin.report.run("try-join-all").unwrap(),
    );
    assert_eq!(t.timeline.metric("left_running"), Some(0.0));
    assert_eq!(a.timeline.metric("left_running"), Some(2.0));
    let (mut vt, mut va) = (view(t), view(a));
    vt.metrics.remove("left_running");
    va.metrics.remove("left_running");
    assert_eq!(va, vt, "apart from left_running, the runs agree");
    let last_step =
        |r: &VariantRun, name: &str| r.timeline.task(name).unwrap().polls.last().unwrap().0;
    for v in variants {
        let (t, a) = (tokio.run(v).unwrap(), twin.report.run(v).unwrap());
        for child in ["child 1", "child 2"] {
            assert_eq!(last_step(t, child), 0.0, "{v} {child} on tokio");
            assert_eq!(last_step(a, child), 10.0, "{v} {child} on asyncio");
        }
    }

    let set = &["fail_ms=100", "latencies_ms=100,300"];
    let (tokio, twin) = both(py, "gather-errors", &["try-join-all"], set, Clock::Virtual);
    let (t, a) = (
        tokio.run("try-join-all").unwrap(),
        twin.report.run("try-join-all").unwrap(),
    );
    let child_1 = |r: &VariantRun| r.timeline.task("child 1").unwrap().outcome;
    assert_eq!(child_1(t), Outcome::Cancelled);
    assert_eq!(child_1(a), Outcome::Ok);
    assert_eq!(with_outcome(a, Outcome::Cancelled), ["child 2"]);
    assert_eq!(t.timeline.metric("completed"), Some(0.0));
    assert_eq!(a.timeline.metric("completed"), Some(1.0));
}

/// A coroutine never awaited: both drop it without running a line of it; Python also warns
/// "coroutine ... was never awaited", which the tracer records as a mark where it was dropped.
#[test]
pub(crate) fn a_never_awaited_coroutine_warns_in_python() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    for set in [
        &[][..],
        &["delay_ms=50", "work_ms=100"],
        &["delay_ms=0", "work_ms=0"],
    ] {
        let (tokio, twin) = both(py, "lazy-futures", &["lazy"], set, Clock::Virtual);
        let (t, a) = (tokio.run("lazy").unwrap(), twin.report.run("lazy").unwrap());
        let (vt, mut va) = (view(t), view(a));
        let warning = va
            .marks
            .iter()
            .position(|m| m.2 == "RuntimeWarning: coroutine 'work' was never awaited")
            .expect("the warning is a mark");
        let (at, task, _) = va.marks.remove(warning);
        assert_eq!(task.as_deref(), Some("main"));
        assert_eq!(
            Some(at),
            t.timeline.task("never awaited").unwrap().finished_ms
        );
        assert_eq!(va, vt, "{set:?}: apart from the warning, the runs agree");
        // The warning points at the line that dropped the coroutine, and was not printed.
        let twin_src = asyncio::twin_source("lazy-futures").unwrap();
        let line = a.timeline.marks[warning].line.unwrap();
        let text = twin_src.lines().nth(line as usize - 1).unwrap();
        assert!(text.contains("del never"), "line {line}: {text}");
        assert!(!twin.stderr.contains("never awaited"), "{}", twin.stderr);
        assert_eq!(a.timeline.task("never awaited").unwrap().polls.len(), 0);
    }
}
