//! The token bucket's `tokens` strip shows the bucket (issue 22, point 16): it refills between
//! grants and drops at each one, where it used to record only what each grant left (in the
//! default run, one point at 0 for the whole run).
//!
//! The checks run against a model of the bucket written here, on the virtual clock: every point
//! is the bucket's level at its instant, the meter samples every quarter token while the bucket
//! refills (half a sample off the token grid), and nothing is drawn after the last grant.

use asyncdojo::demo::Clock;
use asyncdojo::demo::asyncio::{self, Python};
use asyncdojo::demo::runner::{self, RunRequest, VariantRun};
use asyncdojo::demo::timeline::SeriesValue;

/// Float noise allowed in a level (tokens) or an instant (ms) the model computes.
const EPS: f64 = 1e-9;

fn request(variants: &[&str], sets: &[&str], clock: Clock) -> RunRequest {
    let variants: Vec<String> = variants.iter().map(|v| v.to_string()).collect();
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    RunRequest::build("rate-limiter", &variants, &sets, clock).unwrap()
}

fn run(variants: &[&str], sets: &[&str]) -> Vec<VariantRun> {
    let report = runner::run_blocking(request(variants, sets, Clock::Virtual)).unwrap();
    for r in &report.runs {
        assert_eq!(r.error, None, "{} {sets:?}", r.variant);
        assert_eq!(r.alive_after, 0, "{} {sets:?}: tasks left alive", r.variant);
    }
    report.runs
}

fn bucket_run(sets: &[&str]) -> VariantRun {
    run(&["token-bucket"], sets).remove(0)
}

fn tokens(run: &VariantRun) -> Vec<(f64, f64)> {
    run.timeline.series["tokens"]
        .iter()
        .map(|(t, v)| match v {
            SeriesValue::Num(n) => (*t, *n),
            SeriesValue::Text(s) => panic!("tokens at {t} ms is text: {s}"),
        })
        .collect()
}

/// The demo's parameters, defaults as `asyncdojo demos` lists them.
#[derive(Clone, Copy, Debug)]
struct Params {
    rate: f64,
    window_ms: f64,
    burst: f64,
    requests: usize,
    gap_ms: f64,
}

impl Params {
    fn from(sets: &[&str]) -> Params {
        let mut p = Params {
            rate: 3.0,
            window_ms: 1000.0,
            burst: 3.0,
            requests: 8,
            gap_ms: 0.0,
        };
        for set in sets {
            let (name, value) = set.split_once('=').unwrap();
            let v: f64 = value.parse().unwrap();
            match name {
                "rate" => p.rate = v,
                "window_ms" => p.window_ms = v,
                "burst" => p.burst = v,
                "requests" => p.requests = v as usize,
                "arrival_gap_ms" => p.gap_ms = v,
                _ => panic!("no parameter {name}"),
            }
        }
        p
    }

    /// One token's refill time, ms.
    fn per_token(&self) -> f64 {
        self.window_ms / self.rate
    }
}

