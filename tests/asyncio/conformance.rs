//! On the virtual clock, every shared variant of every twin agrees with tokio field by field; a table keeps every twin covered.

use super::*;

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
fn gather_errors_conforms() {
    conforms(
        "gather-errors",
        &[
            &[],
            // The lesson's checkout: the lamp fails at 10 ms, desk and chair take 50 and 90.
            &["fail_ms=10", "latencies_ms=50,90"],
            // child 1 answers before the failure, child 3 at its very instant.
            &["fail_ms=100", "latencies_ms=50,300,100"],
            &["fail_ms=250", "latencies_ms=1000,300,600,400"],
            &["fail_ms=0", "latencies_ms=0,20"],
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

/// Requests whose events never fall on the same instant as another's: a thread's result at an
/// instant another request also wakes would come back in whichever order the threads finish.
#[test]
fn request_ids_conform() {
    conforms(
        "request-ids",
        &[
            &[],
            &["requests=5", "arrival_gap_ms=7", "work_ms=50"],
            &["requests=1"],
            &["requests=4", "arrival_gap_ms=300", "work_ms=100"],
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

/// recreated and buffer-outside: the read is cancelled by asyncio.timeout where select! drops it;
/// pinned keeps its read in a Task (differences.rs).
#[test]
fn select_loop_conforms() {
    conforms(
        "select-loop",
        &[
            &[],
            &["items=10", "every_ms=100", "item_ms=40", "tick_ms=130"],
            // The ticker never fires before the last item is in.
            &["items=3", "tick_ms=1000"],
            // Both halves at once: no "between" for a tick to land in.
            &["item_ms=0", "tick_ms=70"],
            // Two ticks inside each item: every item lost, each once.
            &["items=4", "item_ms=80", "tick_ms=55"],
        ],
    );
}

/// Both pools are timed on the virtual clock the same way (ctx.rs and dojo/core.py, "pool"): a
/// held worker thread waits for the clock, which moves only when every job with a thread is held.
#[test]
fn executor_pool_conforms() {
    conforms(
        "executor-pool",
        &[
            &[],
            &["jobs=7", "workers=3", "job_ms=250", "tick_ms=60"],
            &["jobs=5", "workers=4", "job_ms=90", "tick_ms=25"],
            &["jobs=3", "workers=8", "job_ms=70", "tick_ms=30"],
        ],
    );
}

/// The test that compares each twin with its tokio demo (the I/O twins' are on the real clock,
/// below; lazy-futures' allows for Python's warning; console-lab's is debug mode's).
const CONFORMANCE: &[(&str, fn())] = &[
    ("gather", gather_conforms),
    ("event-loop", event_loop_conforms),
    (
        "lazy-futures",
        super::differences::a_never_awaited_coroutine_warns_in_python,
    ),
    ("spawn-vs-await", spawn_vs_await_conforms),
    ("semaphore", semaphore_conforms),
    (
        "http-fanout",
        super::real_clock::http_fanout_conforms_on_the_real_clock,
    ),
    ("gather-errors", gather_errors_conforms),
    ("timeouts", timeouts_conform),
    ("circuit-breaker", circuit_breaker_conforms),
    ("crawler", super::real_clock::crawler_conforms_on_the_real_clock),
    ("rate-limiter", rate_limiter_conforms),
    ("retry-backoff", retry_backoff_conforms),
    ("blocking", blocking_conforms),
    ("loop-lag", loop_lag_conforms),
    ("scheduler", scheduler_conforms),
    (
        "graceful-shutdown",
        super::real_clock::graceful_shutdown_conforms_on_the_real_clock,
    ),
    (
        "pipeline",
        super::real_clock::pipeline_conforms_on_the_real_clock,
    ),
    ("chat", super::real_clock::chat_conforms_on_the_real_clock),
    (
        "connection-pool",
        super::real_clock::connection_pool_conforms_on_the_real_clock,
    ),
    (
        "downloader",
        super::real_clock::downloader_conforms_on_the_real_clock,
    ),
    (
        "gateway",
        super::real_clock::gateway_conforms_on_the_real_clock,
    ),
    (
        "slow-reader",
        super::real_clock::slow_reader_conforms_on_the_real_clock,
    ),
    ("select-loop", select_loop_conforms),
    ("request-ids", request_ids_conform),
    ("executor-pool", executor_pool_conforms),
    (
        "console-lab",
        super::differences::debug_mode_reports_the_slow_step_the_unawaited_coroutine_and_the_lost_exception,
    ),
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

// ---- wakes -----------------------------------------------------------------------------------

use asyncdojo::demo::timeline::{TimelineSnapshot, WakeCause};

/// A wake as conformance compares it: when, who was woken, why, and by whom.
type WakeView = (u64, String, WakeCause, Option<String>);

/// How a listed difference is set aside before the rest is compared.
#[derive(Debug, Clone, Copy, PartialEq)]
enum SetAside {
    /// These tasks' wakes, on both runtimes: they wait in a different way.
    Tasks(&'static [&'static str]),
    /// asyncio's `spawn` wakes of tasks tokio polls in place: `gather` makes each coroutine a
    /// Task, where `join_all` and `try_join_all` poll their futures inside one task.
    GatheredSpawns,
    /// asyncio's wake of a task it cancelled, for the step that receives its CancelledError:
    /// tokio's `abort` and a dropped future are never polled again.
    CancelledSteps,
    /// asyncio's self wakes: `sleep(0)` yields, where tokio's zero sleep on the paused clock
    /// completes at once; Python 3.11's `wait_for` runs the call in a helper task.
    SelfWakes,
    /// Thread wakes, on both runtimes: a blocking closure that has finished before its
    /// JoinHandle is first polled gives its result with no wake at all, which it does or not
    /// by how fast the pool's thread runs; asyncio always hands a thread's result to the loop
    /// (`call_soon_threadsafe`). With it listed, wakes that happen to agree are no news.
    ThreadWakes,
}

/// A variant whose wakes differ between the runtimes, why, and what is set aside so that the
/// rest is still compared. Each is explained in twins/README.md ("Wakes").
struct WakeDifference {
    demo: &'static str,
    /// A shared variant, or "*" for all of the demo's.
    variant: &'static str,
    why: &'static str,
    set_aside: &'static [SetAside],
    /// Only on Pythons older than 3.<this>.
    before_python: Option<u32>,
}

use SetAside::{CancelledSteps, GatheredSpawns, SelfWakes, Tasks, ThreadWakes};

const TASK_GROUP: &str = "a TaskGroup (or gather) wakes the task that waits for its children once, \
                          when the last one ends; JoinSet::join_next, or awaiting each JoinHandle \
                          in turn, wakes it as each one it waits for ends";

const WAKE_DIFFERENCES: &[WakeDifference] = &[
    WakeDifference {
        demo: "gather",
        variant: "join-all",
        why: "join_all polls the requests inside main, so each request's timer wakes the request \
              and main; gather makes each a Task (spawned) and wakes main once, when the last \
              ends",
        set_aside: &[Tasks(&["main"]), GatheredSpawns],
        before_python: None,
    },
    WakeDifference {
        demo: "gather",
        variant: "join-set",
        why: TASK_GROUP,
        set_aside: &[Tasks(&["main"])],
        before_python: None,
    },
    WakeDifference {
        demo: "semaphore",
        variant: "fifo",
        why: TASK_GROUP,
        set_aside: &[Tasks(&["main"])],
        before_python: None,
    },
    WakeDifference {
        demo: "event-loop",
        variant: "current-thread",
        why: TASK_GROUP,
        set_aside: &[Tasks(&["main"])],
        before_python: None,
    },
    WakeDifference {
        demo: "timeouts",
        variant: "select",
        why: "Python 3.11's wait_for runs the call in a helper task: cancelling it at the \
              deadline, the op wakes itself once more (3.12 awaits the call in place)",
        set_aside: &[SelfWakes],
        before_python: Some(12),
    },
    WakeDifference {
        demo: "timeouts",
        variant: "deadline-set",
        why: "the deadline set aborts the slow operations, which are never polled again, and \
              yields once; asyncio cancels them (each takes one more step) and gathers them",
        set_aside: &[Tasks(&["main"]), CancelledSteps],
        before_python: None,
    },
    WakeDifference {
        demo: "spawn-vs-await",
        variant: "abort",
        why: "an aborted tokio task is never polled again; a cancelled Task takes one more step, \
              woken by main",
        set_aside: &[Tasks(&["main"]), CancelledSteps],
        before_python: None,
    },
    WakeDifference {
        demo: "gather-errors",
        variant: "join-all",
        why: "join_all polls the children inside the caller; gather makes each a Task and wakes \
              the caller once, when the last ends",
        set_aside: &[Tasks(&["caller", "main"]), GatheredSpawns],
        before_python: None,
    },
    WakeDifference {
        demo: "gather-errors",
        variant: "join-set-abort",
        why: "the JoinSet aborts the others, which are never polled again; the TaskGroup cancels \
              them (one more step each) and wakes the caller once",
        set_aside: &[Tasks(&["caller", "main"]), CancelledSteps],
        before_python: None,
    },
    WakeDifference {
        demo: "rate-limiter",
        variant: "*",
        why: TASK_GROUP,
        set_aside: &[Tasks(&["main"])],
        before_python: None,
    },
    WakeDifference {
        demo: "retry-backoff",
        variant: "exponential",
        why: "an operation of 0 ms: asyncio.sleep(0) yields once (the attempt and its caller \
              wake themselves), tokio's zero sleep on the paused clock completes at once",
        set_aside: &[SelfWakes],
        before_python: None,
    },
    WakeDifference {
        demo: "loop-lag",
        variant: "monitor",
        why: "main aborts the heavy task, which tokio never polls again; asyncio cancels it \
              (one more step) and main waits for it",
        set_aside: &[Tasks(&["main"]), CancelledSteps],
        before_python: None,
    },
    WakeDifference {
        demo: "scheduler",
        variant: "*",
        why: "main aborts both jobs, which tokio never polls again; asyncio cancels them (one \
              more step each) and gathers them",
        set_aside: &[Tasks(&["main"]), CancelledSteps],
        before_python: None,
    },
    WakeDifference {
        demo: "select-loop",
        variant: "*",
        why: "tokio's reader reads an in-memory duplex pipe, which the sender's write wakes \
              (cause task); the twin reads a socket, which the selector wakes (io), and \
              connecting it takes a few steps of its own",
        set_aside: &[Tasks(&["reader", "main"]), SelfWakes],
        before_python: None,
    },
    WakeDifference {
        demo: "request-ids",
        variant: "*",
        why: "a spawn_blocking closure can finish before its JoinHandle is first polled, and \
              then its result comes with no wake; to_thread and run_in_executor always wake the \
              task from the thread",
        set_aside: &[ThreadWakes],
        before_python: None,
    },
    WakeDifference {
        demo: "executor-pool",
        variant: "*",
        why: "tokio's jobs are spawn_blocking lanes, polled once on a pool thread and never \
              woken again, and main awaits each JoinHandle in turn, woken as each result is \
              handed back; asyncio's jobs are Tasks awaiting to_thread, woken by the worker \
              thread's result, and the TaskGroup wakes main once, when the last one ends",
        set_aside: &[Tasks(&[
            "main", "job 1", "job 2", "job 3", "job 4", "job 5", "job 6",
        ])],
        before_python: None,
    },
];

fn wake_view(
    tl: &TimelineSnapshot,
    leave_out: impl Fn(&str, WakeCause, u64) -> bool,
) -> Vec<WakeView> {
    let name = |id: u32| tl.tasks[id as usize - 1].name.clone();
    let mut view: Vec<WakeView> = tl
        .wakes
        .iter()
        .filter(|w| !leave_out(&tl.tasks[w.task as usize - 1].name, w.cause, w.seq))
        .map(|w| {
            let t = w.t_ms;
            // Times compared to the microsecond: both runtimes print exact virtual milliseconds.
            (
                (t * 1000.0).round() as u64,
                name(w.task),
                w.cause,
                w.by.map(name),
            )
        })
        .collect();
    // The order of wakes at one instant is each scheduler's own.
    view.sort_by(|a, b| (a.0, &a.1, a.2.name(), &a.3).cmp(&(b.0, &b.1, b.2.name(), &b.3)));
    view
}

/// Both runs' wakes with `set_aside` left out.
fn set_aside(
    asyncio: &TimelineSnapshot,
    tokio: &TimelineSnapshot,
    rules: &[SetAside],
) -> (Vec<WakeView>, Vec<WakeView>) {
    let skipped = |name: &str| {
        rules
            .iter()
            .any(|r| matches!(r, Tasks(names) if names.contains(&name)))
    };
    let tokio_spawned: Vec<&str> = tokio
        .wakes
        .iter()
        .filter(|w| w.cause == WakeCause::Spawn)
        .map(|w| tokio.tasks[w.task as usize - 1].name.as_str())
        .collect();
    // The wake before each cancelled task's last step.
    let cancel_steps: Vec<u64> = asyncio
        .tasks
        .iter()
        .filter(|t| t.outcome == Outcome::Cancelled)
        .filter_map(|t| {
            let last = t.poll_seq(t.polls.len().checked_sub(1)?)?;
            asyncio
                .wakes
                .iter()
                .filter(|w| w.task == t.id && w.seq < last)
                .map(|w| w.seq)
                .max()
        })
        .collect();
    let left_out = |name: &str, cause, seq| {
        skipped(name)
            || (rules.contains(&GatheredSpawns)
                && cause == WakeCause::Spawn
                && !tokio_spawned.contains(&name))
            || (rules.contains(&CancelledSteps) && cancel_steps.contains(&seq))
            || (rules.contains(&SelfWakes) && cause == WakeCause::SelfWake)
            || (rules.contains(&ThreadWakes) && cause == WakeCause::Thread)
    };
    let a = wake_view(asyncio, left_out);
    let t = wake_view(tokio, |name, cause, _| {
        skipped(name) || (rules.contains(&ThreadWakes) && cause == WakeCause::Thread)
    });
    (a, t)
}

fn python_minor(py: &Python) -> u32 {
    let version = py.probe().map(|i| i.version).unwrap_or_default();
    version
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}

/// Issue #19, point 6: on the virtual clock, every shared variant's asyncio and tokio runs agree
/// on their wakes (who was woken, when, why and by whom), or the difference is listed in
/// `WAKE_DIFFERENCES` with its reason, and the rest of the wakes still agree once it is set
/// aside. A listed difference that no longer differs fails too: take it off the list.
///
#[test]
fn wakes_conform() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let minor = python_minor(py);
    let mut tokio_wakes = 0;
    let mut problems = Vec::new();
    for twin in asyncio::twins() {
        let variants = shared_variants(twin.demo);
        if variants.is_empty() {
            continue;
        }
        let (tokio, asyncio) = both(py, twin.demo, &variants, &[], Clock::Virtual);
        for v in &variants {
            let t = &tokio.run(v).unwrap().timeline;
            let a = &asyncio.report.run(v).unwrap().timeline;
            tokio_wakes += t.wakes.len();
            let what = format!("{} {v}", twin.demo);
            let listed = WAKE_DIFFERENCES.iter().find(|d| {
                d.demo == twin.demo
                    && (d.variant == *v || d.variant == "*")
                    && d.before_python.is_none_or(|m| minor < m)
            });
            let all = (wake_view(a, |_, _, _| false), wake_view(t, |_, _, _| false));
            match listed {
                None if all.0 != all.1 => problems.push(format!(
                    "{what}: asyncio (left) vs tokio (right)\n  {:?}\n  {:?}",
                    all.0, all.1
                )),
                None => {}
                Some(d) => {
                    // A race decides whether a ThreadWakes difference shows in a given run.
                    if all.0 == all.1 && !d.set_aside.contains(&ThreadWakes) {
                        problems.push(format!(
                            "{what}: listed as differing ({}), but the wakes agree: take it off \
                             WAKE_DIFFERENCES and twins/README.md",
                            d.why
                        ));
                    }
                    let rest = set_aside(a, t, d.set_aside);
                    if rest.0 != rest.1 {
                        problems.push(format!(
                            "{what}: beyond what is listed ({:?}), asyncio (left) vs tokio \
                             (right)\n  {:?}\n  {:?}",
                            d.set_aside, rest.0, rest.1
                        ));
                    }
                }
            }
        }
    }
    assert!(
        tokio_wakes > 0,
        "tokio recorded no wakes: nothing was compared"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// Every listed wake difference names a twin's shared variant and gives a reason.
#[test]
fn every_listed_wake_difference_names_a_shared_variant() {
    for d in WAKE_DIFFERENCES {
        assert!(asyncio::twin(d.demo).is_some(), "{}: no twin", d.demo);
        let shared = shared_variants(d.demo);
        assert!(
            d.variant == "*" && !shared.is_empty() || shared.contains(&d.variant),
            "{} {}: not a shared variant ({shared:?})",
            d.demo,
            d.variant
        );
        assert!(!d.why.is_empty() && !d.set_aside.is_empty());
    }
}
