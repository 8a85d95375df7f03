use super::{LoopLag, Variant};
use crate::demo::VariantRun;
use crate::demo::testing::clean_run;
use crate::demo::timeline::{Outcome, SeriesValue};

fn run(sets: &[&str]) -> VariantRun {
    clean_run::<LoopLag>(Variant::Monitor, sets)
}

fn lags(run: &VariantRun) -> Vec<(f64, f64)> {
    run.timeline.series["lag_ms"]
        .iter()
        .map(|(t, v)| match v {
            SeriesValue::Num(n) => (*t, *n),
            SeriesValue::Text(_) => (*t, f64::NAN),
        })
        .collect()
}

fn flagged_marks(run: &VariantRun) -> Vec<(f64, String)> {
    run.timeline
        .marks
        .iter()
        .filter(|m| m.label.starts_with("tick"))
        .map(|m| (m.t_ms, m.label.to_string()))
        .collect()
}

#[test]
fn defaults_one_late_tick_of_heavy_minus_tick() {
    let run = run(&[]);
    // max_lag_ms = heavy_ms - tick_ms = 200 - 50; only that tick is over 20 ms.
    assert_eq!(run.timeline.metric("max_lag_ms"), Some(150.0));
    assert_eq!(run.timeline.metric("flagged"), Some(1.0));
    // Ticks at 50, 100, then 300 (due at 150), 350, 400, 450, 500.
    assert_eq!(run.timeline.metric("ticks"), Some(7.0));
    assert_eq!(lags(&run), [(50.0, 0.0), (300.0, 150.0), (350.0, 0.0)]);
    assert_eq!(
        flagged_marks(&run),
        [(300.0, "tick 3: 150 ms late".to_owned())]
    );
    let heavy = run.timeline.task("heavy").unwrap();
    assert_eq!(heavy.polls.last(), Some(&(100.0, 300.0)));
    assert_eq!(heavy.outcome, Outcome::Ok);
    assert_eq!(run.total_ms, 500.0);
}

#[test]
fn a_longer_hold_and_a_higher_threshold() {
    let run = run(&[
        "tick_ms=100",
        "heavy_ms=450",
        "threshold_ms=349",
        "run_ms=1000",
    ]);
    // Ticks at 100, 200, then 650 (due at 300): lag 350 > 349.
    assert_eq!(run.timeline.metric("max_lag_ms"), Some(350.0));
    assert_eq!(run.timeline.metric("flagged"), Some(1.0));
    assert_eq!(
        flagged_marks(&run),
        [(650.0, "tick 3: 350 ms late".to_owned())]
    );
    // 650, 750, 850, 950, 1050: the loop stops once run_ms has passed.
    assert_eq!(run.timeline.metric("ticks"), Some(7.0));
    assert_eq!(run.total_ms, 1050.0);
}

#[test]
fn lag_equal_to_the_threshold_is_not_flagged() {
    let at = run(&[
        "tick_ms=100",
        "heavy_ms=450",
        "threshold_ms=350",
        "run_ms=1000",
    ]);
    assert_eq!(at.timeline.metric("max_lag_ms"), Some(350.0));
    assert_eq!(at.timeline.metric("flagged"), Some(0.0));
}

#[test]
fn a_hold_shorter_than_a_tick_is_not_lag() {
    let run = run(&["heavy_ms=40"]);
    assert_eq!(run.timeline.metric("max_lag_ms"), Some(0.0));
    assert_eq!(run.timeline.metric("flagged"), Some(0.0));
    assert_eq!(run.timeline.metric("ticks"), Some(10.0));
}

#[test]
fn a_run_too_short_for_two_ticks_stops_the_heavy_task() {
    let short = run(&["run_ms=30"]);
    assert_eq!(
        short.timeline.task("heavy").unwrap().outcome,
        Outcome::Cancelled
    );
    assert_eq!(short.timeline.metric("ticks"), Some(1.0));
    assert_eq!(short.total_ms, 50.0);
}
