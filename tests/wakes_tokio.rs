//! Every wake of a recorded tokio task, with its cause (issue #19; the rules are in
//! `src/demo/ctx.rs`, "wakes"): exact wake lists of the demos on the virtual clock, the property
//! every run keeps (each poll after a task's first is preceded by a wake of it), the rule that
//! tells the I/O driver's wakes from the timer's on a real socket, and the memory bound.

use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::Duration;

use asyncdojo::demo::recorder::{EVENTS_DROPPED, Recorder};
use asyncdojo::demo::runner::{self, RunReport, RunRequest};
use asyncdojo::demo::timeline::{TaskId, TimelineSnapshot, Wake, WakeCause};
use asyncdojo::demo::{Clock, Ctx, Ended, ctx};

fn run(demo: &str, variants: &[&str], sets: &[&str], clock: Clock) -> RunReport {
    let variants: Vec<String> = variants.iter().map(|v| (*v).to_owned()).collect();
    let sets: Vec<String> = sets.iter().map(|s| (*s).to_owned()).collect();
    let req = RunRequest::build(demo, &variants, &sets, clock).expect("a valid request");
    runner::run_blocking(req).expect("the run starts")
}

fn one(demo: &str, variant: &str, sets: &[&str]) -> TimelineSnapshot {
    let report = run(demo, &[variant], sets, Clock::Virtual);
    let run = report.runs.into_iter().next().expect("one run");
    assert_eq!(run.error, None, "{demo} {variant}");
    run.timeline
}

fn id(tl: &TimelineSnapshot, name: &str) -> TaskId {
    tl.task(name).unwrap_or_else(|| panic!("no lane {name}")).id
}

fn name(tl: &TimelineSnapshot, id: TaskId) -> &str {
    &tl.tasks[id as usize - 1].name
}

/// A wake as the tests write it: time, woken lane, cause, waking lane.
fn readable(tl: &TimelineSnapshot, w: &Wake) -> (f64, String, &'static str, Option<String>) {
    (
        w.t_ms,
        name(tl, w.task).to_owned(),
        w.cause.name(),
        w.by.map(|b| name(tl, b).to_owned()),
    )
}

fn wakes(tl: &TimelineSnapshot) -> Vec<(f64, String, &'static str, Option<String>)> {
    tl.wakes.iter().map(|w| readable(tl, w)).collect()
}

fn w(
    t: f64,
    task: &str,
    cause: &'static str,
    by: Option<&str>,
) -> (f64, String, &'static str, Option<String>) {
    (t, task.to_owned(), cause, by.map(str::to_owned))
}

// ---- exact wake lists on the virtual clock ---------------------------------------------------

/// join_all polls its requests inside main: each is woken by its timer, and main with it (the
/// wake passes through the request's waker to main's). No spawn wakes: nothing was spawned.
#[test]
fn gather_join_all_requests_are_woken_by_their_timers_and_main_with_them() {
    let tl = one("gather", "join-all", &["latencies_ms=100,300"]);
    assert_eq!(
        wakes(&tl),
        vec![
            w(100.0, "request 1", "timer", None),
            w(100.0, "main", "timer", None),
            w(300.0, "request 2", "timer", None),
            w(300.0, "main", "timer", None),
        ]
    );
}

/// Spawned requests: a spawn wake each, then their timers; main is woken by each request's
/// result (the task that finished), not by a timer.
#[test]
fn gather_join_set_main_is_woken_by_the_request_that_finished() {
    let tl = one("gather", "join-set", &["latencies_ms=100,300"]);
    assert_eq!(
        wakes(&tl),
        vec![
            w(0.0, "request 1", "spawn", None),
            w(0.0, "request 2", "spawn", None),
            w(100.0, "request 1", "timer", None),
            w(100.0, "main", "task", Some("request 1")),
            w(300.0, "request 2", "timer", None),
            w(300.0, "main", "task", Some("request 2")),
        ]
    );
    // Each spawn wake comes right after its spawn, before anything else is numbered.
    for t in &tl.tasks[1..] {
        let wake = tl
            .wakes
            .iter()
            .find(|w| w.task == t.id)
            .expect("a spawn wake");
        assert_eq!(Some(wake.seq), t.spawned_seq().map(|s| s + 1), "{}", t.name);
    }
}

