use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use crate::demo::{Ctx, Ended};

pub async fn lab(ctx: Ctx, run: Duration, block: Duration, self_wakes: usize) {
    let ticks = Arc::new(AtomicUsize::new(0));
    let woke = Arc::new(AtomicUsize::new(0));

    // Healthy: sleeps, wakes, does a little, sleeps again. Mostly idle in the console.
    let t = Arc::clone(&ticks);
    ctx.spawn("ticker", async move {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            t.fetch_add(1, Ordering::Relaxed);
        }
    });

    // Busy: once a second one poll holds the thread for `block` (CPU work, no await inside).
    // The console shows a high busy time and flags polls longer than its threshold.
    let c = ctx.clone();
    ctx.spawn("long poll", async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            c.mark("long poll starts");
            c.cpu_work(block);
        }
    });

    // Wakes itself before returning Pending: the console counts self-wakes and lints a task
    // whose wake-ups mostly come from itself (a busy-wait in disguise).
    let w = Arc::clone(&woke);
    ctx.spawn("self-waker", async move {
        loop {
            SelfWake {
                left: self_wakes,
                woke: Arc::clone(&w),
            }
            .await;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });

    // Returns Pending without keeping the waker: nothing can ever wake it again. The console
    // shows it idle with no wakers: the lost-waker lint.
    ctx.spawn("lost waker", LostWaker);

    // Waits on something that never happens; it keeps its waker, so it is merely idle forever.
    ctx.spawn("never finishes", async {
        std::future::pending::<()>().await;
        Ended::ok("")
    });

    tokio::time::sleep(run).await;
    ctx.metric("ticks", ticks.load(Ordering::Relaxed));
    ctx.metric("self_wakes", woke.load(Ordering::Relaxed));
    // Returning ends the run: the engine aborts the tasks that are still going.
}

/// Pending `left` times, waking itself each time, then Ready.
struct SelfWake {
    left: usize,
    woke: Arc<AtomicUsize>,
}

impl Future for SelfWake {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.left == 0 {
            return Poll::Ready(());
        }
        self.left -= 1;
        self.woke.fetch_add(1, Ordering::Relaxed);
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Pending forever, and drops the waker on the floor.
struct LostWaker;

impl Future for LostWaker {
    type Output = Ended;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Ended> {
        Poll::Pending
    }
}
