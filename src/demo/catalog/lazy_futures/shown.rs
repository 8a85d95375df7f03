use std::time::Duration;

use tokio::time::Instant;

use crate::demo::{Ctx, Ended};

/// Some work. Its body, this first line included, runs only when the future is polled.
async fn work(ctx: Ctx, duration: Duration) -> Ended {
    ctx.mark("first poll: the body starts");
    tokio::time::sleep(duration).await;
    Ended::ok(format!("{} ms of work", duration.as_millis()))
}

pub async fn lazy(ctx: &Ctx, delay: Duration, work_time: Duration) {
    let start = Instant::now();
    // Calling an async fn only builds a future: none of the three has started.
    let at_once = ctx.instrument("awaited at once", work(ctx.clone(), work_time));
    let later = ctx.instrument("awaited later", work(ctx.clone(), work_time));
    let never = ctx.instrument("never awaited", work(ctx.clone(), work_time));
    ctx.mark("three futures created");

    // Awaiting polls it: it runs now, from 0 to work_ms.
    at_once.await;
    // Main waits until delay_ms after the start; `later` sits there, not running.
    tokio::time::sleep_until(start + delay).await;
    // Its first poll is now: it runs from delay_ms to delay_ms + work_ms.
    later.await;
    // Dropped without ever being polled: it never started, and its body never ran at all.
    drop(never);
    ctx.mark("never-awaited future dropped: it never started");
}
