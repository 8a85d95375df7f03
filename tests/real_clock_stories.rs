//! Demos as their lessons tell them, on the real clock: a caption is watched on the real clock
//! in the app, so the default run must tell the caption's story every time, not only on the
//! virtual clock's exact instants. Each story runs several times side by side (the load the runs
//! put on each other is lateness too), on tokio and on the asyncio twin. The circuit breaker's
//! stories are in tests/breaker.rs.
//!
//! A story only holds on the real clock if no event of the run is due at the very instant of a
//! deadline: which side of a tie wins there is luck. tests/real_clock_defaults.rs sweeps every
//! demo's default run for such ties on the virtual clock and repeats each default on the real
//! clock, story for story; the scheduler's captions' own numbers are checked here (and its
//! cancel's distance from every run by `default_run_keeps_clear_of_the_cancel`, a unit test).
//!
//! The asyncio tests need Python 3.11 or later. Without one they print why and pass, unless `CI`
//! or `ASYNCDOJO_REQUIRE_PYTHON` is set: then they fail, as in tests/asyncio.rs.

#[path = "support/runs.rs"]
mod runs;
use runs::{on_asyncio, on_tokio};

use asyncdojo::demo::Clock;
use asyncdojo::demo::asyncio::Python;
use asyncdojo::demo::runner::{RunReport, RunRequest, VariantRun};
use asyncdojo::demo::timeline::Outcome;

/// The interpreter the tests use (see `asyncio::for_tests`).
fn python() -> Option<&'static Python> {
    asyncdojo::demo::asyncio::for_tests()
}

fn request(demo: &str, variants: &[&str], set: &[&str], clock: Clock) -> RunRequest {
    let variants: Vec<String> = variants.iter().map(|s| s.to_string()).collect();
    let sets: Vec<String> = set.iter().map(|s| s.to_string()).collect();
    RunRequest::build(demo, &variants, &sets, clock).unwrap()
}

/// `n` runs side by side.
fn side_by_side(n: usize, run: impl Fn() -> RunReport + Sync) -> Vec<RunReport> {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n).map(|_| s.spawn(&run)).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

// ---- scheduler -------------------------------------------------------------------------------

const SCHEDULER: &str = "scheduler";
const BOTH: &[&str] = &["fixed-rate", "fixed-delay"];

/// The default cancel, the instant the captions state.
const CANCEL_MS: f64 = 970.0;

/// What a run looked like, for a failure message: every mark and every lane.
fn story(run: &VariantRun, which: &str) -> String {
    let marks: Vec<(f64, &str)> = run
        .timeline
        .marks
        .iter()
        .map(|m| ((m.t_ms * 10.0).round() / 10.0, m.label.as_ref()))
        .collect();
    let tasks: Vec<_> = run
        .timeline
        .tasks
        .iter()
        .map(|t| (&t.name, t.outcome, t.finished_ms.map(f64::round), &t.detail))
        .collect();
    format!(
        "{which} {}: marks {marks:?}\ntasks {tasks:?}\nmetrics {:?}",
        run.variant, run.timeline.metrics
    )
}

fn mark_times(run: &VariantRun, label: impl Fn(&str) -> bool) -> Vec<f64> {
    let marks = run.timeline.marks.iter().filter(|m| label(&m.label));
    marks.map(|m| m.t_ms).collect()
}

fn run_starts(run: &VariantRun) -> Vec<f64> {
    mark_times(run, |l| l.starts_with("run "))
}

/// The cancel comes at `CANCEL_MS` (a timer is never early, and a late one is not the story's
/// fault up to half a period), every task is cancelled by then and awaited before the run ends,
/// and nothing starts after it. Returns the cancel's instant.
fn cancels_and_awaits(run: &VariantRun, story: &str) -> f64 {
    let cancel = mark_times(run, |l| l == "cancel all");
    assert_eq!(cancel.len(), 1, "{story}");
    let cancel = cancel[0];
    assert!(
        (CANCEL_MS - 0.5..CANCEL_MS + 50.0).contains(&cancel),
        "{story}"
    );
    let recurring = run.timeline.task("recurring").unwrap();
    assert_eq!(recurring.outcome, Outcome::Cancelled, "{story}");
    for t in &run.timeline.tasks {
        let finished = t.finished_ms.unwrap_or(f64::INFINITY);
        assert!(finished <= run.total_ms, "{}: {story}", t.name);
    }
    let last = run
        .timeline
        .marks
        .iter()
        .map(|m| m.t_ms)
        .fold(0.0, f64::max);
    assert_eq!(last, cancel, "something happened after the cancel: {story}");
    cancel
}

