use super::{Blocking, Variant};
use crate::demo::Outcome;
use crate::demo::runner::RunReport;
use crate::demo::testing::{self, run_real, run_virtual};

fn tick_times(report: &RunReport, variant: Variant) -> Vec<f64> {
    let r = testing::variant(report, variant);
    r.timeline
        .marks
        .iter()
        .filter(|m| m.label.starts_with("tick "))
        .map(|m| m.t_ms)
        .collect()
}

/// Tick times on one thread: every `tick` ms, except that the tick after tick `after`
/// waits for the blocking sleep when it is longer than the period.
fn expected_ticks(tick: f64, block: f64, ticks: usize, after: usize, blocks: bool) -> Vec<f64> {
    let mut out = Vec::new();
    let mut t = 0.0;
    for n in 1..=ticks {
        out.push(t);
        let gap = if blocks && n == after {
            tick.max(block)
        } else {
            tick
        };
        t += gap;
    }
    out
}

fn check(sets: &[&str], tick: f64, block: f64, ticks: usize, after: usize) {
    let report = run_virtual::<Blocking>(&[], sets);
    assert_eq!(report.runs.len(), 2);
    for (v, blocks) in [(Variant::Blocking, true), (Variant::AsyncSleep, false)] {
        let r = testing::variant(&report, v);
        testing::clean(r);
        let variant = r.variant;
        let tl = &r.timeline;
        let ticks_at = tick_times(&report, v);
        assert_eq!(
            ticks_at,
            expected_ticks(tick, block, ticks, after, blocks),
            "{variant}"
        );
        let gap = if blocks && after < ticks {
            tick.max(block)
        } else {
            tick
        };
        let gap = if ticks == 1 { 0.0 } else { gap };
        assert_eq!(tl.metric("max_tick_gap_ms"), Some(gap), "{variant}");
        // The blocker sleeps right after tick `after`, for exactly block_ms.
        let sleep = tl.marks.iter().find(|m| m.label == "sleep").unwrap();
        let awake = tl.marks.iter().find(|m| m.label == "awake").unwrap();
        assert_eq!(sleep.t_ms, ticks_at[after - 1], "{variant}");
        assert_eq!(awake.t_ms - sleep.t_ms, block, "{variant}");
        let ticker = tl.task("ticker").unwrap();
        let blocker = tl.task("blocker").unwrap();
        assert_eq!(ticker.outcome, Outcome::Ok);
        assert_eq!(blocker.outcome, Outcome::Ok);
        let end = ticks_at[ticks - 1].max(awake.t_ms);
        assert_eq!(r.total_ms, end, "{variant}");
    }
}

#[test]
fn defaults() {
    check(&[], 100.0, 500.0, 10, 2);
    // In numbers: the blocked ticker skips from 100 to 600 ms.
    let report = run_virtual::<Blocking>(&[Variant::Blocking], &[]);
    assert_eq!(
        tick_times(&report, Variant::Blocking),
        vec![
            0.0, 100.0, 600.0, 700.0, 800.0, 900.0, 1000.0, 1100.0, 1200.0, 1300.0
        ]
    );
    assert_eq!(report.runs[0].total_ms, 1300.0);
}

#[test]
fn other_settings() {
    check(
        &[
            "tick_ms=50",
            "block_ms=320",
            "ticks=6",
            "block_after_ticks=4",
        ],
        50.0,
        320.0,
        6,
        4,
    );
    // A block shorter than the period delays nothing.
    check(
        &[
            "tick_ms=100",
            "block_ms=60",
            "ticks=5",
            "block_after_ticks=1",
        ],
        100.0,
        60.0,
        5,
        1,
    );
    // Blocking after the last tick: no tick is late (and the run still ends).
    check(
        &[
            "tick_ms=100",
            "block_ms=300",
            "ticks=3",
            "block_after_ticks=9",
        ],
        100.0,
        300.0,
        3,
        3,
    );
}

#[test]
fn spawn_blocking_keeps_the_ticker_on_time_on_the_real_clock() {
    let report = run_real::<Blocking>(
        &[Variant::SpawnBlocking, Variant::Blocking],
        &[
            "tick_ms=40",
            "block_ms=200",
            "ticks=8",
            "block_after_ticks=2",
        ],
    );
    let r = testing::variant(&report, Variant::SpawnBlocking);
    testing::clean(r);
    let gap = r.timeline.metric("max_tick_gap_ms").unwrap();
    assert!((35.0..100.0).contains(&gap), "spawn-blocking gap {gap}");
    assert!(r.timeline.task("blocking pool").is_some());
    let r = testing::variant(&report, Variant::Blocking);
    let gap = r.timeline.metric("max_tick_gap_ms").unwrap();
    assert!((195.0..300.0).contains(&gap), "blocking gap {gap}");
}
