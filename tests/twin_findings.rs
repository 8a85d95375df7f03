//! What the expert read of the asyncio twins found (issue 21), each finding pinned: the zero
//! sleep that differs only on the paused clock, the deadline set's 61, a request called off
//! without a hand-made `CancelledError`, streams and servers waited for when closed, the rate
//! limiter re-checking after its sleep, the retry's per-attempt timeout, and the chat room's
//! bounded queue and sender per member.
//!
//! Like `tests/asyncio.rs`, a test that needs Python 3.11 or later passes with a message when
//! there is none, unless `CI` or `ASYNCDOJO_REQUIRE_PYTHON` is set: then it fails.

use std::collections::BTreeMap;
use std::process::Command;

use asyncdojo::demo::Clock;
use asyncdojo::demo::asyncio::{self, Python};
use asyncdojo::demo::runner::{self, RunRequest, VariantRun};
use asyncdojo::demo::timeline::{Outcome, SeriesValue};

/// The interpreter the tests use (see `asyncio::for_tests`).
fn python() -> Option<&'static Python> {
    asyncdojo::demo::asyncio::for_tests()
}

/// Real-clock runs measure time: the tests in this file take turns.
fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn request(demo: &str, variants: &[&str], set: &[&str], clock: Clock) -> RunRequest {
    let variants: Vec<String> = variants.iter().map(|v| v.to_string()).collect();
    let set: Vec<String> = set.iter().map(|s| s.to_string()).collect();
    RunRequest::build(demo, &variants, &set, clock).unwrap()
}

fn tokio_run(demo: &str, variant: &str, set: &[&str], clock: Clock) -> VariantRun {
    let report = runner::run_blocking(request(demo, &[variant], set, clock)).unwrap();
    let run = report.run(variant).unwrap().clone();
    assert_eq!(run.error, None, "{demo} {variant} {set:?} on tokio");
    run
}

fn twin_run(py: &Python, demo: &str, variant: &str, set: &[&str], clock: Clock) -> VariantRun {
    let twin = asyncio::run_twin(&request(demo, &[variant], set, clock), py).unwrap();
    let run = twin.report.run(variant).unwrap().clone();
    assert_eq!(run.error, None, "{demo} {variant} {set:?}: {}", twin.stderr);
    run
}

fn marks(run: &VariantRun) -> Vec<String> {
    run.timeline
        .marks
        .iter()
        .map(|m| m.label.to_string())
        .collect()
}

/// A run as conformance compares it: tasks (name, parent, outcome, times), marks, series,
/// metrics and the total; ids and polls left out.
type TaskView = (String, Option<String>, Outcome, f64, Option<f64>);
type View = (
    f64,
    Vec<TaskView>,
    Vec<(f64, Option<String>, String)>,
    BTreeMap<String, Vec<(f64, SeriesValue)>>,
    BTreeMap<String, Option<f64>>,
);

fn view(run: &VariantRun) -> View {
    let tl = &run.timeline;
    let name = |id: Option<u32>| {
        id.and_then(|id| tl.tasks.iter().find(|t| t.id == id))
            .map(|t| t.name.clone())
    };
    (
        run.total_ms,
        tl.tasks
            .iter()
            .map(|t| {
                let parent = name(t.parent);
                (
                    t.name.clone(),
                    parent,
                    t.outcome,
                    t.spawned_ms,
                    t.finished_ms,
                )
            })
            .collect(),
        tl.marks
            .iter()
            .map(|m| (m.t_ms, name(m.task), m.label.to_string()))
            .collect(),
        tl.series.clone(),
        tl.metrics
            .iter()
            .map(|(k, v)| (k.clone(), v.as_f64()))
            .collect(),
    )
}

