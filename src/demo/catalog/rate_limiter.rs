//! C1/Q12: three rate limiters on the same arrivals: a sliding window, a token bucket and GCRA.
//! Requests are granted first come, first served; only the head of the line sleeps.

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::{Ctx, DemoSpec, Ended, LegacyDemo, ParamKind, ParamSpec, Params, VariantSpec};

pub struct RateLimiterDemo;

static SPEC: DemoSpec = DemoSpec {
    id: "rate-limiter",
    title: "Rate limiters: sliding window, token bucket, GCRA",
    about: "Requests ask a limiter allowing `rate` per `window_ms`. The sliding window grants in \
            batches of `rate`; the token bucket and GCRA grant a burst, then one request every \
            window_ms / rate.",
    variants: &[
        VariantSpec::single(
            "sliding-window",
            "at most `rate` grants in any window_ms: a queue of grant times",
        ),
        VariantSpec::single(
            "token-bucket",
            "a bucket of `burst` tokens refilled at rate per window_ms; a request takes one",
        ),
        VariantSpec::single(
            "gcra",
            "generic cell rate algorithm: one theoretical arrival time instead of tokens",
        ),
    ],
    default_variants: &["sliding-window", "token-bucket", "gcra"],
    params: &[
        ParamSpec {
            name: "rate",
            kind: ParamKind::Int { min: 1, max: 1000 },
            default: "3",
            help: "requests allowed per window",
        },
        ParamSpec {
            name: "window_ms",
            kind: ParamKind::Ms {
                min: 1,
                max: 60_000,
            },
            default: "1000",
            help: "the window `rate` applies to",
        },
        ParamSpec {
            name: "burst",
            kind: ParamKind::Int { min: 1, max: 1000 },
            default: "3",
            help: "token-bucket and gcra: how many requests may go at once after a quiet spell",
        },
        ParamSpec {
            name: "requests",
            kind: ParamKind::Int {
                min: 1,
                max: 10_000,
            },
            default: "8",
            help: "how many requests arrive",
        },
        ParamSpec {
            name: "arrival_gap_ms",
            kind: ParamKind::Ms {
                min: 0,
                max: 60_000,
            },
            default: "0",
            help: "time between arrivals (0: all arrive at once)",
        },
    ],
    metrics: &[
        (
            "last_grant_ms",
            "when the last request was granted (whole ms, rounded down)",
        ),
        (
            "max_waiting",
            "most requests waiting for the limiter at once",
        ),
    ],
    source: include_str!("rate_limiter.rs"),
    source_file: file!(),
};

impl LegacyDemo for RateLimiterDemo {
    fn spec(&self) -> &'static DemoSpec {
        &SPEC
    }

    fn run(&self, ctx: Ctx, variant: &'static str, params: Params) -> BoxFuture<'static, ()> {
        let rate = u32::try_from(params.int("rate")).unwrap_or(1).max(1);
        let window = params.ms("window_ms");
        let burst = u32::try_from(params.int("burst")).unwrap_or(1).max(1);
        let requests = params.count("requests");
        let gap = params.ms("arrival_gap_ms");
        async move {
            let clock = TickClock {
                epoch: Instant::now(),
                rate,
            };
            if variant == "token-bucket" {
                ctx.series("tokens", f64::from(burst));
            }
            let fair = Arc::new(Fair {
                limiter: tokio::sync::Mutex::new(limiter(variant, rate, window, burst)),
                clock,
            });
            let log = GrantLog::new(clock);
            run_requests(&ctx, &fair, requests, gap, &log).await;
            ctx.metric("last_grant_ms", log.last_ms());
        }
        .boxed()
    }
}

// region:demo
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::{Instant, sleep_until};

use crate::demo::ctx::Gauge;

/// Limiter time: units of 1/rate ns since the start. window / rate (1000 ms / 3) is rarely a
/// whole number of nanoseconds; in ticks it is exactly `window_ns`, so no rounding ever adds up.
type Ticks = u128;

/// A limiter's bookkeeping. `check` says whether a request may go at `now` and, if not, when
/// it may; `take` records a grant at that tick.
trait Limiter {
    fn check(&mut self, now: Ticks) -> Option<Ticks>;
    fn take(&mut self, at: Ticks);
    /// Tokens left, for limiters that have them.
    fn tokens(&self) -> Option<f64> {
        None
    }
}

/// At most `rate` grants in any `window`: remember when each recent grant happened.
struct SlidingWindow {
    rate: usize,
    window: Ticks,
    grants: VecDeque<Ticks>,
}