/// Eight tasks, three permits: each release wakes the next waiter in line, caused by the task
/// that released it; the holders are woken by their timers.
#[test]
fn semaphore_each_release_wakes_the_next_waiter_by_the_releaser() {
    let tl = one("semaphore", "fifo", &[]);
    let mut expected = Vec::new();
    for k in 1..=8 {
        expected.push(w(0.0, &format!("task {k}"), "spawn", None));
    }
    // Wave by wave: the holders' timers, then each holder's release wakes the task three behind
    // it, and the first task to finish wakes main (join_next).
    expected.extend([
        w(100.0, "task 1", "timer", None),
        w(100.0, "task 2", "timer", None),
        w(100.0, "task 3", "timer", None),
        w(100.0, "task 4", "task", Some("task 1")),
        w(100.0, "main", "task", Some("task 1")),
        w(100.0, "task 5", "task", Some("task 2")),
        w(100.0, "task 6", "task", Some("task 3")),
        w(200.0, "task 4", "timer", None),
        w(200.0, "task 5", "timer", None),
        w(200.0, "task 6", "timer", None),
        w(200.0, "task 7", "task", Some("task 4")),
        w(200.0, "main", "task", Some("task 4")),
        w(200.0, "task 8", "task", Some("task 5")),
        w(300.0, "task 7", "timer", None),
        w(300.0, "task 8", "timer", None),
        w(300.0, "main", "task", Some("task 7")),
    ]);
    assert_eq!(wakes(&tl), expected);
}

/// The deadline fires first (a timer wakes main), main yields once (it wakes itself: tokio
/// defers that wake to after the driver's turn, and it is still `self`), aborts the rest, and
/// is woken by the aborted task's end. The operation that answered in time is woken by its own
/// timer, and wakes main with its result.
#[test]
fn timeouts_tell_the_deadlines_timer_from_an_operations_completion() {
    let tl = one("timeouts", "deadline-set", &[]);
    assert_eq!(
        wakes(&tl),
        vec![
            w(0.0, "op 1", "spawn", None),
            w(0.0, "op 2", "spawn", None),
            w(0.0, "op 3", "spawn", None),
            w(100.0, "op 1", "timer", None),
            w(100.0, "main", "task", Some("op 1")),
            w(250.0, "main", "timer", None),
            w(250.0, "main", "self", None),
            w(250.0, "main", "task", Some("op 2")),
        ]
    );
    // With the timeout inside each operation, the late ones are woken by their own timers and
    // main by the first of them to end.
    let tl = one("timeouts", "timeout", &[]);
    assert_eq!(
        wakes(&tl)[3..],
        [
            w(100.0, "op 1", "timer", None),
            w(100.0, "main", "task", Some("op 1")),
            w(250.0, "op 2", "timer", None),
            w(250.0, "op 3", "timer", None),
            w(250.0, "main", "task", Some("op 2")),
        ]
    );
}

/// The pipeline runs on the real clock only (it talks to a TCP service): its sink is woken by
/// the workers' sends, its workers by the service's replies (the I/O driver) and the producer,
/// when the queue was full, by the worker that took an item. The sink's file is written on
/// the blocking pool: those wakes come from another thread.
#[test]
fn pipeline_a_send_wakes_the_receiver() {
    let report = run("pipeline", &["mpsc"], &[], Clock::Real);
    let tl = &report.runs[0].timeline;
    let is_worker = |t: Option<TaskId>| t.is_some_and(|t| name(tl, t).starts_with("worker"));
    let sink = id(tl, "sink");
    let of_sink: Vec<&Wake> = tl.wakes.iter().filter(|w| w.task == sink).collect();
    assert!(
        of_sink
            .iter()
            .any(|w| w.cause == WakeCause::Task && is_worker(w.by)),
        "{:?}",
        of_sink
    );
    for w in &of_sink {
        match w.cause {
            WakeCause::Spawn | WakeCause::Thread => {}
            WakeCause::Task => assert!(is_worker(w.by), "{w:?}"),
            other => panic!("the sink woken by {}: {w:?}", other.name()),
        }
    }
    let workers: Vec<&Wake> = tl
        .wakes
        .iter()
        .filter(|w| name(tl, w.task).starts_with("worker"))
        .collect();
    assert!(
        workers.iter().any(|w| w.cause == WakeCause::Io),
        "{workers:?}"
    );
    let producer = id(tl, "producer");
    for w in tl
        .wakes
        .iter()
        .filter(|w| w.task == producer && w.cause == WakeCause::Task)
    {
        assert!(is_worker(w.by), "{w:?}");
    }
}

