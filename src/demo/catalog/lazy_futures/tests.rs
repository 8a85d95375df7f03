use super::{LazyFutures, Variant};
use crate::demo::Outcome;
use crate::demo::testing::{self, run_virtual};

fn check(sets: &[&str], delay: f64, work: f64) {
    let report = run_virtual::<LazyFutures>(&[], sets);
    let r = testing::variant(&report, Variant::Lazy);
    testing::clean(r);
    let tl = &r.timeline;
    // All three exist from t = 0.
    for name in ["awaited at once", "awaited later", "never awaited"] {
        assert_eq!(tl.task(name).unwrap().spawned_ms, 0.0, "{name}");
    }
    let at_once = tl.task("awaited at once").unwrap();
    assert_eq!(at_once.polls.first().map(|p| p.0), Some(0.0));
    assert_eq!(at_once.finished_ms, Some(work));
    assert_eq!(at_once.outcome, Outcome::Ok);
    let later = tl.task("awaited later").unwrap();
    assert_eq!(later.polls.first().map(|p| p.0), Some(delay));
    assert_eq!(later.finished_ms, Some(delay + work));
    assert_eq!(later.outcome, Outcome::Ok);
    let never = tl.task("never awaited").unwrap();
    assert!(never.polls.is_empty());
    // Cancelled before it ever ran: the lane says it never started.
    assert_eq!(never.outcome, Outcome::Cancelled);
    assert_eq!(never.detail, "never started: dropped before its first poll");
    assert_eq!(never.finished_ms, Some(delay + work));
    assert_eq!(r.total_ms, delay + work);
    assert_eq!(tl.count(Outcome::Cancelled), 1);
    assert_eq!(tl.metric("never_awaited_polls"), Some(0.0));
    // The body's first line ran exactly twice: once per awaited future.
    let starts: Vec<f64> = tl
        .marks
        .iter()
        .filter(|m| m.label.starts_with("first poll"))
        .map(|m| m.t_ms)
        .collect();
    assert_eq!(starts, vec![0.0, delay]);
}

#[test]
fn defaults() {
    check(&[], 200.0, 100.0);
}

#[test]
fn other_settings() {
    check(&["delay_ms=500", "work_ms=250"], 500.0, 250.0);
    check(&["delay_ms=40", "work_ms=40"], 40.0, 40.0);
}

#[test]
fn a_short_delay_waits_for_the_first_await() {
    // delay_ms < work_ms: main is still awaiting the first future when the delay is up.
    let report = run_virtual::<LazyFutures>(&[], &["delay_ms=50", "work_ms=100"]);
    let r = &report.runs[0];
    assert_eq!(r.alive_after, 0);
    let later = r.timeline.task("awaited later").unwrap();
    assert_eq!(later.polls.first().map(|p| p.0), Some(100.0));
    assert_eq!(r.total_ms, 200.0);
}
