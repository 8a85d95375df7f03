//! The asyncio twins against the tokio demos, and the tracer on its own.
//!
//! Every test here needs Python 3.11 or later. Without one a test prints why and passes, unless
//! `CI` or `ASYNCDOJO_REQUIRE_PYTHON` is set (CI sets it): then it fails, so CI never passes
//! without having run them.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use asyncdojo::demo::Clock;
use asyncdojo::demo::asyncio::{self, Mapping, Python, TwinReport};
use asyncdojo::demo::runner::{self, RunReport, RunRequest, VariantRun};
use asyncdojo::demo::timeline::{Outcome, SeriesValue};

/// The interpreter the tests use, or `None` (with a message) when there is none and that is
/// allowed.
fn python() -> Option<&'static Python> {
    static PY: OnceLock<Result<Python, String>> = OnceLock::new();
    let found = PY.get_or_init(|| {
        let py = Python::choose(None);
        py.probe().map(|_| py).map_err(|e| e.to_string())
    });
    match found {
        Ok(py) => Some(py),
        Err(e) => {
            assert!(
                !asyncio::python_required(),
                "{e}\n(CI or ASYNCDOJO_REQUIRE_PYTHON is set: the asyncio tests must run)"
            );
            eprintln!("skipping an asyncio test: {e}");
            None
        }
    }
}

fn sets(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| s.to_string()).collect()
}

fn request(demo: &str, variants: &[&str], set: &[&str], clock: Clock) -> RunRequest {
    let variants: Vec<String> = variants.iter().map(|v| v.to_string()).collect();
    RunRequest::build(demo, &variants, &sets(set), clock).unwrap()
}

/// The same request on both runtimes.
fn both(
    py: &Python,
    demo: &str,
    variants: &[&str],
    set: &[&str],
    clock: Clock,
) -> (RunReport, TwinReport) {
    let req = request(demo, variants, set, clock);
    let twin = asyncio::run_twin(&req, py).unwrap();
    let tokio = runner::run_blocking(req).unwrap();
    for r in &twin.report.runs {
        assert_eq!(
            r.error, None,
            "{demo} {} on asyncio failed; Python said:\n{}",
            r.variant, twin.stderr
        );
    }
    (tokio, twin)
}

/// A task as conformance sees it: everything but ids and polls.
#[derive(Debug, PartialEq)]
struct TaskView {
    name: String,
    parent: Option<String>,
    outcome: Outcome,
    spawned_ms: f64,
    finished_ms: Option<f64>,
}

#[derive(Debug, PartialEq)]
struct View {
    total_ms: f64,
    tasks: Vec<TaskView>,
    /// (t_ms, task, label)
    marks: Vec<(f64, Option<String>, String)>,
    series: BTreeMap<String, Vec<(f64, SeriesValue)>>,
    /// Numbers compared as numbers (3 and 3.0 are the same metric).
    metrics: BTreeMap<String, serde_json::Value>,
    error: Option<String>,
}

fn view(run: &VariantRun) -> View {
    let tl = &run.timeline;
    let name = |id: Option<u32>| {
        id.and_then(|id| tl.tasks.iter().find(|t| t.id == id))
            .map(|t| t.name.clone())
    };
    View {
        total_ms: run.total_ms,
        tasks: tl
            .tasks
            .iter()
            .map(|t| TaskView {
                name: t.name.clone(),
                parent: name(t.parent),
                outcome: t.outcome,
                spawned_ms: t.spawned_ms,
                finished_ms: t.finished_ms,
            })
            .collect(),
        marks: tl
            .marks
            .iter()
            .map(|m| (m.t_ms, name(m.task), m.label.to_string()))
            .collect(),
        series: tl.series.clone(),
        metrics: tl
            .metrics
            .iter()
            .map(|(k, v)| {
                let v = v
                    .as_f64()
                    .map_or_else(|| v.clone(), |n| serde_json::json!(n));
                (k.clone(), v)
            })
            .collect(),
        error: run.error.as_ref().map(ToString::to_string),
    }
}

/// The variants that are the same program on both runtimes and run on the virtual clock.
fn shared_variants(demo: &str) -> Vec<&'static str> {
    let twin = asyncio::twin(demo).unwrap();
    let spec = asyncdojo::demo::find(demo).unwrap().spec();
    twin.variants
        .iter()
        .filter(|v| matches!(v.mapping, Mapping::Same { .. }))
        .filter(|v| {
            spec.variant(v.name)
                .is_some_and(|s| s.clocks.contains(&Clock::Virtual))
        })
        .map(|v| v.name)
        .collect()
}

/// On the virtual clock, every shared variant agrees exactly with tokio for every parameter set.
fn conforms(demo: &str, param_sets: &[&[&str]]) {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let variants = shared_variants(demo);
    assert!(!variants.is_empty(), "{demo} shares no variant");
    for set in param_sets {
        let (tokio, twin) = both(py, demo, &variants, set, Clock::Virtual);
        for v in &variants {
            let t = view(tokio.run(v).unwrap());
            let a = view(twin.report.run(v).unwrap());
            assert_eq!(t.error, None, "{demo} {v} {set:?} on tokio");
            assert_eq!(a, t, "{demo} {v} {set:?}: asyncio (left) vs tokio (right)");
        }
    }
}

