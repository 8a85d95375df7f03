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

/// select! polls a pinned read inside the reader's own task; asyncio can keep a read alive
/// across a tick only as a Task of its own (asyncio.wait never cancels it). Apart from those
/// read lanes the runs agree: no item lost, the same marks, the same counts.
#[test]
fn a_pinned_read_is_a_task_of_its_own_in_asyncio() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    for (set, items) in [
        (&[][..], 6),
        (
            &["items=10", "every_ms=100", "item_ms=40", "tick_ms=130"][..],
            10,
        ),
    ] {
        let (tokio, twin) = both(py, "select-loop", &["pinned"], set, Clock::Virtual);
        let t = view(tokio.run("pinned").unwrap());
        let mut a = view(twin.report.run("pinned").unwrap());
        let (reads, rest): (Vec<TaskView>, Vec<TaskView>) = a
            .tasks
            .into_iter()
            .partition(|t| t.name.starts_with("read "));
        // One read per item, and the last one finds the end of the stream.
        let names: Vec<String> = (1..=items + 1).map(|k| format!("read {k}")).collect();
        assert_eq!(
            reads.iter().map(|r| &r.name).collect::<Vec<_>>(),
            names.iter().collect::<Vec<_>>()
        );
        for r in &reads {
            assert_eq!(r.parent.as_deref(), Some("reader"), "{set:?}");
            assert_eq!(r.outcome, Outcome::Ok, "{set:?}");
        }
        a.tasks = rest;
        assert_eq!(
            a, t,
            "{set:?}: apart from the read tasks, asyncio (left) vs tokio (right)"
        );
        assert_eq!(a.metrics["items_lost"], serde_json::json!(0.0));
    }
}

/// asyncio's counterpart of tokio-console is debug mode. On the same five tasks it logs the
/// step that held the thread (over `slow_callback_duration`, 0.1 s); it has no lint for a task
/// that wakes itself or lost its waker. It also says where two mistakes only Python reports
/// were made: a coroutine never awaited, a task exception never retrieved. Python's own texts
/// differ by version (task reprs); the marks keep what is the same on 3.11 to 3.13.
#[test]
pub(crate) fn debug_mode_reports_the_slow_step_the_unawaited_coroutine_and_the_lost_exception() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let source = asyncio::twin_source("console-lab").unwrap();
    let line_of = |code: &str| {
        let at = source.lines().position(|l| l.trim() == code);
        at.unwrap_or_else(|| panic!("no line `{code}` in console-lab.py")) + 1
    };
    let unawaited = format!(
        "coroutine 'announce' was never awaited (created at line {})",
        line_of("announce()")
    );
    let lost = format!(
        "Task exception was never retrieved: 'fire and forget' raised ConnectionError: the \
         stats server is unreachable (created at line {})",
        line_of(r#"asyncio.create_task(send_stats(), name="fire and forget")"#)
    );
    let lab = [
        "main",
        "ticker",
        "long poll",
        "self-waker",
        "lost waker",
        "never finishes",
    ];
    /// Parameters, when the long polls start, and debug mode's slow-step reports: (when, how
    /// long it says the step took).
    struct Case {
        set: &'static [&'static str],
        starts: &'static [f64],
        slow: &'static [(f64, &'static str)],
    }
    let cases = [
        Case {
            set: &["run_ms=1500", "self_wakes=10"],
            starts: &[1000.0],
            slow: &[(1300.0, "0.300")],
        },
        Case {
            set: &["run_ms=2500", "block_ms=150", "self_wakes=3"],
            starts: &[1000.0, 2150.0],
            slow: &[(1150.0, "0.150"), (2300.0, "0.150")],
        },
        // Under slow_callback_duration: nothing to report.
        Case {
            set: &["run_ms=3000", "block_ms=50", "self_wakes=5"],
            starts: &[1000.0, 2050.0],
            slow: &[],
        },
        Case {
            set: &["run_ms=950", "block_ms=0", "self_wakes=0"],
            starts: &[],
            slow: &[],
        },
    ];
    for Case { set, starts, slow } in cases {
        let (tokio, twin) = both(py, "console-lab", &["inspect"], set, Clock::Virtual);
        let (t, a) = (
            tokio.run("inspect").unwrap(),
            twin.report.run("inspect").unwrap(),
        );
        let (vt, va) = (view(t), view(a));
        // The demo's tasks, the same on both: polled, waiting, cancelled when main ends.
        assert_eq!(va.tasks[..lab.len()], vt.tasks[..], "{set:?}");
        let names: Vec<&str> = vt.tasks.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, lab);
        assert_eq!(va.metrics, vt.metrics, "{set:?}");
        assert_eq!(va.total_ms, vt.total_ms, "{set:?}");
        let starts_of = |v: &View| -> Vec<f64> {
            v.marks
                .iter()
                .filter(|m| m.2 == "long poll starts")
                .map(|m| m.0)
                .collect()
        };
        assert_eq!(starts_of(&vt), *starts);
        assert_eq!(starts_of(&va), *starts);
        // The asyncio-only mistake: a task that fails with nobody looking.
        let unseen = &va.tasks[lab.len()..];
        assert_eq!(unseen.len(), 1);
        assert_eq!(
            (
                unseen[0].name.as_str(),
                unseen[0].outcome,
                unseen[0].finished_ms
            ),
            ("fire and forget", Outcome::Error, Some(250.0))
        );
        // What debug mode said, when: at once for the coroutine, when the failed task was
        // gone for the exception, after each long step for the step.
        let mut reports: Vec<(f64, Option<&str>, &str)> = va
            .marks
            .iter()
            .filter(|m| m.2 != "long poll starts")
            .map(|m| (m.0, m.1.as_deref(), m.2.as_str()))
            .collect();
        reports.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut expected = vec![
            (0.0, Some("main"), unawaited.as_str()),
            (250.0, None, lost.as_str()),
        ];
        let slow: Vec<(f64, String)> = slow
            .iter()
            .map(|(at, s)| (*at, format!("Executing task 'long poll' took {s} seconds")))
            .collect();
        expected.extend(slow.iter().map(|(at, label)| (*at, None, label.as_str())));
        assert_eq!(reports, expected, "{set:?}");
        // Each report is a mark made by the twin, on its line: nothing went to stderr.
        for word in ["Executing", "never awaited", "never retrieved"] {
            assert!(!twin.stderr.contains(word), "{}", twin.stderr);
        }
    }
}

