//! What made each asyncio Task ready again: exact wake sequences on the virtual clock, and the
//! rules every twin's wakes keep (`twins/dojo/core.py`, `TracingLoop`).

use asyncdojo::demo::timeline::{TimelineSnapshot, WakeCause};

use super::*;

/// A wake as these tests read it: when, who was woken, why, and by whom.
type W = (f64, &'static str, WakeCause, Option<&'static str>);

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

/// The run's wakes in seq order, tasks by name.
fn wakes(tl: &TimelineSnapshot) -> Vec<W> {
    let name = |id| leak(&tl.tasks[id as usize - 1].name);
    tl.wakes
        .iter()
        .map(|w| (w.t_ms, name(w.task), w.cause, w.by.map(name)))
        .collect()
}

/// One variant of a twin on the virtual clock.
fn twin_run(py: &Python, demo: &str, variant: &str, set: &[&str]) -> TimelineSnapshot {
    let report = asyncio::run_twin(&request(demo, &[variant], set, Clock::Virtual), py).unwrap();
    assert!(report.succeeded(), "{demo} {variant}: {}", report.stderr);
    report.report.runs[0].timeline.clone()
}

/// The 1-based line of the twin's source that contains `text` (exactly one does).
fn line_of(demo: &str, text: &str) -> u32 {
    let source = asyncio::twin(demo).unwrap().source;
    let found: Vec<usize> = source
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(text))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(found.len(), 1, "{demo}: `{text}` on lines {found:?}");
    found[0] as u32
}

fn poll_starts(tl: &TimelineSnapshot, task: &str) -> Vec<f64> {
    tl.task(task).unwrap().polls.iter().map(|p| p.0).collect()
}

use WakeCause::{SelfWake, Spawn, Task, Timer};

#[test]
fn gather_requests_are_woken_by_their_timers() {
    let Some(py) = python() else { return };
    let sequential = twin_run(py, "gather", "sequential", &[]);
    // Awaited in place: each request's timer wakes the request, then main, which polls it.
    assert_eq!(
        wakes(&sequential),
        [
            (100.0, "request 1", Timer, None),
            (100.0, "main", Timer, None),
            (300.0, "request 2", Timer, None),
            (300.0, "main", Timer, None),
            (600.0, "request 3", Timer, None),
            (600.0, "main", Timer, None),
        ]
    );
    // gather and a TaskGroup make each request a Task: each is spawned, woken by its own timer,
    // and main only by the last one to finish.
    for variant in ["join-all", "join-set"] {
        assert_eq!(
            wakes(&twin_run(py, "gather", variant, &[])),
            [
                (0.0, "request 1", Spawn, None),
                (0.0, "request 2", Spawn, None),
                (0.0, "request 3", Spawn, None),
                (100.0, "request 1", Timer, None),
                (200.0, "request 2", Timer, None),
                (300.0, "request 3", Timer, None),
                (300.0, "main", Task, Some("request 3")),
            ],
            "{variant}"
        );
    }
}

#[test]
fn a_semaphore_release_wakes_the_next_waiter_by_the_releaser() {
    let Some(py) = python() else { return };
    let tl = twin_run(py, "semaphore", "fifo", &["tasks=4", "permits=2"]);
    assert_eq!(
        wakes(&tl),
        [
            (0.0, "task 1", Spawn, None),
            (0.0, "task 2", Spawn, None),
            (0.0, "task 3", Spawn, None),
            (0.0, "task 4", Spawn, None),
            (100.0, "task 1", Timer, None),
            (100.0, "task 2", Timer, None),
            (100.0, "task 3", Task, Some("task 1")),
            (100.0, "task 4", Task, Some("task 2")),
            (200.0, "task 3", Timer, None),
            (200.0, "task 4", Timer, None),
            (200.0, "main", Task, Some("task 4")),
        ]
    );
    // The releaser's line: where it left the `async with`, which handed the permit back.
    let released = line_of("semaphore", "async with semaphore:");
    for w in tl.wakes.iter().filter(|w| w.cause == Task && w.task != 1) {
        assert_eq!(w.line, Some(released), "{w:?}");
    }
}

#[test]
fn a_timeout_is_woken_by_the_deadline_and_a_completion_by_its_own_timer() {
    let Some(py) = python() else { return };
    // latencies 100, 300, 500 ms against 250 ms: op 1's own sleep ends first; op 2 and op 3 are
    // woken by the deadline's timer, at 250 ms, not by theirs.
    assert_eq!(
        wakes(&twin_run(py, "timeouts", "timeout", &[])),
        [
            (0.0, "op 1", Spawn, None),
            (0.0, "op 2", Spawn, None),
            (0.0, "op 3", Spawn, None),
            (100.0, "op 1", Timer, None),
            (100.0, "main", Task, Some("op 1")),
            (250.0, "op 2", Timer, None),
            (250.0, "op 3", Timer, None),
            (250.0, "main", Task, Some("op 2")),
        ]
    );
    // One deadline for all: main's timer fires, and main cancels the rest: they are woken by
    // main, at the line that cancels them, and take one more step to end.
    let tl = twin_run(py, "timeouts", "deadline-set", &[]);
    assert_eq!(
        wakes(&tl),
        [
            (0.0, "op 1", Spawn, None),
            (0.0, "op 2", Spawn, None),
            (0.0, "op 3", Spawn, None),
            (100.0, "op 1", Timer, None),
            (100.0, "main", Task, Some("op 1")),
            (250.0, "main", Timer, None),
            (250.0, "op 2", Task, Some("main")),
            (250.0, "op 3", Task, Some("main")),
            (250.0, "main", Task, Some("op 3")),
        ]
    );
    let cancel = line_of("timeouts", "task.cancel()");
    let by_main: Vec<Option<u32>> = tl
        .wakes
        .iter()
        .filter(|w| w.by == Some(1))
        .map(|w| w.line)
        .collect();
    assert_eq!(by_main, [Some(cancel), Some(cancel)]);
}

