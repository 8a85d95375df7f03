use std::time::Duration;

use tokio::time::{sleep, timeout};

use crate::demo::rng::SplitMix64;
use crate::demo::{Ctx, Ended};

#[derive(Clone, Copy)]
pub enum Jitter {
    /// The delay as computed: every client that failed together retries together.
    None,
    /// Anywhere in 0..=delay: spreads retries the most.
    Full,
    /// delay/2 plus up to delay/2: spread out, but never much shorter than planned.
    Equal,
}

#[derive(Clone, Copy)]
pub struct Policy {
    pub max_attempts: u32,
    /// How long one attempt may take: a call that hangs must not hang the retry loop.
    pub attempt_timeout: Duration,
    pub base: Duration,
    pub max_delay: Duration,
    pub jitter: Jitter,
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

/// An operation that fails its first `failures` attempts, then succeeds. The first `hangs` of
/// those failures never answer at all.
#[derive(Clone, Copy)]
pub struct FlakyOp {
    pub failures: u32,
    pub hangs: u32,
    pub duration: Duration,
}

impl FlakyOp {
    async fn attempt(self, n: u32, limit: Duration) -> Ended {
        let call = async {
            if n <= self.hangs.min(self.failures) {
                std::future::pending::<()>().await; // no answer, ever
            }
            sleep(self.duration).await;
            if n <= self.failures {
                Ended::error(format!("attempt {n} failed"))
            } else {
                Ended::ok(format!("attempt {n} succeeded"))
            }
        };
        // Dropping the call at the limit cancels it; the loop retries as for any failure.
        match timeout(limit, call).await {
            Ok(ended) => ended,
            Err(_) => Ended::timeout(format!(
                "attempt {n}: no answer within {} ms",
                limit.as_millis()
            )),
        }
    }
}

pub async fn retry(ctx: Ctx, policy: Policy, op: FlakyOp, mut rng: SplitMix64) -> Ended {
    let mut waited = Duration::ZERO;
    let mut n = 1;
    let result = loop {
        ctx.mark(format!("attempt {n}"));
        // Each attempt is its own lane, so the backoff gaps between them show.
        let attempt = op.attempt(n, policy.attempt_timeout);
        let ended = ctx.instrument(format!("attempt {n}"), attempt).await;
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
