//! The tracer on its own: steps, outcomes, warnings, deadlocks, parks, wake causes, the event
//! limit, eager tasks, runs by hand, the interpreter.

use asyncdojo::demo::timeline::WakeCause;

use super::*;

/// Run a Python program under the tracer, as asyncdojo does, and return its run document.
pub(super) fn trace(
    py: &Python,
    program: &str,
    args: serde_json::Value,
) -> (serde_json::Value, String) {
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

/// The first run of a document `trace` returned, read as asyncdojo reads it (strictly).
pub(super) fn timeline(doc: &serde_json::Value) -> asyncdojo::demo::TimelineSnapshot {
    let doc = asyncdojo::demo::document::Document::from_json(&doc.to_string())
        .unwrap_or_else(|e| panic!("{e}: {doc}"));
    doc.runs.into_iter().next().unwrap().into_timeline()
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
        let variants: Vec<&str> = super::real_clock::shared_variants_on(twin.demo, clock);
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

const PARKS: &str = r#"
import asyncio
import dojo


async def sleeper():
    await asyncio.sleep(1)  # sleeper parks


async def getter(queue):
    return await queue.get()  # getter parks


async def waiter(event):
    await event.wait()  # waiter parks


async def holder(semaphore):
    async with semaphore:  # holder parks
        await asyncio.sleep(0.5)  # holder works


async def joiner(task):
    await task  # joiner parks


async def gatherer():
    await asyncio.gather(asyncio.sleep(0.1), asyncio.sleep(0.2))  # gatherer parks


async def inner():
    await asyncio.sleep(0.3)  # inner parks


async def outer():
    await dojo.lane("inner", inner())  # outer parks


async def spin():
    for _ in range(5):
        await asyncio.sleep(0)  # spin parks


async def main(variant="parks"):
    queue, event, semaphore = asyncio.Queue(), asyncio.Event(), asyncio.Semaphore(0)
    first = asyncio.create_task(sleeper(), name="sleeper")
    tasks = [
        first,
        asyncio.create_task(getter(queue), name="getter"),
        asyncio.create_task(waiter(event), name="waiter"),
        asyncio.create_task(holder(semaphore), name="holder"),
        asyncio.create_task(joiner(first), name="joiner"),
        asyncio.create_task(gatherer(), name="gatherer"),
        asyncio.create_task(outer(), name="outer"),
        asyncio.create_task(spin(), name="spin"),
    ]
    await asyncio.sleep(0.05)
    queue.put_nowait(1)
    event.set()
    semaphore.release()
    await asyncio.gather(*tasks)


if __name__ == "__main__":
    dojo.run(main)
"#;

/// After a step that leaves a task pending, its park is the line of its innermost await in the
/// program, and what it waits in there when that is asyncio's; a lane awaited in place has its
/// own. A task parked at the same await step after step is listed once.
#[test]
fn a_park_is_the_innermost_await_and_what_it_waits_in() {
    let Some(py) = python() else { return };
    let (doc, _) = trace(py, PARKS, serde_json::json!({}));
    let tl = timeline(&doc);
    let line = |text: &str| PARKS.lines().position(|l| l.contains(text)).unwrap() as u32 + 1;
    let parks = |name: &str| -> Vec<(u32, Option<&str>)> {
        let id = tl.task(name).unwrap().id;
        tl.parks
            .iter()
            .filter(|p| p.task == id)
            .map(|p| (p.line, p.within.as_deref()))
            .collect()
    };
    let sleep = Some("asyncio.sleep");
    assert_eq!(parks("sleeper"), [(line("# sleeper parks"), sleep)]);
    assert_eq!(
        parks("getter"),
        [(line("# getter parks"), Some("asyncio.Queue.get"))]
    );
    assert_eq!(
        parks("waiter"),
        [(line("# waiter parks"), Some("asyncio.Event.wait"))]
    );
    assert_eq!(
        parks("holder"),
        [
            (line("# holder parks"), Some("asyncio.Semaphore.acquire")),
            (line("# holder works"), sleep)
        ]
    );
    assert_eq!(
        parks("joiner"),
        [(line("# joiner parks"), Some("asyncio.Task"))]
    );
    assert_eq!(
        parks("gatherer"),
        [(line("# gatherer parks"), Some("asyncio.gather"))]
    );
    assert_eq!(parks("outer"), [(line("# outer parks"), None)]);
    assert_eq!(parks("inner"), [(line("# inner parks"), sleep)]);
    // Five steps parked at the same await: one park, at the end of the first.
    assert_eq!(tl.task("spin").unwrap().polls.len(), 6);
    assert_eq!(parks("spin"), [(line("# spin parks"), sleep)]);
    assert!(tl.parks.windows(2).all(|p| p[0].t_ms <= p[1].t_ms));
    // The lane in place is woken with the task that steps it: inner first, then outer.
    let woken_at_300: Vec<&str> = tl
        .wakes
        .iter()
        .filter(|w| w.t_ms == 300.0)
        .map(|w| tl.tasks[w.task as usize - 1].name.as_str())
        .collect();
    assert_eq!(woken_at_300, ["inner", "outer"]);
}

const THREAD_CALL: &str = r#"
import asyncio
import time
import dojo


def slow(ms):
    time.sleep(ms / 1000)  # real time, in a worker thread
    return "done"


async def threaded(executor):
    loop = asyncio.get_running_loop()
    if executor:
        await loop.run_in_executor(None, slow, 50)
    else:
        await asyncio.to_thread(slow, 50)
    dojo.mark("thread returned")


async def ticker():
    await asyncio.sleep(0.001)
    dojo.mark("tick")


async def main(variant="to-thread"):
    async with asyncio.TaskGroup() as tg:
        tg.create_task(threaded(variant == "executor"), name="threaded")
        tg.create_task(ticker(), name="ticker")


if __name__ == "__main__":
    dojo.run(main, variants=("to-thread", "executor"))
"#;

/// While a call runs in a thread, the virtual clock stands still and the loop waits for it, as
/// tokio's paused clock does for `spawn_blocking`: the thread's 50 real ms take no virtual time,
/// and the ticker's 1 ms timer, due meanwhile, fires after the thread's result, not before it.
#[test]
fn the_virtual_clock_waits_for_a_call_run_in_a_thread() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let args = serde_json::json!({"variants": ["to-thread", "executor"]});
    let (doc, stderr) = trace(py, THREAD_CALL, args);
    assert!(!stderr.contains("dojo:"), "{stderr}");
    for run in doc["runs"].as_array().unwrap() {
        let marks: Vec<(f64, &str)> = run["marks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["t_ms"].as_f64().unwrap(), m["label"].as_str().unwrap()))
            .collect();
        assert_eq!(
            marks,
            [(0.0, "thread returned"), (1.0, "tick")],
            "{}",
            run["variant"]
        );
    }
}

/// A pool of 3 threads timed on the virtual clock, 7 jobs of 250 ms, a ticker every 60 ms; the
/// loop's thread takes the pool's lock 3 ms late, which widens the window between its first look
/// at the wake-up pipe and its count of held jobs.
const POOL_RACE: &str = r#"
import asyncio
import concurrent.futures
import threading
import time

import dojo
from dojo import core


class TakenLateByTheLoop:
    def __init__(self):
        self._lock = threading.Lock()
        self._loop_thread = threading.get_ident()

    def __enter__(self):
        if threading.get_ident() == self._loop_thread:
            time.sleep(0.003)
        self._lock.acquire()

    def __exit__(self, *exc):
        self._lock.release()


_made = core.VirtualPool.__init__


def _made_late(self, clock):
    _made(self, clock)
    self.lock = TakenLateByTheLoop()


core.VirtualPool.__init__ = _made_late


async def job():
    await asyncio.to_thread(dojo.block, 250)


async def ticker(done):
    while not done.is_set():
        await asyncio.sleep(0.06)


async def main(variant="pool"):
    loop = asyncio.get_running_loop()
    loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(max_workers=3))
    done = asyncio.Event()
    ticking = asyncio.create_task(ticker(done), name="ticker")
    async with asyncio.TaskGroup() as tg:
        for k in range(1, 8):
            tg.create_task(job(), name=f"job {k}")
    done.set()
    await ticking


dojo.run(main, time_threads=True)
"#;

/// A worker that finishes a job hands its result to the loop before it takes the next job and
/// holds: the loop must read that result at the job's instant, before it moves the clock to the
/// next tick because every thread is held again (a job ended a tick late, at 300 ms, before).
#[test]
fn a_timed_pools_jobs_end_at_their_instant_however_late_the_loop_looks() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let (doc, stderr) = trace(py, POOL_RACE, serde_json::json!({}));
    assert!(!stderr.contains("dojo:"), "{stderr}");
    let run = &doc["runs"][0];
    let ends: Vec<f64> = (1..=7)
        .map(|k| {
            task(run, &format!("job {k}"))["finished_ms"]
                .as_f64()
                .unwrap()
        })
        .collect();
    assert_eq!(ends, [250.0, 250.0, 250.0, 500.0, 500.0, 500.0, 750.0]);
}

