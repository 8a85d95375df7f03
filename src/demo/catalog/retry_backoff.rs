//! Q14: retry with exponential backoff and jitter. The first `failures` attempts fail; between
//! attempts the caller waits base * 2^(n-1), capped, then jittered.

use crate::demo::rng::SplitMix64;
use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::{Ctx, DemoSpec, Ended, LegacyDemo, ParamKind, ParamSpec, Params, VariantSpec};

pub struct RetryBackoff;

static SPEC: DemoSpec = DemoSpec {
    id: "retry-backoff",
    title: "Retry with exponential backoff and jitter",
    about: "An operation fails its first `failures` attempts. Before retry n the caller waits \
            min(max_delay_ms, base_ms * 2^(n-1)), jittered; it gives up after max_attempts.",
    variants: &[VariantSpec::single(
        "exponential",
        "exponential backoff, capped at max_delay_ms, with the chosen jitter",
    )],
    default_variants: &["exponential"],
    params: &[
        ParamSpec {
            name: "failures",
            kind: ParamKind::Int { min: 0, max: 100 },
            default: "3",
            help: "how many attempts fail before one succeeds",
        },
        ParamSpec {
            name: "max_attempts",
            kind: ParamKind::Int { min: 1, max: 100 },
            default: "5",
            help: "give up after this many attempts",
        },
        ParamSpec {
            name: "base_ms",
            kind: ParamKind::Ms {
                min: 0,
                max: 60_000,
            },
            default: "100",
            help: "the delay before the first retry; it doubles for each retry after",
        },
        ParamSpec {
            name: "max_delay_ms",
            kind: ParamKind::Ms {
                min: 0,
                max: 60_000,
            },
            default: "2000",
            help: "no delay is longer than this (before jitter)",
        },
        ParamSpec {
            name: "jitter",
            kind: ParamKind::Choice(&["none", "full", "equal"]),
            default: "full",
            help: "none: the delay as is; full: random in 0..=delay; equal: delay/2 + random in 0..=delay/2",
        },
        ParamSpec {
            name: "seed",
            kind: ParamKind::Int {
                min: 0,
                max: 4_294_967_295,
            },
            default: "7",
            help: "the seed of the pseudo-random jitter",
        },
        ParamSpec {
            name: "op_ms",
            kind: ParamKind::Ms {
                min: 0,
                max: 60_000,
            },
            default: "0",
            help: "how long each attempt takes",
        },
    ],
    metrics: &[
        ("attempts", "attempts made, the successful one included"),
        (
            "backoff_ms",
            "time spent waiting between attempts, in whole ms",
        ),
    ],
    source: include_str!("retry_backoff.rs"),
    source_file: file!(),
};

impl LegacyDemo for RetryBackoff {
    fn spec(&self) -> &'static DemoSpec {
        &SPEC
    }

    fn run(&self, ctx: Ctx, _variant: &'static str, params: Params) -> BoxFuture<'static, ()> {
        let policy = Policy {
            max_attempts: u32::try_from(params.int("max_attempts"))
                .unwrap_or(1)
                .max(1),
            base: params.ms("base_ms"),
            max_delay: params.ms("max_delay_ms"),
            jitter: match params.text("jitter") {
                "none" => Jitter::None,
                "equal" => Jitter::Equal,
                _ => Jitter::Full,
            },
        };
        let op = FlakyOp {
            failures: u32::try_from(params.int("failures")).unwrap_or(0),
            duration: params.ms("op_ms"),
        };
        let seed = u64::try_from(params.int("seed")).unwrap_or(0);
        async move {
            let caller = ctx.spawn("caller", retry(ctx.clone(), policy, op, SplitMix64(seed)));
            let _ = caller.await;
        }
        .boxed()
    }
}

// region:demo
use std::time::Duration;

use tokio::time::sleep;

#[derive(Clone, Copy)]
enum Jitter {
    /// The delay as computed: every client that failed together retries together.
    None,
    /// Anywhere in 0..=delay: spreads retries the most.
    Full,
    /// delay/2 plus up to delay/2: spread out, but never much shorter than planned.
    Equal,
}

#[derive(Clone, Copy)]
struct Policy {
    max_attempts: u32,
    base: Duration,
    max_delay: Duration,
    jitter: Jitter,
}

impl Policy {
    /// The wait before retry `n` (1-based): min(max_delay, base * 2^(n-1)), then jitter.
    fn delay(&self, n: u32, rng: &mut SplitMix64) -> Duration {
        let factor = 1_u32.checked_shl(n - 1).unwrap_or(u32::MAX);
        let capped = self.base.saturating_mul(factor).min(self.max_delay);
        let ms = capped.as_millis() as u64;
        let jittered = match self.jitter {
            Jitter::None => ms,
            Jitter::Full => rng.up_to(ms),
            Jitter::Equal => ms / 2 + rng.up_to(ms - ms / 2),
        };
        Duration::from_millis(jittered)
    }
}

/// An operation that fails its first `failures` attempts, then succeeds.
#[derive(Clone, Copy)]
struct FlakyOp {
    failures: u32,
    duration: Duration,
}

impl FlakyOp {
    async fn attempt(self, n: u32) -> Ended {
        sleep(self.duration).await;
        if n <= self.failures {
            Ended::error(format!("attempt {n} failed"))
        } else {
            Ended::ok(format!("attempt {n} succeeded"))
        }
    }
}

async fn retry(ctx: Ctx, policy: Policy, op: FlakyOp, mut rng: SplitMix64) -> Ended {
    let mut waited = Duration::ZERO;
    let mut n = 1;
    let result = loop {
        ctx.mark(format!("attempt {n}"));
        // Each attempt is its own lane, so the backoff gaps between them show.
        let ended = ctx.instrument(format!("attempt {n}"), op.attempt(n)).await;
        if ended.is_ok() || n >= policy.max_attempts {
            break ended;
        }
        let delay = policy.delay(n, &mut rng);
        ctx.mark(format!("backoff {} ms", delay.as_millis()));
        sleep(delay).await;
        waited += delay;
        n += 1;
    };
    ctx.metric("attempts", n);
    ctx.metric("backoff_ms", waited.as_millis() as u64);
    if result.is_ok() {
        Ended::ok(format!("succeeded on attempt {n}"))
    } else {
        Ended::error(format!("gave up after {n} attempts"))
    }
}
// endregion:demo

#[cfg(test)]
mod tests {
    use crate::demo::rng::SplitMix64;
    use crate::demo::runner::{RunRequest, run_blocking};
    use crate::demo::timeline::Outcome;
    use crate::demo::{Clock, VariantRun};

    fn run(sets: &[&str]) -> VariantRun {
        let sets: Vec<String> = sets.iter().map(|s| (*s).to_owned()).collect();
        let req = RunRequest::build("retry-backoff", &[], &sets, Clock::Virtual).unwrap();
        let report = run_blocking(req).unwrap();
        let run = report.run("exponential").unwrap().clone();
        assert_eq!(run.error, None);
        assert_eq!(run.alive_after, 0);
        run
    }

    fn marks(run: &VariantRun) -> Vec<(f64, String)> {
        let marks = run.timeline.marks.iter();
        marks.map(|m| (m.t_ms, m.label.clone())).collect()
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
}