/// tokio-console's self-wake lint points at a task that keeps itself busy, and the two
/// schedulers make it cost differently. A task that wakes itself (`sleep(0)` in asyncio) is
/// run again before the timers in tokio, whose current-thread scheduler looks at its timers only
/// when nothing is ready or every 61 polls; asyncio runs the timers that are due on every turn of
/// its loop. Here main's 2.5 s timer, held up by the long poll until 2.6 s, reads the count
/// after all ten self-wakes of the round that began at 2.3 s in tokio, after three in asyncio.
#[test]
fn a_self_waking_task_runs_ahead_of_due_timers_in_tokio_not_in_asyncio() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let set = &["run_ms=2500", "block_ms=300", "self_wakes=10"];
    let (tokio, twin) = both(py, "console-lab", &["inspect"], set, Clock::Virtual);
    let (t, a) = (
        tokio.run("inspect").unwrap(),
        twin.report.run("inspect").unwrap(),
    );
    assert_eq!(t.timeline.metric("self_wakes"), Some(50.0));
    assert_eq!(a.timeline.metric("self_wakes"), Some(43.0));
    // Everything else agrees: the ticks, main's end, the long polls.
    assert_eq!(t.timeline.metric("ticks"), a.timeline.metric("ticks"));
    assert_eq!((t.total_ms, a.total_ms), (2600.0, 2600.0));
}

/// Cancelling is a request (the README's "Who wakes whom"): the cancelled Task is woken by its
/// canceller, at the line of `cancel()`, and takes one more step to end; tokio's aborted child is
/// never polled again. The conformance of wakes sets that wake aside (`CancelledSteps`).
#[test]
fn a_cancelled_task_is_woken_by_its_canceller_for_one_more_step() {
    let Some(py) = python() else { return };
    let (tokio, twin) = both(py, "spawn-vs-await", &["abort"], &[], Clock::Virtual);
    let t = &tokio.run("abort").unwrap().timeline;
    let a = &twin.report.run("abort").unwrap().timeline;
    let (t_child, a_child) = (t.task("child").unwrap(), a.task("child").unwrap());
    assert_eq!(
        t_child.polls.len(),
        1,
        "tokio: never polled after the abort"
    );
    assert_eq!(
        a_child.polls.len(),
        2,
        "asyncio: one more step, to receive CancelledError"
    );
    let woken = a
        .wakes
        .iter()
        .rfind(|w| w.task == a_child.id)
        .expect("the child's last wake");
    let cancel_line = asyncio::twin("spawn-vs-await")
        .unwrap()
        .source
        .lines()
        .position(|l| l.trim() == "child.cancel()")
        .map(|i| i as u32 + 1);
    assert_eq!(
        (woken.cause, woken.by, woken.line),
        (
            asyncdojo::demo::timeline::WakeCause::Task,
            Some(1),
            cancel_line
        )
    );
    assert_eq!(Some(woken.t_ms), a_child.finished_ms);
    assert!(woken.seq < a_child.poll_seq(1).unwrap());
}
