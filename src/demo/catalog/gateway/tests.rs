use std::collections::HashMap;

use super::{GatewayDemo, Variant};
use crate::demo::Outcome;
use crate::demo::testing::{self, cancel_midway, clean, metric, ports_closed, run_real};
use crate::demo::timeline::{SeriesValue, TaskRecord, TimelineSnapshot};

fn mark_at(tl: &TimelineSnapshot, label: &str) -> f64 {
    tl.marks
        .iter()
        .find(|m| m.label == label)
        .unwrap_or_else(|| panic!("no mark `{label}`"))
        .t_ms
}

fn count_at(tl: &TimelineSnapshot, series: &str, t: f64) -> f64 {
    match tl.series_at(series, t) {
        Some(SeriesValue::Num(n)) => *n,
        None => 0.0,
        other => panic!("{series}: {other:?}"),
    }
}

fn lanes(tl: &TimelineSnapshot, outcome: Outcome) -> Vec<&TaskRecord> {
    tl.tasks
        .iter()
        .filter(|t| t.name.starts_with("request ") && t.outcome == outcome)
        .collect()
}

#[test]
fn a_removed_instance_gets_nothing_and_the_others_share_evenly() {
    let sets = [
        "requests=60",
        "interval_ms=8",
        "latency_ms=5",
        "health_ms=40",
        "down_at_ms=120",
        "up_at_ms=300",
        "rate_per_s=10000",
        "burst=1000",
    ];
    let report = run_real::<GatewayDemo>(&[Variant::RoundRobin], &sets);
    let r = testing::variant(&report, Variant::RoundRobin);
    clean(r);
    let tl = &r.timeline;
    let removed = mark_at(tl, "users-2 removed");
    let back = mark_at(tl, "users-2 back in rotation");
    assert!(mark_at(tl, "users-2 turns unhealthy") < removed);
    assert!(removed < back);
    assert_eq!(metric(tl, "removals"), 1.0);
    assert_eq!(metric(tl, "returns"), 1.0);
    // Nothing routed to users-2 while it was out.
    let to_2 = &tl.series["forwarded users-2"];
    assert!(
        to_2.iter().all(|(t, _)| *t < removed || *t > back),
        "forwarded to users-2 while removed: {to_2:?}"
    );
    assert_eq!(testing::series_at(tl, "healthy_instances", removed), 2.0);
    assert_eq!(testing::series_at(tl, "healthy_instances", back), 3.0);
    // Round-robin: within each phase the healthy instances' shares differ by at most one.
    let end = tl.now_ms;
    let phases = [
        (0.0, removed, vec![1, 2, 3]),
        (removed, back, vec![1, 3]),
        (back, end, vec![1, 2, 3]),
    ];
    for (from, to, healthy) in phases {
        let share = |i: usize| {
            let s = format!("forwarded users-{i}");
            count_at(tl, &s, to) - count_at(tl, &s, from)
        };
        let shares: Vec<f64> = healthy.iter().map(|&i| share(i)).collect();
        let (lo, hi) = shares
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        assert!(hi - lo <= 1.0, "phase {from}..{to}: {shares:?}");
        assert!(hi > 0.0, "phase {from}..{to} routed something");
    }
    let ok = metric(tl, "ok");
    let failed = metric(tl, "failed");
    assert_eq!(metric(tl, "rejected_429"), 0.0);
    assert_eq!(ok + failed, 60.0);
    // Only the few requests sent between the failure and the check that noticed it fail.
    assert!(failed <= 8.0, "{failed}");
    assert_eq!(lanes(tl, Outcome::Ok).len() as f64, ok);
    ports_closed(tl, "addrs");
}

#[test]
fn over_the_limit_requests_are_rejected_at_once_not_queued() {
    let sets = [
        "requests=40",
        "interval_ms=2",
        "latency_ms=300",
        "rate_per_s=20",
        "burst=5",
        "health_ms=500",
        "down_at_ms=20000",
    ];
    let report = run_real::<GatewayDemo>(&[Variant::RoundRobin], &sets);
    let r = testing::variant(&report, Variant::RoundRobin);
    clean(r);
    let tl = &r.timeline;
    let rejected = lanes(tl, Outcome::Rejected);
    let ok = lanes(tl, Outcome::Ok);
    assert_eq!(rejected.len() + ok.len(), 40);
    assert_eq!(metric(tl, "rejected_429"), rejected.len() as f64);
    // The bucket: 5 at once, then 20 a second over the time the load took to send.
    // Every routing decision was made by the time its answer came back (an accepted one
    // then waited 300 ms for its instance), and the bucket was filled at most from t = 0.
    let finished = |t: &&TaskRecord| t.finished_ms.unwrap_or(0.0);
    let last_decision = rejected
        .iter()
        .map(finished)
        .chain(ok.iter().map(|t| finished(t) - 300.0))
        .fold(0.0, f64::max);
    let allowed = 5.0 + 20.0 * last_decision / 1000.0;
    assert!(
        ok.len() as f64 <= allowed,
        "{} ok, {allowed} allowed",
        ok.len()
    );
    assert!(rejected.len() >= 20, "{}", rejected.len());
    // A rejection comes back before any instance could have answered (300 ms): nothing
    // waited for a slot.
    for t in &rejected {
        let took = t.finished_ms.expect("finished") - t.spawned_ms;
        assert!(took < 300.0, "{} took {took} ms", t.name);
        assert_eq!(t.detail, "429 Too Many Requests");
    }
    for t in &ok {
        assert!(t.finished_ms.expect("finished") - t.spawned_ms >= 300.0);
    }
    ports_closed(tl, "addrs");
}

#[test]
fn the_guides_hash_sends_each_path_to_one_instance() {
    let sets = [
        "requests=30",
        "interval_ms=5",
        "latency_ms=2",
        "down_at_ms=20000",
        "rate_per_s=10000",
        "burst=1000",
    ];
    let report = run_real::<GatewayDemo>(&[Variant::HashPath], &sets);
    let r = testing::variant(&report, Variant::HashPath);
    clean(r);
    let mut by_path: HashMap<String, Vec<String>> = HashMap::new();
    for t in lanes(&r.timeline, Outcome::Ok) {
        // "users-2 served /users/5"
        let (instance, path) = t.detail.split_once(" served ").expect("detail");
        by_path
            .entry(path.to_owned())
            .or_default()
            .push(instance.to_owned());
    }
    assert!(by_path.len() > 1);
    for (path, instances) in &by_path {
        assert!(
            instances.iter().all(|i| i == &instances[0]),
            "{path}: {instances:?}"
        );
    }
    // Half the load is the hot path, so one instance gets at least half of everything.
    let hot = by_path["/users/1"].len();
    assert!(hot >= 15, "{hot}");
}

#[test]
fn cancelling_mid_run_closes_the_gateway_and_every_instance() {
    let sets = ["requests=2000", "interval_ms=5"];
    cancel_midway::<GatewayDemo>(Variant::RoundRobin, &sets, 500, "addrs");
}
