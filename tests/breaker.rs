//! The circuit-breaker demo as the lessons tell it: the default script on the real clock, and
//! stale results on both runtimes.
//!
//! The asyncio tests need Python 3.11 or later. Without one they print why and pass, unless `CI`
//! or `ASYNCDOJO_REQUIRE_PYTHON` is set: then they fail, as in tests/asyncio.rs.

use std::collections::BTreeMap;

use asyncdojo::demo::Clock;
use asyncdojo::demo::asyncio::{self, Python};
use asyncdojo::demo::runner::{self, RunRequest, VariantRun};
use asyncdojo::demo::timeline::{Outcome, SeriesValue};

const DEMO: &str = "circuit-breaker";
const VARIANT: &str = "breaker";

/// The interpreter the tests use (see `asyncio::for_tests`).
fn python() -> Option<&'static Python> {
    asyncdojo::demo::asyncio::for_tests()
}

fn request(set: &[&str], clock: Clock) -> RunRequest {
    let sets: Vec<String> = set.iter().map(|s| s.to_string()).collect();
    RunRequest::build(DEMO, &[VARIANT.to_owned()], &sets, clock).unwrap()
}

fn on_tokio(set: &[&str], clock: Clock) -> VariantRun {
    let report = runner::run_blocking(request(set, clock)).unwrap();
    let run = report.run(VARIANT).unwrap().clone();
    assert_eq!(run.error, None, "tokio");
    run
}

fn on_asyncio(py: &Python, set: &[&str], clock: Clock) -> VariantRun {
    let twin = asyncio::run_twin(&request(set, clock), py).unwrap();
    assert_eq!(twin.report.clock, clock);
    let run = twin.report.run(VARIANT).unwrap().clone();
    assert_eq!(run.error, None, "asyncio; Python said:\n{}", twin.stderr);
    run
}

fn detail<'a>(run: &'a VariantRun, task: &str) -> &'a str {
    &run.timeline.task(task).unwrap().detail
}

fn labels(run: &VariantRun) -> Vec<&str> {
    run.timeline
        .marks
        .iter()
        .map(|m| m.label.as_ref())
        .collect()
}

/// What Q8's and Q12's captions say the default script does: calls 1-3 fail and open the
/// breaker, 4 and 5 are rejected as open, 6 is the one half-open trial and succeeds, 7 arrives
/// while it runs and is rejected, 8 passes the closed breaker.
fn tells_the_caption_story(run: &VariantRun, which: &str) {
    use Outcome::*;
    let outcomes: Vec<Outcome> = (1..=8)
        .map(|k| run.timeline.task(&format!("call {k}")).unwrap().outcome)
        .collect();
    let story = format!(
        "{which}: {:?}",
        run.timeline
            .tasks
            .iter()
            .map(|t| (&t.name, t.spawned_ms.round(), t.outcome, &t.detail))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        outcomes,
        [Error, Error, Error, Rejected, Rejected, Ok, Rejected, Ok],
        "{story}"
    );
    assert!(detail(run, "call 4").contains("breaker open"), "{story}");
    assert!(detail(run, "call 5").contains("breaker open"), "{story}");
    assert!(
        detail(run, "call 6").contains("trial call succeeded"),
        "{story}"
    );
    assert!(detail(run, "call 7").contains("half-open"), "{story}");
    assert!(!detail(run, "call 8").contains("trial"), "{story}");
    assert_eq!(
        labels(run),
        ["closed -> open", "open -> half-open", "half-open -> closed"],
        "{story}"
    );
    let metric = |name: &str| run.timeline.metric(name);
    assert_eq!(
        (metric("rejected"), metric("trials"), metric("opened")),
        (Some(3.0), Some(1.0), Some(1.0)),
        "{story}"
    );
}

/// Real time arrives a little late at every instant; the default script must tell the same
/// story whatever the lateness. When call 6 arrived at the very millisecond the reset period
/// ended, tokio rejected it (and made call 7 the trial) in 6 runs of 8 on one machine, 2 of 10 on
/// another; `default_script_keeps_clear_of_every_deadline` in the unit tests is the exact guard.
/// The runs go side by side: the load they put on each other is lateness too.
fn real_runs(n: usize, run: impl Fn() -> VariantRun + Sync, runtime: &str) {
    let runs: Vec<VariantRun> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..n).map(|_| s.spawn(&run)).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (k, run) in runs.iter().enumerate() {
        tells_the_caption_story(run, &format!("{runtime}, real-clock run {}", k + 1));
    }
}

#[test]
fn the_default_script_tells_the_caption_story_on_the_real_clock_on_tokio() {
    real_runs(5, || on_tokio(&[], Clock::Real), "tokio");
}

#[test]
fn the_default_script_tells_the_caption_story_on_the_real_clock_on_asyncio() {
    let Some(py) = python() else { return };
    real_runs(3, || on_asyncio(py, &[], Clock::Real), "asyncio");
}

