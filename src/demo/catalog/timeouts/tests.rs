use super::{Timeouts, Variant};
use crate::demo::Outcome;
use crate::demo::testing::{self, run_virtual};

fn check(sets: &[&str], latencies: &[f64], limit: f64) {
    let report = run_virtual::<Timeouts>(&[], sets);
    assert_eq!(report.runs.len(), 3);
    let completed = latencies.iter().filter(|&&l| l <= limit).count();
    let timed_out = latencies.len() - completed;
    let max = latencies.iter().copied().fold(0.0, f64::max);
    for (variant, late) in [
        (Variant::Timeout, Outcome::Timeout),
        (Variant::Select, Outcome::Timeout),
        (Variant::DeadlineSet, Outcome::Cancelled),
    ] {
        let r = testing::variant(&report, variant);
        testing::clean(r);
        let variant = r.variant;
        let tl = &r.timeline;
        assert_eq!(r.total_ms, max.min(limit), "{variant}");
        assert_eq!(tl.metric("completed"), Some(completed as f64), "{variant}");
        assert_eq!(tl.metric("timed_out"), Some(timed_out as f64), "{variant}");
        assert_eq!(tl.count(late), timed_out, "{variant}");
        // main plus every operation that answered
        assert_eq!(tl.count(Outcome::Ok), completed + 1, "{variant}");
        for (i, &latency) in latencies.iter().enumerate() {
            let op = tl.task(&format!("op {}", i + 1)).unwrap();
            assert_eq!(op.spawned_ms, 0.0, "{variant} op {}", i + 1);
            if latency <= limit {
                assert_eq!(op.outcome, Outcome::Ok, "{variant} op {}", i + 1);
                assert_eq!(op.finished_ms, Some(latency), "{variant} op {}", i + 1);
            } else {
                assert_eq!(op.outcome, late, "{variant} op {}", i + 1);
                assert_eq!(op.finished_ms, Some(limit), "{variant} op {}", i + 1);
            }
        }
    }
}

#[test]
fn defaults() {
    check(&[], &[100.0, 300.0, 600.0], 250.0);
}

#[test]
fn other_settings() {
    // All in time: the total is the slowest operation.
    check(
        &["latencies_ms=50,20,80", "timeout_ms=100"],
        &[50.0, 20.0, 80.0],
        100.0,
    );
    // Exactly at the limit counts as on time, in every variant.
    check(
        &["latencies_ms=250,100,400,250", "timeout_ms=250"],
        &[250.0, 100.0, 400.0, 250.0],
        250.0,
    );
    // Nothing in time.
    check(
        &["latencies_ms=500,700", "timeout_ms=0"],
        &[500.0, 700.0],
        0.0,
    );
}