// ---- the property, over every variant that runs on the virtual clock --------------------------

/// Every poll after a task's first is preceded by a wake of it, made since its poll before; a
/// spawned task's first poll too, by its spawn wake. The one exception is a future polled in
/// place whose parent polls it again without it being woken (`join_all` over a few futures
/// polls them all whenever it is polled; `select!` polls every branch): such a poll is inside a
/// poll of its parent. No wake is of a task that does not exist, after the task finished, or
/// has a `by` that does not go with its cause.
fn check_wakes(tl: &TimelineSnapshot, what: &str) {
    let n = tl.tasks.len() as TaskId;
    for w in &tl.wakes {
        assert!(
            (1..=n).contains(&w.task),
            "{what}: a wake of unknown task {}",
            w.task
        );
        match (w.cause, w.by) {
            (WakeCause::Task, Some(by)) => {
                assert!((1..=n).contains(&by), "{what}: woken by unknown task {by}");
                assert_ne!(by, w.task, "{what}: a task woken by itself is `self`");
            }
            // A task that is not a lane (the rate limiter's meter).
            (WakeCause::Task, None) => {}
            (_, Some(_)) => panic!("{what}: `by` on a {} wake: {w:?}", w.cause.name()),
            (_, None) => {}
        }
    }
    assert!(
        tl.wakes.windows(2).all(|p| p[0].seq < p[1].seq),
        "{what}: wakes out of order"
    );
    for t in &tl.tasks {
        let mine: Vec<&Wake> = tl.wakes.iter().filter(|w| w.task == t.id).collect();
        let spawned = mine.first().is_some_and(|w| w.cause == WakeCause::Spawn);
        if let Some(f) = t.finished_seq() {
            assert!(
                mine.iter().all(|w| w.seq < f),
                "{what}: {} woken after it finished",
                t.name
            );
        }
        let mut prev = t.spawned_seq().unwrap_or(0);
        for (k, &(start, end)) in t.polls.iter().enumerate() {
            let seq = t.poll_seq(k).expect("a seq per poll");
            let woken = mine.iter().filter(|w| prev < w.seq && w.seq < seq).count();
            assert!(
                woken <= 1,
                "{what}: {} woken {woken} times before poll {k}",
                t.name
            );
            if woken == 0 && (k > 0 || spawned) {
                let parent = t.parent.map(|p| &tl.tasks[p as usize - 1]);
                let inside = !spawned
                    && parent.is_some_and(|p| p.polls.iter().any(|&(a, b)| a <= start && end <= b));
                assert!(
                    inside,
                    "{what}: poll {k} of {} (seq {seq}, {start} ms) has no wake before it",
                    t.name
                );
            }
            prev = seq;
        }
    }
}

