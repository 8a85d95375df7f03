use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::{Instant, MissedTickBehavior};

use crate::demo::{Ctx, Ended};

/// Ticks every `period` and measures the gap since the previous tick: a gap longer than the
/// period means something held the thread when the tick was due.
pub async fn ticker(
    ctx: Ctx,
    period: Duration,
    ticks: usize,
    block_after: usize,
    go: Arc<Notify>,
) -> Ended {
    let mut interval = tokio::time::interval(period);
    // After a late tick, carry on one period later instead of bursting to catch up.
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last: Option<Instant> = None;
    let mut max_gap = Duration::ZERO;
    for n in 1..=ticks {
        interval.tick().await;
        let now = Instant::now();
        if let Some(prev) = last {
            let gap = now - prev;
            max_gap = max_gap.max(gap);
            ctx.series("tick_gap_ms", gap.as_secs_f64() * 1000.0);
        }
        last = Some(now);
        ctx.mark(format!("tick {n}"));
        if n == block_after {
            go.notify_one(); // the blocker starts right after this tick
        }
    }
    let max_gap_ms = u64::try_from(max_gap.as_millis()).unwrap_or(u64::MAX);
    ctx.metric("max_tick_gap_ms", max_gap_ms);
    Ended::ok(format!("longest gap {max_gap_ms} ms"))
}

#[derive(Clone, Copy)]
pub enum How {
    ThreadSleep,
    AsyncSleep,
    BlockingPool,
}

pub async fn blocker(ctx: Ctx, how: How, block: Duration, go: Arc<Notify>) -> Ended {
    go.notified().await;
    ctx.mark("sleep");
    match how {
        // std::thread::sleep(block) (moving the paused clock on the virtual one): this
        // thread runs nothing else, ticker included, until it returns.
        How::ThreadSleep => ctx.block_thread(block),
        // The task waits; the thread goes back to the event loop and the ticker ticks on time.
        How::AsyncSleep => tokio::time::sleep(block).await,
        // The blocking call runs on a thread of tokio's blocking pool; this task just awaits it.
        How::BlockingPool => {
            let pool = ctx.spawn_blocking("blocking pool", move || {
                std::thread::sleep(block);
                Ended::ok("")
            });
            let _ = pool.await;
        }
    }
    ctx.mark("awake");
    Ended::ok(format!("slept {} ms", block.as_millis()))
}
