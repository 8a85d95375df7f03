use super::{ExecutorPool, Variant};
use crate::demo::testing::{self, run_real, run_virtual};
use crate::demo::timeline::TimelineSnapshot;

/// When each job got a thread, in the order they were handed over: its lane's one poll.
fn starts(tl: &TimelineSnapshot, jobs: usize) -> Vec<f64> {
    (1..=jobs)
        .map(|k| testing::task(tl, &format!("job {k}")).polls[0].0)
        .collect()
}

fn tick_times(tl: &TimelineSnapshot) -> Vec<f64> {
    tl.marks
        .iter()
        .filter(|m| m.label.starts_with("tick "))
        .map(|m| m.t_ms)
        .collect()
}

/// When job k (from 1) gets a thread: `threads` jobs run at a time, in the order handed over.
fn expected_starts(jobs: usize, threads: usize, job: f64) -> Vec<f64> {
    (0..jobs).map(|i| (i / threads) as f64 * job).collect()
}

fn check(sets: &[&str], jobs: usize, workers: usize, job: f64, tick: f64) {
    let report = run_virtual::<ExecutorPool>(&[], sets);
    assert_eq!(report.runs.len(), 2);
    for (v, threads) in [(Variant::Starved, workers), (Variant::Sized, jobs)] {
        let r = testing::variant(&report, v);
        testing::clean(r);
        let tl = &r.timeline;
        let name = r.variant;
        let starts = expected_starts(jobs, threads, job);
        // Each job's lane: handed over at 0, run from its start for exactly job_ms.
        for (k, start) in starts.iter().enumerate() {
            let lane = testing::task(tl, &format!("job {}", k + 1));
            assert_eq!(lane.spawned_ms, 0.0, "{name} job {}", k + 1);
            assert_eq!(
                lane.polls,
                vec![(*start, start + job)],
                "{name} job {}",
                k + 1
            );
        }
        let rounds = jobs.div_ceil(threads) as f64;
        assert_eq!(
            tl.metric("last_start_ms"),
            Some((rounds - 1.0) * job),
            "{name}"
        );
        assert_eq!(r.total_ms, rounds * job, "{name}");
        // The ticker kept its period all along: the runtime's thread was never held.
        let ticks = tick_times(tl);
        let expected: Vec<f64> = (0..)
            .map(|n| f64::from(n) * tick)
            .take_while(|t| *t < rounds * job)
            .collect();
        assert_eq!(ticks, expected, "{name}");
        let gap = if expected.len() > 1 { tick } else { 0.0 };
        assert_eq!(tl.metric("max_tick_gap_ms"), Some(gap), "{name}");
    }
}

#[test]
fn defaults() {
    check(&[], 6, 2, 100.0, 40.0);
    // In numbers: two threads, three rounds; the sixth job starts at 200 ms and the run takes 300.
    let report = run_virtual::<ExecutorPool>(&[Variant::Starved], &[]);
    let tl = &report.runs[0].timeline;
    assert_eq!(starts(tl, 6), vec![0.0, 0.0, 100.0, 100.0, 200.0, 200.0]);
    assert_eq!(report.runs[0].total_ms, 300.0);
}

#[test]
fn other_settings() {
    check(
        &["jobs=7", "workers=3", "job_ms=250", "tick_ms=60"],
        7,
        3,
        250.0,
        60.0,
    );
    check(
        &["jobs=5", "workers=4", "job_ms=90", "tick_ms=25"],
        5,
        4,
        90.0,
        25.0,
    );
    // More threads than jobs: nothing waits.
    check(
        &["jobs=3", "workers=8", "job_ms=70", "tick_ms=30"],
        3,
        8,
        70.0,
        30.0,
    );
}

#[test]
fn the_real_pool_queues_the_same_way_on_the_real_clock() {
    let report = run_real::<ExecutorPool>(
        &[Variant::Starved],
        &["jobs=4", "workers=2", "job_ms=120", "tick_ms=30"],
    );
    let r = testing::variant(&report, Variant::Starved);
    testing::clean(r);
    let tl = &r.timeline;
    let starts = starts(tl, 4);
    for (start, expected) in starts.iter().zip([0.0, 0.0, 120.0, 120.0]) {
        assert!((start - expected).abs() < 40.0, "starts {starts:?}");
    }
    let last = tl.metric("last_start_ms").unwrap();
    assert!((115.0..170.0).contains(&last), "last start {last}");
    let gap = tl.metric("max_tick_gap_ms").unwrap();
    assert!((25.0..70.0).contains(&gap), "tick gap {gap}");
}

/// A long run on the virtual clock cancelled midway ends at once with nothing left alive: the
/// tasks that hand the jobs' results back are aborted with the rest.
#[test]
fn a_cancelled_virtual_run_ends_promptly() {
    use crate::demo::Clock;
    let req = testing::request::<ExecutorPool>(
        &[Variant::Starved],
        &["jobs=64", "workers=1", "job_ms=60000", "tick_ms=60000"],
        Clock::Virtual,
    )
    .expect("valid request");
    testing::cancelled_after(req, 200);
}