/// While `dojo.block` holds the loop, the ticker's timer comes due: the ticker is woken then, by
/// its timer, and polled only when the block ends. Scheduled, not waiting, for the rest of it.
#[test]
fn a_held_loop_leaves_the_ticker_scheduled_from_its_deadline_to_the_blocks_end() {
    let Some(py) = python() else { return };
    // The blocker starts right after tick 2 (100 ms) and holds the thread for 500 ms.
    let tl = twin_run(py, "blocking", "blocking", &[]);
    let w = wakes(&tl);
    assert_eq!(
        w[..5],
        [
            (0.0, "ticker", Spawn, None),
            (0.0, "blocker", Spawn, None),
            (100.0, "ticker", Timer, None),
            (100.0, "blocker", Task, Some("ticker")),
            (200.0, "ticker", Timer, None),
        ]
    );
    assert_eq!(
        tl.wakes[3].line,
        Some(line_of("blocking", "go.set()")),
        "the ticker's line that woke the blocker"
    );
    let polls = poll_starts(&tl, "ticker");
    assert_eq!(polls[..4], [0.0, 100.0, 600.0, 700.0]);
    // Woken at 200 ms, the tick's deadline; polled at 600 ms, when the block ended: 400 ms in
    // the ready queue. The wake is recorded after the blocker's poll (its seq), at its deadline.
    let blocker_poll = tl.task("blocker").unwrap().poll_seq(1).unwrap();
    assert!(tl.wakes[4].seq > blocker_poll);
    assert_eq!(polls[2] - w[4].0, 400.0);
    // Sleeping instead of blocking: every tick is polled the instant it is woken.
    let tl = twin_run(py, "blocking", "async-sleep", &[]);
    let ticks: Vec<f64> = wakes(&tl)
        .iter()
        .filter(|w| w.1 == "ticker" && w.2 == Timer)
        .map(|w| w.0)
        .collect();
    assert_eq!(ticks, poll_starts(&tl, "ticker")[1..]);
}

/// A put wakes the getter, and a get wakes a putter waiting for room: the pipeline's queue
/// (`twins/pipeline.py` runs on the real clock; this is its queue on the virtual one).
const PIPELINE: &str = r#"
import asyncio
import dojo


async def producer(queue, items):
    for n in range(items):
        await asyncio.sleep(0.01)
        await queue.put(n)  # put
    await queue.put(None)


async def worker(queue):
    while True:
        item = await queue.get()  # get
        if item is None:
            return "done"
        await asyncio.sleep(0.05)


async def main(variant="mpsc"):
    queue = asyncio.Queue(maxsize=1)
    async with asyncio.TaskGroup() as tg:
        tg.create_task(producer(queue, 3), name="producer")
        tg.create_task(worker(queue), name="worker")


if __name__ == "__main__":
    dojo.run(main)
"#;

#[test]
fn a_put_wakes_the_getter_and_a_get_wakes_the_putter() {
    let Some(py) = python() else { return };
    let (doc, _) = super::tracer::trace(py, PIPELINE, serde_json::json!({}));
    let tl = super::tracer::timeline(&doc);
    assert_eq!(
        wakes(&tl),
        [
            (0.0, "producer", Spawn, None),
            (0.0, "worker", Spawn, None),
            // The worker waits in get(): the producer's first put wakes it.
            (10.0, "producer", Timer, None),
            (10.0, "worker", Task, Some("producer")),
            // Room for item 1; item 2 waits for room until the worker takes item 1.
            (20.0, "producer", Timer, None),
            (30.0, "producer", Timer, None),
            (60.0, "worker", Timer, None),
            (60.0, "producer", Task, Some("worker")),
            (110.0, "worker", Timer, None),
            (110.0, "producer", Task, Some("worker")),
            (160.0, "worker", Timer, None),
            (160.0, "main", Task, Some("worker")),
        ]
    );
    let line = |text: &str| PIPELINE.lines().position(|l| l.contains(text)).unwrap() as u32 + 1;
    // (main is woken by the worker's end, which has no line.)
    for w in tl.wakes.iter().filter(|w| w.task != 1) {
        match (w.cause, w.by) {
            (Task, Some(2)) => assert_eq!(w.line, Some(line("# put")), "{w:?}"),
            (Task, Some(3)) => assert_eq!(w.line, Some(line("# get")), "{w:?}"),
            _ => {}
        }
    }
}