// ---- conformance ---------------------------------------------------------------------------

#[test]
fn gather_conforms() {
    conforms(
        "gather",
        &[
            &[],
            &["latencies_ms=50,20,80,20"],
            &["latencies_ms=1000,1,250,250,7"],
        ],
    );
}

#[test]
fn semaphore_conforms() {
    conforms(
        "semaphore",
        &[
            &[],
            &["tasks=10", "permits=4", "work_ms=250"],
            &["tasks=2", "permits=5"],
            &["tasks=6", "permits=1", "work_ms=30"],
        ],
    );
}

#[test]
fn timeouts_conform() {
    conforms(
        "timeouts",
        &[
            &[],
            &["latencies_ms=50,20,80", "timeout_ms=100"],
            &["latencies_ms=500,700", "timeout_ms=0"],
            &["latencies_ms=10,400,90,1000", "timeout_ms=300"],
        ],
    );
}

#[test]
fn event_loop_conforms() {
    conforms(
        "event-loop",
        &[
            &[],
            &["tasks=5", "steps=2", "work_ms=30", "wait_ms=10"],
            &["tasks=2", "steps=4", "work_ms=0", "wait_ms=40"],
            &["work_ms=100", "wait_ms=0"],
        ],
    );
}

#[test]
fn spawn_vs_await_conforms() {
    conforms(
        "spawn-vs-await",
        &[
            &[],
            &["work_ms=100", "main_ms=300", "abort_after_ms=300"],
            &["work_ms=200", "abort_after_ms=200"],
            &["work_ms=50", "main_ms=10", "abort_after_ms=1"],
        ],
    );
}

#[test]
fn circuit_breaker_conforms() {
    conforms(
        "circuit-breaker",
        &[
            &[],
            &["threshold=2", "reset_ms=300"],
            &[
                "random_calls=40",
                "failure_pct=35",
                "seed=9",
                "reset_ms=250",
            ],
            &["calls=0:fail,0:fail,0:fail:50,10:ok,1010:ok:20,1015:fail,1030:fail"],
        ],
    );
}

#[test]
fn rate_limiter_conforms() {
    conforms(
        "rate-limiter",
        &[
            &[],
            &[
                "rate=5",
                "window_ms=700",
                "burst=2",
                "requests=12",
                "arrival_gap_ms=90",
            ],
            &["rate=1", "window_ms=250", "burst=4", "requests=6"],
            &["rate=7", "requests=20", "arrival_gap_ms=33"],
        ],
    );
}

#[test]
fn retry_backoff_conforms() {
    conforms(
        "retry-backoff",
        &[
            &[],
            &["jitter=none"],
            &[
                "jitter=equal",
                "failures=10",
                "max_attempts=6",
                "op_ms=30",
                "seed=3",
            ],
            &["failures=0"],
            &[
                "base_ms=700",
                "max_delay_ms=1000",
                "jitter=none",
                "failures=9",
            ],
        ],
    );
}

#[test]
fn blocking_conforms() {
    conforms(
        "blocking",
        &[
            &[],
            &[
                "tick_ms=50",
                "block_ms=330",
                "ticks=8",
                "block_after_ticks=3",
            ],
            &["block_ms=0"],
            &["ticks=3", "block_after_ticks=9"],
        ],
    );
}

#[test]
fn loop_lag_conforms() {
    conforms(
        "loop-lag",
        &[
            &[],
            &["tick_ms=20", "heavy_ms=95", "threshold_ms=10", "run_ms=300"],
            &["run_ms=60"],
            &["heavy_ms=0"],
        ],
    );
}

#[test]
fn scheduler_conforms() {
    conforms(
        "scheduler",
        &[
            &[],
            &["interval_ms=50", "job_ms=80", "cancel_at_ms=430"],
            &["once_delay_ms=2000"],
            &["job_ms=0", "interval_ms=30", "cancel_at_ms=95"],
        ],
    );
}

/// The test that compares each twin with its tokio demo (the I/O twins' are on the real clock,
/// below; lazy-futures' allows for Python's warning).
const CONFORMANCE: &[(&str, fn())] = &[
    ("gather", gather_conforms),
    ("event-loop", event_loop_conforms),
    ("lazy-futures", a_never_awaited_coroutine_warns_in_python),
    ("spawn-vs-await", spawn_vs_await_conforms),
    ("semaphore", semaphore_conforms),
    ("timeouts", timeouts_conform),
    ("circuit-breaker", circuit_breaker_conforms),
    ("rate-limiter", rate_limiter_conforms),
    ("retry-backoff", retry_backoff_conforms),
    ("blocking", blocking_conforms),
    ("loop-lag", loop_lag_conforms),
    ("scheduler", scheduler_conforms),
    (
        "graceful-shutdown",
        graceful_shutdown_conforms_on_the_real_clock,
    ),
    ("pipeline", pipeline_conforms_on_the_real_clock),
    ("chat", chat_conforms_on_the_real_clock),
];