/// C3's caption and its evidence caption: fixed rate starts at 0, 100, 200, ... ms whatever the
/// 30 ms run time and gets 10 runs in before the cancel at 970 ms; fixed delay starts at 0, 130,
/// 260, ... and gets only 8; at 970 ms every job is cancelled, and the scheduler waits for the
/// cancelled tasks before it returns. (The one-shot job, at 250 ms, ran.)
fn tells_c3s_story(report: &RunReport, which: &str) {
    let variant = |name: &str| report.run(name).unwrap();
    for (name, runs, period, on_grid) in [
        ("fixed-rate", 10, 100.0, true),
        ("fixed-delay", 8, 130.0, false),
    ] {
        let run = variant(name);
        let story = story(run, which);
        let metric = run.timeline.metric("recurring_runs");
        assert_eq!(metric, Some(runs as f64), "{story}");
        let starts = run_starts(run);
        assert_eq!(starts.len(), runs, "{story}");
        // Fixed rate stays on the k * 100 grid; fixed delay keeps 130 ms between starts, so it
        // drifts. Either way a start is never early, and no later than half a period.
        for (k, &t) in starts.iter().enumerate() {
            let due = if on_grid || k == 0 {
                k as f64 * period
            } else {
                starts[k - 1] + period
            };
            assert!(
                (due - 0.5..due + period / 2.0).contains(&t),
                "run {} at {t} ms, due at {due}: {story}",
                k + 1
            );
        }
        let cancel = cancels_and_awaits(run, &story);
        assert!(starts.iter().all(|&t| t < cancel), "{story}");
        let once = run.timeline.task("once").unwrap();
        assert_eq!(
            (once.outcome, once.detail.as_str()),
            (Outcome::Ok, "ran once"),
            "{story}"
        );
        assert_eq!(mark_times(run, |l| l == "once").len(), 1, "{story}");
    }
}

/// Q11's caption: shutdown comes at 970 ms, before the one-shot job is due (1500 ms), so that
/// job never runs; the recurring job and the pending one-shot both end "cancelled" at the same
/// instant, and the scheduler awaits them before it returns.
const Q11: &[&str] = &["once_delay_ms=1500", "cancel_at_ms=970"];

fn tells_q11s_story(report: &RunReport, which: &str) {
    let run = report.run("fixed-rate").unwrap();
    let story = story(run, which);
    let cancel = cancels_and_awaits(run, &story);
    assert!(mark_times(run, |l| l == "once").is_empty(), "{story}");
    let ends: Vec<f64> = ["recurring", "once"]
        .iter()
        .map(|name| {
            let task = run.timeline.task(name).unwrap();
            assert_eq!(task.outcome, Outcome::Cancelled, "{name}: {story}");
            task.finished_ms.unwrap()
        })
        .collect();
    assert!(ends.iter().all(|&t| t >= cancel), "{story}");
    // "At the same instant": the one cancel_all stops both, a few µs apart.
    assert!((ends[0] - ends[1]).abs() < 2.0, "{story}");
}

#[test]
fn the_scheduler_default_tells_c3s_story_on_the_real_clock_on_tokio() {
    let reports = side_by_side(3, || on_tokio(request(SCHEDULER, BOTH, &[], Clock::Real)));
    for (k, report) in reports.iter().enumerate() {
        tells_c3s_story(report, &format!("tokio, real-clock run {}", k + 1));
    }
}

#[test]
fn the_scheduler_default_tells_c3s_story_on_the_real_clock_on_asyncio() {
    let Some(py) = python() else { return };
    let reports = side_by_side(3, || {
        on_asyncio(py, &request(SCHEDULER, BOTH, &[], Clock::Real))
    });
    for (k, report) in reports.iter().enumerate() {
        tells_c3s_story(report, &format!("asyncio, real-clock run {}", k + 1));
    }
}

#[test]
fn the_scheduler_default_tells_c3s_story_on_the_virtual_clock() {
    let report = on_tokio(request(SCHEDULER, BOTH, &[], Clock::Virtual));
    tells_c3s_story(&report, "tokio, virtual clock");
    if let Some(py) = python() {
        let report = on_asyncio(py, &request(SCHEDULER, BOTH, &[], Clock::Virtual));
        tells_c3s_story(&report, "asyncio, virtual clock");
    }
}

