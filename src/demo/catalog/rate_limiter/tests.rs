use super::{RateLimiterDemo, Variant};
use crate::demo::testing::{self, run_virtual};
use crate::demo::timeline::SeriesValue;
use crate::demo::{RunReport, VariantRun};

const ALL: [Variant; 3] = [Variant::SlidingWindow, Variant::TokenBucket, Variant::Gcra];

fn run(sets: &[&str]) -> RunReport {
    let report = run_virtual::<RateLimiterDemo>(&ALL, sets);
    report.runs.iter().for_each(testing::clean);
    report
}

/// Check every request against its exact grant time (ms, possibly fractional): the detail
/// carries the exact grant, the lane and the `granted` mark end when tokio's timer wakes,
/// which is the grant rounded up to a whole ms.
fn assert_grants(run: &VariantRun, grants_ms: &[f64]) {
    let marks: Vec<f64> = run
        .timeline
        .marks
        .iter()
        .filter(|m| m.label == "granted")
        .map(|m| m.t_ms)
        .collect();
    let woke: Vec<f64> = grants_ms.iter().map(|g| g.ceil()).collect();
    assert_eq!(marks, woke, "{}: grant marks in FIFO order", run.variant);
    for (i, g) in grants_ms.iter().enumerate() {
        let t = run.timeline.task(&format!("request {}", i + 1)).unwrap();
        assert_eq!(t.detail, format!("granted at {g:.3} ms"), "{}", run.variant);
        assert_eq!(
            t.finished_ms,
            Some(g.ceil()),
            "{} request {}",
            run.variant,
            i + 1
        );
    }
    let last = grants_ms.iter().copied().fold(0.0, f64::max);
    assert_eq!(run.timeline.metric("last_grant_ms"), Some(last.floor()));
    assert_eq!(run.total_ms, last.ceil());
}

#[test]
fn defaults_follow_the_spec_formulas() {
    let report = run(&[]);
    let (rate, window, burst, requests) = (3.0, 1000.0, 3.0, 8);
    // Sliding window: request k at floor((k-1)/rate) * window.
    let sliding: Vec<f64> = (1..=requests)
        .map(|k| ((k - 1) as f64 / rate).floor() * window)
        .collect();
    assert_eq!(
        sliding,
        [0.0, 0.0, 0.0, 1000.0, 1000.0, 1000.0, 2000.0, 2000.0]
    );
    assert_grants(testing::variant(&report, Variant::SlidingWindow), &sliding);
    assert_eq!(
        testing::variant(&report, Variant::SlidingWindow).total_ms,
        2000.0
    );
    // Token bucket and GCRA: request k at max(0, k-burst) * window / rate.
    let bucket: Vec<f64> = (1..=requests)
        .map(|k| (k as f64 - burst).max(0.0) * window / rate)
        .collect();
    assert_grants(testing::variant(&report, Variant::TokenBucket), &bucket);
    assert_grants(testing::variant(&report, Variant::Gcra), &bucket);
    assert_eq!(
        testing::variant(&report, Variant::Gcra)
            .timeline
            .metric("last_grant_ms"),
        Some(1666.0)
    );
    // The first three are granted as they arrive; the other five queue.
    for r in &report.runs {
        assert_eq!(r.timeline.metric("max_waiting"), Some(5.0));
    }
    // The burst empties the bucket at 0 ms; then it refills a third of a token every 83.3 ms
    // (sampled half a sample off the token grid) and each grant takes the token it refilled.
    // A grant is drawn when the timer wakes, up to 1 ms after it: the bucket has refilled
    // that much again (0.002 tokens at 334 ms).
    let refill = [
        (42.0, 0.126),
        (125.0, 0.375),
        (209.0, 0.627),
        (292.0, 0.876),
        (334.0, 0.002),
        (375.0, 0.125),
        (459.0, 0.377),
        (542.0, 0.626),
        (625.0, 0.875),
        (667.0, 0.001),
        (709.0, 0.127),
        (792.0, 0.376),
        (875.0, 0.625),
        (959.0, 0.877),
        (1000.0, 0.0),
    ];
    let points = tokens(&report);
    assert_eq!(points[0], (0.0, 0.0));
    assert_eq!(points[1..16], refill);
    // The second second repeats the first, a whole second later.
    let later: Vec<(f64, f64)> = refill[..10].iter().map(|&(t, v)| (t + 1000.0, v)).collect();
    assert_eq!(points[16..], later);
}