/// Generated from the twin table: a twin added without a conformance test fails here.
#[test]
fn every_twin_in_the_table_has_a_conformance_test() {
    let listed: Vec<&str> = CONFORMANCE.iter().map(|(demo, _)| *demo).collect();
    let missing: Vec<&str> = asyncio::twins()
        .iter()
        .map(|t| t.demo)
        .filter(|d| !listed.contains(d))
        .collect();
    assert!(
        missing.is_empty(),
        "twins without a conformance test: {missing:?}"
    );
    for demo in listed {
        assert!(asyncio::twin(demo).is_some(), "{demo} has no twin");
    }
}

// ---- where the runtimes differ, each side pinned ---------------------------------------------

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

/// A coroutine never awaited: both drop it without running a line of it; Python also warns
/// "coroutine ... was never awaited", which the tracer records as a mark where it was dropped.
#[test]
fn a_never_awaited_coroutine_warns_in_python() {
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

// ---- the real clock ------------------------------------------------------------------------

/// Within ±15 ms: the real clock on a shared machine.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 15.0
}

/// Real-clock runs measure time, so the tests in this file take turns: one Python at a time.
static REAL_CLOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    REAL_CLOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The real-clock run of `variant` against its virtual-clock run: names, parents, outcomes,
/// marks in order and metrics exact; `Err` names the first time more than 15 ms off.
fn check_real(demo: &str, v: &str, real: &VariantRun, exact: &VariantRun) -> Result<(), String> {
    let (r, x) = (view(real), view(exact));
    assert_eq!(r.tasks.len(), x.tasks.len(), "{demo} {v}");
    for (rt, xt) in r.tasks.iter().zip(&x.tasks) {
        assert_eq!(
            (&rt.name, &rt.parent, rt.outcome),
            (&xt.name, &xt.parent, xt.outcome),
            "{demo} {v}"
        );
    }
    let labels = |v: &View| -> Vec<(Option<String>, String)> {
        v.marks.iter().map(|m| (m.1.clone(), m.2.clone())).collect()
    };
    assert_eq!(labels(&r), labels(&x), "{demo} {v}");
    assert_eq!(r.metrics, x.metrics, "{demo} {v}");
    let mut times = vec![("total".to_owned(), r.total_ms, x.total_ms)];
    for (rt, xt) in r.tasks.iter().zip(&x.tasks) {
        times.push((format!("{} spawned", rt.name), rt.spawned_ms, xt.spawned_ms));
        let (rf, xf) = (
            rt.finished_ms.unwrap_or(f64::NAN),
            xt.finished_ms.unwrap_or(0.0),
        );
        times.push((format!("{} finished", rt.name), rf, xf));
    }
    for (rm, xm) in r.marks.iter().zip(&x.marks) {
        times.push((format!("mark {}", rm.2), rm.0, xm.0));
    }
    match times.into_iter().find(|(_, a, b)| !close(*a, *b)) {
        Some((what, a, b)) => Err(format!("{demo} {v} {what}: {a:.1} ms, expected {b} ms")),
        None => Ok(()),
    }
}

#[test]
fn real_clock_runs_keep_counts_orders_and_states_and_times_within_15_ms() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "gather",
            &["sequential", "join-set"],
            &["latencies_ms=40,80,120"],
        ),
        (
            "semaphore",
            &["fifo"],
            &["tasks=5", "permits=2", "work_ms=60"],
        ),
        (
            "timeouts",
            &["timeout"],
            &["latencies_ms=30,200", "timeout_ms=100"],
        ),
    ];
    for &(demo, variants, set) in cases {
        let virt = asyncio::run_twin(&request(demo, variants, set, Clock::Virtual), py).unwrap();
        // A shared machine can stall any process for a moment: a time off by more than 15 ms
        // gets one more run; counts, orders and states must hold every time.
        let mut last = Ok(());
        for _attempt in 0..2 {
            let twin = asyncio::run_twin(&request(demo, variants, set, Clock::Real), py).unwrap();
            assert_eq!(twin.report.clock, Clock::Real);
            last = variants.iter().try_for_each(|v| {
                let real = twin.report.run(v).unwrap();
                assert_eq!(real.error, None, "{demo} {v}: {}", twin.stderr);
                check_real(demo, v, real, virt.report.run(v).unwrap())
            });
            if last.is_ok() {
                break;
            }
        }
        if let Err(e) = last {
            panic!("{e}");
        }
    }
}

/// What an I/O comparison leaves to the machine: measurements, and what depends on timing.
struct Measured<'a> {
    /// Metrics that are measurements (a time, a count that depends on timing).
    metrics: &'a [&'a str],
    /// Series that are measurements.
    series: &'a [&'a str],
    /// Marks, by label prefix, whose number depends on timing.
    marks: &'a [&'a str],
    /// Compare each task's length (those under 1 s) within 15 ms.
    lengths: bool,
    /// Tasks whose length is not compared: they end when another task tells them to, after
    /// tear-down work (an fsync, a snapshot) that each runtime does its own way.
    told_to_end: &'a [&'a str],
    /// Compare the order of the marks made once (the milestones).
    milestones_in_order: bool,
}

const EXACT: Measured<'static> = Measured {
    metrics: &[],
    series: &[],
    marks: &[],
    lengths: true,
    told_to_end: &[],
    milestones_in_order: true,
};