#[test]
fn the_scheduler_tells_q11s_story_on_the_real_clock() {
    let rate = &["fixed-rate"];
    let reports = side_by_side(3, || on_tokio(request(SCHEDULER, rate, Q11, Clock::Real)));
    for (k, report) in reports.iter().enumerate() {
        tells_q11s_story(report, &format!("tokio, real-clock run {}", k + 1));
    }
    let report = on_tokio(request(SCHEDULER, rate, Q11, Clock::Virtual));
    tells_q11s_story(&report, "tokio, virtual clock");
    let Some(py) = python() else { return };
    let reports = side_by_side(3, || {
        on_asyncio(py, &request(SCHEDULER, rate, Q11, Clock::Real))
    });
    for (k, report) in reports.iter().enumerate() {
        tells_q11s_story(report, &format!("asyncio, real-clock run {}", k + 1));
    }
}

// ---- slow-reader (B6) ------------------------------------------------------------------------

const SLOW_READER: &str = "slow-reader";
/// B6's parameters: 32 chunks of 16 KiB, read 4 KiB at a time, 2 ms apart.
const B6: &[&str] = &["chunks=32", "chunk_kb=16", "read_kb=4", "read_every_ms=2"];
const B6_TOTAL_KB: f64 = 32.0 * 16.0;
/// asyncio's default high water mark: drain lets the buffer reach it, plus the chunk just
/// written; tokio's write_all holds one chunk at most.
const B6_BOUND_KB: f64 = 64.0 + 16.0;

/// The writer's time between its polls: how long it waited.
fn waited_ms(run: &VariantRun) -> f64 {
    let writer = run.timeline.task("writer").expect("a writer lane");
    writer.polls.windows(2).map(|p| p[1].0 - p[0].1).sum()
}

/// B6's caption: without drain the writer never waits and the buffer grows to nearly all it
/// wrote; with drain the writer waits (gaps in its lane) and the buffer stays under the high
/// water mark. The reader gets every byte either way.
fn tells_b6s_story(report: &RunReport, which: &str) {
    for run in &report.runs {
        let v: &str = run.variant;
        let metric = |name: &str| run.timeline.metric(name).unwrap();
        assert_eq!(metric("read_kb"), B6_TOTAL_KB, "{which} {v}");
        let writer = run.timeline.task("writer").expect("a writer lane");
        let max = metric("max_buffered_kb");
        match v {
            "no-drain" => {
                assert_eq!(writer.polls.len(), 1, "{which}: the writer waited");
                assert_eq!(metric("writer_waits"), 0.0, "{which}");
                assert!(max >= B6_TOTAL_KB - 64.0, "{which}: {max} KiB buffered");
                // Over long before the reader is done.
                let written = mark_times(run, |l| l == "all written")[0];
                let ended = mark_times(run, |l| l == "end of stream")[0];
                assert!(written * 4.0 < ended, "{which}: {written} vs {ended} ms");
                let points = &run.timeline.series["buffered_kb"];
                let during: Vec<f64> = points
                    .iter()
                    .filter(|(t, _)| writer.finished_ms.is_some_and(|end| *t <= end))
                    .map(|(_, v)| match v {
                        asyncdojo::demo::timeline::SeriesValue::Num(n) => *n,
                        other => panic!("{other:?}"),
                    })
                    .collect();
                assert!(
                    during.windows(2).all(|w| w[1] >= w[0]),
                    "{which}: {during:?}"
                );
            }
            "drain" => {
                assert!(metric("writer_waits") > 0.0, "{which}");
                let length = writer.finished_ms.unwrap() - writer.spawned_ms;
                let waited = waited_ms(run);
                assert!(
                    waited > length / 2.0,
                    "{which}: waited {waited} of {length} ms"
                );
                assert!(max <= B6_BOUND_KB, "{which}: {max} KiB buffered");
            }
            other => panic!("{which}: variant {other}"),
        }
    }
}

#[test]
fn the_slow_reader_tells_b6s_story_on_tokio() {
    let both = &["no-drain", "drain"];
    let reports = side_by_side(3, || on_tokio(request(SLOW_READER, both, B6, Clock::Real)));
    for (k, report) in reports.iter().enumerate() {
        tells_b6s_story(report, &format!("tokio, real-clock run {}", k + 1));
    }
}

#[test]
fn the_slow_reader_tells_b6s_story_on_asyncio() {
    let Some(py) = python() else { return };
    let both = &["no-drain", "drain"];
    let reports = side_by_side(3, || {
        on_asyncio(py, &request(SLOW_READER, both, B6, Clock::Real))
    });
    for (k, report) in reports.iter().enumerate() {
        tells_b6s_story(report, &format!("asyncio, real-clock run {}", k + 1));
    }
}
