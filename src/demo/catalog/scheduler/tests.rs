use super::{Scheduler, Variant};
use crate::demo::testing::{self, run_virtual};
use crate::demo::timeline::Outcome;
use crate::demo::{RunReport, VariantRun};

fn run(sets: &[&str]) -> RunReport {
    let report = run_virtual::<Scheduler>(&[Variant::FixedRate, Variant::FixedDelay], sets);
    report.runs.iter().for_each(testing::clean);
    report
}

/// The recurring job's run starts, from its `run k` marks.
fn starts(run: &VariantRun) -> Vec<f64> {
    run.timeline
        .marks
        .iter()
        .filter(|m| m.label.starts_with("run "))
        .map(|m| m.t_ms)
        .collect()
}

fn mark_at(run: &VariantRun, label: &str) -> Vec<f64> {
    let marks = run.timeline.marks.iter().filter(|m| m.label == label);
    marks.map(|m| m.t_ms).collect()
}

/// Everything the spec says, for one setting.
fn check(sets: &[&str], interval: u64, job: u64, once_at: u64, cancel_at: u64) {
    let report = run(sets);
    let ceil = |a: u64, b: u64| a.div_ceil(b);

    let rate = testing::variant(&report, Variant::FixedRate);
    let n = ceil(cancel_at, interval);
    let grid: Vec<f64> = (0..n).map(|k| (k * interval) as f64).collect();
    let got: Vec<f64> = starts(rate)
        .into_iter()
        .filter(|&t| t < cancel_at as f64)
        .collect();
    assert_eq!(got, grid, "fixed-rate starts");
    assert_eq!(rate.timeline.metric("recurring_runs"), Some(n as f64));
    assert_eq!(rate.timeline.metric("drift_ms"), Some(0.0));

    let delay = testing::variant(&report, Variant::FixedDelay);
    let n = ceil(cancel_at, interval + job);
    let drifting: Vec<f64> = (0..n).map(|k| (k * (interval + job)) as f64).collect();
    assert_eq!(starts(delay), drifting, "fixed-delay starts");
    assert_eq!(delay.timeline.metric("recurring_runs"), Some(n as f64));
    let drift = (n - 1) * (interval + job) - (n - 1) * interval;
    assert_eq!(delay.timeline.metric("drift_ms"), Some(drift as f64));

    for r in [rate, delay] {
        assert_eq!(r.total_ms, cancel_at as f64, "{}", r.variant);
        assert_eq!(mark_at(r, "cancel all"), [cancel_at as f64]);
        let recurring = r.timeline.task("recurring").unwrap();
        assert_eq!(recurring.outcome, Outcome::Cancelled);
        assert_eq!(recurring.finished_ms, Some(cancel_at as f64));
        let once = r.timeline.task("once").unwrap();
        if once_at + job <= cancel_at {
            assert_eq!(mark_at(r, "once"), [once_at as f64]);
            assert_eq!(once.outcome, Outcome::Ok);
            assert_eq!(once.finished_ms, Some((once_at + job) as f64));
        } else {
            assert_eq!(once.outcome, Outcome::Cancelled);
            assert_eq!(once.finished_ms, Some(cancel_at as f64));
        }
    }
}

#[test]
fn defaults_follow_the_spec_formulas() {
    // fixed-rate: ceil(1000 / 100) = 10 runs; fixed-delay: ceil(1000 / 130) = 8 runs,
    // the last at 910 ms instead of 700 ms: 210 ms of drift.
    check(&[], 100, 30, 250, 1000);
    let report = run(&[]);
    let delay = testing::variant(&report, Variant::FixedDelay);
    assert_eq!(delay.timeline.metric("recurring_runs"), Some(8.0));
    assert_eq!(delay.timeline.metric("drift_ms"), Some(210.0));
}

#[test]
fn other_settings_follow_the_spec_formulas() {
    check(
        &[
            "interval_ms=70",
            "job_ms=50",
            "once_delay_ms=400",
            "cancel_at_ms=430",
        ],
        70,
        50,
        400,
        430,
    );
    check(
        &[
            "interval_ms=250",
            "job_ms=0",
            "once_delay_ms=0",
            "cancel_at_ms=999",
        ],
        250,
        0,
        0,
        999,
    );
}

#[test]
fn cancel_before_the_first_tick_runs_nothing() {
    let report = run(&["cancel_at_ms=0"]);
    for r in &report.runs {
        assert_eq!(r.timeline.metric("recurring_runs"), Some(0.0));
        assert_eq!(r.timeline.metric("drift_ms"), Some(0.0));
        assert_eq!(r.total_ms, 0.0);
    }
}

#[test]
fn burst_catches_up_after_a_long_run() {
    // Each run takes 250 ms on a 100 ms grid: the missed ticks fire at once, back to back.
    let report = run(&["interval_ms=100", "job_ms=250", "cancel_at_ms=1000"]);
    let rate = testing::variant(&report, Variant::FixedRate);
    assert_eq!(starts(rate), [0.0, 250.0, 500.0, 750.0]);
    assert_eq!(rate.timeline.metric("recurring_runs"), Some(4.0));
    assert_eq!(rate.timeline.metric("drift_ms"), Some(450.0));
}