/// The I/O demos run on the real clock against real sockets and files: both runtimes must end
/// every task the same way, make the same marks and report the same counts; each task's own
/// length agrees within 15 ms. Connection handlers (`request n`, `conn n`, named in accept
/// order, which the kernel decides) are compared as a group. Metrics naming a port or a
/// directory, and whatever `measured` names, are left out.
fn io_conforms(
    demo: &str,
    set: &[&str],
    measured: &Measured<'_>,
) -> Option<(RunReport, TwinReport)> {
    let py = python()?;
    let _turn = exclusive();
    // A shared machine can stall either runtime for a moment: lengths more than 15 ms apart get
    // one more pair of runs; everything else must hold every time.
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (tokio, twin, timing) = io_compare(py, demo, set, measured);
        match timing {
            Ok(()) => return Some((tokio, twin)),
            Err(e) if attempt >= 2 => panic!("{e}"),
            Err(_) => {}
        }
    }
}

/// One pair of runs: asserts what must hold; returns how the lengths compared.
fn io_compare(
    py: &Python,
    demo: &str,
    set: &[&str],
    measured: &Measured<'_>,
) -> (RunReport, TwinReport, Result<(), String>) {
    let variant = shared_variants_on(demo, Clock::Real)[0];
    let mut req = request(demo, &[variant], set, Clock::Real);
    // As a headless run (where both listen for SIGINT/SIGTERM).
    req.os_signals = true;
    let twin = asyncio::run_twin(&req, py).unwrap();
    let tokio = runner::run_blocking(req).unwrap();
    let (t, a) = (
        tokio.run(variant).unwrap(),
        twin.report.run(variant).unwrap(),
    );
    assert_eq!(a.error, None, "{demo}: Python said:\n{}", twin.stderr);
    assert_eq!(t.error, None, "{demo} on tokio");
    let split = |r: &VariantRun| {
        let (conns, rest): (Vec<_>, Vec<_>) = view(r)
            .tasks
            .into_iter()
            .partition(|task| is_connection(&task.name));
        let mut conn_outcomes: Vec<String> =
            conns.iter().map(|c| c.outcome.name().to_owned()).collect();
        conn_outcomes.sort();
        (rest, conn_outcomes)
    };
    let ((t_tasks, t_conns), (a_tasks, a_conns)) = (split(t), split(a));
    assert_eq!(a_conns, t_conns, "{demo}: connection handlers' outcomes");
    let shape = |v: &[TaskView]| -> Vec<(String, Option<String>, Outcome)> {
        v.iter()
            .map(|t| (t.name.clone(), t.parent.clone(), t.outcome))
            .collect()
    };
    assert_eq!(shape(&a_tasks), shape(&t_tasks), "{demo}: tasks");
    // The same marks; those made once (the milestones) in the same order: a repeated mark may
    // fall a moment before or after another task's.
    let labels = |r: &VariantRun| -> (Vec<String>, Vec<String>) {
        let all: Vec<String> = r
            .timeline
            .marks
            .iter()
            .map(|m| m.label.to_string())
            .filter(|l| !measured.marks.iter().any(|p| l.starts_with(p)))
            .collect();
        let once = all
            .iter()
            .filter(|_| measured.milestones_in_order)
            .filter(|l| all.iter().filter(|m| m == l).count() == 1)
            .cloned()
            .collect();
        let mut sorted = all;
        sorted.sort();
        (sorted, once)
    };
    assert_eq!(labels(a), labels(t), "{demo}: marks");
    let metrics = |r: &VariantRun| -> BTreeMap<String, serde_json::Value> {
        let mut m = view(r).metrics;
        m.retain(|k, _| {
            !["dir", "port"].contains(&k.as_str()) && !measured.metrics.contains(&k.as_str())
        });
        m
    };
    assert_eq!(metrics(a), metrics(t), "{demo}: metrics");
    let values = |r: &VariantRun| -> BTreeMap<String, Vec<SeriesValue>> {
        r.timeline
            .series
            .iter()
            .filter(|(k, _)| !measured.series.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.iter().map(|p| p.1.clone()).collect()))
            .collect()
    };
    assert_eq!(values(a), values(t), "{demo}: series values in order");
    // main's own length includes setting up and removing files and listeners, which tokio does
    // on its blocking pool and asyncio with plain calls: its children are compared.
    let len = |t: &TaskView| t.finished_ms.unwrap_or(f64::NAN) - t.spawned_ms;
    let timing = a_tasks
        .iter()
        .zip(&t_tasks)
        .filter(|_| measured.lengths)
        .filter(|(at, _)| at.name != "main" && !measured.told_to_end.contains(&at.name.as_str()))
        .filter(|(at, tt)| len(tt) < 1000.0 && !close(len(at), len(tt)))
        .map(|(at, tt)| format!("{demo} {}: {:.1} vs {:.1} ms", at.name, len(at), len(tt)))
        .next()
        .map_or(Ok(()), Err);
    (tokio, twin, timing)
}

/// A task serving one accepted connection: named in accept order, which the kernel decides.
fn is_connection(name: &str) -> bool {
    ["request ", "service conn ", "conn "]
        .iter()
        .any(|p| name.starts_with(p))
}