/// Run `program` under the tracer beside the given twins, as asyncdojo runs a twin, and return
/// the first run of its document.
fn trace(py: &Python, program: &str, twins: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dojo.py"), asyncio::tracer_source()).unwrap();
    for demo in twins {
        let twin = asyncio::twin(demo).unwrap();
        std::fs::write(dir.path().join(twin.file), twin.source).unwrap();
    }
    let probe = dir.path().join("probe.py");
    std::fs::write(&probe, program).unwrap();
    let out = Command::new(&py.program)
        .args(["-I", "-S", "-B"])
        .arg(dir.path().join("dojo.py"))
        .arg(&probe)
        .arg("{}")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    let run = doc["runs"][0].clone();
    assert_eq!(run["error"], serde_json::Value::Null, "{stderr}");
    run
}

fn traced_task<'a>(run: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    run["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no task {name} in {run}"))
}

/// Imports a twin by its file name (twins are named like their demos, with a hyphen).
const IMPORT_TWIN: &str = r#"
import importlib.util
import os


def twin(file):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), file)
    spec = importlib.util.spec_from_file_location(file.removesuffix(".py").replace("-", "_"), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
"#;

// ---- Medium 2: a zero-length sleep differs only on the paused clock -------------------------

#[test]
fn a_zero_sleep_yields_on_both_runtimes_on_the_real_clock() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let set = &["latencies_ms=0,100,200,300"];
    // The virtual clock is tokio's paused clock: its zero sleep completes on the first poll.
    let t = tokio_run("gather", "join-all", set, Clock::Virtual);
    let a = twin_run(py, "gather", "join-all", set, Clock::Virtual);
    assert_eq!(t.timeline.metric("max_in_flight"), Some(3.0));
    assert_eq!(a.timeline.metric("max_in_flight"), Some(4.0));
    // On the real clock tokio's timer rounds the deadline up to the next millisecond: the zero
    // sleep waits for it, and request 1 is still in flight when the others start.
    let t = tokio_run("gather", "join-all", set, Clock::Real);
    let a = twin_run(py, "gather", "join-all", set, Clock::Real);
    assert_eq!(t.timeline.metric("max_in_flight"), Some(4.0));
    assert_eq!(a.timeline.metric("max_in_flight"), Some(4.0));
    let first = t.timeline.task("request 1").unwrap().finished_ms.unwrap();
    assert!(
        first > 0.0 && first < 15.0,
        "tokio's 0 ms request took {first} ms"
    );

    let set = &["work_ms=0", "main_ms=0", "abort_after_ms=0"];
    let child_first = ["child starts", "main's work done: join the child"];
    let t = tokio_run("spawn-vs-await", "spawn", set, Clock::Virtual);
    assert_eq!(
        marks(&t),
        ["main's work done: join the child", "child starts"]
    );
    let t = tokio_run("spawn-vs-await", "spawn", set, Clock::Real);
    let a = twin_run(py, "spawn-vs-await", "spawn", set, Clock::Real);
    assert_eq!(marks(&t), child_first);
    assert_eq!(marks(&a), child_first);
}

// ---- Low 12: the deadline set counts at most 61 on time -------------------------------------

fn latencies(n: usize, ms: u32) -> String {
    let all: Vec<String> = (0..n).map(|_| ms.to_string()).collect();
    format!("latencies_ms={}", all.join(","))
}

fn completed_and_timed_out(run: &VariantRun) -> (Option<f64>, Option<f64>) {
    let tl = &run.timeline;
    (tl.metric("completed"), tl.metric("timed_out"))
}

/// The demo's `yield_now` at the deadline lets the tasks due then finish until the
/// current-thread scheduler next checks its timers and I/O: after 61 polls (its event interval).
#[test]
fn tokio_s_deadline_set_counts_at_most_61_operations_due_at_the_deadline() {
    for (n, on_time) in [(60, 60), (61, 61), (62, 61), (200, 61)] {
        let ops = latencies(n, 250);
        let set = [ops.as_str(), "timeout_ms=250"];
        let run = tokio_run("timeouts", "deadline-set", &set, Clock::Virtual);
        let late = (n - on_time) as f64;
        assert_eq!(
            completed_and_timed_out(&run),
            (Some(on_time as f64), Some(late)),
            "{n} operations"
        );
        assert_eq!(run.timeline.count(Outcome::Cancelled), n - on_time);
        assert_eq!(run.total_ms, 250.0);
    }
}

