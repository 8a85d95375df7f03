//! The twins built into the binary: which demo each one twins, how its variants map onto asyncio,
//! and how long a real-clock run of it may take.

use std::time::Duration;

use super::Mapping::{Analogue, Missing, Same};
use super::{Twin, TwinVariant};
use crate::demo::params::{ParamVal, Params};

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
        run_bound: |p| p.sum("latencies_ms"),
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
            let (tasks, steps) = (p.num("tasks")?, p.num("steps")?);
            Ok(tasks * steps * p.num("work_ms")? + steps * p.num("wait_ms")?)
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
        run_bound: |p| Ok(p.num("delay_ms")? + 2.0 * p.num("work_ms")?),
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
        run_bound: |p| Ok(p.num("work_ms")? + p.num("main_ms")? + p.num("abort_after_ms")?),
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
        run_bound: |p| Ok(p.num("tasks")? * p.num("work_ms")?),
    },
    Twin {
        demo: "http-fanout",
        file: "http-fanout.py",
        source: include_str!("../../../twins/http-fanout.py"),
        variants: &[
            same(
                "sequential",
                "await each",
                "await each GET in turn over asyncio streams: one connection, kept alive \
                 (real clock)",
            ),
            same(
                "join-all",
                "gather",
                "asyncio.gather over every GET: nothing bounds them, so each opens its own \
                 connection (real clock)",
            ),
            same(
                "semaphore",
                "Semaphore",
                "a Task per GET from the start; an asyncio.Semaphore(limit) lets `limit` of \
                 them send (real clock)",
            ),
            same(
                "buffer-unordered",
                "asyncio.wait",
                "a GET is created only when one of `limit` slots is free, the next one after \
                 asyncio.wait(FIRST_COMPLETED) (real clock)",
            ),
        ],
        // The requests stop at the demo's 20 s budget; then the pool and server close.
        run_bound: |p| Ok((p.num("requests")? * p.num("latency_ms")?).min(20_000.0) + 2_000.0),
    },
    Twin {
        demo: "gather-errors",
        file: "gather-errors.py",
        source: include_str!("../../../twins/gather-errors.py"),
        variants: &[
            TwinVariant {
                name: "try-join-all",
                mapping: Analogue {
                    asyncio: "asyncio.gather, then cancel() every task on its first exception: \
                              cancel() only asks, so the others are still running when the \
                              caller returns and stop at their next step, where try_join_all \
                              drops its futures inside the caller before it returns",
                    short: "gather + cancel",
                },
            },
            same(
                "join-all",
                "return_exceptions",
                "asyncio.gather(..., return_exceptions=True): waits for every child and returns \
                 the exceptions as values (each coroutine becomes a Task; join_all polls them in \
                 one task)",
            ),
            same(
                "join-set-abort",
                "TaskGroup",
                "asyncio.TaskGroup: the first exception cancels the other children and waits for \
                 them, then the group raises an ExceptionGroup, caught with except*",
            ),
            same(
                "detached",
                "gather",
                "plain asyncio.gather: the first exception reaches the caller, and the other \
                 children run on after it has returned",
            ),
        ],
        run_bound: |p| Ok(p.num("fail_ms")?.max(p.max("latencies_ms")?)),
    },
    Twin {
        demo: "connection-pool",
        file: "connection-pool.py",
        source: include_str!("../../../twins/connection-pool.py"),
        variants: &[same(
            "sqlx-pool",
            "sqlite3 + to_thread",
            "a pool with sqlx's rules written over sqlite3 connections, each call on a worker \
             thread (asyncio.to_thread), on a temporary SQLite file in WAL mode (real clock)",
        )],
        // Every slow read one after another, twice over for a loaded machine, plus a timed-out
        // wait and the idle connections closing.
        run_bound: |p| {
            Ok(2.0 * p.num("queries")? * p.num("query_ms")?
                + p.num("acquire_timeout_ms")?
                + 2.0 * p.num("idle_timeout_ms")?
                + 2000.0)
        },
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
        run_bound: |p| Ok(p.max("latencies_ms")? + p.num("timeout_ms")?),
    },
    Twin {
        demo: "select-loop",
        file: "select-loop.py",
        source: include_str!("../../../twins/select-loop.py"),
        variants: &[
            same(
                "recreated",
                "asyncio.timeout",
                "a new read each round under asyncio.timeout_at(next tick): the tick cancels it, \
                 and the half item in its locals goes with it",
            ),
            TwinVariant {
                name: "pinned",
                mapping: Analogue {
                    asyncio: "the read is a Task started once, awaited with asyncio.wait(timeout=) \
                              each round: wait never cancels it (a lane per read, where tokio \
                              polls one future inside the reader)",
                    short: "Task + asyncio.wait",
                },
            },
            same(
                "buffer-outside",
                "buffer + timeout",
                "the read appends to a bytearray outside the loop, under asyncio.timeout_at: \
                 cancelled half-way, it loses nothing",
            ),
        ],
        run_bound: |p| {
            Ok(p.num("items")? * p.num("every_ms")? + p.num("item_ms")? + p.num("tick_ms")?)
        },
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
            let scripted = p
                .texts("calls")?
                .iter()
                .map(|c| c.split(':').filter_map(|n| n.parse::<f64>().ok()).sum())
                .fold(0.0, f64::max);
            Ok(scripted + 100.0 * p.num("random_calls")?)
        },
    },
    Twin {
        demo: "crawler",
        file: "crawler.py",
        source: include_str!("../../../twins/crawler.py"),
        variants: &[
            same(
                "sequential",
                "one loop",
                "the guide's loop over asyncio streams: take a URL, await its page, queue its \
                 links (real clock)",
            ),
            same(
                "workers",
                "worker Tasks",
                "`workers` Tasks take URLs from one deque, waiting on an asyncio.Condition \
                 until a URL is queued or nothing is left (real clock)",
            ),
        ],
        // Each page takes the latency and a connection; the crawl stops at the 20 s budget.
        run_bound: |p| {
            let pages = p
                .num("max_pages")?
                .min(p.num("pages")? * (1.0 + p.num("links")?));
            Ok((pages * (p.num("latency_ms")? + 10.0)).min(20_000.0) + 2_000.0)
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
        run_bound: |p| Ok(p.num("requests")? * (p.num("arrival_gap_ms")? + p.num("window_ms")?)),
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
            let (limit, op) = (p.num("attempt_timeout_ms")?, p.num("op_ms")?);
            let attempt = if p.num("hangs")? > 0.0 {
                limit
            } else {
                op.min(limit)
            };
            Ok(p.num("max_attempts")? * (attempt + p.num("max_delay_ms")?))
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
        run_bound: |p| Ok(p.num("ticks")? * p.num("tick_ms")? + p.num("block_ms")?),
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
        run_bound: |p| Ok(p.num("run_ms")? + p.num("heavy_ms")? + p.num("tick_ms")?),
    },
    Twin {
        demo: "console-lab",
        file: "console-lab.py",
        source: include_str!("../../../twins/console-lab.py"),
        variants: &[TwinVariant {
            name: "inspect",
            mapping: Analogue {
                asyncio: "the same five tasks under asyncio's debug mode, which logs slow steps \
                          and says where a never-awaited coroutine or a never-retrieved task \
                          exception was made; it has no self-wake or lost-waker lint",
                short: "debug mode",
            },
        }],
        run_bound: |p| Ok(p.num("run_ms")? + p.num("block_ms")?),
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
        run_bound: |p| Ok(p.num("cancel_at_ms")? + p.num("job_ms")?),
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
        run_bound: |p| {
            Ok(p.num("shutdown_at_ms")? + p.num("grace_ms")? + p.num("flush_every_ms")?)
        },
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
        run_bound: |p| Ok(p.num("items")? * p.num("work_ms")?),
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
            Ok(p.num("messages")? * (p.num("send_every_ms")? + p.num("slow_read_ms")?) + 10_000.0)
        },
    },
    Twin {
        demo: "downloader",
        file: "downloader.py",
        source: include_str!("../../../twins/downloader.py"),
        variants: &[
            same(
                "shared-client",
                "one Client",
                "HTTP/1.1 over asyncio streams (open_connection), one Client whose finished \
                 connections are kept for the next request; a Semaphore, a Task per file, \
                 NAME.part deleted unless kept (real clock)",
            ),
            same(
                "client-per-file",
                "Client per file",
                "the same, with a new Client per file that keeps no connection: a new TCP \
                 connection for every file (real clock)",
            ),
        ],
        // Every batch of downloads one after another, twice over for a loaded machine, plus
        // the twin's server making the files' bytes in pure Python (about 0.1 ms a KiB).
        run_bound: |p| {
            let batches = (p.num("files")? / p.num("concurrency")?).ceil();
            let pieces = (p.num("size_kb")? / p.num("chunk_kb")?).ceil();
            Ok(2.0 * batches * pieces * p.num("chunk_ms")?
                + p.num("files")? * p.num("size_kb")?
                + 2000.0)
        },
    },
    Twin {
        demo: "gateway",
        file: "gateway.py",
        source: include_str!("../../../twins/gateway.py"),
        variants: &[
            same(
                "round-robin",
                "round-robin",
                "the gateway and its instances on asyncio.start_server, forwarding with an \
                 HTTP/1.1 client over asyncio streams; health checks on asyncio.timeout, the same \
                 token bucket on the loop's clock (real clock)",
            ),
            TwinVariant {
                name: "hash-path",
                mapping: Analogue {
                    asyncio: "the same gateway choosing hash(path) % n with zlib.crc32 (Python's \
                              own str hash is salted per process): each path sticks to one \
                              instance as with Rust's DefaultHasher, but not to the same one",
                    short: "crc32(path) % n",
                },
            },
        ],
        // The load's requests one interval apart, each answered within the latency (twice over
        // for a loaded machine), then the health checks' last round.
        run_bound: |p| {
            Ok(2.0
                * (p.num("requests")? * p.num("interval_ms")?
                    + p.num("latency_ms")?
                    + p.num("health_ms")?)
                + 2000.0)
        },
    },
    Twin {
        demo: "slow-reader",
        file: "slow-reader.py",
        source: include_str!("../../../twins/slow-reader.py"),
        variants: &[
            TwinVariant {
                name: "no-drain",
                mapping: Analogue {
                    asyncio: "writer.write only, never drain: the transport keeps what the socket \
                              does not take in its buffer and sends it from the event loop, where \
                              tokio, whose TcpStream has no buffer, needs an unbounded channel and \
                              a socket writer task (real clock)",
                    short: "write",
                },
            },
            same(
                "drain",
                "write + drain",
                "writer.write, then await writer.drain(): it waits above the transport's high \
                 water mark (64 KiB), where write_all waits for every chunk (real clock)",
            ),
        ],
        // The reader's reads one pause apart, twice over for a loaded machine.
        run_bound: |p| {
            let reads = (p.num("chunks")? * p.num("chunk_kb")? / p.num("read_kb")?).ceil();
            Ok(2.0 * reads * (p.num("read_every_ms")? + 1.0) + 2000.0)
        },
    },
    Twin {
        demo: "request-ids",
        file: "request-ids.py",
        source: include_str!("../../../twins/request-ids.py"),
        variants: &[
            same(
                "task-local",
                "ContextVar",
                "a ContextVar set in each request's Task: create_task copies the context into \
                 the child by itself (tokio::spawn starts with no task-locals: the demo scopes \
                 the child again by hand), and to_thread runs the call in a copy of it (the \
                 blocking closure is given a scope of its own)",
            ),
            same(
                "executor",
                "run_in_executor",
                "the same ContextVar, but the thread call goes through loop.run_in_executor, \
                 which runs it in the worker thread's own context: it reads the default, None",
            ),
            same(
                "global",
                "module global",
                "a module global that every request assigns: each reads whoever assigned last",
            ),
        ],
        run_bound: |p| {
            Ok(
                (p.num("requests")? - 1.0).max(0.0) * p.num("arrival_gap_ms")?
                    + 2.0 * p.num("work_ms")?,
            )
        },
    },
    Twin {
        demo: "executor-pool",
        file: "executor-pool.py",
        source: include_str!("../../../twins/executor-pool.py"),
        variants: &[
            same(
                "starved",
                "to_thread",
                "asyncio.to_thread on a default executor of `workers` threads \
                 (loop.set_default_executor(ThreadPoolExecutor(workers)))",
            ),
            same(
                "sized",
                "to_thread",
                "asyncio.to_thread on a default executor of `jobs` threads",
            ),
        ],
        run_bound: |p| {
            let rounds = (p.num("jobs")? / p.num("workers")?.max(1.0)).ceil();
            Ok(rounds * p.num("job_ms")? + p.num("tick_ms")?)
        },
    },
];