#[test]
fn every_poll_is_preceded_by_a_wake_in_every_virtual_variant() {
    let mut checked = 0;
    for demo in asyncdojo::demo::registry() {
        let spec = demo.spec();
        for v in spec.variants {
            if !v.clocks.contains(&Clock::Virtual) {
                continue;
            }
            let report = run(spec.id, &[v.name], &[], Clock::Virtual);
            for r in &report.runs {
                check_wakes(&r.timeline, &format!("{} {}", spec.id, r.variant));
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "only {checked} variants ran");
}

// ---- I/O or timer: the rule, on a real socket -------------------------------------------------

/// A current-thread runtime as the runner builds it, with the wake hooks, its `block_on` thread
/// marked as its driver.
fn runtime(paused: bool) -> tokio::runtime::Runtime {
    let mut b = tokio::runtime::Builder::new_current_thread();
    b.enable_all().start_paused(paused);
    let rt = runner::record_wakes_on(&mut b).build().expect("a runtime");
    ctx::driver_thread(rt.handle());
    rt
}

/// One driver turn with both: the reader's socket became readable (the bytes were written
/// before the loop went idle) and the sleeper's 100 ms timer expires when the paused clock
/// moves. tokio dispatches the I/O batch first, then fires the timer; both wakes come from the
/// driver, outside any poll. Then a turn with a timer alone, and one with I/O alone.
#[test]
fn the_driver_tells_io_from_timer_on_a_loopback_socket() {
    for paused in [true, false] {
        let rt = runtime(paused);
        let rec =
            rt.block_on(async { Recorder::on(if paused { Clock::Virtual } else { Clock::Real }) });
        let ctx = Ctx::new(rec.clone(), Clock::Virtual, "test");
        rt.block_on(ctx.clone().instrument("main", async move {
            use tokio::io::AsyncReadExt;
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = listener.local_addr().expect("addr");
            let mut peer = std::net::TcpStream::connect(addr).expect("connect");
            let (ours, _) = listener.accept().expect("accept");
            ours.set_nonblocking(true).expect("nonblocking");
            let mut ours = tokio::net::TcpStream::from_std(ours).expect("register");
            let reader = ctx.spawn("reader", async move {
                let mut buf = [0u8; 8];
                let mut got = 0;
                while got < 2 {
                    match ours.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => got += n,
                    }
                }
                Ended::ok(format!("{got} bytes"))
            });
            let sleeper = ctx.spawn("sleeper", async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ended::ok("")
            });
            // Both polled once: the reader waits for its socket, the sleeper for its timer.
            tokio::task::yield_now().await;
            use std::io::Write;
            peer.write_all(b"a").expect("write");
            // The next turn has both. Then the sleeper's second timer, alone; then a byte alone.
            tokio::time::sleep(Duration::from_millis(150)).await;
            peer.write_all(b"b").expect("write");
            let _ = reader.await;
            let _ = sleeper.await;
            Ended::ok("")
        }));
        ctx::leave_driver_thread();
        let tl = rec.take_snapshot();
        let reader = id(&tl, "reader");
        let sleeper = id(&tl, "sleeper");
        let of = |task| -> Vec<WakeCause> {
            tl.wakes
                .iter()
                .filter(|w| w.task == task)
                .map(|w| w.cause)
                .collect()
        };
        assert_eq!(
            of(reader),
            [WakeCause::Spawn, WakeCause::Io, WakeCause::Io],
            "paused: {paused}"
        );
        assert_eq!(
            of(sleeper),
            [WakeCause::Spawn, WakeCause::Timer, WakeCause::Timer],
            "paused: {paused}"
        );
        if paused {
            // The first turn had both, the I/O first.
            let first_io = tl
                .wakes
                .iter()
                .position(|w| w.cause == WakeCause::Io)
                .expect("io");
            let first_timer = tl
                .wakes
                .iter()
                .position(|w| w.cause == WakeCause::Timer)
                .expect("timer");
            assert!(first_io < first_timer);
            assert_eq!(tl.wakes[first_io].t_ms, 0.0);
            assert_eq!(tl.wakes[first_timer].t_ms, 100.0);
        }
        check_wakes(&tl, "loopback");
    }
}

// ---- other threads, late wakers, unrecorded tasks ---------------------------------------------

/// A wake from a thread that is not the runtime's (a plain std thread, the blocking pool) is
/// `thread`; a waker called after its task finished records nothing and does not panic; a
/// waker called from a thread with no runtime at all neither.
#[test]
fn wakes_from_other_threads_and_after_the_end() {
    let rt = runtime(true);
    let rec = rt.block_on(async { Recorder::on(Clock::Virtual) });
    let ctx = Ctx::new(rec.clone(), Clock::Virtual, "test");
    let kept: Arc<Mutex<Option<Waker>>> = Arc::default();
    rt.block_on(ctx.clone().instrument("main", {
        let kept = Arc::clone(&kept);
        async move {
            let (tx, rx) = tokio::sync::oneshot::channel::<u8>();
            let waiter = ctx.spawn("waiter", async move {
                let _ = rx.await;
                Ended::ok("")
            });
            tokio::task::yield_now().await;
            let _ = std::thread::spawn(move || tx.send(1)).join();
            let _ = waiter.await;
            let pool = ctx.spawn_blocking("pool", || Ended::ok(""));
            let _ = pool.await;
            let keeper = ctx.spawn("keeper", async move {
                std::future::poll_fn(|cx| {
                    *kept.lock().unwrap() = Some(cx.waker().clone());
                    std::task::Poll::Ready(())
                })
                .await;
                Ended::ok("")
            });
            let _ = keeper.await;
            Ended::ok("")
        }
    }));
    let late = kept.lock().unwrap().take().expect("the keeper's waker");
    let before = rec.snapshot().wakes.len();
    std::thread::spawn(move || late.wake())
        .join()
        .expect("no panic");
    ctx::leave_driver_thread();
    let tl = rec.take_snapshot();
    assert_eq!(tl.wakes.len(), before, "a finished task is not woken");
    let causes = |n: &str| -> Vec<(&'static str, Option<String>)> {
        let t = id(&tl, n);
        tl.wakes
            .iter()
            .filter(|w| w.task == t)
            .map(|w| (w.cause.name(), w.by.map(|b| name(&tl, b).to_owned())))
            .collect()
    };
    assert_eq!(causes("waiter"), [("spawn", None), ("thread", None)]);
    assert_eq!(causes("pool"), [("spawn", None)]);
    // main: by the waiter's end, by the pool's thread, by the keeper's end.
    assert_eq!(
        causes("main"),
        [
            ("self", None),
            ("task", Some("waiter".to_owned())),
            ("thread", None),
            ("task", Some("keeper".to_owned())),
        ]
    );
    check_wakes(&tl, "threads");
}

