use super::*;
use crate::demo::testing::{self, clean_run};
use crate::demo::timeline::{Outcome, SeriesValue};
use crate::demo::{Clock, VariantRun};

fn run(sets: &[&str]) -> VariantRun {
    clean_run::<CircuitBreakerDemo>(Variant::Breaker, sets)
}

fn check_call(item: &str) -> Result<(), ItemError> {
    ScriptedCall::parse_item(item).map(|_| ())
}

fn outcome(run: &VariantRun, k: usize) -> (Outcome, f64, f64) {
    let t = run.timeline.task(&format!("call {k}")).unwrap();
    (t.outcome, t.spawned_ms, t.finished_ms.unwrap())
}

fn transitions(run: &VariantRun) -> Vec<(f64, String)> {
    run.timeline
        .marks
        .iter()
        .map(|m| (m.t_ms, m.label.to_string()))
        .collect()
}

fn states(run: &VariantRun) -> Vec<(f64, String)> {
    run.timeline.series["state"]
        .iter()
        .map(|(t, v)| match v {
            SeriesValue::Text(s) => (*t, s.clone()),
            SeriesValue::Num(n) => (*t, n.to_string()),
        })
        .collect()
}

#[test]
fn default_script_opens_rejects_trials_and_closes() {
    let run = run(&[]);
    use Outcome::*;
    let expected = [
        (Error, 0.0, 0.0),
        (Error, 100.0, 100.0),
        (Error, 200.0, 200.0),
        (Rejected, 300.0, 300.0),
        (Rejected, 600.0, 600.0),
        (Ok, 1300.0, 1500.0),
        (Rejected, 1400.0, 1400.0),
        (Ok, 1600.0, 1600.0),
    ];
    for (k, e) in expected.iter().enumerate() {
        assert_eq!(outcome(&run, k + 1), *e, "call {}", k + 1);
    }
    assert_eq!(
        transitions(&run),
        vec![
            (200.0, "closed -> open".to_owned()),
            (1300.0, "open -> half-open".to_owned()),
            (1500.0, "half-open -> closed".to_owned()),
        ]
    );
    assert_eq!(
        states(&run),
        vec![
            (0.0, "closed".to_owned()),
            (200.0, "open".to_owned()),
            (1300.0, "half-open".to_owned()),
            (1500.0, "closed".to_owned()),
        ]
    );
    assert_eq!(run.timeline.metric("rejected"), Some(3.0));
    assert_eq!(run.timeline.metric("trials"), Some(1.0));
    assert_eq!(run.timeline.metric("opened"), Some(1.0));
    assert_eq!(run.timeline.metric("stale"), Some(0.0));
    assert_eq!(run.total_ms, 1600.0);
    assert_eq!(
        run.timeline.task("call 6").unwrap().detail,
        "trial call succeeded"
    );
    assert_eq!(
        run.timeline.task("call 7").unwrap().detail,
        "half-open: the trial call is still running"
    );
    assert_eq!(run.timeline.task("call 4").unwrap().detail, "breaker open");
}

/// On the real clock every instant comes a little late, so a call that starts exactly when the
/// breaker may let a trial through (or when the trial ends) lands on either side of it: the
/// default script once made call 6 arrive at the very millisecond the reset period ended, and
/// tokio rejected it in 6 runs of 8. Every call of the default script keeps 100 ms clear of
/// each change of state and of the end of the reset period.
#[test]
fn default_script_keeps_clear_of_every_deadline() {
    let run = run(&[]);
    let reset_ms = 1000.0;
    // Each change of state, with the call that made it, and each end of a reset period.
    let mut instants: Vec<(f64, Option<u32>)> = run
        .timeline
        .marks
        .iter()
        .map(|m| (m.t_ms, m.task))
        .collect();
    instants.extend(
        run.timeline
            .marks
            .iter()
            .filter(|m| m.label.ends_with("-> open"))
            .map(|m| (m.t_ms + reset_ms, None)),
    );
    let calls = run
        .timeline
        .tasks
        .iter()
        .filter(|t| t.name.starts_with("call "));
    for call in calls {
        // A call is at the instant of a change it made itself (the failure that opens, the
        // trial) by definition.
        for &(at, _) in instants.iter().filter(|(_, by)| *by != Some(call.id)) {
            let gap = (call.spawned_ms - at).abs();
            assert!(
                gap >= 100.0,
                "{} starts at {} ms, {gap} ms from a change at {at} ms",
                call.name,
                call.spawned_ms
            );
        }
    }
}

