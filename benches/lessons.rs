//! Loading and validating every shipped lesson (budget: under 5 ms median in a release build; and
//! the same from YAML alone, which is why start-up reads build-time JSON), and the demo engine's
//! budgets: recorder cost per poll (80 ns) and per wake (40 ns), a 100,000-task gather on the
//! virtual clock (250 ms), serialising a 10,000-task run; and refusing a lesson nested 10,000
//! levels deep.

use asyncdojo::demo::asyncio::Runtime;
use asyncdojo::demo::document::Document;
use asyncdojo::demo::recorder::Recorder;
use asyncdojo::demo::timeline::WakeCause;
use asyncdojo::demo::timer_deadlines::TimerDeadlines;
use asyncdojo::demo::{Clock, Ctx, Ended, Registry, RunRequest, runner};
use futures::FutureExt;

fn main() {
    divan::main();
}

#[divan::bench]
fn load_and_validate_shipped_lessons() -> usize {
    asyncdojo::lesson::load_embedded(&Registry).lessons.len()
}

/// The shipped lessons parsed from their YAML text (the careful path, which directories and
/// `check` take), on two threads like the loader: what start-up would cost without the
/// build-time JSON. Kept next to the real load so the choice can be re-measured.
#[divan::bench]
fn load_shipped_from_yaml() -> usize {
    parse_all_on_two_threads(|name, text| {
        asyncdojo::lesson::parse_lesson(name, text.as_bytes(), &Registry).is_ok()
    })
}

fn parse_all_on_two_threads(parse: impl Fn(&str, &str) -> bool + Sync) -> usize {
    let files: Vec<(&str, &str)> = asyncdojo::lesson::load::embedded_files()
        .iter()
        .map(|f| (f.0, std::str::from_utf8(f.1).expect("utf-8")))
        .collect();
    let (a, b) = files.split_at(files.len() / 2);
    let count = |chunk: &[(&str, &str)]| chunk.iter().filter(|(n, t)| parse(n, t)).count();
    std::thread::scope(|s| {
        let other = s.spawn(|| count(b));
        count(a) + other.join().expect("thread")
    })
}

/// One recorded poll on the real clock: what the instrumentation adds to every poll of every
/// demo task (reading the clock before and after, and recording the interval). A fixed sample
/// size, because a first call that allocates makes divan's calibration pick one call per sample,
/// which then measures the timer more than the recorder.
#[divan::bench(sample_size = 2000)]
fn recorder_poll(bencher: divan::Bencher) {
    bench_poll(bencher, Clock::Real, || Recorder::on(Clock::Real));
}

/// The same on the virtual clock, which most lessons use.
#[divan::bench(sample_size = 2000)]
fn recorder_poll_virtual(bencher: divan::Bencher) {
    bench_poll(bencher, Clock::Virtual, || Recorder::on(Clock::Virtual));
}

/// A real-clock poll read through tokio's clock, as the recorder did before it read the system
/// clock on real runs: kept so the difference can be re-measured in one run.
#[divan::bench(sample_size = 2000)]
fn recorder_poll_tokio_clock(bencher: divan::Bencher) {
    bench_poll(bencher, Clock::Real, Recorder::new);
}

fn bench_poll(bencher: divan::Bencher, clock: Clock, make: impl FnOnce() -> Recorder) {
    let rt = bench_runtime(clock);
    let _guard = rt.enter();
    let rec = make();
    let id = rec.new_task("bench".into(), None);
    bencher.bench_local(|| {
        let start = rec.poll_start();
        rec.poll(id, start);
    });
}

fn bench_runtime(clock: Clock) -> tokio::runtime::Runtime {
    // Once any runtime in the process has paused its clock, as any virtual run in the app does,
    // tokio's clock must look for a paused one on every read: measure in that state whatever
    // ran before.
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime")
        .block_on(async {});
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(clock == Clock::Virtual)
        .build()
        .expect("runtime")
}

/// One recorded wake (a task woken by another): what the recorder adds to every wake that makes
/// a task scheduled (reading the clock once, numbering and keeping it).
#[divan::bench(sample_size = 2000)]
fn recorder_wake(bencher: divan::Bencher) {
    bench_wake(bencher, Clock::Real);
}

#[divan::bench(sample_size = 2000)]
fn recorder_wake_virtual(bencher: divan::Bencher) {
    bench_wake(bencher, Clock::Virtual);
}

fn bench_wake(bencher: divan::Bencher, clock: Clock) {
    let rt = bench_runtime(clock);
    let _guard = rt.enter();
    let rec = Recorder::on(clock);
    let a = rec.new_task("a".into(), None);
    let b = rec.new_task("b".into(), None);
    bencher.bench_local(|| rec.wake(a, WakeCause::Task, Some(b), None));
}

/// A lane's poll on the virtual clock, as a demo task's poll costs with its instrumentation:
/// the lane's state, its waker checked, the poll recorded. Nothing wakes it.
#[divan::bench(sample_size = 2000)]
fn lane_poll(bencher: divan::Bencher) {
    let rt = bench_runtime(Clock::Virtual);
    let _guard = rt.enter();
    let ctx = Ctx::new(Recorder::on(Clock::Virtual), Clock::Virtual, "bench");
    let (mut lane, _) = waiting_lane(&ctx);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    bencher.bench_local(|| {
        let _ = lane.as_mut().poll(&mut cx);
    });
}

/// One timer deadline armed and forgotten: a recorded task's `Sleep` registers its timer (its
/// first poll) and is dropped, with the run's deadlines listening on the thread
/// (src/demo/timer_deadlines.rs). `sleep_unwatched` is the same with no deadlines anywhere
/// (run it alone: once the other has run, tokio's callsites stay on in the process): the
/// difference is what each `Sleep` of every run pays for its deadline.
#[divan::bench(sample_size = 2000)]
fn sleep_armed_and_dropped(bencher: divan::Bencher) {
    bench_sleep(bencher, true);
}

