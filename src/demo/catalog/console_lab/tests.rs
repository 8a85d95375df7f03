use super::ConsoleLab;
use crate::demo::Outcome;
use crate::demo::testing::run_virtual;

#[test]
fn every_misbehaving_task_is_there_and_the_run_ends_cleanly() {
    let report = run_virtual::<ConsoleLab>(&[], &["run_ms=2500", "self_wakes=10"]);
    let run = &report.runs[0];
    // Main's 2.5 s sleep is due while `long poll` holds the thread (2300..2600 ms): even the
    // end of the run is late by what a long poll costs everyone else.
    assert_eq!(run.total_ms, 2600.0);
    assert_eq!(run.alive_after, 0);
    let tl = &run.timeline;
    // 100 ms ticks for 2.5 s, less the two 300 ms stalls the long polls cause.
    assert!(
        tl.metric("ticks")
            .is_some_and(|t| (18.0..=25.0).contains(&t)),
        "{:?}",
        tl.metrics
    );
    // Three rounds of ten self-wakes start within 2.5 s (at 0, ~500 and ~1000+ ms ...).
    assert!(
        tl.metric("self_wakes").is_some_and(|w| w >= 30.0),
        "{:?}",
        tl.metrics
    );
    let long = tl.task("long poll").expect("lane");
    let longest = long.polls.iter().map(|(a, b)| b - a).fold(0.0, f64::max);
    assert_eq!(longest, 300.0, "one poll holds the thread for block_ms");
    let lost = tl.task("lost waker").expect("lane");
    assert_eq!(lost.polls.len(), 1, "polled once, never woken again");
    for name in [
        "ticker",
        "long poll",
        "self-waker",
        "lost waker",
        "never finishes",
    ] {
        assert_eq!(
            tl.task(name).map(|t| t.outcome),
            Some(Outcome::Cancelled),
            "{name}"
        );
    }
}