#[test]
fn asyncio_s_deadline_set_cancels_every_operation_due_at_the_deadline() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let ops = latencies(200, 250);
    let set = [ops.as_str(), "timeout_ms=250"];
    let run = twin_run(py, "timeouts", "deadline-set", &set, Clock::Virtual);
    assert_eq!(completed_and_timed_out(&run), (Some(0.0), Some(200.0)));
    assert_eq!(run.timeline.count(Outcome::Cancelled), 200);
}

// ---- Low 7: a request called off is a failure of its own, not a hand-made CancelledError -----

const CALLED_OFF: &str = r#"
import asyncio
import dojo


class Unanswered(dojo.Cancelled):
    pass


async def hung_up():
    await asyncio.sleep(0.01)
    raise Unanswered("the server hung up")


async def by_hand():
    await asyncio.sleep(0.01)
    raise asyncio.CancelledError("the server hung up")


async def main(variant="probe"):
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(hung_up(), name="dedicated")
        dojo.mark("the failure disappeared")
    except* Unanswered:
        dojo.mark("the failure was reported")
    async with asyncio.TaskGroup() as tg:
        tg.create_task(by_hand(), name="by hand")
    dojo.mark("the failure disappeared")


if __name__ == "__main__":
    dojo.run(main)
"#;

#[test]
fn a_request_called_off_ends_cancelled_and_a_task_group_still_reports_it() {
    let Some(py) = python() else { return };
    let run = trace(py, CALLED_OFF, &[]);
    let labels: Vec<&str> = run["marks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["label"].as_str().unwrap())
        .collect();
    // dojo.Cancelled is an ordinary exception: the TaskGroup reports it. A CancelledError
    // raised by hand in a task nobody cancelled is taken for a cancellation and dropped.
    assert_eq!(
        labels,
        ["the failure was reported", "the failure disappeared"]
    );
    let dedicated = traced_task(&run, "dedicated");
    assert_eq!(dedicated["outcome"], "cancelled");
    assert_eq!(dedicated["detail"], "the server hung up");
    assert_eq!(traced_task(&run, "by hand")["outcome"], "cancelled");
}

#[test]
fn no_twin_raises_cancelled_error_by_hand() {
    for twin in asyncio::twins() {
        for (i, line) in twin.source.lines().enumerate() {
            assert!(
                !line.contains("raise asyncio.CancelledError"),
                "{}:{}: `{}`: raise a dojo.Cancelled subclass instead",
                twin.file,
                i + 1,
                line.trim()
            );
        }
    }
}

// ---- Low 8: what is closed is waited for ---------------------------------------------------

/// Every `writer.close()` and `server.close()` in a twin is followed, before the function ends,
/// by `await <same>.wait_closed()`.
#[test]
fn every_twin_waits_for_what_it_closes() {
    let mut closes = 0;
    for twin in asyncio::twins() {
        let lines: Vec<&str> = twin.source.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            for what in ["writer", "server"] {
                if !line.trim_start().starts_with(&format!("{what}.close()")) {
                    continue;
                }
                closes += 1;
                let waited = lines[i + 1..]
                    .iter()
                    .take_while(|l| {
                        let l = l.trim_start();
                        !l.starts_with("def ") && !l.starts_with("async def ")
                    })
                    .any(|l| l.contains(&format!("await {what}.wait_closed()")));
                assert!(
                    waited,
                    "{}:{}: {what}.close() is never waited for",
                    twin.file,
                    i + 1
                );
            }
        }
    }
    // pipeline, graceful-shutdown and chat: a helper each for streams, and their server.
    assert!(closes >= 6, "{closes} closes found");
}

// ---- Low 9: the rate limiter checks again after its sleep ----------------------------------