/// Parents of the connection handlers (a chat connection's sender is its handler's child).
fn connection_parents(r: &VariantRun) -> Vec<Option<String>> {
    let v = view(r);
    v.tasks
        .into_iter()
        .filter(|t| is_connection(&t.name) && !t.name.ends_with(" sender"))
        .map(|t| t.parent)
        .collect()
}

fn shared_variants_on(demo: &str, clock: Clock) -> Vec<&'static str> {
    let twin = asyncio::twin(demo).unwrap();
    let spec = asyncdojo::demo::find(demo).unwrap().spec();
    twin.runnable()
        .filter(|v| {
            spec.variant(v.name)
                .is_some_and(|s| s.clocks.contains(&clock))
        })
        .map(|v| v.name)
        .collect()
}

#[test]
fn graceful_shutdown_conforms_on_the_real_clock() {
    // (parameters, grace, the shortest the shutdown can take: the grace when a request outlives it)
    let sets: [(&[&str], f64, f64); 2] = [
        (&[], 700.0, 700.0),
        (
            &["request_ms=100,300", "shutdown_at_ms=150", "grace_ms=400"],
            400.0,
            150.0,
        ),
    ];
    for (set, grace, least) in sets {
        let measured = Measured {
            metrics: &["shutdown_ms"],
            told_to_end: &["flusher"],
            ..EXACT
        };
        let Some((tokio, twin)) = io_conforms("graceful-shutdown", set, &measured) else {
            return;
        };
        let (t, a) = (&tokio.runs[0], &twin.report.runs[0]);
        // From the signal to the last resource closed: the grace period and a little.
        for r in [t, a] {
            let ms = r.timeline.metric("shutdown_ms").unwrap();
            assert!(
                ms >= least - 15.0 && ms <= grace + 250.0,
                "{set:?}: {ms} ms"
            );
        }
        // tokio's accept loop spawns each connection's handler from the server task; asyncio's
        // start_server has the event loop start it, outside any task.
        let n = set.first().map_or(4, |_| 2);
        assert_eq!(connection_parents(t), vec![Some("server".to_owned()); n]);
        assert_eq!(connection_parents(a), vec![None; n]);
    }
}

#[test]
fn pipeline_conforms_on_the_real_clock() {
    let sets: [(&[&str], usize); 3] = [
        (&[], 3),
        (
            &[
                "items=10",
                "capacity=2",
                "workers=2",
                "work_ms=20",
                "fail_items=3",
            ],
            2,
        ),
        (
            &[
                "items=6",
                "capacity=8",
                "workers=4",
                "work_ms=10",
                "fail_items=",
            ],
            4,
        ),
    ];
    for (set, workers) in sets {
        let measured = Measured {
            // How often the producer finds the queue full depends on how soon the workers have
            // connected: a race on both runtimes (checked below against the marks).
            metrics: &["producer_blocked_ms", "producer_waits"],
            marks: &["queue full"],
            // Puts and gets interleave as the machine lets them; the deepest point is compared
            // (max_queue_depth).
            series: &["queue_depth"],
            // Every task here lasts as long as the pipeline's throughput, which a debug build of
            // tokio and CPython reach differently: counts, orders and states are compared.
            lengths: false,
            ..EXACT
        };
        let Some((tokio, twin)) = io_conforms("pipeline", set, &measured) else {
            return;
        };
        let (t, a) = (&tokio.runs[0], &twin.report.runs[0]);
        assert_eq!(
            connection_parents(t),
            vec![Some("service".to_owned()); workers]
        );
        assert_eq!(connection_parents(a), vec![None; workers]);
        for r in [t, a] {
            assert_eq!(r.timeline.metric("missing"), Some(0.0));
            assert_eq!(r.timeline.metric("duplicates"), Some(0.0));
            let full = r
                .timeline
                .marks
                .iter()
                .filter(|m| m.label.starts_with("queue full"))
                .count();
            assert_eq!(r.timeline.metric("producer_waits"), Some(full as f64));
        }
    }
}

/// A per-client count from a metric object; 0 when the client is not in it.
fn count(r: &VariantRun, metric: &str, who: &str) -> u64 {
    r.timeline.metrics[metric]
        .get(who)
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0)
}

