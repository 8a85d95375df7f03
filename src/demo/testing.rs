//! What every demo's tests share: run a demo headless, and read what it recorded.

use crate::demo::runner::{self, DemoRun, RequestError, RunError, RunReport, RunRequest};
use crate::demo::timeline::{SeriesValue, TaskRecord, TimelineSnapshot};
use crate::demo::{Clock, DemoProgram, DemoVariant, VariantRun};

/// The request `asyncdojo run <demo> --variant … --set …` would make. No variants: the demo's
/// defaults.
pub fn request<D: DemoProgram>(
    variants: &[D::Variant],
    sets: &[&str],
    clock: Clock,
) -> Result<RunRequest, RequestError> {
    let variants: Vec<String> = variants.iter().map(|v| v.spec().name.to_owned()).collect();
    let sets: Vec<String> = sets.iter().map(|s| (*s).to_owned()).collect();
    RunRequest::build(D::SPEC.id, &variants, &sets, clock)
}

/// Run on the virtual clock: exact, repeatable times.
pub fn run_virtual<D: DemoProgram>(variants: &[D::Variant], sets: &[&str]) -> RunReport {
    run_on::<D>(variants, sets, Clock::Virtual)
}

/// Run on the real clock.
pub fn run_real<D: DemoProgram>(variants: &[D::Variant], sets: &[&str]) -> RunReport {
    run_on::<D>(variants, sets, Clock::Real)
}

/// Every run made here also checks that each mark's line points at a `mark(` call in the file
/// the demo shows.
pub fn run_on<D: DemoProgram>(variants: &[D::Variant], sets: &[&str], clock: Clock) -> RunReport {
    let req = request::<D>(variants, sets, clock).expect("a valid request");
    let report = runner::run_blocking(req).expect("the run starts");
    for run in &report.runs {
        marks_point_at_mark_calls(D::SPEC.source, &run.timeline);
    }
    report
}

fn marks_point_at_mark_calls(source: &str, tl: &TimelineSnapshot) {
    for m in &tl.marks {
        let Some(line) = m.line else { continue };
        let text = source.lines().nth(line as usize - 1).unwrap_or("");
        assert!(
            text.contains("mark("),
            "mark {:?} points at line {line}, which is `{text}`",
            m.label
        );
    }
}

/// Run one variant on the virtual clock, check that it ended cleanly, and return its run.
pub fn clean_run<D: DemoProgram>(variant: D::Variant, sets: &[&str]) -> VariantRun {
    let report = run_virtual::<D>(&[variant], sets);
    let run = report.runs.into_iter().next().expect("one run");
    clean(&run);
    run
}

/// One variant's run from a report.
pub fn variant<V: DemoVariant>(report: &RunReport, variant: V) -> &VariantRun {
    let n = variant.spec().name;
    report
        .run(n)
        .unwrap_or_else(|| panic!("no run of {n} in the report"))
}

/// The run ended cleanly: no engine error, nothing left alive.
pub fn clean(run: &VariantRun) {
    assert_eq!(run.error, None, "{}", run.variant);
    assert_eq!(run.alive_after, 0, "{}: tasks left alive", run.variant);
}

/// The lane called `name`.
pub fn task<'a>(tl: &'a TimelineSnapshot, name: &str) -> &'a TaskRecord {
    tl.task(name).unwrap_or_else(|| {
        let lanes: Vec<&str> = tl.tasks.iter().map(|t| t.name.as_str()).collect();
        panic!("no lane {name}; lanes: {lanes:?}")
    })
}

pub fn metric(tl: &TimelineSnapshot, name: &str) -> f64 {
    tl.metric(name)
        .unwrap_or_else(|| panic!("metric {name} missing: {:?}", tl.metrics))
}

/// A numeric series' value at `t_ms`.
pub fn series_at(tl: &TimelineSnapshot, name: &str, t_ms: f64) -> f64 {
    match tl.series_at(name, t_ms) {
        Some(SeriesValue::Num(n)) => *n,
        other => panic!("series {name} at {t_ms} ms is {other:?}"),
    }
}

/// When the marks labelled `label` were made (by any task).
pub fn mark_times(tl: &TimelineSnapshot, label: &str) -> Vec<f64> {
    tl.marks
        .iter()
        .filter(|m| m.label == label)
        .map(|m| m.t_ms)
        .collect()
}

/// Start `req`, cancel it after `after_ms` while it is still going, and check that it ended
/// cancelled, promptly, with no task alive. Returns the run for the demo's own checks of what it
/// left behind (ports, files).
pub fn cancelled_after(req: RunRequest, after_ms: u64) -> VariantRun {
    let run = DemoRun::start(req).expect("start");
    std::thread::sleep(std::time::Duration::from_millis(after_ms));
    assert!(!run.is_finished(), "the run is still going when cancelled");
    cancel_and_check(run)
}

fn cancel_and_check(run: DemoRun) -> VariantRun {
    let started = std::time::Instant::now();
    run.cancel();
    let report = run.wait();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "cancel is prompt"
    );
    let r = report.runs.into_iter().next().expect("one run");
    assert_eq!(r.error, Some(RunError::Cancelled));
    assert_eq!(r.alive_after, 0);
    r
}

/// Start a run, cancel it after `after_ms`, and check that it ended with nothing left: no
/// task alive and every address in metric `addr_metric` (read while it ran) closed.
/// Returns what was recorded up to the cancel.
// Used by the I/O demos' tests.
pub fn cancel_midway<D: DemoProgram>(
    variant: D::Variant,
    sets: &[&str],
    after_ms: u64,
    addr_metric: &str,
) -> TimelineSnapshot {
    let req = request::<D>(&[variant], sets, Clock::Real).expect("valid request");
    let run = DemoRun::start(req).expect("start");
    std::thread::sleep(std::time::Duration::from_millis(after_ms));
    let before = run
        .snapshots()
        .first()
        .map(|(_, tl)| tl.clone())
        .expect("the run has started");
    let seen = before
        .metrics
        .get(addr_metric)
        .cloned()
        .expect("the servers are up");
    assert!(!run.is_finished(), "the run is still going when cancelled");
    let mut tl = cancel_and_check(run).timeline;
    tl.metrics.insert(addr_metric.to_owned(), seen);
    ports_closed(&tl, addr_metric);
    before
}

/// Every address in metric `name` (a string or a list of strings) refuses connections now.
// Used by the I/O demos' tests.
pub fn ports_closed(tl: &TimelineSnapshot, name: &str) {
    let addrs: Vec<String> = match tl.metrics.get(name) {
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(v)) => v
            .iter()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect(),
        other => panic!("metric {name} is not an address: {other:?}"),
    };
    assert!(!addrs.is_empty());
    for addr in addrs {
        let addr: std::net::SocketAddr = addr.parse().expect("an address");
        assert!(addr.ip().is_loopback(), "{addr} is not loopback");
        let connected =
            std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(500));
        assert!(connected.is_err(), "{addr} still accepts connections");
    }
}