/// tokio's own tasks (and any task not spawned through `Ctx`) get no lane, and their wakes
/// none either: only lanes' wakers record.
#[test]
fn unrecorded_tasks_invent_no_lanes() {
    let rt = runtime(true);
    let rec = rt.block_on(async { Recorder::on(Clock::Virtual) });
    let ctx = Ctx::new(rec.clone(), Clock::Virtual, "test");
    rt.block_on(ctx.clone().instrument("main", async move {
        let plain = tokio::spawn(async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            tokio::task::yield_now().await;
        });
        let _ = plain.await;
        Ended::ok("")
    }));
    ctx::leave_driver_thread();
    let tl = rec.take_snapshot();
    assert_eq!(tl.tasks.len(), 1);
    // main waited for a task that is not a lane: woken by a task, with no lane to name (tokio
    // wakes the awaiter as the plain task ends, while it runs it).
    assert_eq!(tl.wakes.len(), 1, "{:?}", tl.wakes);
    assert_eq!(
        (tl.wakes[0].task, tl.wakes[0].cause, tl.wakes[0].by),
        (1, WakeCause::Task, None)
    );
}

// ---- the memory bound -------------------------------------------------------------------------

/// A busy `yield_now` loop: one self-wake and one poll per turn. Past the bound, polls and
/// wakes are counted, not kept, and the run says how many were dropped; its spawn and finish
/// are kept.
#[test]
fn a_busy_yield_loop_stays_within_the_event_bound() {
    const TURNS: u64 = 200_000;
    const LIMIT: u64 = 1_000;
    let rt = runtime(true);
    let rec = rt.block_on(async { Recorder::on(Clock::Virtual).with_event_limit(LIMIT) });
    let ctx = Ctx::new(rec.clone(), Clock::Virtual, "test");
    rt.block_on(ctx.clone().instrument("main", async move {
        let busy = ctx.spawn("busy", async {
            for _ in 0..TURNS {
                tokio::task::yield_now().await;
            }
            Ended::ok("")
        });
        let _ = busy.await;
        Ended::ok("")
    }));
    ctx::leave_driver_thread();
    let tl = rec.take_snapshot();
    let busy = tl.task("busy").expect("busy");
    let kept = tl.tasks.iter().map(|t| t.polls.len()).sum::<usize>() + tl.wakes.len();
    assert_eq!(kept as u64, LIMIT);
    // busy: a spawn wake, then per turn a poll and a self-wake, and a last poll; main: two polls
    // and the wake by busy's end.
    let total = 1 + 2 * TURNS + 1 + 2 + 1;
    assert_eq!(tl.metric(EVENTS_DROPPED), Some((total - LIMIT) as f64));
    assert!(busy.finished_ms.is_some());
    assert!(busy.finished_seq().is_some());
    let kept_busy: Vec<&Wake> = tl.wakes.iter().filter(|w| w.task == busy.id).collect();
    assert_eq!(kept_busy[0].cause, WakeCause::Spawn);
    assert!(
        kept_busy[1..]
            .iter()
            .all(|w| w.cause == WakeCause::SelfWake)
    );
}