/// The token bucket's `tokens` series, values rounded to 1/1000 of a token.
fn tokens(report: &RunReport) -> Vec<(f64, f64)> {
    testing::variant(report, Variant::TokenBucket)
        .timeline
        .series["tokens"]
        .iter()
        .map(|(t, v)| match v {
            SeriesValue::Num(n) => (*t, (n * 1000.0).round() / 1000.0),
            SeriesValue::Text(_) => (*t, f64::NAN),
        })
        .collect()
}

#[test]
fn a_whole_number_of_intervals_is_not_rounded_down() {
    // 3 * (1000 / 3) ms is exactly 1000 ms, not 999.999999.
    let report = run(&["requests=6"]);
    for v in [Variant::TokenBucket, Variant::Gcra] {
        let r = testing::variant(&report, v);
        assert_eq!(r.timeline.metric("last_grant_ms"), Some(1000.0));
        assert_eq!(r.total_ms, 1000.0);
    }
    let r = testing::variant(&report, Variant::SlidingWindow);
    assert_eq!(r.timeline.metric("last_grant_ms"), Some(1000.0));
}

#[test]
fn spaced_arrivals_refill_the_bucket() {
    let report = run(&[
        "rate=2",
        "window_ms=1000",
        "burst=2",
        "requests=5",
        "arrival_gap_ms=200",
    ]);
    // Sliding window: two per second; request 3 waits for request 1 to leave the window.
    assert_grants(
        testing::variant(&report, Variant::SlidingWindow),
        &[0.0, 200.0, 1000.0, 1200.0, 2000.0],
    );
    // Bucket of 2, one token every 500 ms: request 2 finds 1.4 tokens, request 3 only 0.4.
    let bucket = [0.0, 200.0, 500.0, 1000.0, 1500.0];
    assert_grants(testing::variant(&report, Variant::TokenBucket), &bucket);
    assert_grants(testing::variant(&report, Variant::Gcra), &bucket);
    // Sampled every 125 ms (a quarter token) at 62.5 + 125k ms, woken on the next whole ms;
    // each grant drops the level by one. Nobody waits from 200 to 400 ms: the bucket refills all
    // the same.
    assert_eq!(
        tokens(&report),
        [
            (0.0, 1.0),
            (63.0, 1.126),
            (188.0, 1.376),
            (200.0, 0.4),
            (313.0, 0.626),
            (438.0, 0.876),
            (500.0, 0.0),
            (563.0, 0.126),
            (688.0, 0.376),
            (813.0, 0.626),
            (938.0, 0.876),
            (1000.0, 0.0),
            (1063.0, 0.126),
            (1188.0, 0.376),
            (1313.0, 0.626),
            (1438.0, 0.876),
            (1500.0, 0.0),
        ]
    );
    // Requests arriving at 600 and 800 queue behind the one sleeping until 500 and 1000.
    let r = testing::variant(&report, Variant::TokenBucket);
    assert_eq!(r.timeline.metric("max_waiting"), Some(2.0));
    let spawned: Vec<f64> = (1..=5)
        .map(|k| r.timeline.task(&format!("request {k}")).unwrap().spawned_ms)
        .collect();
    assert_eq!(spawned, [0.0, 200.0, 400.0, 600.0, 800.0]);
}

#[test]
fn burst_one_spaces_every_request() {
    let report = run(&["rate=4", "window_ms=1000", "burst=1", "requests=5"]);
    let even = [0.0, 250.0, 500.0, 750.0, 1000.0];
    assert_grants(testing::variant(&report, Variant::TokenBucket), &even);
    assert_grants(testing::variant(&report, Variant::Gcra), &even);
    assert_grants(
        testing::variant(&report, Variant::SlidingWindow),
        &[0.0, 0.0, 0.0, 0.0, 1000.0],
    );
}