#[test]
fn the_default_script_tells_the_caption_story_on_the_virtual_clock() {
    tells_the_caption_story(&on_tokio(&[], Clock::Virtual), "tokio, virtual clock");
    if let Some(py) = python() {
        let run = on_asyncio(py, &[], Clock::Virtual);
        tells_the_caption_story(&run, "asyncio, virtual clock");
    }
}

/// A run as the two runtimes must agree on it: every task's name, outcome and times, the marks
/// with their tasks, the series and the metrics.
#[derive(Debug, PartialEq)]
struct View {
    total_ms: f64,
    tasks: Vec<(String, Outcome, f64, Option<f64>)>,
    marks: Vec<(f64, Option<String>, String)>,
    series: BTreeMap<String, Vec<(f64, SeriesValue)>>,
    metrics: BTreeMap<String, Option<f64>>,
}

fn view(run: &VariantRun) -> View {
    let tl = &run.timeline;
    let name = |id| {
        tl.tasks
            .iter()
            .find(|t| Some(t.id) == id)
            .map(|t| t.name.clone())
    };
    View {
        total_ms: run.total_ms,
        tasks: tl
            .tasks
            .iter()
            .map(|t| (t.name.clone(), t.outcome, t.spawned_ms, t.finished_ms))
            .collect(),
        marks: tl
            .marks
            .iter()
            .map(|m| (m.t_ms, name(m.task), m.label.to_string()))
            .collect(),
        series: tl.series.clone(),
        metrics: tl
            .metrics
            .keys()
            .map(|k| (k.clone(), tl.metric(k)))
            .collect(),
    }
}

/// Issue 21's script: call 1, let in while closed, fails at 500 ms after the breaker opened at
/// 10 ms and a trial closed it at 200 ms. That failure is stale: the breaker stays closed, and
/// call 4 at 600 ms is an ordinary call, not a trial. Before the generation counter, both
/// runtimes reopened the breaker at 500 ms.
const LATE_FAILURE: &[&str] = &[
    "threshold=1",
    "reset_ms=100",
    "calls=0:fail:500,10:fail,200:ok,600:ok",
];

/// A late success: call 1 succeeds at 500 ms, after a trial closed the breaker again. Counted,
/// it would wipe the fresh failure at 450 ms, and the one at 550 ms would not reopen it.
const LATE_SUCCESS: &[&str] = &[
    "threshold=2",
    "reset_ms=100",
    "calls=0:ok:500,10:fail,20:fail,200:ok,450:fail,550:fail,600:ok",
];

fn ignores_the_late_failure(run: &VariantRun, which: &str) {
    let v = view(run);
    let marks: Vec<(f64, &str)> = v.marks.iter().map(|m| (m.0, m.2.as_str())).collect();
    assert_eq!(
        marks,
        [
            (10.0, "closed -> open"),
            (200.0, "open -> half-open"),
            (200.0, "half-open -> closed"),
            (500.0, "stale result ignored"),
        ],
        "{which}"
    );
    assert_eq!(v.marks[3].1.as_deref(), Some("call 1"), "{which}");
    assert!(detail(run, "call 1").contains("stale"), "{which}");
    assert_eq!(detail(run, "call 4"), "call succeeded", "{which}");
    assert_eq!(v.metrics["opened"], Some(1.0), "{which}");
    assert_eq!(v.metrics["stale"], Some(1.0), "{which}");
}

fn ignores_the_late_success(run: &VariantRun, which: &str) {
    let v = view(run);
    let marks: Vec<(f64, &str)> = v.marks.iter().map(|m| (m.0, m.2.as_str())).collect();
    assert_eq!(
        marks,
        [
            (20.0, "closed -> open"),
            (200.0, "open -> half-open"),
            (200.0, "half-open -> closed"),
            (500.0, "stale result ignored"),
            (550.0, "closed -> open"),
        ],
        "{which}"
    );
    let call7 = run.timeline.task("call 7").unwrap();
    assert_eq!(call7.outcome, Outcome::Rejected, "{which}");
}

#[test]
fn stale_results_are_ignored_on_tokio() {
    ignores_the_late_failure(&on_tokio(LATE_FAILURE, Clock::Virtual), "tokio");
    ignores_the_late_success(&on_tokio(LATE_SUCCESS, Clock::Virtual), "tokio");
}

/// The twin ignores the same results, and agrees with tokio field by field.
#[test]
fn stale_results_are_ignored_on_asyncio_as_on_tokio() {
    let Some(py) = python() else { return };
    for (set, check) in [
        (
            LATE_FAILURE,
            ignores_the_late_failure as fn(&VariantRun, &str),
        ),
        (LATE_SUCCESS, ignores_the_late_success),
    ] {
        let twin = on_asyncio(py, set, Clock::Virtual);
        check(&twin, "asyncio");
        let tokio = on_tokio(set, Clock::Virtual);
        assert_eq!(
            view(&twin),
            view(&tokio),
            "{set:?}: asyncio (left) vs tokio (right)"
        );
    }
}
