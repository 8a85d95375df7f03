use std::collections::VecDeque;
use std::sync::{Arc, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::{Instant, sleep_until};

use super::{GrantLog, TickClock, Variant};
use crate::demo::{Ctx, Ended, ctx::Gauge};

/// Limiter time: units of 1/rate ns since the start. window / rate (1000 ms / 3) is rarely a
/// whole number of nanoseconds; in ticks it is exactly `window_ns`, so no rounding ever adds up.
pub type Ticks = u128;

/// A limiter's bookkeeping. `check` says whether a request may go at `now` and, if not, when
/// it may; `take` records a grant at that tick.
pub trait Limiter {
    fn check(&mut self, now: Ticks) -> Option<Ticks>;
    fn take(&mut self, at: Ticks);
    /// Tokens in the bucket at `now`, for limiters that have a bucket.
    fn tokens_at(&self, _now: Ticks) -> Option<f64> {
        None
    }
    /// When the bucket is full again if nobody takes a token, for limiters that have a bucket.
    fn full_at(&self) -> Option<Ticks> {
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

    fn tokens_at(&self, now: Ticks) -> Option<f64> {
        Some(self.level_at(now) as f64 / self.per_token as f64)
    }

    fn full_at(&self) -> Option<Ticks> {
        Some(self.last + (self.capacity - self.level))
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

/// The limiter a variant uses, with its parameters turned into ticks.
pub fn limiter(
    variant: Variant,
    rate: u32,
    window: Duration,
    burst: u32,
) -> Box<dyn Limiter + Send> {
    // One emission interval, window / rate, is exactly window_ns ticks.
    let per_token: Ticks = window.as_nanos();
    match variant {
        Variant::SlidingWindow => Box::new(SlidingWindow {
            rate: rate as usize,
            window: per_token * Ticks::from(rate),
            grants: VecDeque::new(),
        }),
        Variant::TokenBucket => Box::new(TokenBucket {
            per_token,
            capacity: per_token * Ticks::from(burst),
            level: per_token * Ticks::from(burst), // starts full
            last: 0,
        }),
        Variant::Gcra => Box::new(Gcra {
            interval: per_token,
            tolerance: per_token * Ticks::from(burst - 1),
            tat: 0,
        }),
    }
}

/// First come, first served, with a bucket anyone may look at. Two locks, two jobs:
/// - `line`, an async mutex, queues requests in arrival order. The head of the line holds it
///   across check, sleep and take, so only the head sleeps and nobody overtakes it.
/// - `state`, a plain mutex, guards the limiter's numbers for a moment at a time and is never
///   held across an `.await`. So the meter can read the bucket while the head of the line sleeps;
///   with the numbers under the lock held across that sleep, nobody could until the next grant.
pub struct Fair {
    line: tokio::sync::Mutex<()>,
    state: std::sync::Mutex<Box<dyn Limiter + Send>>,
    /// Wakes a meter that is waiting on a full bucket.
    granted: Notify,
    clock: TickClock,
}

impl Fair {
    pub fn new(limiter: Box<dyn Limiter + Send>, clock: TickClock) -> Fair {
        Fair {
            line: tokio::sync::Mutex::new(()),
            state: std::sync::Mutex::new(limiter),
            granted: Notify::new(),
            clock,
        }
    }

    /// The limiter's numbers. Whoever held them last either read them or made one update, so
    /// even a holder that panicked left them whole: carry on.
    fn state(&self) -> MutexGuard<'_, Box<dyn Limiter + Send>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wait for a grant; returns the tick it was granted at.
    async fn acquire(&self, ctx: &Ctx) -> Ticks {
        let _head_of_line = self.line.lock().await;
        let now = self.clock.now();
        // Its own statement: in the `match` below, the guard would live on across the sleep.
        let due = self.state().check(now);
        let at = match due {
            None => now,
            Some(free_at) => {
                sleep_until(self.clock.instant(free_at)).await;
                // tokio's timer wakes on a whole millisecond; the grant was due at `free_at`.
                free_at
            }
        };
        let mut state = self.state();
        state.take(at);
        // The level at the instant it is drawn: the timer woke up to 1 ms after `at`, and the
        // bucket refilled meanwhile.
        if let Some(tokens) = state.tokens_at(self.clock.now()) {
            ctx.series("tokens", tokens);
        }
        drop(state);
        self.granted.notify_waiters();
        at
    }
}

/// The `tokens` strip's instrument, not part of the limiter. A grant records only the level it
/// leaves, so the refill between grants would never be seen: the meter samples the bucket every
/// quarter token while it refills, and waits for a grant while it is full. Its samples sit half
/// a sample off the token grid, between the grants of a busy line rather than on them. Where a
/// sample and a grant do share a millisecond (a request arriving then), both record the level
/// at that instant, so whichever goes last, the strip is the same. It has no lane (a plain
/// `tokio::spawn`) and is stopped once the last request is granted.
pub async fn meter(ctx: Ctx, fair: Arc<Fair>, window: Duration) {
    // One token is window_ns ticks, as in `limiter`.
    let per_token: Ticks = window.as_nanos();
    let (step, offset) = (per_token / 4, per_token / 8);
    loop {
        // Listening before looking: a grant made after the look still wakes us.
        let granted = fair.granted.notified();
        tokio::pin!(granted);
        granted.as_mut().enable();
        let full = {
            let state = fair.state();
            let now = fair.clock.now();
            if let Some(tokens) = state.tokens_at(now) {
                ctx.series("tokens", tokens);
            }
            state.full_at().is_none_or(|full| full <= now)
        };
        if full {
            granted.await;
        }
        let now = fair.clock.now();
        let next = match now.checked_sub(offset) {
            Some(since) => offset + (since / step + 1) * step,
            None => offset,
        };
        sleep_until(fair.clock.instant(next)).await;
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
pub async fn run_requests(ctx: &Ctx, limiter: &Arc<Fair>, n: usize, gap: Duration, log: &GrantLog) {
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