/// Two instants the same, up to the recorder's float milliseconds (3562.9999999999995 for 3563).
fn near(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

fn among(t: f64, instants: &[f64]) -> bool {
    instants.iter().any(|&i| near(i, t))
}

/// Timers wake on a whole millisecond, rounded up.
fn wake(t: f64) -> f64 {
    (t - EPS).ceil()
}

/// The bucket as the lesson describes it: `burst` tokens, one more every per_token, requests
/// served in arrival order. Gives each grant's exact instant and the instant it is seen (the
/// timer's whole millisecond when the request had to sleep).
fn model_grants(p: Params) -> Vec<(f64, f64)> {
    let pt = p.per_token();
    let (mut level, mut last, mut free) = (p.burst, 0.0_f64, 0.0_f64);
    let mut grants = Vec::new();
    for k in 0..p.requests {
        // The head of the line looks once the one before it is through.
        let now = (k as f64 * p.gap_ms).max(free);
        let have = (level + (now - last) / pt).min(p.burst);
        let (at, seen) = if have >= 1.0 - EPS {
            (now, now)
        } else {
            let at = now + (1.0 - have) * pt;
            (at, wake(at))
        };
        level = (level + (at - last) / pt).min(p.burst) - 1.0;
        last = at;
        free = seen;
        grants.push((at, seen));
    }
    grants
}

/// The bucket's level at `t`, every grant made by then taken.
fn model_level(p: Params, grants: &[(f64, f64)], t: f64) -> f64 {
    let pt = p.per_token();
    let (mut level, mut last) = (p.burst, 0.0_f64);
    for &(at, _) in grants.iter().filter(|g| g.0 <= t + EPS) {
        level = (level + (at - last) / pt).min(p.burst) - 1.0;
        last = at;
    }
    (level + (t - last) / pt).min(p.burst)
}

/// The instants a sample is seen at: every quarter token from an eighth of one, woken on the
/// next whole ms.
fn sample_instants(p: Params, until: f64) -> Vec<f64> {
    let pt = p.per_token();
    let mut out: Vec<f64> = (0..)
        .map(|j| wake((2 * j + 1) as f64 * pt / 8.0))
        .take_while(|&t| t <= until)
        .collect();
    out.dedup();
    out
}

/// Everything the strip must be, for one parameter set.
fn check_against_the_model(sets: &[&str]) {
    let p = Params::from(sets);
    let run = bucket_run(sets);
    let points = tokens(&run);
    let grants = model_grants(p);
    let grant_seen: Vec<f64> = grants.iter().map(|g| g.1).collect();
    // The model grants as the demo does: the `granted` marks are the instants they are seen.
    let marks: Vec<f64> = run
        .timeline
        .marks
        .iter()
        .filter(|m| m.label == "granted")
        .map(|m| m.t_ms)
        .collect();
    assert!(
        marks.len() == grant_seen.len() && marks.iter().zip(&grant_seen).all(|(a, b)| near(*a, *b)),
        "{sets:?}: the model grants at {grant_seen:?}, the demo at {marks:?}"
    );
    let end = *grant_seen.last().unwrap();
    let samples = sample_instants(p, end);

    for &(t, v) in &points {
        let want = model_level(p, &grants, t);
        assert!(
            (v - want).abs() < EPS,
            "{sets:?}: {v} tokens at {t} ms, the bucket holds {want}\n{points:?}"
        );
        assert!((0.0..=p.burst).contains(&v), "{sets:?}: {v} at {t} ms");
        assert!(
            t == 0.0 || among(t, &samples) || among(t, &grant_seen),
            "{sets:?}: a point at {t} ms is neither a sample nor a grant"
        );
    }
    assert!(
        points.last().unwrap().0 <= end + 1e-6,
        "{sets:?}: drawn after the last grant at {end} ms: {points:?}"
    );
    // While the bucket refills, every sample is drawn.
    for &s in samples.iter().filter(|&&s| s < end) {
        if among(s, &grant_seen) || model_level(p, &grants, s) >= p.burst - EPS {
            continue;
        }
        assert!(
            points.iter().any(|pt| near(pt.0, s)),
            "{sets:?}: no sample at {s} ms while the bucket refills: {points:?}"
        );
    }
    // Each grant after the first instant drops the level.
    for &g in grant_seen.iter().filter(|&&g| g > 0.0) {
        let i = points.iter().position(|pt| near(pt.0, g));
        let Some(i) = i else {
            // A grant seen in the same ms as the grant before it, or one that left the level
            // where it stood at the previous point: nothing to draw.
            continue;
        };
        assert!(
            points[i].1 < points[i - 1].1,
            "{sets:?}: the grant at {g} ms does not drop the level: {points:?}"
        );
    }
}

#[test]
fn after_the_burst_the_strip_rises_between_grants_and_drops_at_each() {
    let run = bucket_run(&[]);
    let points = tokens(&run);
    // The burst of 3 empties the bucket at 0 ms.
    assert_eq!(points[0], (0.0, 0.0));
    let grants: Vec<f64> = run
        .timeline
        .marks
        .iter()
        .filter(|m| m.label == "granted")
        .map(|m| m.t_ms)
        .collect();
    assert_eq!(
        grants,
        [0.0, 0.0, 0.0, 334.0, 667.0, 1000.0, 1334.0, 1667.0]
    );
    for w in grants[2..].windows(2) {
        let (from, to) = (w[0], w[1]);
        let between: Vec<f64> = points
            .iter()
            .filter(|p| p.0 > from && p.0 < to)
            .map(|p| p.1)
            .collect();
        // A quarter token apart: the refill is seen, not just its end.
        assert!(
            between.len() >= 3,
            "{from}..{to} ms: {between:?} in {points:?}"
        );
        assert!(
            between.windows(2).all(|v| v[0] < v[1]),
            "{from}..{to} ms: the bucket refills, it never drains by itself: {between:?}"
        );
        let at = points.iter().find(|p| p.0 == to).map(|p| p.1);
        let Some(at) = at else {
            panic!("no point at the grant at {to} ms: {points:?}");
        };
        assert!(
            at < between[0] && at < *between.last().unwrap(),
            "the grant at {to} ms takes a token: {at} after {between:?}"
        );
    }
    let values: Vec<f64> = points.iter().map(|p| p.1).collect();
    assert!(
        values.iter().all(|&v| (0.0..=1.0).contains(&v)),
        "{values:?}"
    );
    assert!(
        values.iter().any(|&v| v > 0.8),
        "one token nearly refilled before each grant: {values:?}"
    );
}

#[test]
fn every_point_is_the_bucket_level_at_its_instant() {
    let sets: &[&[&str]] = &[
        &[],
        &[
            "rate=2",
            "window_ms=1000",
            "burst=2",
            "requests=5",
            "arrival_gap_ms=200",
        ],
        &[
            "rate=5",
            "window_ms=700",
            "burst=2",
            "requests=12",
            "arrival_gap_ms=90",
        ],
        &["rate=1", "window_ms=250", "burst=4", "requests=6"],
        &["rate=7", "requests=20", "arrival_gap_ms=33"],
        &["rate=4", "window_ms=1000", "burst=1", "requests=5"],
        // Requests arriving on the sample instants: a sample and a grant in one ms.
        &["rate=2", "burst=2", "requests=4", "arrival_gap_ms=63"],
        &["requests=12", "arrival_gap_ms=125"],
        // A token a millisecond: every sample shares its ms with a grant.
        &["rate=1000", "requests=10"],
    ];
    for set in sets {
        check_against_the_model(set);
    }
}

#[test]
fn a_full_bucket_is_drawn_full_until_the_next_request() {
    let sets = ["rate=2", "burst=2", "requests=3", "arrival_gap_ms=3000"];
    check_against_the_model(&sets);
    let points = tokens(&bucket_run(&sets));
    // One token taken at 0 ms comes back in 500 ms; the sample after that sees a full bucket,
    // and nothing changes until request 2 arrives at 3000 ms.
    let full = points.iter().position(|p| p.1 == 2.0).unwrap();
    assert_eq!(points[full].0, 563.0, "{points:?}");
    assert_eq!(points[full + 1], (3000.0, 1.0), "{points:?}");
    assert_eq!(points.last(), Some(&(6000.0, 1.0)), "{points:?}");
}

#[test]
fn only_the_bucket_has_a_strip_and_its_meter_has_no_lane() {
    for r in run(&["sliding-window", "token-bucket", "gcra"], &[]) {
        assert_eq!(
            r.timeline.series.contains_key("tokens"),
            r.variant == "token-bucket",
            "{}",
            r.variant
        );
        let names: Vec<&str> = r.timeline.tasks.iter().map(|t| t.name.as_str()).collect();
        let mut lanes = vec!["main".to_owned()];
        lanes.extend((1..=8).map(|k| format!("request {k}")));
        assert_eq!(names, lanes, "{}", r.variant);
        // The meter neither makes the run longer nor survives it.
        assert_eq!(
            r.total_ms,
            if r.variant == "sliding-window" {
                2000.0
            } else {
                1667.0
            }
        );
    }
}

/// The interpreter the twin runs on (see `asyncio::for_tests`).
fn python() -> Option<Python> {
    asyncdojo::demo::asyncio::for_tests().cloned()
}

/// Where a sample and a grant share a millisecond, tokio and asyncio may run them in either
/// order; the strip must not depend on it.
#[test]
fn a_sample_and_a_grant_in_one_millisecond_draw_the_same_on_both_runtimes() {
    let Some(py) = python() else { return };
    let sets: &[&[&str]] = &[
        &["rate=2", "burst=2", "requests=4", "arrival_gap_ms=63"],
        &["requests=12", "arrival_gap_ms=125"],
        &["rate=1000", "requests=10"],
        &["rate=2", "burst=2", "requests=3", "arrival_gap_ms=3000"],
    ];
    for set in sets {
        let req = request(&["token-bucket"], set, Clock::Virtual);
        let twin = asyncio::run_twin(&req, &py).unwrap();
        let a = twin.report.run("token-bucket").unwrap();
        assert_eq!(a.error, None, "{set:?}: Python said:\n{}", twin.stderr);
        let t = bucket_run(set);
        assert_eq!(tokens(a), tokens(&t), "{set:?}: asyncio (left) vs tokio");
        let names = |r: &VariantRun| -> Vec<String> {
            r.timeline.tasks.iter().map(|t| t.name.clone()).collect()
        };
        assert_eq!(names(a), names(&t), "{set:?}: the meter has no lane");
        assert_eq!(a.total_ms, t.total_ms, "{set:?}");
    }
}