const CAUSES: &str = r#"
import asyncio
import socket
import threading
import time
import dojo


async def reader(sock):
    return await asyncio.get_running_loop().sock_recv(sock, 1)


async def threaded():
    await asyncio.to_thread(time.sleep, 0.001)


async def poked(future):
    await future


async def forever():
    await asyncio.Event().wait()


async def main(variant="causes"):
    loop = asyncio.get_running_loop()
    a, b = socket.socketpair()
    a.setblocking(False)
    future = loop.create_future()
    tasks = [
        asyncio.create_task(reader(a), name="reader"),
        asyncio.create_task(threaded(), name="threaded"),
        asyncio.create_task(poked(future), name="poked"),
    ]
    asyncio.create_task(forever(), name="left running")
    await asyncio.sleep(0)
    b.send(b"x")
    threading.Thread(target=loop.call_soon_threadsafe, args=(future.set_result, 1)).start()
    await asyncio.gather(*tasks)
    a.close()
    b.close()


if __name__ == "__main__":
    dojo.run(main)
"#;

/// The selector wakes a socket's reader (io); a worker thread's result and a call from another
/// thread wake as `thread`; what main leaves running is cancelled on main's behalf when it ends.
#[test]
fn io_thread_and_the_runs_end_wake_with_their_causes() {
    let Some(py) = python() else { return };
    let (doc, stderr) = trace(py, CAUSES, serde_json::json!({}));
    assert!(!stderr.contains("dojo:"), "{stderr}");
    let tl = timeline(&doc);
    let last_wake = |name: &str| {
        let id = tl.task(name).unwrap().id;
        tl.wakes
            .iter()
            .rev()
            .find(|w| w.task == id)
            .unwrap()
            .clone()
    };
    assert_eq!(last_wake("reader").cause, WakeCause::Io);
    assert_eq!(last_wake("threaded").cause, WakeCause::Thread);
    assert_eq!(last_wake("poked").cause, WakeCause::Thread);
    let left = last_wake("left running");
    assert_eq!(
        (left.cause, left.by, left.line),
        (WakeCause::Task, Some(1), None)
    );
    assert_eq!(tl.task("left running").unwrap().outcome, Outcome::Cancelled);
}