/// How many messages a slow client loses depends on its socket buffers and the machine: both
/// runtimes must count every loss, tell the client, and deliver everything else in order (the
/// clients check the order themselves and fail otherwise).
#[test]
fn chat_conforms_on_the_real_clock() {
    let sets: [(&[&str], u64, u64, u64); 2] = [
        (&[], 60, 20, 5),
        (
            &[
                "messages=30",
                "room_capacity=256",
                "slow_read_ms=2",
                "history=0",
                "leave_after=5",
            ],
            30,
            5,
            0,
        ),
    ];
    for (set, messages, leave_after, history) in sets {
        let measured = Measured {
            metrics: &["lost", "lost_told", "received", "history_seqs"],
            series: &["lost"],
            marks: &["slow lagged"],
            // The talker's pauses are a few ms each, and each runtime rounds them its own way.
            lengths: false,
            told_to_end: &[],
            milestones_in_order: false,
        };
        let Some((tokio, twin)) = io_conforms("chat", set, &measured) else {
            return;
        };
        for (runtime, r) in [("tokio", &tokio.runs[0]), ("asyncio", &twin.report.runs[0])] {
            for who in ["fast 1", "fast 2"] {
                assert_eq!(count(r, "received", who), messages, "{runtime} {who}");
                assert_eq!(count(r, "lost", who), 0, "{runtime} {who}");
            }
            assert_eq!(count(r, "received", "leaver"), leave_after, "{runtime}");
            let lost = count(r, "lost", "slow");
            assert_eq!(count(r, "lost_told", "slow"), lost, "{runtime}");
            assert_eq!(count(r, "received", "slow") + lost, messages, "{runtime}");
            let seqs: Vec<u64> =
                serde_json::from_value(r.timeline.metrics["history_seqs"].clone()).unwrap();
            assert_eq!(seqs.len() as u64, history, "{runtime}");
            assert!(
                seqs.windows(2).all(|w| w[1] == w[0] + 1),
                "{runtime} {seqs:?}"
            );
            let last = seqs.last().copied().unwrap_or(0);
            if history > 0 {
                assert_eq!(count(r, "received", "late"), messages - last, "{runtime}");
            }
        }
        let (t, a) = (&tokio.runs[0], &twin.report.runs[0]);
        assert!(
            count(t, "lost", "slow") > 0 || history == 0,
            "tokio's slow client lost"
        );
        assert!(
            count(a, "lost", "slow") > 0 || history == 0,
            "asyncio's slow client lost"
        );
        let n = 6;
        assert_eq!(connection_parents(t), vec![Some("server".to_owned()); n]);
        assert_eq!(connection_parents(a), vec![None; n]);
    }
}

/// tokio's blocking pool and asyncio.to_thread do the same job: the blocking call leaves the
/// loop's thread free, so the ticker never misses a tick.
#[test]
fn to_thread_keeps_the_ticker_on_time_like_the_blocking_pool() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let set = &["tick_ms=50", "block_ms=200", "ticks=6"];
    let twin = asyncio::run_twin(
        &request("blocking", &["spawn-blocking"], set, Clock::Real),
        py,
    )
    .unwrap();
    let run = twin.report.run("spawn-blocking").unwrap();
    assert_eq!(run.error, None, "{}", twin.stderr);
    let names: Vec<&str> = run.timeline.tasks.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["main", "ticker", "blocker"]);
    assert_eq!(run.timeline.count(Outcome::Ok), 3);
    let labels: Vec<&str> = run.timeline.marks.iter().map(|m| &*m.label).collect();
    assert_eq!(&labels[..3], ["tick 1", "tick 2", "sleep"]);
    assert!(
        labels.contains(&"awake") && labels.contains(&"tick 6"),
        "{labels:?}"
    );
    // Every gap is the period, give or take the machine; the blocked variant's is 200 ms.
    let gap = run.timeline.metric("max_tick_gap_ms").unwrap();
    assert!((50.0..=65.0).contains(&gap), "longest gap {gap} ms");
}

/// The app's way in: a run on its own thread, drawn as its variants finish, cancellable.
#[test]
fn a_twin_run_can_be_watched_and_cancelled() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let run = asyncio::TwinRun::start(
        request("gather", &["sequential", "join-all"], &[], Clock::Virtual),
        py.clone(),
    )
    .unwrap();
    while !run.is_finished() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let drawn: Vec<&str> = run.snapshots().iter().map(|(v, _)| *v).collect();
    assert_eq!(drawn, ["sequential", "join-all"]);
    let twin = run.wait().unwrap();
    let totals: Vec<(&str, f64)> = twin
        .report
        .runs
        .iter()
        .map(|r| (r.variant, r.total_ms))
        .collect();
    assert_eq!(totals, [("sequential", 600.0), ("join-all", 300.0)]);

    // Ten seconds of real-clock waiting, cancelled early.
    let set = &["latencies_ms=50,10000"];
    let req = request("gather", &["join-all", "sequential"], set, Clock::Real);
    let started = std::time::Instant::now();
    let run = asyncio::TwinRun::start(req, py.clone()).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(run.snapshots().is_empty(), "join-all takes 10 s");
    run.cancel();
    let twin = run.wait().unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    for r in &twin.report.runs {
        assert!(
            matches!(r.error, Some(runner::RunError::Cancelled)),
            "{}: {:?}",
            r.variant,
            r.error
        );
    }
}

// ---- the tracer on its own -------------------------------------------------------------------

/// Run a Python program under the tracer, as asyncdojo does, and return its run document.
fn trace(py: &Python, program: &str, args: serde_json::Value) -> (serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dojo.py"), asyncio::tracer_source()).unwrap();
    let twin = dir.path().join("probe.py");
    std::fs::write(&twin, program).unwrap();
    let out = Command::new(&py.program)
        .args(["-I", "-S", "-B"])
        .arg(dir.path().join("dojo.py"))
        .arg(&twin)
        .arg(args.to_string())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (doc, stderr)
}

fn task<'a>(run: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    run["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no task {name} in {run}"))
}

const PROBE: &str = r#"
import asyncio
import dojo


async def awaits(n):
    for _ in range(n):
        await asyncio.sleep(0.01)
    return f"{n} awaits"


async def raises():
    await asyncio.sleep(0.005)
    raise ValueError("bad input")


async def sleeps():
    await asyncio.sleep(10)