impl SlidingWindow {
    /// Grants a whole window old no longer count.
    fn expire(&mut self, now: Ticks) {
        while self.grants.front().is_some_and(|&g| g + self.window <= now) {
            self.grants.pop_front();
        }
    }
}

impl Limiter for SlidingWindow {
    fn check(&mut self, now: Ticks) -> Option<Ticks> {
        self.expire(now);
        // Full: a slot frees when the oldest grant leaves the window.
        match self.grants.front() {
            Some(&oldest) if self.grants.len() >= self.rate => Some(oldest + self.window),
            _ => None,
        }
    }

    fn take(&mut self, at: Ticks) {
        self.expire(at);
        self.grants.push_back(at);
    }
}

/// Up to `burst` tokens, refilled continuously at `rate` per window; a request takes one.
/// The level is kept as refill time: one token is `per_token` ticks of refilling.
struct TokenBucket {
    per_token: Ticks,
    capacity: Ticks,
    level: Ticks,
    last: Ticks,
}

impl TokenBucket {
    fn level_at(&self, now: Ticks) -> Ticks {
        (self.level + (now - self.last)).min(self.capacity)
    }
}

impl Limiter for TokenBucket {
    fn check(&mut self, now: Ticks) -> Option<Ticks> {
        let level = self.level_at(now);
        // Short of one token: wait for the rest of it to drip in.
        (level < self.per_token).then(|| now + (self.per_token - level))
    }

    fn take(&mut self, at: Ticks) {
        self.level = self.level_at(at).saturating_sub(self.per_token);
        self.last = at;
    }

    fn tokens(&self) -> Option<f64> {
        Some(self.level as f64 / self.per_token as f64)
    }
}

/// GCRA: one "theoretical arrival time" (`tat`) instead of tokens. Each grant pushes it one
/// `interval` later; a request may go once `tat` is at most `tolerance` ahead of now.
/// With tolerance = (burst - 1) * interval it grants exactly like the token bucket.
struct Gcra {
    interval: Ticks,
    tolerance: Ticks,
    tat: Ticks,
}

impl Limiter for Gcra {
    fn check(&mut self, now: Ticks) -> Option<Ticks> {
        (self.tat > now + self.tolerance).then(|| self.tat - self.tolerance)
    }

    fn take(&mut self, at: Ticks) {
        self.tat = self.tat.max(at) + self.interval;
    }
}

/// First come, first served: the async mutex queues waiters in arrival order and is held across
/// check, sleep and take, so only the head of the line sleeps and nobody overtakes it.
struct Fair {
    limiter: tokio::sync::Mutex<Box<dyn Limiter + Send>>,
    clock: TickClock,
}

impl Fair {
    /// Wait for a grant; returns the tick it was granted at.
    async fn acquire(&self, ctx: &Ctx) -> Ticks {
        let mut limiter = self.limiter.lock().await;
        let now = self.clock.now();
        let at = match limiter.check(now) {
            None => now,
            Some(free_at) => {
                sleep_until(self.clock.instant(free_at)).await;
                // tokio's timer wakes on a whole millisecond; the grant was due at `free_at`.
                free_at
            }
        };
        limiter.take(at);
        if let Some(tokens) = limiter.tokens() {
            ctx.series("tokens", tokens);
        }
        at
    }
}

async fn request(ctx: Ctx, limiter: Arc<Fair>, waiting: Gauge, log: GrantLog) -> Ended {
    waiting.enter();
    let granted = limiter.acquire(&ctx).await;
    waiting.leave();
    ctx.mark("granted");
    let ms = log.record(granted);
    Ended::ok(format!("granted at {ms:.3} ms"))
}

/// Request k arrives (k-1) * gap after the start and waits for its grant.
async fn run_requests(ctx: &Ctx, limiter: &Arc<Fair>, n: usize, gap: Duration, log: &GrantLog) {
    let waiting = ctx.gauge("waiting");
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for k in 1..=n {
        if !gap.is_zero() {
            sleep_until(start + gap * (k as u32 - 1)).await;
        }
        let req = request(
            ctx.clone(),
            Arc::clone(limiter),
            waiting.clone(),
            log.clone(),
        );
        tasks.push(ctx.spawn(format!("request {k}"), req));
    }
    for task in tasks {
        let _ = task.await;
    }
    ctx.metric("max_waiting", waiting.max());
}
// endregion:demo

/// Converts between tokio instants and limiter ticks (1/rate ns since `epoch`).
#[derive(Clone, Copy)]
struct TickClock {
    epoch: Instant,
    rate: u32,
}