/// A loop whose clock resolution is 50 ms runs a timer up to 50 ms early: here the limiter's
/// 100 ms timer fires with the bystander's at 60 ms. Fair.acquire must sleep again.
const EARLY_TIMER: &str = r#"
import asyncio
import dojo

limiter = twin("rate-limiter.py")


async def bystander():
    await asyncio.sleep(0.06)


async def main(variant="early"):
    loop = asyncio.get_running_loop()
    loop._clock_resolution = 0.05
    one_per_100_ms = limiter.Fair(limiter.SlidingWindow(1, 100_000_000), 1)
    asyncio.create_task(bystander(), name="bystander")
    await one_per_100_ms.acquire()
    granted = await one_per_100_ms.acquire()
    dojo.metric("granted_ms", granted / 1e6)
    dojo.metric("returned_ms", (loop.time() - one_per_100_ms.epoch) * 1000)


if __name__ == "__main__":
    dojo.run(main)
"#;

#[test]
fn the_rate_limiter_never_grants_before_its_tick_when_a_timer_fires_early() {
    let Some(py) = python() else { return };
    let program = format!("{IMPORT_TWIN}\n{EARLY_TIMER}");
    let run = trace(py, &program, &["rate-limiter"]);
    assert_eq!(run["metrics"]["granted_ms"], 100.0);
    let returned = run["metrics"]["returned_ms"].as_f64().unwrap();
    assert!(
        returned >= 100.0,
        "granted at 100 ms, returned at {returned} ms"
    );
}

// ---- Low 10: the retry bounds every attempt ------------------------------------------------

#[test]
fn a_timed_out_attempt_is_retried_alike_on_both_runtimes() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let sets: [&[&str]; 3] = [
        &[
            "jitter=none",
            "failures=3",
            "hangs=1",
            "attempt_timeout_ms=250",
            "op_ms=10",
        ],
        &[
            "failures=0",
            "max_attempts=3",
            "op_ms=300",
            "attempt_timeout_ms=250",
        ],
        &[
            "jitter=equal",
            "seed=5",
            "failures=5",
            "hangs=2",
            "max_attempts=7",
            "op_ms=30",
            "attempt_timeout_ms=40",
        ],
    ];
    for set in sets {
        let t = tokio_run("retry-backoff", "exponential", set, Clock::Virtual);
        let a = twin_run(py, "retry-backoff", "exponential", set, Clock::Virtual);
        let attempt1 = t.timeline.task("attempt 1").unwrap();
        assert_eq!(attempt1.outcome, Outcome::Timeout, "{set:?}");
        assert!(t.timeline.task("attempt 2").is_some(), "{set:?}: retried");
        assert_eq!(
            view(&a),
            view(&t),
            "{set:?}: asyncio (left) vs tokio (right)"
        );
    }
    // An attempt answering exactly at its limit: on time for tokio, late for asyncio (the README's
    // "deadline hit exactly").
    let set = &["failures=0", "op_ms=250", "attempt_timeout_ms=250"];
    let t = tokio_run("retry-backoff", "exponential", set, Clock::Virtual);
    let a = twin_run(py, "retry-backoff", "exponential", set, Clock::Virtual);
    let first = |r: &VariantRun| r.timeline.task("attempt 1").unwrap().outcome;
    assert_eq!((first(&t), first(&a)), (Outcome::Ok, Outcome::Timeout));
}

// ---- Medium 8: the chat room's bounded queue and sender per member --------------------------

/// A member's sender behind a client that does not read: the room delivers five messages
/// without waiting, the full queue (2) drops the oldest, and the sender, once the client reads
/// again, says how many were lost before the next message, awaiting drain() after each.
const SLOW_MEMBER: &str = r#"
import asyncio
import dojo

chat = twin("chat.py")