#[divan::bench(sample_size = 2000)]
fn sleep_unwatched(bencher: divan::Bencher) {
    bench_sleep(bencher, false);
}

fn bench_sleep(bencher: divan::Bencher, watched: bool) {
    // Unwatched, none is even made: a subscriber anywhere in the process turns tokio's `Sleep`
    // callsites on for every thread, so this measures a process without one.
    let deadlines = watched.then(|| TimerDeadlines::new(Clock::Virtual));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    let rec = rt.block_on(async { Recorder::on(Clock::Virtual) });
    let _installed = deadlines.map(|d| {
        d.start(&rec);
        d.install().expect("nothing else listens")
    });
    let ctx = Ctx::new(rec, Clock::Virtual, "bench");
    rt.block_on(ctx.instrument("bench", async move {
        bencher.bench_local(|| {
            let mut sleep = Box::pin(tokio::time::sleep(std::time::Duration::from_millis(10)));
            // One poll: the timer is registered (and the deadline armed), then dropped.
            let _ = (&mut sleep).now_or_never();
        });
        Ended::ok("")
    }));
}

/// Two lanes' polls and a wake: the second lane, as it is polled, wakes the first (as a sender
/// wakes its receiver), which is then polled. The wake through a lane's waker (its state, its
/// cause, its record, passed on to the waker it wraps) costs this less two `lane_poll`s.
#[divan::bench(sample_size = 2000)]
fn lane_wake_by_task(bencher: divan::Bencher) {
    let rt = bench_runtime(Clock::Virtual);
    let _guard = rt.enter();
    let ctx = Ctx::new(Recorder::on(Clock::Virtual), Clock::Virtual, "bench");
    let (mut woken, kept) = waiting_lane(&ctx);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let _ = woken.as_mut().poll(&mut cx);
    let waker = kept.borrow().clone().expect("the lane's waker");
    let mut waking = Box::pin(ctx.instrument(
        "waking",
        std::future::poll_fn(move |_| {
            waker.wake_by_ref();
            std::task::Poll::<Ended>::Pending
        }),
    ));
    bencher.bench_local(|| {
        let _ = waking.as_mut().poll(&mut cx);
        let _ = woken.as_mut().poll(&mut cx);
    });
}

type Kept = std::rc::Rc<std::cell::RefCell<Option<std::task::Waker>>>;

/// A lane that waits for ever, keeping its waker as a timer or a channel would (once: it is the
/// same every poll).
fn waiting_lane(ctx: &Ctx) -> (std::pin::Pin<Box<impl Future<Output = Ended>>>, Kept) {
    let kept: Kept = Default::default();
    let lane = Box::pin(ctx.instrument("bench", {
        let kept = std::rc::Rc::clone(&kept);
        std::future::poll_fn(move |cx| {
            let mut k = kept.borrow_mut();
            if !k.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *k = Some(cx.waker().clone());
            }
            std::task::Poll::<Ended>::Pending
        })
    }));
    (lane, kept)
}

#[divan::bench(sample_count = 10)]
fn gather_100k_tasks_virtual() -> usize {
    let list = vec!["5"; 100_000].join(",");
    let req = RunRequest::build(
        "gather",
        &["join-set".into()],
        &[format!("latencies_ms={list}")],
        Clock::Virtual,
    )
    .expect("valid request");
    runner::run_blocking(req).expect("run").runs[0]
        .timeline
        .tasks
        .len()
}

/// The same shape with nothing recorded: 100,000 tasks each sleeping 5 ms in a `JoinSet` on a
/// paused clock. What tokio itself costs, so the recorder's share can be read off in one run.
#[divan::bench(sample_count = 10)]
fn gather_100k_tasks_unrecorded() -> usize {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..100_000 {
            set.spawn(async {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                "5 ms".to_owned()
            });
        }
        let mut n = 0;
        while set.join_next().await.is_some() {
            n += 1;
        }
        n
    })
}

#[divan::bench(sample_count = 20)]
fn serialise_10k_task_run(bencher: divan::Bencher) {
    let list = vec!["5"; 10_000].join(",");
    let req = RunRequest::build(
        "gather",
        &["join-set".into()],
        &[format!("latencies_ms={list}")],
        Clock::Virtual,
    )
    .expect("valid request");
    let report = runner::run_blocking(req).expect("run");
    bencher.bench(|| {
        let doc = Document::of_report(&report, Runtime::Tokio);
        serde_json::to_vec(&doc).expect("serialise").len()
    });
}

#[divan::bench]
fn parts_yaml_value() -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir("lessons").expect("lessons") {
        let p = entry.expect("entry").path();
        if p.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&p).expect("read");
            let v: yaml_serde::Value = yaml_serde::from_str(&text).expect("parse");
            n += v.as_mapping().map_or(0, |m| m.len());
        }
    }
    n
}

#[divan::bench]
fn parts_span_index() -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir("lessons").expect("lessons") {
        let p = entry.expect("entry").path();
        if p.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&p).expect("read");
            n += asyncdojo::lesson::spans::SpanIndex::build(&text)
                .first_alias
                .is_some() as usize;
        }
    }
    n
}

/// A hostile lesson nested 10,000 levels deep is refused (budget: 100 ms).
#[divan::bench(sample_count = 20)]
fn refuse_10k_deep_nesting(bencher: divan::Bencher) {
    let deep = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    bencher.bench_local(|| {
        asyncdojo::lesson::parse_lesson("deep.yaml", deep.as_bytes(), &Registry)
            .expect_err("refused")
            .len()
    });
}