impl TickClock {
    fn now(&self) -> Ticks {
        self.ticks(Instant::now())
    }

    fn ticks(&self, t: Instant) -> Ticks {
        t.duration_since(self.epoch).as_nanos() * Ticks::from(self.rate)
    }

    /// The instant of tick `t`, rounded up to a whole nanosecond: never early.
    fn instant(&self, t: Ticks) -> Instant {
        let ns = t.div_ceil(Ticks::from(self.rate));
        self.epoch + Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
    }

    /// Tick `t` in ms since the epoch.
    fn ms(&self, t: Ticks) -> f64 {
        t as f64 / f64::from(self.rate) / 1e6
    }
}

/// The limiter a variant uses, with its parameters turned into ticks.
fn limiter(variant: &str, rate: u32, window: Duration, burst: u32) -> Box<dyn Limiter + Send> {
    // One emission interval, window / rate, is exactly window_ns ticks.
    let per_token: Ticks = window.as_nanos();
    match variant {
        "sliding-window" => Box::new(SlidingWindow {
            rate: rate as usize,
            window: per_token * Ticks::from(rate),
            grants: VecDeque::new(),
        }),
        "token-bucket" => Box::new(TokenBucket {
            per_token,
            capacity: per_token * Ticks::from(burst),
            level: per_token * Ticks::from(burst), // starts full
            last: 0,
        }),
        _ => Box::new(Gcra {
            interval: per_token,
            tolerance: per_token * Ticks::from(burst - 1),
            tat: 0,
        }),
    }
}

/// When each request was granted, for the metrics.
#[derive(Clone)]
struct GrantLog {
    clock: TickClock,
    grants: Arc<std::sync::Mutex<Vec<Ticks>>>,
}

impl GrantLog {
    fn new(clock: TickClock) -> Self {
        GrantLog {
            clock,
            grants: Arc::default(),
        }
    }

    /// Keep tick `at`; returns it in ms since the start.
    fn record(&self, at: Ticks) -> f64 {
        if let Ok(mut g) = self.grants.lock() {
            g.push(at);
        }
        self.clock.ms(at)
    }