/// Issue 21's script: call 1 is let in while closed and fails at 500 ms, after the breaker has
/// opened (call 2) and closed again (call 3's trial). Its failure describes the backend before
/// the trial, so the breaker stays closed and call 4 is an ordinary call.
#[test]
fn a_late_failure_does_not_reopen_a_freshly_closed_breaker() {
    let run = run(&[
        "threshold=1",
        "reset_ms=100",
        "calls=0:fail:500,10:fail,200:ok,600:ok",
    ]);
    use Outcome::*;
    assert_eq!(outcome(&run, 1), (Error, 0.0, 500.0));
    assert_eq!(outcome(&run, 4), (Ok, 600.0, 600.0));
    assert_eq!(
        transitions(&run),
        vec![
            (10.0, "closed -> open".to_owned()),
            (200.0, "open -> half-open".to_owned()),
            (200.0, "half-open -> closed".to_owned()),
            (500.0, "stale result ignored".to_owned()),
        ]
    );
    assert_eq!(
        states(&run).last(),
        Some(&(200.0, "closed".to_owned())),
        "the stale failure moved the breaker"
    );
    assert_eq!(
        run.timeline.task("call 1").unwrap().detail,
        format!("call failed{}", shown::STALE_DETAIL)
    );
    assert_eq!(
        run.timeline.task("call 4").unwrap().detail,
        "call succeeded"
    );
    assert_eq!(run.timeline.metric("opened"), Some(1.0));
    assert_eq!(run.timeline.metric("trials"), Some(1.0));
    assert_eq!(run.timeline.metric("stale"), Some(1.0));
}

/// A late success is as stale as a late failure: call 1, let in before the breaker opened,
/// succeeds after the trial closed it again. Counting it would wipe the failure at 450 ms from
/// the fresh count, and the failure at 550 ms would not reopen the breaker.
#[test]
fn a_late_success_does_not_reset_a_fresh_failure_count() {
    let run = run(&[
        "threshold=2",
        "reset_ms=100",
        "calls=0:ok:500,10:fail,20:fail,200:ok,450:fail,550:fail,600:ok",
    ]);
    use Outcome::*;
    assert_eq!(outcome(&run, 1), (Ok, 0.0, 500.0));
    assert_eq!(outcome(&run, 7), (Rejected, 600.0, 600.0));
    assert_eq!(
        transitions(&run),
        vec![
            (20.0, "closed -> open".to_owned()),
            (200.0, "open -> half-open".to_owned()),
            (200.0, "half-open -> closed".to_owned()),
            (500.0, "stale result ignored".to_owned()),
            (550.0, "closed -> open".to_owned()),
        ]
    );
    assert_eq!(run.timeline.metric("stale"), Some(1.0));
}

/// A success that arrives after the breaker opened must not close it.
#[test]
fn a_late_success_does_not_close_an_open_breaker() {
    let run = run(&["threshold=2", "calls=0:ok:300,10:fail,20:fail,400:ok"]);
    assert_eq!(outcome(&run, 4), (Outcome::Rejected, 400.0, 400.0));
    assert_eq!(
        transitions(&run),
        vec![
            (20.0, "closed -> open".to_owned()),
            (300.0, "stale result ignored".to_owned()),
        ]
    );
}

