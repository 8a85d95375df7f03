use super::{Pipeline, Variant};
use crate::demo::runner::VariantRun;
use crate::demo::testing::{self, clean, run_real};
use crate::demo::timeline::SeriesValue;
use crate::demo::{Clock, Outcome};

/// Run on the harness; the run ended clean and left nothing behind.
fn run(sets: &[&str]) -> VariantRun {
    let report = run_real::<Pipeline>(&[], sets);
    let r = testing::variant(&report, Variant::Mpsc).clone();
    clean(&r);
    left_nothing(&r);
    r
}

/// The service's port is closed and the temporary directory is gone.
fn left_nothing(r: &VariantRun) {
    let m = &r.timeline.metrics;
    let port = m["port"].as_u64().unwrap() as u16;
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port {port} still open"
    );
    let dir = m["dir"].as_str().unwrap();
    assert!(!std::path::Path::new(dir).exists(), "{dir} was removed");
}

fn depths(r: &VariantRun) -> Vec<f64> {
    r.timeline.series["queue_depth"]
        .iter()
        .filter_map(|(_, v)| match v {
            SeriesValue::Num(n) => Some(*n),
            SeriesValue::Text(_) => None,
        })
        .collect()
}

/// Every item exactly once in the results file, the rejected ones as failures.
fn exactly_once(r: &VariantRun, items: f64, failed: serde_json::Value) {
    let tl = &r.timeline;
    assert_eq!(tl.metric("written"), Some(items));
    assert_eq!(tl.metric("duplicates"), Some(0.0));
    assert_eq!(tl.metric("missing"), Some(0.0));
    assert_eq!(tl.metric("bad_lines"), Some(0.0));
    assert_eq!(tl.metrics["failed_items"], failed);
    for t in &tl.tasks {
        assert_eq!(t.outcome, Outcome::Ok, "{}: {}", t.name, t.detail);
    }
}

#[test]
fn every_item_once_and_the_queue_stays_within_its_bound() {
    let r = run(&[]);
    exactly_once(&r, 24.0, serde_json::json!([7]));
    let tl = &r.timeline;
    // The bound holds, and it was reached: the producer had to wait.
    let d = depths(&r);
    assert!(d.iter().all(|&x| x <= 4.0), "{d:?}");
    assert_eq!(tl.metric("max_queue_depth"), Some(4.0));
    let waits = tl.metric("producer_waits").unwrap();
    assert!(waits >= 1.0);
    let full_marks = testing::mark_times(tl, "queue full: producer waits").len();
    assert_eq!(full_marks as f64, waits);
    assert!(tl.metric("producer_blocked_ms").unwrap() > 0.0);
    // The failure is reported where it happened, once.
    let failed: Vec<&str> = tl
        .marks
        .iter()
        .filter(|m| m.label.ends_with("failed"))
        .map(|m| &*m.label)
        .collect();
    assert_eq!(failed, ["item 7 failed"]);
    // The three workers shared the work.
    for w in 1..=3 {
        let t = testing::task(tl, &format!("worker {w}"));
        assert!(!t.detail.starts_with("0 done"), "worker {w}: {}", t.detail);
    }
}

#[test]
fn more_failures_than_workers_do_not_wedge_the_pipeline() {
    let r = run(&[
        "items=12",
        "workers=2",
        "capacity=2",
        "work_ms=5",
        "fail_items=1,2,3,4,5,6",
    ]);
    exactly_once(&r, 12.0, serde_json::json!([1, 2, 3, 4, 5, 6]));
    assert!(depths(&r).iter().all(|&x| x <= 2.0));
}

#[test]
fn a_queue_with_room_for_everything_never_makes_the_producer_wait() {
    let r = run(&["items=10", "capacity=10", "fail_items="]);
    exactly_once(&r, 10.0, serde_json::json!([]));
    assert_eq!(r.timeline.metric("producer_waits"), Some(0.0));
    assert!(depths(&r).iter().all(|&x| x <= 10.0));
}

#[test]
fn one_slot_one_worker() {
    let r = run(&["items=8", "capacity=1", "workers=1", "work_ms=5"]);
    exactly_once(&r, 8.0, serde_json::json!([7]));
    assert_eq!(r.timeline.metric("max_queue_depth"), Some(1.0));
}

#[test]
fn a_cancelled_run_closes_the_service_and_removes_the_files() {
    let sets = ["items=200", "workers=1", "work_ms=50"];
    let req = testing::request::<Pipeline>(&[], &sets, Clock::Real).unwrap();
    let r = &testing::cancelled_after(req, 300);
    left_nothing(r);
}
