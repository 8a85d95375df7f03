//! C1/Q12: three rate limiters on the same arrivals: a sliding window, a token bucket and GCRA.
//! Requests are granted first come, first served; only the head of the line sleeps.

mod shown;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::time::Instant;
use tokio_util::task::AbortOnDropHandle;

use crate::demo::{
    Ctx, DemoProgram, DemoSpec, DemoVariant, FromParams, VariantSpec, params, variants,
};
use shown::{Fair, Ticks, limiter, meter, run_requests};

pub struct RateLimiterDemo;

variants! {
    pub enum Variant {
        SlidingWindow => VariantSpec::single(
            "sliding-window",
            "at most `rate` grants in any window_ms: a queue of grant times",
        ),
        TokenBucket => VariantSpec::single(
            "token-bucket",
            "a bucket of `burst` tokens refilled at rate per window_ms; a request takes one",
        ),
        Gcra => VariantSpec::single(
            "gcra",
            "generic cell rate algorithm: one theoretical arrival time instead of tokens",
        ),
    }
}

params! {
    pub struct Config {
        rate: u32 = Int(1..=1000), "3", "requests allowed per window";
        window_ms: Duration = Ms(1..=60_000), "1000", "the window `rate` applies to";
        burst: u32 = Int(1..=1000), "3",
            "token-bucket and gcra: how many requests may go at once after a quiet spell";
        requests: usize = Int(1..=10_000), "8", "how many requests arrive";
        arrival_gap_ms: Duration = Ms(0..=60_000), "0",
            "time between arrivals (0: all arrive at once)";
    }
}

static SPEC: DemoSpec = DemoSpec {
    id: "rate-limiter",
    title: "Rate limiters: sliding window, token bucket, GCRA",
    about: "Requests ask a limiter allowing `rate` per `window_ms`. The sliding window grants in \
            batches of `rate`; the token bucket and GCRA grant a burst, then one request every \
            window_ms / rate.",
    variants: Variant::SPECS,
    default_variants: &[
        Variant::SlidingWindow.name(),
        Variant::TokenBucket.name(),
        Variant::Gcra.name(),
    ],
    params: Config::PARAMS,
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
    source: include_str!("rate_limiter/shown.rs"),
    source_file: "src/demo/catalog/rate_limiter/shown.rs",
};

impl DemoProgram for RateLimiterDemo {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
        let (rate, window, burst) = (cfg.rate.max(1), cfg.window_ms, cfg.burst.max(1));
        async move {
            let clock = TickClock {
                epoch: Instant::now(),
                rate,
            };
            match variant {
                Variant::TokenBucket => ctx.series("tokens", f64::from(burst)),
                Variant::SlidingWindow | Variant::Gcra => {}
            }
            let fair = Arc::new(Fair::new(limiter(variant, rate, window, burst), clock));
            // Only a bucket has a level to show. Aborted when dropped, so a cancelled run takes
            // it along.
            let meter = matches!(variant, Variant::TokenBucket).then(|| {
                let sampling = meter(ctx.clone(), Arc::clone(&fair), window);
                AbortOnDropHandle::new(tokio::spawn(sampling))
            });
            let log = GrantLog::new(clock);
            run_requests(&ctx, &fair, cfg.requests, cfg.arrival_gap_ms, &log).await;
            // The last request is granted: nothing left to refill for. Wait for the meter to be
            // gone, so the run leaves no task behind.
            if let Some(meter) = meter {
                meter.abort();
                let _ = meter.await;
            }
            ctx.metric("last_grant_ms", log.last_ms());
        }
        .boxed()
    }
}

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