#[test]
fn failed_trial_opens_again_for_another_reset() {
    let run = run(&[
        "threshold=2",
        "reset_ms=500",
        "calls=0:fail,10:ok,20:fail,30:fail:20,100:ok,550:fail:50,560:ok,1000:ok,1050:ok,1100:ok",
    ]);
    use Outcome::*;
    // A success in between resets the count: the breaker opens when call 4 ends at 50.
    // Call 6 is the trial at 550 and fails at 600: open again until 1100.
    let expected = [
        (Error, 0.0, 0.0),
        (Ok, 10.0, 10.0),
        (Error, 20.0, 20.0),
        (Error, 30.0, 50.0),
        (Rejected, 100.0, 100.0),
        (Error, 550.0, 600.0),
        (Rejected, 560.0, 560.0),
        (Rejected, 1000.0, 1000.0),
        (Rejected, 1050.0, 1050.0),
        (Ok, 1100.0, 1100.0),
    ];
    for (k, e) in expected.iter().enumerate() {
        assert_eq!(outcome(&run, k + 1), *e, "call {}", k + 1);
    }
    assert_eq!(
        transitions(&run),
        vec![
            (50.0, "closed -> open".to_owned()),
            (550.0, "open -> half-open".to_owned()),
            (600.0, "half-open -> open".to_owned()),
            (1100.0, "open -> half-open".to_owned()),
            (1100.0, "half-open -> closed".to_owned()),
        ]
    );
    assert_eq!(run.timeline.metric("rejected"), Some(4.0));
    assert_eq!(run.timeline.metric("trials"), Some(2.0));
    assert_eq!(run.timeline.metric("opened"), Some(2.0));
}

#[test]
fn calls_start_at_their_time_whatever_the_list_order() {
    let run = run(&["calls=300:ok,0:ok:50"]);
    assert_eq!(outcome(&run, 1), (Outcome::Ok, 300.0, 300.0));
    assert_eq!(outcome(&run, 2), (Outcome::Ok, 0.0, 50.0));
    assert_eq!(run.timeline.metric("rejected"), Some(0.0));
}

#[test]
fn random_calls_follow_the_seeded_failures() {
    let (n, pct, seed) = (40_usize, 50_u64, 9_u64);
    let run = run(&[
        "random_calls=40",
        "failure_pct=50",
        "seed=9",
        "threshold=2",
        "reset_ms=300",
    ]);
    // Replay the breaker by hand on the same pseudo-random script.
    let mut rng = SplitMix64(seed);
    let mut failures = 0;
    let mut open_since: Option<u64> = None;
    let (mut rejected, mut trials) = (0, 0);
    for i in 0..n {
        let t = RANDOM_GAP_MS * i as u64;
        let ok = rng.next_u64() % 100 >= pct;
        let expected = match open_since {
            Some(since) if t - since < 300 => {
                rejected += 1;
                Outcome::Rejected
            }
            Some(_) => {
                trials += 1;
                open_since = if ok { None } else { Some(t) };
                failures = 0;
                if ok { Outcome::Ok } else { Outcome::Error }
            }
            None => {
                failures = if ok { 0 } else { failures + 1 };
                if failures >= 2 {
                    open_since = Some(t);
                    failures = 0;
                }
                if ok { Outcome::Ok } else { Outcome::Error }
            }
        };
        let (got, at, _) = outcome(&run, i + 1);
        assert_eq!((got, at), (expected, t as f64), "call {}", i + 1);
    }
    assert!(
        trials > 0 && rejected > 0,
        "the seed should exercise the breaker"
    );
    assert_eq!(run.timeline.metric("rejected"), Some(rejected as f64));
    assert_eq!(run.timeline.metric("trials"), Some(trials as f64));
}

#[test]
fn no_failures_never_open() {
    let run = run(&["random_calls=20", "failure_pct=0"]);
    assert_eq!(run.timeline.count(Outcome::Ok), 21); // 20 calls + main
    assert_eq!(run.timeline.metric("opened"), Some(0.0));
    assert_eq!(run.total_ms, 1900.0);
}

#[test]
fn the_call_syntax_is_checked() {
    assert!(check_call("0:ok").is_ok());
    assert!(check_call("10:fail:5").is_ok());
    assert!(
        check_call("10:maybe")
            .unwrap_err()
            .to_string()
            .contains("neither ok nor fail")
    );
    assert!(
        check_call("x:ok")
            .unwrap_err()
            .to_string()
            .contains("not a whole number")
    );
    assert!(check_call("0:ok:1:2").is_err());
    assert!(
        check_call("70000:ok")
            .unwrap_err()
            .to_string()
            .contains("over")
    );
    let sets = ["calls=0:ok,1:nope"];
    assert!(testing::request::<CircuitBreakerDemo>(&[], &sets, Clock::Virtual).is_err());
}
