use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::{Instant, MissedTickBehavior};

use crate::demo::{Ctx, Ended};

/// Hands `jobs` blocking calls to tokio's blocking pool at once, while a ticker runs on the
/// runtime's thread. The runtime was built with `max_blocking_threads(n)`: n jobs run, the
/// others wait in the pool's queue until a thread comes free.
pub async fn main(ctx: Ctx, jobs: usize, job: Duration, tick: Duration) {
    let done = Arc::new(Notify::new());
    let ticker = ctx.spawn("ticker", ticker(ctx.clone(), tick, Arc::clone(&done)));
    let handed_over = Instant::now();
    let (started_tx, started) = mpsc::channel();
    let mut handles = Vec::new();
    for k in 1..=jobs {
        let (job_ctx, started_tx) = (ctx.clone(), started_tx.clone());
        handles.push(ctx.spawn_blocking(format!("job {k}"), move || {
            // The job runs from here, on a pool thread: until one was free it waited in the queue.
            let waited = handed_over.elapsed();
            let _ = started_tx.send(waited);
            // std::thread::sleep(job), a blocking call (on the virtual clock only this pool
            // thread waits for the paused clock to move on): the thread is held, the runtime not.
            job_ctx.block_thread(job);
            Ended::ok(format!("waited {} ms for a thread", waited.as_millis()))
        }));
    }
    for handle in handles {
        let _ = handle.await;
    }
    done.notify_one();
    let _ = ticker.await;
    drop(started_tx);
    let last = started.iter().max().unwrap_or_default();
    ctx.metric(
        "last_start_ms",
        u64::try_from(last.as_millis()).unwrap_or(u64::MAX),
    );
}

/// Ticks every `period` until the jobs are done, and measures the gap since the previous tick:
/// a gap longer than the period would mean something held the runtime's thread.
async fn ticker(ctx: Ctx, period: Duration, done: Arc<Notify>) -> Ended {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let (mut last, mut max_gap, mut n) = (None::<Instant>, Duration::ZERO, 0);
    loop {
        tokio::select! {
            biased;
            () = done.notified() => break,
            _ = interval.tick() => {
                let now = Instant::now();
                if let Some(prev) = last {
                    max_gap = max_gap.max(now - prev);
                    ctx.series("tick_gap_ms", (now - prev).as_secs_f64() * 1000.0);
                }
                last = Some(now);
                n += 1;
                ctx.mark(format!("tick {n}"));
            }
        }
    }
    let max_gap_ms = u64::try_from(max_gap.as_millis()).unwrap_or(u64::MAX);
    ctx.metric("max_tick_gap_ms", max_gap_ms);
    Ended::ok(format!("{n} ticks, longest gap {max_gap_ms} ms"))
}