/// A run's parameters as a twin's run bound reads them: by name and kind. A name the demo does
/// not have, or a value of another kind, is an error rather than 0, so a typo cannot silently
/// shorten a deadline.
pub(super) struct TwinParams<'a> {
    demo: &'static str,
    params: &'a Params,
}

/// A parameter a twin's entry in the table reads wrongly: a bug in asyncdojo's twin table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamRead {
    #[error(
        "the asyncio twin of `{demo}` reads parameter `{name}`, which the demo does not have \
         (its parameters: {known})"
    )]
    Missing {
        demo: &'static str,
        name: &'static str,
        known: String,
    },
    #[error("the asyncio twin of `{demo}` reads parameter `{name}` as {wanted}, but it is {found}")]
    Mistyped {
        demo: &'static str,
        name: &'static str,
        wanted: &'static str,
        found: &'static str,
    },
}

impl<'a> TwinParams<'a> {
    pub(super) fn new(demo: &'static str, params: &'a Params) -> TwinParams<'a> {
        TwinParams { demo, params }
    }

    fn get(&self, name: &'static str) -> Result<&'a ParamVal, ParamRead> {
        self.params.get(name).ok_or_else(|| ParamRead::Missing {
            demo: self.demo,
            name,
            known: self
                .params
                .iter()
                .map(|(n, _)| n)
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    fn mistyped(&self, name: &'static str, wanted: &'static str, v: &ParamVal) -> ParamRead {
        ParamRead::Mistyped {
            demo: self.demo,
            name,
            wanted,
            found: match v {
                ParamVal::Int(_) => "a whole number",
                ParamVal::Ms(_) => "a duration",
                ParamVal::MsList(_) => "a list of durations",
                ParamVal::Text(_) => "text",
                ParamVal::TextList(_) => "a list of text",
            },
        }
    }

    /// A whole number or a duration (in ms), as a number.
    pub(super) fn num(&self, name: &'static str) -> Result<f64, ParamRead> {
        match self.get(name)? {
            ParamVal::Int(n) => Ok(*n as f64),
            ParamVal::Ms(n) => Ok(*n as f64),
            other => Err(self.mistyped(name, "a number", other)),
        }
    }

    /// A list of durations, in ms.
    pub(super) fn ms_list(&self, name: &'static str) -> Result<&'a [u64], ParamRead> {
        match self.get(name)? {
            ParamVal::MsList(v) => Ok(v),
            other => Err(self.mistyped(name, "a list of durations", other)),
        }
    }

    pub(super) fn texts(&self, name: &'static str) -> Result<&'a [String], ParamRead> {
        match self.get(name)? {
            ParamVal::TextList(v) => Ok(v),
            other => Err(self.mistyped(name, "a list of text", other)),
        }
    }

    fn sum(&self, name: &'static str) -> Result<f64, ParamRead> {
        Ok(self.ms_list(name)?.iter().map(|&n| n as f64).sum())
    }

    fn max(&self, name: &'static str) -> Result<f64, ParamRead> {
        Ok(self
            .ms_list(name)?
            .iter()
            .map(|&n| n as f64)
            .fold(0.0, f64::max))
    }
}

impl Twin {
    /// How long a real-clock run of every variant may take at most, before the margin.
    pub(super) fn real_run_bound(
        &self,
        params: &Params,
        variants: usize,
    ) -> Result<Duration, ParamRead> {
        let ms = (self.run_bound)(&TwinParams::new(self.demo, params))?;
        let ms = ms.max(0.0) * variants.max(1) as f64;
        Ok(Duration::from_secs_f64((ms / 1000.0).min(24.0 * 3600.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::find;

    /// Every name a twin's bound reads is one of its demo's parameters, of the kind it reads.
    #[test]
    fn every_bound_reads_its_demos_parameters() {
        for twin in TWINS {
            let spec = find(twin.demo).expect("a demo").spec();
            let bound = twin.real_run_bound(&Params::defaults(spec), 1);
            assert!(bound.is_ok(), "{}: {}", twin.demo, bound.unwrap_err());
        }
    }

    #[test]
    fn a_misspelt_or_mistyped_parameter_is_an_error_naming_it() {
        let spec = find("gather").expect("gather").spec();
        let params = Params::defaults(spec);
        let p = TwinParams::new("gather", &params);
        let err = p.sum("latencies_mss").unwrap_err();
        assert!(matches!(
            err,
            ParamRead::Missing {
                name: "latencies_mss",
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            "the asyncio twin of `gather` reads parameter `latencies_mss`, which the demo does \
             not have (its parameters: latencies_ms)"
        );
        let err = p.num("latencies_ms").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the asyncio twin of `gather` reads parameter `latencies_ms` as a number, but it is \
             a list of durations"
        );
        assert_eq!(p.sum("latencies_ms"), Ok(600.0));
        // A table entry with a typo fails the run's bound instead of bounding it at 0 ms.
        let typo = Twin {
            run_bound: |p| Ok(p.sum("latencies_ms")? + p.num("timeout_sm")?),
            ..TWINS[0]
        };
        assert_eq!(typo.demo, "gather");
        let err = typo.real_run_bound(&params, 1).unwrap_err();
        assert!(err.to_string().contains("`timeout_sm`"), "{err}");
    }
}