class Client:
    """A StreamWriter whose client reads only once `reading` is set."""

    def __init__(self):
        self.transport, self.written, self.drains, self.closed = self, [], 0, False
        self.high, self.reading = None, asyncio.Event()

    def set_write_buffer_limits(self, high=None, low=None):
        self.high = high

    def write(self, data):
        self.written.append(data.decode())

    async def drain(self):
        self.drains += 1
        await self.reading.wait()

    def close(self):
        self.closed = True

    async def wait_closed(self):
        pass


async def main(variant="slow"):
    member = chat.Member("slow", 2, chat.Tally("lost"))
    client = Client()
    sender = asyncio.create_task(member.send(client, "JOINED\n"), name="sender")
    await asyncio.sleep(0.01)  # the sender wrote the greeting and waits for the client
    for n in range(1, 6):
        member.deliver(f"MSG talker {n} x\n")  # a plain call: the room never waits
    dojo.metric("queued", [line.split()[2] for line in list(member.queue._queue)])
    client.reading.set()
    await asyncio.sleep(0.01)
    member.leave()
    await sender
    dojo.metric("written", client.written)
    dojo.metric("drains", client.drains)
    dojo.metric("high", client.high)
    dojo.metric("closed", client.closed)


if __name__ == "__main__":
    dojo.run(main)
"#;

#[test]
fn a_slow_chat_member_loses_its_oldest_messages_and_is_told_before_the_next() {
    let Some(py) = python() else { return };
    let program = format!("{IMPORT_TWIN}\n{SLOW_MEMBER}");
    let run = trace(py, &program, &["chat"]);
    let m = &run["metrics"];
    assert_eq!(m["queued"], serde_json::json!(["4", "5"]));
    assert_eq!(
        m["written"],
        serde_json::json!([
            "JOINED\n",
            "LOST 3\n",
            "MSG talker 4 x\n",
            "MSG talker 5 x\n"
        ])
    );
    // The greeting and each message waited for the client; the transport buffers nothing
    // unwaited (drain's high-water mark at 0).
    assert_eq!(m["drains"], 3);
    assert_eq!(m["high"], 0);
    assert_eq!(m["closed"], true);
    assert_eq!(m["lost"], serde_json::json!({ "slow": 3 }));
    let sender = traced_task(&run, "sender");
    assert_eq!(sender["outcome"], "ok");
    assert_eq!(sender["detail"], "slow: 2 sent, 3 lost");
}

/// On both runtimes every connection's task has one child, its sender, and the slow client's
/// losses are marked on its sender's lane.
#[test]
fn every_chat_connection_has_its_sender_on_both_runtimes() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let t = tokio_run("chat", "broadcast", &[], Clock::Real);
    let a = twin_run(py, "chat", "broadcast", &[], Clock::Real);
    for (runtime, r) in [("tokio", &t), ("asyncio", &a)] {
        let tl = &r.timeline;
        let name = |id| {
            tl.tasks
                .iter()
                .find(|t| t.id == id)
                .map(|t| t.name.as_str())
        };
        let conns = tl
            .tasks
            .iter()
            .filter(|t| t.name.starts_with("conn ") && !t.name.ends_with(" sender"));
        assert_eq!(conns.clone().count(), 6, "{runtime}");
        for conn in conns {
            let children: Vec<&str> = tl
                .tasks
                .iter()
                .filter(|t| t.parent == Some(conn.id))
                .map(|t| t.name.as_str())
                .collect();
            assert_eq!(children, [format!("{} sender", conn.name)], "{runtime}");
        }
        let lagged: Vec<&str> = tl
            .marks
            .iter()
            .filter(|m| m.label.starts_with("slow lagged"))
            .filter_map(|m| m.task.and_then(name))
            .collect();
        assert!(
            !lagged.is_empty(),
            "{runtime}: the slow client lost nothing"
        );
        assert!(
            lagged.iter().all(|n| n.ends_with(" sender")),
            "{runtime}: {lagged:?}"
        );
        assert_eq!(tl.count(Outcome::Ok), tl.tasks.len(), "{runtime}");
    }
}
