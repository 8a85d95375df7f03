//! Q16: a demo made to be looked at with tokio-console. Each task misbehaves the way the console's
//! lints look for: one polls for too long, one wakes itself, one loses its waker, one never ends.
//! Run it live (`asyncdojo --console`, or `asyncdojo run console-lab --clock real --console`) and
//! watch `tokio-console` in a second terminal.

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::{
    Clock, Ctx, DemoSpec, Ended, Flavor, LegacyDemo, ParamKind, ParamSpec, Params, VariantSpec,
};

pub struct ConsoleLab;

static SPEC: DemoSpec = DemoSpec {
    id: "console-lab",
    title: "Tasks to inspect with tokio-console",
    about: "A healthy ticker next to a task whose polls are too long, one that wakes itself, one \
            that loses its waker and one that never finishes: the cases tokio-console's busy/idle \
            columns and its lints are there to catch.",
    variants: &[VariantSpec {
        name: "inspect",
        help: "all five tasks on one current-thread runtime",
        clocks: &[Clock::Real, Clock::Virtual],
        flavor: Flavor::CurrentThread,
        workers_param: None,
    }],
    default_variants: &["inspect"],
    params: &[
        ParamSpec {
            name: "run_ms",
            kind: ParamKind::Ms {
                min: 100,
                max: 300_000,
            },
            default: "30000",
            help: "how long the lab runs (long enough to look around in tokio-console)",
        },
        ParamSpec {
            name: "block_ms",
            kind: ParamKind::Ms { min: 0, max: 5_000 },
            default: "300",
            help: "how long each poll of `long poll` holds the thread, once a second",
        },
        ParamSpec {
            name: "self_wakes",
            kind: ParamKind::Int {
                min: 0,
                max: 10_000,
            },
            default: "100",
            help: "how many times `self-waker` wakes itself per round",
        },
    ],
    metrics: &[
        ("ticks", "ticks of the healthy ticker"),
        ("self_wakes", "times self-waker woke itself"),
    ],
    source: include_str!("console_lab.rs"),
    source_file: file!(),
};

impl LegacyDemo for ConsoleLab {
    fn spec(&self) -> &'static DemoSpec {
        &SPEC
    }

    fn run(&self, ctx: Ctx, _variant: &'static str, params: Params) -> BoxFuture<'static, ()> {
        let run = params.ms("run_ms");
        let block = params.ms("block_ms");
        let self_wakes = params.count("self_wakes");
        async move { lab(ctx, run, block, self_wakes).await }.boxed()
    }
}

// region:demo
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

async fn lab(ctx: Ctx, run: Duration, block: Duration, self_wakes: usize) {
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
// endregion:demo

#[cfg(test)]
mod tests {
    use crate::demo::{Clock, Outcome, RunRequest, runner};

    #[test]
    fn every_misbehaving_task_is_there_and_the_run_ends_cleanly() {
        let req = RunRequest::build(
            "console-lab",
            &[],
            &["run_ms=2500".into(), "self_wakes=10".into()],
            Clock::Virtual,
        )
        .expect("request");
        let report = runner::run_blocking(req).expect("run");
        let run = &report.runs[0];
        // Main's 2.5 s sleep is due while `long poll` holds the thread (2300..2600 ms): even the
        // end of the run is late by what a long poll costs everyone else.
        assert_eq!(run.total_ms, 2600.0);
        assert_eq!(run.alive_after, 0);
        let tl = &run.timeline;
        // 100 ms ticks for 2.5 s, less the two 300 ms stalls the long polls cause.
        assert!(
            tl.metric("ticks")
                .is_some_and(|t| (18.0..=25.0).contains(&t)),
            "{:?}",
            tl.metrics
        );
        // Three rounds of ten self-wakes start within 2.5 s (at 0, ~500 and ~1000+ ms ...).
        assert!(
            tl.metric("self_wakes").is_some_and(|w| w >= 30.0),
            "{:?}",
            tl.metrics
        );
        let long = tl.task("long poll").expect("lane");
        let longest = long.polls.iter().map(|(a, b)| b - a).fold(0.0, f64::max);
        assert_eq!(longest, 300.0, "one poll holds the thread for block_ms");
        let lost = tl.task("lost waker").expect("lane");
        assert_eq!(lost.polls.len(), 1, "polled once, never woken again");
        for name in [
            "ticker",
            "long poll",
            "self-waker",
            "lost waker",
            "never finishes",
        ] {
            assert_eq!(
                tl.task(name).map(|t| t.outcome),
                Some(Outcome::Cancelled),
                "{name}"
            );
        }
    }
}