/// A run keeps at most EVENT_LIMIT polls and wakes; the rest are counted in `events_dropped`,
/// and the document still reads.
#[test]
fn polls_and_wakes_past_the_limit_are_counted_not_kept() {
    let Some(py) = python() else { return };
    let program = "import asyncio\nimport dojo\nimport dojo.core\n\ndojo.core.EVENT_LIMIT = 100\n\n\n\
                   async def spin():\n    for _ in range(500):\n        await asyncio.sleep(0)\n\n\n\
                   async def main(variant='busy'):\n    await asyncio.create_task(spin(), \
                   name='spin')\n\n\nif __name__ == '__main__':\n    dojo.run(main)\n";
    let (doc, _) = trace(py, program, serde_json::json!({}));
    let tl = timeline(&doc);
    let polls: usize = tl.tasks.iter().map(|t| t.polls.len()).sum();
    assert_eq!(polls + tl.wakes.len(), 100);
    // main: 2 polls; spin: 501 polls; wakes: spin's spawn, 500 self wakes, main's.
    assert_eq!(
        tl.metrics["events_dropped"],
        serde_json::json!(2 + 501 + 502 - 100)
    );
    // Finishes are always kept.
    assert!(tl.tasks.iter().all(|t| t.finished_ms.is_some()));
}