async def slow():
    async with asyncio.timeout(0.02):
        await asyncio.sleep(1)


async def turned_away():
    raise dojo.Rejected("breaker open")


async def idle():
    await asyncio.sleep(0)


async def main(variant="probe", n=3):
    gauge = dojo.gauge("busy")
    steps = asyncio.create_task(awaits(n), name="awaits")
    doomed = asyncio.create_task(sleeps(), name="cancelled")
    failing = asyncio.create_task(raises(), name="raises")
    late = asyncio.create_task(slow(), name="times out")
    rejected = asyncio.create_task(turned_away(), name="rejected")
    await asyncio.sleep(0)
    doomed.cancel()
    await asyncio.wait([steps, doomed, failing, late, rejected])
    forgotten = idle()
    del forgotten
    with gauge:
        dojo.block(7)
    await dojo.lane("in place", awaits(1))
    dojo.mark("end")
    for t in (failing, late, rejected):
        t.exception()


if __name__ == "__main__":
    dojo.run(main)
"#;

#[test]
fn the_tracer_records_steps_outcomes_and_warnings() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let n = 4;
    let (doc, stderr) = trace(py, PROBE, serde_json::json!({ "params": { "n": n } }));
    assert_eq!(doc["runtime"], "asyncio");
    let run = &doc["runs"][0];
    assert_eq!(run["runtime"], "asyncio");
    // A task that awaits N times is stepped N + 1 times.
    let awaits = task(run, "awaits");
    assert_eq!(awaits["polls"].as_array().unwrap().len(), n + 1);
    assert_eq!(awaits["outcome"], "ok");
    assert_eq!(awaits["detail"], "4 awaits");
    assert_eq!(awaits["parent"], task(run, "main")["id"]);
    assert_eq!(awaits["finished_ms"], 40.0);
    // The rest of the outcomes.
    assert_eq!(task(run, "raises")["outcome"], "error");
    assert_eq!(task(run, "raises")["detail"], "ValueError: bad input");
    assert_eq!(task(run, "raises")["finished_ms"], 5.0);
    assert_eq!(task(run, "times out")["outcome"], "timeout");
    assert_eq!(task(run, "times out")["finished_ms"], 20.0);
    assert_eq!(task(run, "rejected")["outcome"], "rejected");
    assert_eq!(task(run, "rejected")["detail"], "breaker open");
    assert_eq!(task(run, "cancelled")["outcome"], "cancelled");
    assert_eq!(task(run, "cancelled")["finished_ms"], 0.0);
    // The coroutine awaited in place has a lane because it asked for one; the never-awaited one
    // has none, and its warning is a mark, not text on stderr.
    assert_eq!(task(run, "in place")["polls"].as_array().unwrap().len(), 2);
    let names: Vec<&str> = run["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "main",
            "awaits",
            "cancelled",
            "raises",
            "times out",
            "rejected",
            "in place"
        ]
    );
    let marks = run["marks"].as_array().unwrap();
    let warning = marks
        .iter()
        .find(|m| m["label"] == "RuntimeWarning: coroutine 'idle' was never awaited")
        .expect("the warning is a mark");
    let line = warning["line"].as_u64().unwrap() as usize;
    assert!(
        PROBE
            .lines()
            .nth(line - 1)
            .unwrap()
            .contains("del forgotten")
    );
    assert!(!stderr.contains("never awaited"), "{stderr}");
    // dojo.block holds the thread: 7 ms pass inside one step; the gauge went 1 then 0.
    assert_eq!(
        run["series"]["busy"],
        serde_json::json!([[0.0, 0.0], [40.0, 1.0], [47.0, 0.0]])
    );
    // A mark names the line that made it.
    let end = marks.iter().find(|m| m["label"] == "end").unwrap();
    let line = end["line"].as_u64().unwrap() as usize;
    assert!(
        PROBE
            .lines()
            .nth(line - 1)
            .unwrap()
            .contains("dojo.mark(\"end\")")
    );
    assert_eq!(end["t_ms"], 57.0);
    assert_eq!(run["total_ms"], 57.0);
}

/// On the virtual clock a twin whose tasks all wait for something no one will do ends at once
/// with the reason, instead of hanging until its deadline.
#[test]
fn a_virtual_deadlock_fails_the_run_at_once() {
    let Some(py) = python() else { return };
    let program = "import asyncio\nimport dojo\n\n\nasync def main(variant='stuck'):\n    \
                   await asyncio.Event().wait()\n\n\nif __name__ == '__main__':\n    \
                   dojo.run(main)\n";
    let started = std::time::Instant::now();
    let (doc, _) = trace(py, program, serde_json::json!({}));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let error = doc["runs"][0]["error"].as_str().unwrap();
    assert!(error.contains("deadlock"), "{error}");
    // main never finished: it is cancelled with whatever else was left.
    assert_eq!(task(&doc["runs"][0], "main")["outcome"], "cancelled");
}