/// The rules every run's wakes keep, on every twin: every poll of a task after its first is
/// preceded by exactly one wake of it since its previous poll (a task has at most one pending
/// wake); a task is woken at most once before its first poll, and main (polled in place by the
/// runner) not at all; every cause is one of the six, `by` is given exactly for `task` and is
/// another task of the run; a spawn wake comes before the task's first poll; no task is woken
/// after its last poll.
fn wakes_keep_the_rules(tl: &TimelineSnapshot, what: &str) {
    assert!(!tl.wakes.is_empty(), "{what}: no wakes");
    for w in &tl.wakes {
        assert!(WakeCause::ALL.contains(&w.cause), "{what}: {w:?}");
        assert_eq!(w.cause == Task, w.by.is_some(), "{what}: {w:?}");
        if let Some(by) = w.by {
            assert_ne!(
                by, w.task,
                "{what}: a task woken by itself is `self`: {w:?}"
            );
            assert!(tl.tasks.iter().any(|t| t.id == by), "{what}: {w:?}");
        }
    }
    assert!(tl.wakes.windows(2).all(|p| p[0].seq < p[1].seq), "{what}");
    for t in &tl.tasks {
        let mine: Vec<_> = tl.wakes.iter().filter(|w| w.task == t.id).collect();
        let polls: Vec<u64> = (0..t.polls.len()).filter_map(|i| t.poll_seq(i)).collect();
        let between =
            |from: u64, to: u64| mine.iter().filter(|w| from < w.seq && w.seq < to).count();
        if let Some(&first) = polls.first() {
            let before = mine.iter().filter(|w| w.seq < first).count();
            assert!(
                before <= 1,
                "{what}: {} woken {before} times before its first poll",
                t.name
            );
            if t.id == 1 {
                assert_eq!(before, 0, "{what}: main is polled in place");
            }
        }
        for pair in polls.windows(2) {
            assert_eq!(
                between(pair[0], pair[1]),
                1,
                "{what}: {} polled at seq {} after {} wakes since its poll at seq {}",
                t.name,
                pair[1],
                between(pair[0], pair[1]),
                pair[0]
            );
        }
        if let Some(&last) = polls.last() {
            assert_eq!(
                between(last, u64::MAX),
                0,
                "{what}: {} woken after its last poll",
                t.name
            );
        }
        for w in mine.iter().filter(|w| w.cause == Spawn) {
            assert!(
                polls.first().is_none_or(|&p| w.seq < p),
                "{what}: {} spawned after its first poll",
                t.name
            );
        }
    }
}

/// Every twin, its shared variants with their default parameters: on the virtual clock where the
/// demo runs on it, else on the real clock (the I/O twins: io and thread wakes).
#[test]
fn every_twins_wakes_keep_the_rules() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let mut causes = std::collections::BTreeSet::new();
    for twin in asyncio::twins() {
        let spec = asyncdojo::demo::find(twin.demo).unwrap().spec();
        let clock = if spec.clocks().contains(&Clock::Virtual) {
            Clock::Virtual
        } else {
            Clock::Real
        };
        let variants = super::real_clock::shared_variants_on(twin.demo, clock);
        let report = asyncio::run_twin(&request(twin.demo, &variants, &[], clock), py).unwrap();
        assert!(report.succeeded(), "{}: {}", twin.demo, report.stderr);
        for run in &report.report.runs {
            let what = format!("{} {}", twin.demo, run.variant);
            wakes_keep_the_rules(&run.timeline, &what);
            causes.extend(run.timeline.wakes.iter().map(|w| w.cause.name()));
        }
    }
    // Not vacuous: the twins between them wake tasks for every reason.
    assert_eq!(
        causes.into_iter().collect::<Vec<_>>(),
        ["io", "self", "spawn", "task", "thread", "timer"]
    );
}

/// A busy loop of sleep(0): every step after the first is a self wake, at the line it yields.
#[test]
fn sleep_zero_is_a_self_wake_at_its_line() {
    let Some(py) = python() else { return };
    let program = "import asyncio\nimport dojo\n\n\nasync def spin():\n    for _ in range(3):\n        \
                   await asyncio.sleep(0)\n\n\nasync def main(variant='spin'):\n    \
                   await asyncio.create_task(spin(), name='spin')\n\n\nif __name__ == \
                   '__main__':\n    dojo.run(main)\n";
    let (doc, _) = super::tracer::trace(py, program, serde_json::json!({}));
    let tl = super::tracer::timeline(&doc);
    assert_eq!(
        wakes(&tl),
        [
            (0.0, "spin", Spawn, None),
            (0.0, "spin", SelfWake, None),
            (0.0, "spin", SelfWake, None),
            (0.0, "spin", SelfWake, None),
            (0.0, "main", Task, Some("spin")),
        ]
    );
    for w in tl.wakes.iter().filter(|w| w.cause == SelfWake) {
        assert_eq!(w.line, Some(7), "{w:?}");
    }
}
