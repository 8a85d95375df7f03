//! The real clock: timer twins within 15 ms of the virtual run, the I/O twins against tokio's
//! real run, watching and cancelling.

use super::*;

/// Within ±15 ms: the real clock on a shared machine.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 15.0
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
    /// tokio's server drives its connections inside its own lane; `start_server` gives each a
    /// Task, so the twin alone has `conn n` lanes: they are checked apart (each ends ok,
    /// without a parent) and left out of the comparison.
    twin_conn_lanes: bool,
    /// Lanes only tokio has: a task doing what asyncio's transport does from the event loop's
    /// callbacks, outside any Task. Checked apart (each ends ok) and left out of the comparison.
    tokio_only: &'a [&'a str],
}

const EXACT: Measured<'static> = Measured {
    metrics: &[],
    series: &[],
    marks: &[],
    lengths: true,
    told_to_end: &[],
    milestones_in_order: true,
    twin_conn_lanes: false,
    tokio_only: &[],
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
    io_conforms_variant(
        demo,
        shared_variants_on(demo, Clock::Real)[0],
        set,
        measured,
    )
}

/// [`io_conforms`] for one of the demo's variants.
fn io_conforms_variant(
    demo: &str,
    variant: &str,
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
        let (tokio, twin, timing) = io_compare(py, demo, variant, set, measured);
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
    variant: &str,
    set: &[&str],
    measured: &Measured<'_>,
) -> (RunReport, TwinReport, Result<(), String>) {
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
    let twin_only = |task: &TaskView| measured.twin_conn_lanes && task.name.starts_with("conn ");
    if measured.twin_conn_lanes {
        let lanes: Vec<TaskView> = view(a).tasks.into_iter().filter(twin_only).collect();
        assert!(!lanes.is_empty(), "{demo}: the twin's connection lanes");
        for lane in lanes {
            assert_eq!(
                (lane.outcome, &lane.parent),
                (Outcome::Ok, &None),
                "{demo}: {lane:?}"
            );
        }
        assert!(
            !view(t).tasks.iter().any(twin_only),
            "{demo}: tokio's conn lanes"
        );
    }
    let tokio_only = |task: &TaskView| measured.tokio_only.contains(&task.name.as_str());
    for name in measured.tokio_only {
        let lane = view(t).tasks.into_iter().find(|task| &task.name == name);
        assert_eq!(
            lane.map(|l| l.outcome),
            Some(Outcome::Ok),
            "{demo}: tokio's {name}"
        );
        assert!(!view(a).tasks.iter().any(tokio_only), "{demo}: {name}");
    }
    let split = |r: &VariantRun| {
        let (conns, rest): (Vec<_>, Vec<_>) = view(r)
            .tasks
            .into_iter()
            .filter(|task| !twin_only(task) && !tokio_only(task))
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

pub(crate) fn shared_variants_on(demo: &str, clock: Clock) -> Vec<&'static str> {
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
pub(crate) fn graceful_shutdown_conforms_on_the_real_clock() {
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
pub(crate) fn pipeline_conforms_on_the_real_clock() {
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
pub(crate) fn chat_conforms_on_the_real_clock() {
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
            twin_conn_lanes: false,
            tokio_only: &[],
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

/// Both variants on both runtimes: the same lanes end the same way, the same marks in the same
/// order, every byte read. How much is buffered and how often the writer waits are the
/// machine's and the runtime's (asyncio's drain waits above a 64 KiB high water mark, tokio's
/// write_all for every chunk): tests/real_clock_stories.rs pins what they must show.
#[test]
pub(crate) fn slow_reader_conforms_on_the_real_clock() {
    let sets: [&[&str]; 2] = [
        &[],
        &["chunks=12", "chunk_kb=32", "read_kb=8", "read_every_ms=1"],
    ];
    for set in sets {
        for variant in shared_variants_on("slow-reader", Clock::Real) {
            let measured = Measured {
                metrics: &["max_buffered_kb", "writer_waits"],
                series: &["buffered_kb"],
                // The writer's lane is as long as the reader is slow on one side and 64 KiB
                // shorter on the other: outcomes, marks and counts are compared.
                lengths: false,
                // asyncio's transport sends from the event loop; tokio's no-drain has a task.
                tokio_only: if variant == "no-drain" {
                    &["socket writer"]
                } else {
                    &[]
                },
                ..EXACT
            };
            let Some((tokio, twin)) = io_conforms_variant("slow-reader", variant, set, &measured)
            else {
                return;
            };
            for r in [&tokio.runs[0], &twin.report.runs[0]] {
                let total = r.timeline.metric("read_kb").unwrap();
                assert!(total > 0.0, "{variant}: nothing read");
            }
        }
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

/// The executor-pool twin's virtual timing is the real pool's: on the real clock a two-thread
/// default executor runs four calls two by two, each round a job's length, and the ticker on
/// the loop keeps its period.
#[test]
fn a_starved_default_executor_runs_the_calls_in_rounds_on_the_real_clock() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let set = &["jobs=4", "workers=2", "job_ms=120", "tick_ms=30"];
    let twin = asyncio::run_twin(
        &request("executor-pool", &["starved"], set, Clock::Real),
        py,
    )
    .unwrap();
    let run = twin.report.run("starved").unwrap();
    assert_eq!(run.error, None, "{}", twin.stderr);
    let tl = &run.timeline;
    assert_eq!(tl.count(Outcome::Ok), 6);
    for (job, round) in [
        ("job 1", 1.0),
        ("job 2", 1.0),
        ("job 3", 2.0),
        ("job 4", 2.0),
    ] {
        let t = tl.tasks.iter().find(|t| t.name == job).unwrap();
        let end = t.finished_ms.unwrap();
        assert!(
            (end - round * 120.0).abs() < 40.0,
            "{job} ended at {end} ms"
        );
    }
    let last = tl.metric("last_start_ms").unwrap();
    assert!((115.0..170.0).contains(&last), "last start {last} ms");
    let gap = tl.metric("max_tick_gap_ms").unwrap();
    assert!((25.0..70.0).contains(&gap), "longest gap {gap} ms");
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

/// Most tasks holding a connection at once: from each query's `acquired` mark to its end.
fn max_holding(r: &VariantRun) -> usize {
    let tl = &r.timeline;
    let mut events: Vec<(f64, i32)> = Vec::new();
    for t in tl.tasks.iter().filter(|t| t.name.starts_with("query ")) {
        let acquired = tl
            .marks
            .iter()
            .find(|m| m.task == Some(t.id) && &*m.label == "acquired");
        if let (Some(m), Some(end)) = (acquired, t.finished_ms) {
            events.push((m.t_ms, 1));
            events.push((end, -1));
        }
    }
    // Ends before starts at the same instant: a handed-back connection is free again.
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut now, mut max) = (0, 0);
    for (_, d) in events {
        now += d;
        max = max.max(now);
    }
    max as usize
}

fn marks_starting(r: &VariantRun, prefix: &str) -> usize {
    r.timeline
        .marks
        .iter()
        .filter(|m| m.label.starts_with(prefix))
        .count()
}

/// A real SQLite file in a temporary directory on both runtimes: sqlx's pool against the
/// twin's, over sqlite3 and asyncio.to_thread. The same tasks end the same way, the same marks
/// and counts; which connection a task gets, how long it waits and what the 2 ms samples caught
/// are the machine's. sqlx's reaper closes every connection idle too long and opens new ones up
/// to the minimum (a fourth `opened conn` in some runs); the twin's closes down to the minimum.
#[test]
pub(crate) fn connection_pool_conforms_on_the_real_clock() {
    // (parameters, max connections, committed transfers, pool size at the end)
    let sets: [(&[&str], usize, f64, f64); 3] = [
        (&[], 3, 8.0, 1.0),
        (
            &[
                "queries=3",
                "max_connections=1",
                "query_ms=250",
                "acquire_timeout_ms=50",
                "idle_timeout_ms=0",
            ],
            1,
            1.0,
            1.0,
        ),
        (
            &[
                "queries=4",
                "min_connections=5",
                "max_connections=2",
                "query_ms=20",
                "idle_timeout_ms=0",
            ],
            2,
            4.0,
            2.0,
        ),
    ];
    for (set, max, committed, at_end) in sets {
        let measured = Measured {
            metrics: &[
                "db_dir",
                "max_acquire_wait_ms",
                "connections_opened",
                "max_open_db_files",
            ],
            series: &["pool_size", "pool_idle", "waiting"],
            marks: &["opened conn #", "committed on conn #"],
            // Each read is SQLite's own work, calibrated on each runtime: how long a task
            // holds its connection is the machine's (and a debug build's).
            lengths: false,
            ..EXACT
        };
        let Some((tokio, twin)) = io_conforms("connection-pool", set, &measured) else {
            return;
        };
        for (runtime, r) in [("tokio", &tokio.runs[0]), ("asyncio", &twin.report.runs[0])] {
            let tl = &r.timeline;
            assert_eq!(max_holding(r), max, "{runtime} {set:?}");
            assert_eq!(tl.metric("max_pool_size"), Some(max as f64), "{runtime}");
            assert_eq!(
                tl.metric("transfers_committed"),
                Some(committed),
                "{runtime}"
            );
            assert_eq!(tl.metric("balance_total"), Some(4000.0), "{runtime}");
            assert_eq!(tl.metric("pool_size_at_end"), Some(at_end), "{runtime}");
            assert_eq!(
                marks_starting(r, "committed on conn #") as f64,
                committed,
                "{runtime}"
            );
            let opened = tl.metric("connections_opened").unwrap();
            assert_eq!(
                marks_starting(r, "opened conn #") as f64,
                opened,
                "{runtime}"
            );
            assert!(opened >= max as f64, "{runtime}: {opened}");
            if cfg!(target_os = "linux") {
                let files = tl.metric("max_open_db_files").unwrap();
                assert!((1.0..=max as f64).contains(&files), "{runtime}: {files}");
            }
            let dir = tl.metrics["db_dir"].as_str().unwrap();
            assert!(!Path::new(dir).exists(), "{runtime}: {dir} was removed");
        }
        // The twin opens only what the work needs: up to the max, and nothing after.
        let a = &twin.report.runs[0].timeline;
        assert_eq!(a.metric("connections_opened"), Some(max as f64));
    }
}

/// Cancelled mid-run (asyncdojo closes the twin's stdin), the twin interrupts the queries
/// SQLite is running for it, closes the pool and removes its temporary directory, well within
/// the tracer's 0.8 s before it exits anyway.
#[test]
fn a_cancelled_pool_twin_removes_its_database() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let twin = asyncio::twin("connection-pool").unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dojo.py"), asyncio::tracer_source()).unwrap();
    std::fs::write(dir.path().join(twin.file), twin.source).unwrap();
    // The twin's TemporaryDirectory goes here, where nothing else makes one.
    let tmp = tempfile::tempdir().unwrap();
    let args = serde_json::json!({
        "watch_stdin": true,
        "lines": true,
        "params": {"queries": 40, "max_connections": 8, "query_ms": 250},
    });
    for after_ms in [400, 700] {
        let mut child = Command::new(&py.program)
            .arg(twin.file)
            .arg(args.to_string())
            .current_dir(dir.path())
            .env("TMPDIR", tmp.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Cancelled once its directory exists and at least `after_ms` in (two points of the
        // run): a loaded machine may start the interpreter late, which is not what is tested.
        let started = std::time::Instant::now();
        while std::fs::read_dir(tmp.path()).unwrap().count() == 0 {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(20),
                "the run made no directory in 20 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let wanted = std::time::Duration::from_millis(after_ms);
        std::thread::sleep(wanted.saturating_sub(started.elapsed()));
        let made: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(made.len(), 1, "the run made one directory");
        drop(child.stdin.take());
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(70), "{status}");
        let left: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "left behind after {after_ms} ms: {left:?}");
    }
}

/// Debug mode on the real clock: the long poll's step is timed by the loop's own clock.
#[test]
fn debug_mode_times_the_long_step_on_the_real_clock() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let set = &["run_ms=1400", "block_ms=300", "self_wakes=10"];
    let twin =
        asyncio::run_twin(&request("console-lab", &["inspect"], set, Clock::Real), py).unwrap();
    let run = twin.report.run("inspect").unwrap();
    assert_eq!(run.error, None, "{}", twin.stderr);
    let slow: Vec<f64> = run
        .timeline
        .marks
        .iter()
        .filter_map(|m| m.label.strip_prefix("Executing task 'long poll' took "))
        .map(|s| s.trim_end_matches(" seconds").parse().unwrap())
        .collect();
    assert_eq!(slow.len(), 1, "{:?}", run.timeline.marks);
    assert!((0.3..0.4).contains(&slow[0]), "{slow:?}");
    let labels: Vec<&str> = run.timeline.marks.iter().map(|m| &*m.label).collect();
    assert!(
        labels
            .iter()
            .any(|l| l.starts_with("coroutine 'announce' was never awaited (created at line ")),
        "{labels:?}"
    );
    assert!(
        labels
            .iter()
            .any(|l| l.starts_with("Task exception was never retrieved: 'fire and forget'")),
        "{labels:?}"
    );
}

/// The downloader on both runtimes: the same files kept and verified, the same failure, the
/// same connections. How a body is split into reads, which ready download runs first (so the
/// in-flight series' order), and how far a cut body got before the cut was seen are the
/// machine's; the twin's server makes the files' bytes in pure Python, so its lane and the
/// manifest's last longer.
/// Parameters, files, the broken one, the failure when it is exact, the pauses in a file (ms).
type DownloadCase = (&'static [&'static str], u64, u64, Option<&'static str>, f64);

#[test]
pub(crate) fn downloader_conforms_on_the_real_clock() {
    let sets: [DownloadCase; 3] = [
        (&[], 6, 4, None, 7.0 * 20.0),
        (
            &[
                "failure=status",
                "files=4",
                "concurrency=2",
                "broken_file=2",
                "size_kb=64",
                "chunk_ms=10",
            ],
            4,
            2,
            Some("file-2.bin: the server answered 500 Internal Server Error"),
            3.0 * 10.0,
        ),
        (
            &[
                "failure=corrupt",
                "files=3",
                "concurrency=3",
                "broken_file=3",
                "size_kb=32",
                "chunk_kb=8",
            ],
            3,
            3,
            Some("file-3.bin: sha256 180a2c45aae2 is not the manifest's f6f010008768"),
            3.0 * 20.0,
        ),
    ];
    let progress: Vec<String> = (1..=6).map(|n| format!("progress file-{n}.bin")).collect();
    let mut series: Vec<&str> = progress.iter().map(String::as_str).collect();
    series.push("in_flight");
    for (set, files, broken, failure, paced_ms) in sets {
        let measured = Measured {
            metrics: if failure.is_some() {
                &["server_addr"]
            } else {
                &["server_addr", "failed"]
            },
            series: &series,
            marks: &["listening on ", "created ", "removed "],
            // The twin's server and its downloads share one thread (tokio's do not): a file's
            // length is the server's pacing plus what the machine lets through; the pacing is
            // checked below.
            lengths: false,
            // Files finishing together mark in either order.
            milestones_in_order: false,
            twin_conn_lanes: true,
            ..EXACT
        };
        let Some((tokio, twin)) = io_conforms("downloader", set, &measured) else {
            return;
        };
        for (runtime, r) in [("tokio", &tokio.runs[0]), ("asyncio", &twin.report.runs[0])] {
            let m = &r.timeline.metrics;
            assert_eq!(m["files_ok"], files - 1, "{runtime}");
            assert_eq!(m["verified_on_disk"], files - 1, "{runtime}");
            assert_eq!(m["dir_removed"], true, "{runtime}");
            let failed: Vec<String> = serde_json::from_value(m["failed"].clone()).unwrap();
            let cut = format!("file-{broken}.bin: cut off after ");
            match failure {
                Some(f) => assert_eq!(failed, [f], "{runtime}"),
                None => assert!(
                    failed.len() == 1 && failed[0].starts_with(&cut),
                    "{failed:?}"
                ),
            }
            // Each kept file's progress reaches 100 %; the cut one stops short.
            for n in 1..=files {
                let last = r
                    .timeline
                    .series
                    .get(&format!("progress file-{n}.bin"))
                    .and_then(|v| v.last())
                    .map(|p| p.1.clone());
                match (n == broken, failure) {
                    (false, _) => assert_eq!(last, Some(SeriesValue::Num(100.0)), "{runtime} {n}"),
                    (true, None) => {
                        let short = matches!(last, Some(SeriesValue::Num(v)) if v < 100.0);
                        assert!(short, "{runtime}: {last:?}");
                    }
                    (true, Some(_)) => {}
                }
            }
            // A whole file comes in pieces with the server's pauses between them.
            for task in view(r).tasks.iter().filter(|t| t.outcome == Outcome::Ok) {
                if task.name.starts_with("file-") {
                    let len = task.finished_ms.unwrap_or(0.0) - task.spawned_ms;
                    assert!(len >= paced_ms - 1.0, "{runtime} {}: {len} ms", task.name);
                }
            }
            let marks: Vec<&str> = r.timeline.marks.iter().map(|m| &*m.label).collect();
            for prefix in ["listening on 127.0.0.1:", "created ", "removed "] {
                assert!(
                    marks.iter().any(|l| l.starts_with(prefix)),
                    "{runtime} {marks:?}"
                );
            }
        }
        // One twin lane per connection the server accepted.
        let a = &twin.report.runs[0];
        let conns = view(a)
            .tasks
            .iter()
            .filter(|t| t.name.starts_with("conn "))
            .count();
        assert_eq!(a.timeline.metric("connections_opened"), Some(conns as f64));
    }
}

/// client-per-file opens a connection per file where shared-client reuses them: the same
/// counts on both runtimes (io_compare runs the first variant only).
#[test]
fn downloader_client_per_file_opens_a_connection_per_file_on_both() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let set = &["files=4", "concurrency=2", "size_kb=32", "broken_file=0"];
    let req = request(
        "downloader",
        &["shared-client", "client-per-file"],
        set,
        Clock::Real,
    );
    let twin = asyncio::run_twin(&req, py).unwrap();
    let tokio = runner::run_blocking(req).unwrap();
    for (variant, opened) in [("shared-client", 2.0), ("client-per-file", 5.0)] {
        for (runtime, r) in [
            ("tokio", tokio.run(variant).unwrap()),
            ("asyncio", twin.report.run(variant).unwrap()),
        ] {
            assert_eq!(r.error, None, "{runtime} {variant}: {}", twin.stderr);
            let m = &r.timeline;
            assert_eq!(
                m.metric("connections_opened"),
                Some(opened),
                "{runtime} {variant}"
            );
            assert_eq!(m.metric("files_ok"), Some(4.0), "{runtime} {variant}");
        }
    }
}

/// The gateway on both runtimes, with every event far enough from the others (10 ms and more)
/// that the machine cannot reorder them: the same requests forwarded to the same instances, the
/// same one failing while users-2 is down and not yet removed, the same rejections.
#[test]
pub(crate) fn gateway_conforms_on_the_real_clock() {
    // (parameters, ok, rejected, failed, removals)
    let sets: [(&[&str], u64, u64, u64, u64); 2] = [
        (
            &[
                "requests=20",
                "interval_ms=40",
                "health_ms=90",
                "down_at_ms=145",
                "up_at_ms=400",
                "latency_ms=5",
                "rate_per_s=10000",
                "burst=1000",
            ],
            19,
            0,
            1,
            1,
        ),
        (
            &[
                "requests=10",
                "interval_ms=10",
                "burst=3",
                "rate_per_s=10",
                "down_at_ms=5000",
                "up_at_ms=0",
            ],
            3,
            7,
            0,
            0,
        ),
    ];
    for (set, ok, rejected, failed, removals) in sets {
        let measured = Measured {
            metrics: &["addrs"],
            marks: &["listening on "],
            // The servers, checkers and chaos end when told; the requests last a few ms each.
            told_to_end: &[
                "instance users-1",
                "instance users-2",
                "instance users-3",
                "gateway",
                "health users-1",
                "health users-2",
                "health users-3",
                "chaos",
            ],
            twin_conn_lanes: true,
            ..EXACT
        };
        let Some((tokio, twin)) = io_conforms("gateway", set, &measured) else {
            return;
        };
        for (runtime, r) in [("tokio", &tokio.runs[0]), ("asyncio", &twin.report.runs[0])] {
            let m = &r.timeline;
            assert_eq!(m.metric("ok"), Some(ok as f64), "{runtime}");
            assert_eq!(m.metric("rejected_429"), Some(rejected as f64), "{runtime}");
            assert_eq!(m.metric("failed"), Some(failed as f64), "{runtime}");
            assert_eq!(m.metric("removals"), Some(removals as f64), "{runtime}");
            assert_eq!(m.metric("returns"), Some(removals as f64), "{runtime}");
            let listening = m
                .marks
                .iter()
                .filter(|k| k.label.starts_with("listening on "));
            assert_eq!(
                listening.count(),
                4,
                "{runtime}: three instances and the gateway"
            );
        }
    }
}

/// With the lesson's parameters the requests come 12 ms apart and the removal falls on a
/// request's instant, so the counts may differ by a request or two between runs: both runtimes
/// take users-2 out once and back once, reject some requests and let most through.
#[test]
fn gateway_defaults_remove_and_return_users_2_and_reject_on_both() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let req = request("gateway", &["round-robin"], &[], Clock::Real);
    let twin = asyncio::run_twin(&req, py).unwrap();
    let tokio = runner::run_blocking(req).unwrap();
    for (runtime, r) in [("tokio", &tokio.runs[0]), ("asyncio", &twin.report.runs[0])] {
        assert_eq!(r.error, None, "{runtime}: {}", twin.stderr);
        let m = &r.timeline;
        assert_eq!(m.metric("removals"), Some(1.0), "{runtime}");
        assert_eq!(m.metric("returns"), Some(1.0), "{runtime}");
        let count = |k| m.metric(k).unwrap_or(f64::NAN);
        let (ok, rejected, failed) = (count("ok"), count("rejected_429"), count("failed"));
        assert_eq!(ok + rejected + failed, 80.0, "{runtime}");
        assert!(
            (10.0..=18.0).contains(&rejected),
            "{runtime}: {rejected} rejected"
        );
        assert!(failed <= 4.0, "{runtime}: {failed} failed");
        let labels: Vec<&str> = m
            .marks
            .iter()
            .map(|k| &*k.label)
            .filter(|l| l.starts_with("users-2"))
            .collect();
        assert_eq!(
            labels,
            [
                "users-2 turns unhealthy",
                "users-2 removed",
                "users-2 is healthy again",
                "users-2 back in rotation"
            ],
            "{runtime}"
        );
    }
}

#[test]
pub(crate) fn http_fanout_conforms_on_the_real_clock() {
    // (parameters, requests, limit)
    let sets: [(&[&str], f64, f64); 3] = [
        (&[], 20.0, 5.0),
        (
            &[
                "requests=20",
                "limit=4",
                "latency_ms=40",
                "fail_pct=10",
                "seed=3",
            ],
            20.0,
            4.0,
        ),
        // Bodies over 64 KiB, which the Rust server streams piece by piece.
        (
            &[
                "requests=9",
                "limit=3",
                "latency_ms=30",
                "fail_pct=30",
                "size=70000",
                "seed=7",
            ],
            9.0,
            3.0,
        ),
    ];
    for (set, requests, limit) in sets {
        for variant in ["sequential", "join-all", "semaphore", "buffer-unordered"] {
            let bounded = matches!(variant, "semaphore" | "buffer-unordered");
            let measured = Measured {
                metrics: &["requests_per_s", "server_addr"],
                // A bounded run's gauges go up and down as responses and permits interleave;
                // their highest point is compared (max_in_flight).
                series: if bounded {
                    &["in_flight", "waiting"]
                } else {
                    &[]
                },
                marks: &["listening on"],
                told_to_end: &["server"],
                // Concurrent responses (and their "new connection" marks) arrive in any order.
                milestones_in_order: false,
                ..EXACT
            };
            let Some((tokio, twin)) = io_conforms_variant("http-fanout", variant, set, &measured)
            else {
                return;
            };
            let (max_in_flight, opened) = match variant {
                "sequential" => (1.0, 1.0),
                "join-all" => (requests, requests),
                _ => (limit, limit),
            };
            for (runtime, r) in [("tokio", &tokio.runs[0]), ("asyncio", &twin.report.runs[0])] {
                let tl = &r.timeline;
                let what = format!("{runtime} {variant} {set:?}");
                assert_eq!(tl.metric("max_in_flight"), Some(max_in_flight), "{what}");
                assert_eq!(tl.metric("connections_opened"), Some(opened), "{what}");
                assert_eq!(
                    tl.metric("connection_reuses"),
                    Some(requests - opened),
                    "{what}"
                );
                assert_eq!(
                    marks_starting(r, "new connection ") as f64,
                    opened,
                    "{what}"
                );
            }
        }
    }
}

/// What the crawler measures or orders by timing: its rate, its port, and the server's mark.
const CRAWL_MEASURED: Measured<'static> = Measured {
    metrics: &["pages_per_s", "server_addr"],
    series: &[],
    marks: &["listening on"],
    // Each page is a fresh connection in the twin and a pooled one in reqwest: on a loaded
    // machine that is more than 15 ms now and then. Each page's wait is checked below instead.
    lengths: false,
    told_to_end: &["site server"],
    milestones_in_order: true,
    // The site's connections are callbacks inside its server lane, on both runtimes.
    twin_conn_lanes: false,
    tokio_only: &[],
};

#[test]
pub(crate) fn crawler_conforms_on_the_real_clock() {
    // (parameters, the server's latency)
    let sets: [(&[&str], f64); 3] = [
        (&[], 50.0),
        (
            &[
                "pages=40",
                "links=4",
                "broken_pct=20",
                "offsite_pct=5",
                "latency_ms=20",
                "seed=9",
            ],
            20.0,
        ),
        // The page budget stops the crawl before the site is done.
        (
            &["pages=60", "max_pages=12", "latency_ms=10", "seed=4"],
            10.0,
        ),
    ];
    for (set, latency) in sets {
        // One page at a time: the same pages in the same order, with the same outcomes.
        let Some((tokio, twin)) =
            io_conforms_variant("crawler", "sequential", set, &CRAWL_MEASURED)
        else {
            return;
        };
        for (runtime, r) in [("tokio", &tokio.runs[0]), ("asyncio", &twin.report.runs[0])] {
            let v = view(r);
            let gets: Vec<&TaskView> = v
                .tasks
                .iter()
                .filter(|t| t.name.starts_with("GET "))
                .collect();
            // Never two in flight: each page starts after the one before it ended, and waits
            // the server's latency.
            for pair in gets.windows(2) {
                let ended = pair[0].finished_ms.unwrap_or(f64::NAN);
                assert!(pair[1].spawned_ms >= ended, "{runtime} {set:?}");
            }
            for t in gets {
                let len = t.finished_ms.unwrap_or(f64::NAN) - t.spawned_ms;
                assert!(
                    len >= latency - 1.0,
                    "{runtime} {set:?} {}: {len} ms",
                    t.name
                );
            }
        }
    }
    for (set, _) in &sets[..2] {
        crawler_workers_agree(set);
    }
}

/// N workers: which worker takes which page, and in what order pages finish, is the machine's
/// to decide; the pages fetched, their outcomes and the crawl's counts are not.
fn crawler_workers_agree(set: &[&str]) {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let req = request("crawler", &["workers"], set, Clock::Real);
    let twin = asyncio::run_twin(&req, py).unwrap();
    let tokio = runner::run_blocking(req).unwrap();
    let (t, a) = (&tokio.runs[0], &twin.report.runs[0]);
    assert_eq!(a.error, None, "crawler: Python said:\n{}", twin.stderr);
    assert_eq!(t.error, None, "crawler on tokio");
    let pages = |r: &VariantRun| {
        let v = view(r);
        let mut gets: Vec<(String, &str)> = v
            .tasks
            .iter()
            .filter(|t| t.name.starts_with("GET "))
            .map(|t| (t.name.clone(), t.outcome.name()))
            .collect();
        gets.sort();
        let workers: Vec<(String, Outcome)> = v
            .tasks
            .iter()
            .filter(|t| t.name.starts_with("worker "))
            .map(|t| (t.name.clone(), t.outcome))
            .collect();
        let every_get_in_a_worker =
            v.tasks
                .iter()
                .filter(|t| t.name.starts_with("GET "))
                .all(|t| {
                    t.parent
                        .as_deref()
                        .is_some_and(|p| p.starts_with("worker "))
                });
        (gets, workers, every_get_in_a_worker)
    };
    assert_eq!(pages(a), pages(t), "crawler workers {set:?}: pages");
    assert!(pages(t).2, "{set:?}");
    let metrics = |r: &VariantRun| {
        let mut m = view(r).metrics;
        m.retain(|k, _| !CRAWL_MEASURED.metrics.contains(&k.as_str()));
        // Broken links are listed in the order they were found.
        if let Some(serde_json::Value::Array(list)) = m.get_mut("broken") {
            list.sort_by_key(|v| v.to_string());
        }
        m
    };
    assert_eq!(metrics(a), metrics(t), "crawler workers {set:?}: metrics");
    let marks = |r: &VariantRun| {
        let mut labels: Vec<String> = r
            .timeline
            .marks
            .iter()
            .map(|m| m.label.to_string())
            .filter(|l| !l.starts_with("listening on"))
            .collect();
        labels.sort();
        labels
    };
    assert_eq!(marks(a), marks(t), "crawler workers {set:?}: marks");
}