/// The real bound, with over two million events: the recorder keeps exactly
/// `EVENT_LIMIT` polls and wakes.
#[test]
fn a_million_self_wakes_keep_the_real_bound() {
    use asyncdojo::demo::recorder::EVENT_LIMIT;
    let rt = runtime(true);
    let rec = rt.block_on(async { Recorder::on(Clock::Virtual) });
    let ctx = Ctx::new(rec.clone(), Clock::Virtual, "test");
    rt.block_on(ctx.clone().instrument("main", async move {
        for _ in 0..1_100_000 {
            tokio::task::yield_now().await;
        }
        Ended::ok("")
    }));
    ctx::leave_driver_thread();
    let tl = rec.take_snapshot();
    assert_eq!(
        tl.tasks[0].polls.len() as u64 + tl.wakes.len() as u64,
        EVENT_LIMIT
    );
    assert_eq!(
        tl.metric(EVENTS_DROPPED),
        Some((2 * 1_100_000 + 1 - EVENT_LIMIT) as f64)
    );
}

/// The schema page's example is exactly what `asyncdojo run gather --variant join-all --set
/// latencies_ms=100,300 --json` prints, wakes included (laid out shorter).
#[test]
fn the_schema_pages_example_is_what_run_prints() {
    use asyncdojo::demo::asyncio::Runtime;
    use asyncdojo::demo::document::Document;
    let page = include_str!("../docs/run-document.md");
    let start = page.find("```json\n").expect("an example") + "```json\n".len();
    let end = start + page[start..].find("```").expect("its end");
    let example: serde_json::Value = serde_json::from_str(&page[start..end]).expect("json");
    let report = run(
        "gather",
        &["join-all"],
        &["latencies_ms=100,300"],
        Clock::Virtual,
    );
    let printed = serde_json::to_value(Document::of_report(&report, Runtime::Tokio)).expect("json");
    assert_eq!(example, printed);
}

// ---- a timer due while the thread is held ------------------------------------------------------

/// The blocking demo: the blocker holds the thread from 100 to 600 ms (std::thread::sleep, the
/// paused clock moved on the virtual one). The ticker's next tick is due at 200 ms; tokio's driver
/// can only fire it at 600, but the wake is dated at its deadline (tokio's own instrumentation
/// says when it was due), so the ticker sits scheduled from 200 to 600 ms: the 400 ms of the
/// block after its tick came due, the run's `max_sched_ms`, and 1 in the ready queue meanwhile.
/// The asyncio twin records the very same (tests/asyncio/wakes.rs).
#[test]
fn blocking_the_ticker_is_scheduled_from_its_deadline_until_the_block_ends() {
    let mut tl = one("blocking", "blocking", &[]);
    assert_eq!(
        wakes(&tl)[..5],
        [
            w(0.0, "ticker", "spawn", None),
            w(0.0, "blocker", "spawn", None),
            w(100.0, "ticker", "timer", None),
            w(100.0, "blocker", "task", Some("ticker")),
            w(200.0, "ticker", "timer", None),
        ]
    );
    let blocker = tl.task("blocker").unwrap();
    assert_eq!(
        blocker.polls[1],
        (100.0, 600.0),
        "the block holds the thread"
    );
    let ticker = tl.task("ticker").unwrap();
    assert_eq!(ticker.polls[2].0, 600.0, "polled when the block ends");
    // Recorded when the driver fired it (after the blocker's poll), dated at its deadline.
    assert!(tl.wakes[4].seq > blocker.poll_seq(1).unwrap());
    tl.add_ready_queue();
    assert_eq!(tl.metric("max_sched_ms"), Some(400.0));
    assert_eq!(tl.metric("median_sched_ms"), Some(0.0));
    let ready: Vec<(f64, f64)> = tl.series["ready"]
        .iter()
        .map(|(t, v)| match v {
            asyncdojo::demo::timeline::SeriesValue::Num(n) => (*t, *n),
            other => panic!("a count, not {other:?}"),
        })
        .collect();
    assert_eq!(ready, [(200.0, 1.0), (600.0, 0.0)]);
    // An async sleep instead: every wake is polled at once, and nothing waits in the queue.
    let mut tl = one("blocking", "async-sleep", &[]);
    tl.add_ready_queue();
    assert_eq!(tl.metric("max_sched_ms"), Some(0.0));
    assert!(!tl.series.contains_key("ready"));
}
