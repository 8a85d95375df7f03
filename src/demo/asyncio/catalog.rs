//! The twins built into the binary: which demo each one twins, how its variants map onto asyncio,
//! and how long a real-clock run of it may take.

use std::time::Duration;

use super::Mapping::{Analogue, Missing, Same};
use super::{Twin, TwinVariant};

/// The tracer every twin runs under.
pub(super) const DOJO: &str = include_str!("../../../twins/dojo.py");

/// A variant that is the same program on asyncio: its name, the short asyncio name it goes by in
/// an asyncio run's labels (`join-all (gather)`; the variant's own name where asyncio has none of
/// its own for it), and what it is in asyncio, in a sentence.
const fn same(name: &'static str, short: &'static str, asyncio: &'static str) -> TwinVariant {
    TwinVariant {
        name,
        mapping: Same { asyncio, short },
    }
}

/// In the order of the demo registry.
pub(super) static TWINS: &[Twin] = &[
    Twin {
        demo: "gather",
        file: "gather.py",
        source: include_str!("../../../twins/gather.py"),
        variants: &[
            same("sequential", "await each", "await each coroutine in turn"),
            same(
                "join-all",
                "gather",
                "asyncio.gather (each coroutine becomes a Task; join_all polls them in one task)",
            ),
            same(
                "join-set",
                "TaskGroup",
                "asyncio.TaskGroup with a named task per request",
            ),
        ],
        run_bound: |p| sum(p, "latencies_ms"),
    },
    Twin {
        demo: "event-loop",
        file: "event-loop.py",
        source: include_str!("../../../twins/event-loop.py"),
        variants: &[
            same(
                "current-thread",
                "one event loop",
                "one asyncio event loop: it is always one thread",
            ),
            TwinVariant {
                name: "multi-thread",
                mapping: Missing {
                    why: "an asyncio event loop runs its tasks on one thread; there is no \
                          multi-threaded loop (threads or processes are separate tools)",
                },
            },
        ],
        run_bound: |p| {
            let (tasks, steps) = (num(p, "tasks"), num(p, "steps"));
            tasks * steps * num(p, "work_ms") + steps * num(p, "wait_ms")
        },
    },
    Twin {
        demo: "lazy-futures",
        file: "lazy-futures.py",
        source: include_str!("../../../twins/lazy-futures.py"),
        variants: &[same(
            "lazy",
            "coroutine objects",
            "three coroutine objects: awaited at once, awaited later, never awaited",
        )],
        run_bound: |p| num(p, "delay_ms") + 2.0 * num(p, "work_ms"),
    },
    Twin {
        demo: "spawn-vs-await",
        file: "spawn-vs-await.py",
        source: include_str!("../../../twins/spawn-vs-await.py"),
        variants: &[
            same(
                "await",
                "await",
                "await the coroutine after main's own work",
            ),
            same(
                "spawn",
                "create_task",
                "asyncio.create_task, then await the task",
            ),
            same("abort", "Task.cancel", "Task.cancel(), then await the task"),
        ],
        run_bound: |p| num(p, "work_ms") + num(p, "main_ms") + num(p, "abort_after_ms"),
    },
    Twin {
        demo: "semaphore",
        file: "semaphore.py",
        source: include_str!("../../../twins/semaphore.py"),
        variants: &[same(
            "fifo",
            "Semaphore",
            "asyncio.Semaphore in a TaskGroup",
        )],
        run_bound: |p| num(p, "tasks") * num(p, "work_ms"),
    },
    Twin {
        demo: "timeouts",
        file: "timeouts.py",
        source: include_str!("../../../twins/timeouts.py"),
        variants: &[
            same(
                "timeout",
                "asyncio.timeout",
                "async with asyncio.timeout(...)",
            ),
            same(
                "select",
                "wait_for",
                "asyncio.wait_for (the built-in race of a call and a timer)",
            ),
            same(
                "deadline-set",
                "as_completed",
                "asyncio.as_completed(timeout=...), then cancel what is left",
            ),
        ],
        run_bound: |p| max(p, "latencies_ms") + num(p, "timeout_ms"),
    },
    Twin {
        demo: "circuit-breaker",
        file: "circuit-breaker.py",
        source: include_str!("../../../twins/circuit-breaker.py"),
        variants: &[same(
            "breaker",
            "breaker",
            "a closed / open / half-open breaker shared by every call task",
        )],
        run_bound: |p| {
            // The latest scripted call's start plus its length, or the random calls' span.
            let scripted = texts(p, "calls")
                .iter()
                .map(|c| c.split(':').filter_map(|n| n.parse::<f64>().ok()).sum())
                .fold(0.0, f64::max);
            scripted + 100.0 * num(p, "random_calls")
        },
    },
    Twin {
        demo: "rate-limiter",
        file: "rate-limiter.py",
        source: include_str!("../../../twins/rate-limiter.py"),
        variants: &[
            same(
                "sliding-window",
                "deque + Lock",
                "a deque of grant times, behind a FIFO asyncio.Lock",
            ),
            same(
                "token-bucket",
                "tokens + Lock",
                "tokens as refill time, behind a FIFO asyncio.Lock",
            ),
            same(
                "gcra",
                "one TAT + Lock",
                "one theoretical arrival time, behind a FIFO asyncio.Lock",
            ),
        ],
        run_bound: |p| num(p, "requests") * (num(p, "arrival_gap_ms") + num(p, "window_ms")),
    },
    Twin {
        demo: "retry-backoff",
        file: "retry-backoff.py",
        source: include_str!("../../../twins/retry-backoff.py"),
        variants: &[same(
            "exponential",
            "asyncio.sleep",
            "a retry loop: each attempt a lane bounded by asyncio.timeout, asyncio.sleep between",
        )],
        run_bound: |p| {
            // Every attempt ends by its timeout; a hanging one takes all of it.
            let limit = num(p, "attempt_timeout_ms");
            let attempt = if num(p, "hangs") > 0.0 {
                limit
            } else {
                num(p, "op_ms").min(limit)
            };
            num(p, "max_attempts") * (attempt + num(p, "max_delay_ms"))
        },
    },
    Twin {
        demo: "blocking",
        file: "blocking.py",
        source: include_str!("../../../twins/blocking.py"),
        variants: &[
            same(
                "blocking",
                "time.sleep",
                "time.sleep inside a coroutine (dojo.block): the loop's only thread stops",
            ),
            same(
                "async-sleep",
                "asyncio.sleep",
                "await asyncio.sleep: the loop runs the ticker meanwhile",
            ),
            TwinVariant {
                name: "spawn-blocking",
                mapping: Analogue {
                    asyncio: "await asyncio.to_thread(time.sleep, ...): the call runs on a \
                              worker thread of the loop's default executor (real clock only)",
                    short: "to_thread",
                },
            },
        ],
        run_bound: |p| num(p, "ticks") * num(p, "tick_ms") + num(p, "block_ms"),
    },
    Twin {
        demo: "loop-lag",
        file: "loop-lag.py",
        source: include_str!("../../../twins/loop-lag.py"),
        variants: &[same(
            "monitor",
            "monitor",
            "a lag monitor task and a heavy task on one event loop",
        )],
        run_bound: |p| num(p, "run_ms") + num(p, "heavy_ms") + num(p, "tick_ms"),
    },
    Twin {
        demo: "scheduler",
        file: "scheduler.py",
        source: include_str!("../../../twins/scheduler.py"),
        variants: &[
            same(
                "fixed-rate",
                "sleep until the slot",
                "sleep until start + k * interval (late runs start at once)",
            ),
            same(
                "fixed-delay",
                "sleep(interval)",
                "run, then asyncio.sleep(interval)",
            ),
        ],
        run_bound: |p| num(p, "cancel_at_ms") + num(p, "job_ms"),
    },
    Twin {
        demo: "graceful-shutdown",
        file: "graceful-shutdown.py",
        source: include_str!("../../../twins/graceful-shutdown.py"),
        variants: &[same(
            "cancellation-token",
            "Event",
            "an asyncio.Event as the signal, start_server, asyncio.wait(timeout=grace) then \
             cancel (real clock)",
        )],
        run_bound: |p| num(p, "shutdown_at_ms") + num(p, "grace_ms") + num(p, "flush_every_ms"),
    },
    Twin {
        demo: "pipeline",
        file: "pipeline.py",
        source: include_str!("../../../twins/pipeline.py"),
        variants: &[same(
            "mpsc",
            "Queue",
            "asyncio.Queue(maxsize=capacity) shared by the workers, a None per worker to end \
             (real clock)",
        )],
        run_bound: |p| num(p, "items") * num(p, "work_ms"),
    },
    Twin {
        demo: "chat",
        file: "chat.py",
        source: include_str!("../../../twins/chat.py"),
        variants: &[same(
            "broadcast",
            "streams",
            "asyncio streams and start_server; per member a bounded asyncio.Queue and a sender \
             task, the socket's only writer, awaiting drain(); a full queue drops its oldest \
             message and the member is told (real clock)",
        )],
        // Each client's reads time out after 10 s of silence.
        run_bound: |p| {
            num(p, "messages") * (num(p, "send_every_ms") + num(p, "slow_read_ms")) + 10_000.0
        },
    },
];

fn get<'a>(p: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    p.get(name)
}

/// A number parameter, in its own unit (ms for durations); 0 when absent.
fn num(p: &serde_json::Value, name: &str) -> f64 {
    get(p, name)
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(0.0)
}

fn list(p: &serde_json::Value, name: &str) -> Vec<f64> {
    get(p, name)
        .and_then(serde_json::Value::as_array)
        .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
        .unwrap_or_default()
}

fn texts(p: &serde_json::Value, name: &str) -> Vec<String> {
    get(p, name)
        .and_then(serde_json::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn sum(p: &serde_json::Value, name: &str) -> f64 {
    list(p, name).iter().sum()
}

fn max(p: &serde_json::Value, name: &str) -> f64 {
    list(p, name).into_iter().fold(0.0, f64::max)
}

impl Twin {
    /// How long a real-clock run of every variant may take at most, before the margin.
    pub(super) fn real_run_bound(&self, params: &serde_json::Value, variants: usize) -> Duration {
        let ms = (self.run_bound)(params).max(0.0) * variants.max(1) as f64;
        Duration::from_secs_f64((ms / 1000.0).min(24.0 * 3600.0))
    }
}