    /// The latest grant, whole ms rounded down (exact: ticks are integers).
    fn last_ms(&self) -> u64 {
        let last = self
            .grants
            .lock()
            .ok()
            .and_then(|g| g.iter().max().copied())
            .unwrap_or(0);
        let per_ms = Ticks::from(self.clock.rate) * 1_000_000;
        u64::try_from(last / per_ms).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use crate::demo::runner::{RunRequest, run_blocking};
    use crate::demo::timeline::SeriesValue;
    use crate::demo::{Clock, RunReport, VariantRun};

    const ALL: [&str; 3] = ["sliding-window", "token-bucket", "gcra"];

    fn run(sets: &[&str]) -> RunReport {
        let sets: Vec<String> = sets.iter().map(|s| (*s).to_owned()).collect();
        let variants: Vec<String> = ALL.iter().map(|v| (*v).to_owned()).collect();
        let req = RunRequest::build("rate-limiter", &variants, &sets, Clock::Virtual).unwrap();
        let report = run_blocking(req).unwrap();
        for r in &report.runs {
            assert_eq!(r.error, None);
            assert_eq!(r.alive_after, 0);
        }
        report
    }

    /// Check every request against its exact grant time (ms, possibly fractional): the detail
    /// carries the exact grant, the lane and the `granted` mark end when tokio's timer wakes,
    /// which is the grant rounded up to a whole ms.
    fn assert_grants(run: &VariantRun, grants_ms: &[f64]) {
        let marks: Vec<f64> = run
            .timeline
            .marks
            .iter()
            .filter(|m| m.label == "granted")
            .map(|m| m.t_ms)
            .collect();
        let woke: Vec<f64> = grants_ms.iter().map(|g| g.ceil()).collect();
        assert_eq!(marks, woke, "{}: grant marks in FIFO order", run.variant);
        for (i, g) in grants_ms.iter().enumerate() {
            let t = run.timeline.task(&format!("request {}", i + 1)).unwrap();
            assert_eq!(t.detail, format!("granted at {g:.3} ms"), "{}", run.variant);
            assert_eq!(
                t.finished_ms,
                Some(g.ceil()),
                "{} request {}",
                run.variant,
                i + 1
            );
        }
        let last = grants_ms.iter().copied().fold(0.0, f64::max);
        assert_eq!(run.timeline.metric("last_grant_ms"), Some(last.floor()));
        assert_eq!(run.total_ms, last.ceil());
    }

    #[test]
    fn defaults_follow_the_spec_formulas() {
        let report = run(&[]);
        let (rate, window, burst, requests) = (3.0, 1000.0, 3.0, 8);
        // Sliding window: request k at floor((k-1)/rate) * window.
        let sliding: Vec<f64> = (1..=requests)
            .map(|k| ((k - 1) as f64 / rate).floor() * window)
            .collect();
        assert_eq!(
            sliding,
            [0.0, 0.0, 0.0, 1000.0, 1000.0, 1000.0, 2000.0, 2000.0]
        );
        assert_grants(report.run("sliding-window").unwrap(), &sliding);
        assert_eq!(report.run("sliding-window").unwrap().total_ms, 2000.0);
        // Token bucket and GCRA: request k at max(0, k-burst) * window / rate.
        let bucket: Vec<f64> = (1..=requests)
            .map(|k| (k as f64 - burst).max(0.0) * window / rate)
            .collect();
        assert_grants(report.run("token-bucket").unwrap(), &bucket);
        assert_grants(report.run("gcra").unwrap(), &bucket);
        assert_eq!(
            report.run("gcra").unwrap().timeline.metric("last_grant_ms"),
            Some(1666.0)
        );
        // The first three are granted as they arrive; the other five queue.
        for r in &report.runs {
            assert_eq!(r.timeline.metric("max_waiting"), Some(5.0));
        }
        let tokens = &report.run("token-bucket").unwrap().timeline.series["tokens"];
        assert_eq!(tokens, &vec![(0.0, SeriesValue::Num(0.0))]);
    }

    #[test]
    fn a_whole_number_of_intervals_is_not_rounded_down() {
        // 3 * (1000 / 3) ms is exactly 1000 ms, not 999.999999.
        let report = run(&["requests=6"]);
        for v in ["token-bucket", "gcra"] {
            let r = report.run(v).unwrap();
            assert_eq!(r.timeline.metric("last_grant_ms"), Some(1000.0));
            assert_eq!(r.total_ms, 1000.0);
        }
        let r = report.run("sliding-window").unwrap();
        assert_eq!(r.timeline.metric("last_grant_ms"), Some(1000.0));
    }

    #[test]
    fn spaced_arrivals_refill_the_bucket() {
        let report = run(&[
            "rate=2",
            "window_ms=1000",
            "burst=2",
            "requests=5",
            "arrival_gap_ms=200",
        ]);
        // Sliding window: two per second; request 3 waits for request 1 to leave the window.
        assert_grants(
            report.run("sliding-window").unwrap(),
            &[0.0, 200.0, 1000.0, 1200.0, 2000.0],
        );
        // Bucket of 2, one token every 500 ms: request 2 finds 1.4 tokens, request 3 only 0.4.
        let bucket = [0.0, 200.0, 500.0, 1000.0, 1500.0];
        assert_grants(report.run("token-bucket").unwrap(), &bucket);
        assert_grants(report.run("gcra").unwrap(), &bucket);
        let tokens = &report.run("token-bucket").unwrap().timeline.series["tokens"];
        let points: Vec<(f64, f64)> = tokens
            .iter()
            .map(|(t, v)| match v {
                SeriesValue::Num(n) => (*t, (n * 1000.0).round() / 1000.0),
                SeriesValue::Text(_) => (*t, f64::NAN),
            })
            .collect();
        assert_eq!(points, [(0.0, 1.0), (200.0, 0.4), (500.0, 0.0)]);
        // Requests arriving at 600 and 800 queue behind the one sleeping until 500 and 1000.
        let r = report.run("token-bucket").unwrap();
        assert_eq!(r.timeline.metric("max_waiting"), Some(2.0));
        let spawned: Vec<f64> = (1..=5)
            .map(|k| r.timeline.task(&format!("request {k}")).unwrap().spawned_ms)
            .collect();
        assert_eq!(spawned, [0.0, 200.0, 400.0, 600.0, 800.0]);
    }

    #[test]
    fn burst_one_spaces_every_request() {
        let report = run(&["rate=4", "window_ms=1000", "burst=1", "requests=5"]);
        let even = [0.0, 250.0, 500.0, 750.0, 1000.0];
        assert_grants(report.run("token-bucket").unwrap(), &even);
        assert_grants(report.run("gcra").unwrap(), &even);
        assert_grants(
            report.run("sliding-window").unwrap(),
            &[0.0, 0.0, 0.0, 0.0, 1000.0],
        );
    }
}
