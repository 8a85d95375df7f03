use super::{RetryBackoff, Variant};
use crate::demo::VariantRun;
use crate::demo::rng::SplitMix64;
use crate::demo::testing::clean_run;
use crate::demo::timeline::Outcome;

fn run(sets: &[&str]) -> VariantRun {
    clean_run::<RetryBackoff>(Variant::Exponential, sets)
}

fn marks(run: &VariantRun) -> Vec<(f64, String)> {
    let marks = run.timeline.marks.iter();
    marks.map(|m| (m.t_ms, m.label.to_string())).collect()
}

/// The delays a run should wait, for a given jitter: uncapped delays come from the spec
/// formula, the random part from the same seeded generator.
fn expected_delays(retries: u32, base: u64, max: u64, jitter: &str, seed: u64) -> Vec<u64> {
    let mut rng = SplitMix64(seed);
    (1..=retries)
        .map(|n| {
            let d = (base * 2_u64.pow(n - 1)).min(max);
            match jitter {
                "none" => d,
                "full" => rng.next_u64() % (d + 1),
                _ => d / 2 + rng.next_u64() % (d - d / 2 + 1),
            }
        })
        .collect()
}

/// The marks, attempt lanes and totals for delays `delays`, attempts taking `op` ms.
fn assert_schedule(run: &VariantRun, attempts: u32, delays: &[u64], op: u64, ok: bool) {
    let mut t = 0;
    let mut expected = Vec::new();
    for n in 1..=attempts {
        expected.push((t as f64, format!("attempt {n}")));
        let lane = run.timeline.task(&format!("attempt {n}")).unwrap();
        assert_eq!(lane.spawned_ms, t as f64);
        t += op;
        assert_eq!(lane.finished_ms, Some(t as f64));
        let last_ok = ok && n == attempts;
        let want = if last_ok { Outcome::Ok } else { Outcome::Error };
        assert_eq!(lane.outcome, want, "attempt {n}");
        if let Some(d) = delays.get(n as usize - 1) {
            expected.push((t as f64, format!("backoff {d} ms")));
            t += d;
        }
    }
    assert_eq!(marks(run), expected);
    assert_eq!(run.total_ms, t as f64);
    assert_eq!(run.timeline.metric("attempts"), Some(f64::from(attempts)));
    let waited: u64 = delays.iter().sum();
    assert_eq!(run.timeline.metric("backoff_ms"), Some(waited as f64));
    let caller = run.timeline.task("caller").unwrap();
    let want = if ok { Outcome::Ok } else { Outcome::Error };
    assert_eq!(caller.outcome, want);
}

#[test]
fn no_jitter_total_is_the_sum_of_the_delays() {
    let run = run(&["jitter=none"]);
    // 3 failures: waits 100 + 200 + 400, success on attempt 4 = min(3 + 1, 5).
    assert_schedule(&run, 4, &[100, 200, 400], 0, true);
    assert_eq!(run.total_ms, 700.0);
}

#[test]
fn giving_up_after_max_attempts() {
    let run = run(&["jitter=none", "failures=5", "max_attempts=5", "op_ms=10"]);
    // No wait after the last attempt: 4 delays, 5 attempts of 10 ms.
    assert_schedule(&run, 5, &[100, 200, 400, 800], 10, false);
    assert_eq!(run.total_ms, 1550.0);
}

#[test]
fn the_cap_holds_the_delays() {
    let run = run(&[
        "jitter=none",
        "failures=6",
        "max_attempts=10",
        "max_delay_ms=500",
    ]);
    assert_schedule(&run, 7, &[100, 200, 400, 500, 500, 500], 0, true);
}

#[test]
fn first_attempt_success_never_waits() {
    let run = run(&["failures=0"]);
    assert_schedule(&run, 1, &[], 0, true);
    assert_eq!(run.total_ms, 0.0);
}

#[test]
fn full_jitter_follows_the_seed() {
    let run = run(&[]);
    let delays = expected_delays(3, 100, 2000, "full", 7);
    for (n, d) in delays.iter().enumerate() {
        assert!(*d <= 100 << n, "full jitter stays within 0..=delay");
    }
    assert_schedule(&run, 4, &delays, 0, true);
}

#[test]
fn equal_jitter_follows_the_seed() {
    let run = run(&["jitter=equal", "seed=42", "failures=4", "op_ms=5"]);
    let delays = expected_delays(4, 100, 2000, "equal", 42);
    for (n, d) in delays.iter().enumerate() {
        let full = 100 << n;
        assert!(
            *d >= full / 2 && *d <= full,
            "equal jitter stays within half..=delay"
        );
    }
    assert_schedule(&run, 5, &delays, 5, true);
}

#[test]
fn another_seed_gives_other_delays() {
    let a = run(&["seed=1"]);
    let b = run(&["seed=2"]);
    assert_ne!(marks(&a), marks(&b));
    assert_schedule(&b, 4, &expected_delays(3, 100, 2000, "full", 2), 0, true);
}

/// (name, spawned, finished, outcome) of every attempt lane.
fn attempts(run: &VariantRun) -> Vec<(String, f64, Option<f64>, Outcome)> {
    let lanes = run
        .timeline
        .tasks
        .iter()
        .filter(|t| t.name.starts_with("attempt "));
    lanes
        .map(|t| (t.name.clone(), t.spawned_ms, t.finished_ms, t.outcome))
        .collect()
}

#[test]
fn a_hung_attempt_is_cut_off_at_its_timeout_and_retried() {
    let run = run(&[
        "jitter=none",
        "failures=3",
        "hangs=1",
        "attempt_timeout_ms=250",
        "op_ms=10",
    ]);
    let lane =
        |n: u32, at: f64, end: f64, outcome| (format!("attempt {n}"), at, Some(end), outcome);
    assert_eq!(
        attempts(&run),
        [
            // Never answers: cancelled at 250 ms, then the loop goes on as for any failure.
            lane(1, 0.0, 250.0, Outcome::Timeout),
            lane(2, 350.0, 360.0, Outcome::Error),
            lane(3, 560.0, 570.0, Outcome::Error),
            lane(4, 970.0, 980.0, Outcome::Ok),
        ]
    );
    let detail = &run.timeline.task("attempt 1").unwrap().detail;
    assert_eq!(detail, "attempt 1: no answer within 250 ms");
    assert_eq!(run.timeline.metric("attempts"), Some(4.0));
    assert_eq!(run.total_ms, 980.0);
    assert_eq!(run.timeline.task("caller").unwrap().outcome, Outcome::Ok);
}

#[test]
fn attempts_slower_than_the_timeout_all_time_out_and_the_caller_gives_up() {
    let run = run(&[
        "jitter=none",
        "failures=0",
        "max_attempts=3",
        "op_ms=300",
        "attempt_timeout_ms=250",
    ]);
    let lane = |n: u32, at: f64| {
        (
            format!("attempt {n}"),
            at,
            Some(at + 250.0),
            Outcome::Timeout,
        )
    };
    assert_eq!(
        attempts(&run),
        [lane(1, 0.0), lane(2, 350.0), lane(3, 800.0)]
    );
    assert_eq!(run.total_ms, 1050.0);
    assert_eq!(run.timeline.task("caller").unwrap().outcome, Outcome::Error);
}

#[test]
fn the_default_timeout_leaves_the_default_run_alone() {
    // Attempts take op_ms = 0 by default: the 1 s limit never fires.
    let run = run(&[]);
    assert_eq!(run.timeline.count(Outcome::Timeout), 0);
    assert_schedule(&run, 4, &expected_delays(3, 100, 2000, "full", 7), 0, true);
}