/// The Pythons ≥ 3.12 the tests can find (pyenv's), for what only they have.
fn pythons_from_3_12() -> Vec<Python> {
    let Some(root) = std::env::var_os("PYENV_ROOT").or_else(|| {
        std::env::var_os("HOME").map(|h| Path::new(&h).join(".pyenv").into_os_string())
    }) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(Path::new(&root).join("versions")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| {
            let v = e.file_name().to_string_lossy().into_owned();
            v.starts_with("3.12.") || v.starts_with("3.13.") || v.starts_with("3.14.")
        })
        .map(|e| e.path().join("bin").join("python3"))
        .filter(|p| p.exists())
        .map(|p| Python::choose(Some(&p)))
        .collect()
}

const EAGER: &str = r#"
import asyncio
import dojo


async def quick():
    return "at once"


async def slow():
    await asyncio.sleep(0.1)
    return "later"


async def main(variant="eager"):
    asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
    async with asyncio.TaskGroup() as tg:
        tg.create_task(quick(), name="quick")
        tg.create_task(slow(), name="slow")
    # Finished within its eager start: a done-callback added now is scheduled at once.
    again = asyncio.create_task(quick(), name="quick again")
    again.add_done_callback(lambda task: dojo.mark("done at once"))
    await asyncio.sleep(0)


if __name__ == "__main__":
    dojo.run(main)
"#;

/// Eager tasks (3.12+): the program's task factory makes the Tasks, each still gets its lane;
/// its spawn wake comes right after its spawn and its first step runs at once, inside the
/// creator's; one that finishes in that step is no trouble (3.12.1's `get_coro()` crashes the
/// interpreter on it, which a done-callback added to it then would reach).
#[test]
fn eager_tasks_get_lanes_and_spawn_wakes() {
    let pythons = pythons_from_3_12();
    if pythons.is_empty() {
        eprintln!("no Python 3.12 or later found under pyenv: eager tasks not tested");
        return;
    }
    for py in &pythons {
        let (doc, stderr) = trace(py, EAGER, serde_json::json!({}));
        assert!(!stderr.contains("dojo:"), "{stderr}");
        let tl = timeline(&doc);
        let main_first = tl.task("main").unwrap().polls[0];
        for name in ["quick", "slow"] {
            let t = tl.task(name).unwrap();
            let spawn = t.spawned_seq().unwrap();
            let wake = tl.wakes.iter().find(|w| w.task == t.id).unwrap();
            assert_eq!(
                (wake.seq, wake.cause),
                (spawn + 1, WakeCause::Spawn),
                "{name}"
            );
            assert_eq!(t.poll_seq(0), Some(spawn + 2), "{name}: stepped at once");
            assert!(t.polls[0].0 >= main_first.0 && t.polls[0].1 <= main_first.1);
        }
        assert_eq!(tl.task("quick").unwrap().polls.len(), 1);
        assert_eq!(tl.task("slow").unwrap().finished_ms, Some(100.0));
        let main_woken: Vec<_> = tl.wakes.iter().filter(|w| w.task == 1).collect();
        assert_eq!(main_woken.len(), 2);
        assert_eq!(main_woken[0].by, Some(tl.task("slow").unwrap().id));
        assert_eq!(main_woken[1].cause, WakeCause::SelfWake);
        assert!(tl.marks.iter().any(|m| m.label == "done at once"));
    }
}
