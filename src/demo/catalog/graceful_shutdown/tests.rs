use std::sync::Mutex;
use std::time::Duration;

use super::{GracefulShutdown, Variant};
use crate::demo::runner::{self, DemoRun, RunRequest, VariantRun};
use crate::demo::testing::{self, clean};
use crate::demo::{Clock, Outcome};

/// A signal reaches every run listening in this process: one run at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Slack for "within grace": the clean-up after the deadline (log flush, directory removal)
/// on a busy test machine.
const EPSILON_MS: f64 = 250.0;

/// The harness's request, as a headless run makes it: the tests send real SIGINT/SIGTERM.
fn request(sets: &[&str]) -> RunRequest {
    let mut req = testing::request::<GracefulShutdown>(&[], sets, Clock::Real).unwrap();
    req.os_signals = true;
    req
}

fn run(sets: &[&str]) -> VariantRun {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let report = runner::run_blocking(request(sets)).unwrap();
    let r = testing::variant(&report, Variant::CancellationToken).clone();
    checked(&r);
    r
}

/// Nothing left: no task, no listener, no file; every logged line reached the file.
fn checked(r: &VariantRun) {
    clean(r);
    let m = &r.timeline.metrics;
    let port = m["port"].as_u64().unwrap() as u16;
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port {port} still open"
    );
    let dir = m["dir"].as_str().unwrap();
    assert!(!std::path::Path::new(dir).exists(), "{dir} was removed");
    assert_eq!(m["log_lines"], m["log_lines_sent"]);
    // Resources closed in order.
    let order = [
        "shutdown requested",
        "1. listener closed",
        "2. ",
        "3. log flushed and closed",
        "4. temporary directory removed",
    ];
    let times: Vec<f64> = order
        .iter()
        .map(|p| {
            let found: Vec<f64> = r
                .timeline
                .marks
                .iter()
                .filter(|m| m.label.starts_with(p))
                .map(|m| m.t_ms)
                .collect();
            assert_eq!(found.len(), 1, "one `{p}` mark");
            found[0]
        })
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

fn outcome(r: &VariantRun, name: &str) -> Outcome {
    testing::task(&r.timeline, name).outcome
}

#[test]
fn requests_within_grace_finish_the_rest_are_cancelled() {
    let r = run(&[]);
    let tl = &r.timeline;
    // 200 ms: done before the signal at 500; 800: within the grace (until 1200);
    // 1400 and 3000: cancelled at the deadline.
    for (n, want) in [
        (1, Outcome::Ok),
        (2, Outcome::Ok),
        (3, Outcome::Cancelled),
        (4, Outcome::Cancelled),
    ] {
        assert_eq!(outcome(&r, &format!("request {n}")), want, "request {n}");
    }
    assert_eq!(outcome(&r, "client 1 (200 ms)"), Outcome::Ok);
    assert_eq!(outcome(&r, "client 2 (800 ms)"), Outcome::Ok);
    assert_eq!(outcome(&r, "client 3 (1400 ms)"), Outcome::Cancelled);
    assert_eq!(outcome(&r, "client 4 (3000 ms)"), Outcome::Cancelled);
    // The listener was closed first: a client arriving after the signal is refused.
    assert_eq!(outcome(&r, "late client"), Outcome::Rejected);
    assert_eq!(tl.metric("finished_in_grace"), Some(1.0));
    assert_eq!(tl.metric("cancelled"), Some(2.0));
    assert!(!testing::mark_times(tl, "shutdown requested (timer)").is_empty());
    assert!(!testing::mark_times(tl, "2. grace over: cancelling 2").is_empty());
    // The shutdown took the whole grace period, and not much more.
    let took = tl.metric("shutdown_ms").unwrap();
    assert!((695.0..=700.0 + EPSILON_MS).contains(&took), "{took} ms");
}

#[test]
fn shutdown_ends_as_soon_as_the_last_request_does() {
    let r = run(&["request_ms=100,300", "shutdown_at_ms=150", "grace_ms=2000"]);
    let tl = &r.timeline;
    assert_eq!(outcome(&r, "request 1"), Outcome::Ok);
    assert_eq!(outcome(&r, "request 2"), Outcome::Ok);
    assert_eq!(tl.metric("finished_in_grace"), Some(1.0));
    assert_eq!(tl.metric("cancelled"), Some(0.0));
    let took = tl.metric("shutdown_ms").unwrap();
    // The last request ends 150 ms after the signal; the grace is not waited out.
    assert!((140.0..=150.0 + EPSILON_MS).contains(&took), "{took} ms");
}

#[test]
fn no_grace_cancels_at_once() {
    let r = run(&["request_ms=1000", "shutdown_at_ms=100", "grace_ms=0"]);
    assert_eq!(outcome(&r, "request 1"), Outcome::Cancelled);
    assert_eq!(r.timeline.metric("cancelled"), Some(1.0));
    let took = r.timeline.metric("shutdown_ms").unwrap();
    assert!(took <= EPSILON_MS, "{took} ms");
}

/// Start a run that waits 10 s for its timer, send the process a real signal once the run
/// listens for it, and check the signal started the shutdown.
fn by_signal(signal: &str, name: &str) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let run = DemoRun::start(request(&[
        "request_ms=100,5000",
        "shutdown_at_ms=10000",
        "grace_ms=200",
    ]))
    .unwrap();
    let listening = |run: &DemoRun| {
        run.snapshots().iter().any(|(_, s)| {
            s.marks
                .iter()
                .any(|m| m.label == "listening for SIGINT/SIGTERM")
        })
    };
    let started = std::time::Instant::now();
    while !listening(&run) {
        assert!(started.elapsed() < Duration::from_secs(5), "never listened");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(200));
    let status = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(std::process::id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let report = run.wait();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the signal, not the timer"
    );
    let r = &report.runs[0];
    checked(r);
    let tl = &r.timeline;
    let label = format!("shutdown requested ({name})");
    assert!(tl.marks.iter().any(|m| m.label == label), "{label}");
    assert_eq!(outcome(r, "request 1"), Outcome::Ok);
    assert_eq!(outcome(r, "request 2"), Outcome::Cancelled);
    let took = tl.metric("shutdown_ms").unwrap();
    assert!((195.0..=200.0 + EPSILON_MS).contains(&took), "{took} ms");
}

#[cfg(unix)]
#[test]
fn a_real_sigterm_or_sigint_starts_the_shutdown() {
    by_signal("TERM", "SIGTERM");
    by_signal("INT", "SIGINT");
}

#[test]
fn a_cancelled_run_closes_the_server_and_removes_the_files() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let r = &testing::cancelled_after(request(&["shutdown_at_ms=10000"]), 300);
    let m = &r.timeline.metrics;
    let port = m["port"].as_u64().unwrap() as u16;
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    let dir = m["dir"].as_str().unwrap();
    assert!(!std::path::Path::new(dir).exists(), "{dir} was removed");
}