#[test]
fn a_run_by_hand_uses_mains_defaults_and_prints_one_document() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    for twin in asyncio::twins() {
        let spec = asyncdojo::demo::find(twin.demo).unwrap().spec();
        let clock = if spec.clocks().contains(&Clock::Virtual) {
            "virtual"
        } else {
            "real"
        };
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("dojo.py"), asyncio::tracer_source()).unwrap();
        std::fs::write(dir.path().join(twin.file), twin.source).unwrap();
        // As a learner would: `python3 gather.py`, with dojo.py beside it.
        let out = Command::new(&py.program)
            .arg(twin.file)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let defaults = serde_json::to_value(asyncdojo::demo::Params::defaults(spec)).unwrap();
        assert_eq!(
            doc["params"], defaults,
            "{}: main's defaults are the demo's",
            twin.file
        );
        assert_eq!(
            doc["runs"][0]["variant"], spec.default_variants[0],
            "{}",
            twin.file
        );
        assert_eq!(doc["clock"], clock, "{}", twin.file);
        assert_eq!(
            doc["runs"][0]["error"],
            serde_json::Value::Null,
            "{}",
            twin.file
        );
    }
}

#[test]
fn every_twin_mark_line_is_a_dojo_mark_call() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    for twin in asyncio::twins() {
        let spec = asyncdojo::demo::find(twin.demo).unwrap().spec();
        let clock = if spec.clocks().contains(&Clock::Virtual) {
            Clock::Virtual
        } else {
            Clock::Real
        };
        let variants: Vec<&str> = shared_variants_on(twin.demo, clock);
        let report = asyncio::run_twin(&request(twin.demo, &variants, &[], clock), py).unwrap();
        assert!(report.succeeded(), "{}: {}", twin.file, report.stderr);
        let lines = twin.mark_lines();
        for run in &report.report.runs {
            for m in &run.timeline.marks {
                if m.label.starts_with("RuntimeWarning") {
                    continue;
                }
                let line = m
                    .line
                    .unwrap_or_else(|| panic!("{}: `{}` has no line", twin.file, m.label));
                assert!(
                    lines.contains(&line),
                    "{}: `{}` at line {line}",
                    twin.file,
                    m.label
                );
            }
        }
    }
}

#[test]
fn the_command_line_runs_both_runtimes_into_one_document() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let out = Command::new(env!("CARGO_BIN_EXE_asyncdojo"))
        .args(["run", "gather", "--runtime", "both", "--json", "--python"])
        .arg(&py.program)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["runtime"], "both");
    let runs: Vec<(String, String)> = doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["variant"].as_str().unwrap().into(),
                r["runtime"].as_str().unwrap().into(),
            )
        })
        .collect();
    let pairs: Vec<(&str, &str)> = runs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(
        pairs,
        [
            ("sequential", "tokio"),
            ("sequential", "asyncio"),
            ("join-all", "tokio"),
            ("join-all", "asyncio")
        ]
    );
    for r in doc["runs"].as_array().unwrap() {
        assert_eq!(
            r["total_ms"],
            if r["variant"] == "sequential" {
                600.0
            } else {
                300.0
            }
        );
    }
}

/// Every Python on this machine older than 3.11 that the tests can find (pyenv's, here), and
/// Python 2, gets one line naming what was found.
#[test]
fn an_old_python_is_named_in_one_line() {
    let Some(root) = std::env::var_os("PYENV_ROOT").or_else(|| {
        std::env::var_os("HOME").map(|h| Path::new(&h).join(".pyenv").into_os_string())
    }) else {
        return;
    };
    let versions = Path::new(&root).join("versions");
    let Ok(entries) = std::fs::read_dir(&versions) else {
        return;
    };
    for entry in entries.flatten() {
        let version = entry.file_name().to_string_lossy().into_owned();
        let old = version.starts_with("2.")
            || ["3.6", "3.7", "3.8", "3.9", "3.10"]
                .iter()
                .any(|v| version.starts_with(&format!("{v}.")));
        let python = entry.path().join("bin").join("python");
        if !old || !python.exists() {
            continue;
        }
        let out = Command::new(env!("CARGO_BIN_EXE_asyncdojo"))
            .args(["run", "gather", "--runtime", "asyncio", "--python"])
            .arg(&python)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{version}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{version}: {stderr}");
        assert!(stderr.contains(&*python.to_string_lossy()), "{stderr}");
        assert!(
            stderr.contains("--python PATH or ASYNCDOJO_PYTHON"),
            "{stderr}"
        );
        if !version.starts_with("2.") {
            assert!(stderr.contains(&format!("is Python {version}")), "{stderr}");
        }
    }
}

#[test]
fn resolving_points_at_the_interpreter_itself() {
    let Some(py) = python() else { return };
    let (resolved, info) = py.resolve().unwrap();
    assert_eq!(resolved.program, info.executable);
    assert_eq!(resolved.origin, py.origin);
    assert_eq!(resolved.probe().unwrap().version, info.version);
}

#[test]
fn a_python_that_cannot_run_is_one_clear_line_and_tokio_still_runs() {
    let missing = Path::new("/nonexistent/python3");
    let out = Command::new(env!("CARGO_BIN_EXE_asyncdojo"))
        .args(["run", "gather", "--runtime", "both", "--python"])
        .arg(missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("/nonexistent/python3"), "{stderr}");
    assert!(
        stderr.contains("--python PATH or ASYNCDOJO_PYTHON"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("── join-all ──"), "tokio ran: {stdout}");
}
