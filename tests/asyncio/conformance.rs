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
    ("select-loop", select_loop_conforms),
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
