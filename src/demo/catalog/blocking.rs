//! Q15: a blocking call inside an async task stops every other task on its thread.

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::{
    Clock, Ctx, DemoSpec, Ended, Flavor, LegacyDemo, ParamKind, ParamSpec, Params, VariantSpec,
};

pub struct Blocking;

static SPEC: DemoSpec = DemoSpec {
    id: "blocking",
    title: "Blocking the event loop",
    about: "A ticker ticks every tick_ms while a second task sleeps for block_ms. \
            std::thread::sleep holds the only thread, so the ticker misses its ticks; \
            tokio::time::sleep, or the sleep moved to the blocking pool, leaves the ticker on time.",
    variants: &[
        VariantSpec::single(
            "blocking",
            "std::thread::sleep inside the task: the runtime's only thread stops",
        ),
        VariantSpec::single(
            "async-sleep",
            "tokio::time::sleep: the task waits and the thread runs the ticker",
        ),
        VariantSpec {
            name: "spawn-blocking",
            help: "std::thread::sleep moved to tokio's blocking pool with spawn_blocking \
                   (real clock only)",
            clocks: &[Clock::Real],
            flavor: Flavor::CurrentThread,
            workers_param: None,
        },
    ],
    default_variants: &["blocking", "async-sleep"],
    params: &[
        ParamSpec {
            name: "tick_ms",
            kind: ParamKind::Ms {
                min: 1,
                max: 60_000,
            },
            default: "100",
            help: "the ticker's period",
        },
        ParamSpec {
            name: "block_ms",
            kind: ParamKind::Ms {
                min: 0,
                max: 60_000,
            },
            default: "500",
            help: "how long the blocker sleeps",
        },
        ParamSpec {
            name: "ticks",
            kind: ParamKind::Int { min: 1, max: 1000 },
            default: "10",
            help: "how many ticks the ticker makes",
        },
        ParamSpec {
            name: "block_after_ticks",
            kind: ParamKind::Int { min: 1, max: 1000 },
            default: "2",
            help: "the blocker sleeps right after this tick (capped at ticks)",
        },
    ],
    metrics: &[(
        "max_tick_gap_ms",
        "longest time between two ticks (tick_ms when nothing delays the ticker)",
    )],
    source: include_str!("blocking.rs"),
    source_file: file!(),
};

impl LegacyDemo for Blocking {
    fn spec(&self) -> &'static DemoSpec {
        &SPEC
    }

    fn run(&self, ctx: Ctx, variant: &'static str, params: Params) -> BoxFuture<'static, ()> {
        let period = params.ms("tick_ms");
        let block = params.ms("block_ms");
        let ticks = params.count("ticks");
        // Past the last tick there would be no tick to block after.
        let block_after = params.count("block_after_ticks").min(ticks);
        let how = match variant {
            "blocking" => How::ThreadSleep,
            "async-sleep" => How::AsyncSleep,
            _ => How::BlockingPool,
        };
        async move {
            let go = Arc::new(Notify::new());
            let ticker = ctx.spawn(
                "ticker",
                ticker(ctx.clone(), period, ticks, block_after, Arc::clone(&go)),
            );
            let blocker = ctx.spawn("blocker", blocker(ctx.clone(), how, block, go));
            let _ = ticker.await;
            let _ = blocker.await;
        }
        .boxed()
    }
}

// region:demo
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::{Instant, MissedTickBehavior};

/// Ticks every `period` and measures the gap since the previous tick: a gap longer than the
/// period means something held the thread when the tick was due.
async fn ticker(
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
enum How {
    ThreadSleep,
    AsyncSleep,
    BlockingPool,
}

async fn blocker(ctx: Ctx, how: How, block: Duration, go: Arc<Notify>) -> Ended {
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
// endregion:demo

#[cfg(test)]
mod tests {
    use crate::demo::runner::{self, RunReport, RunRequest};
    use crate::demo::{Clock, Outcome};

    fn run(variants: &[&str], sets: &[&str], clock: Clock) -> RunReport {
        let variants: Vec<String> = variants.iter().map(|v| v.to_string()).collect();
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let req = RunRequest::build("blocking", &variants, &sets, clock).unwrap();
        runner::run_blocking(req).unwrap()
    }

    fn tick_times(report: &RunReport, variant: &str) -> Vec<f64> {
        let r = report.run(variant).unwrap();
        r.timeline
            .marks
            .iter()
            .filter(|m| m.label.starts_with("tick "))
            .map(|m| m.t_ms)
            .collect()
    }

    /// Tick times on one thread: every `tick` ms, except that the tick after tick `after`
    /// waits for the blocking sleep when it is longer than the period.
    fn expected_ticks(tick: f64, block: f64, ticks: usize, after: usize, blocks: bool) -> Vec<f64> {
        let mut out = Vec::new();
        let mut t = 0.0;
        for n in 1..=ticks {
            out.push(t);
            let gap = if blocks && n == after {
                tick.max(block)
            } else {
                tick
            };
            t += gap;
        }
        out
    }

    fn check(sets: &[&str], tick: f64, block: f64, ticks: usize, after: usize) {
        let report = run(&[], sets, Clock::Virtual);
        assert_eq!(report.runs.len(), 2);
        for (variant, blocks) in [("blocking", true), ("async-sleep", false)] {
            let r = report.run(variant).unwrap();
            assert_eq!(r.alive_after, 0, "{variant}");
            assert_eq!(r.error, None, "{variant}");
            let tl = &r.timeline;
            let ticks_at = tick_times(&report, variant);
            assert_eq!(
                ticks_at,
                expected_ticks(tick, block, ticks, after, blocks),
                "{variant}"
            );
            let gap = if blocks && after < ticks {
                tick.max(block)
            } else {
                tick
            };
            let gap = if ticks == 1 { 0.0 } else { gap };
            assert_eq!(tl.metric("max_tick_gap_ms"), Some(gap), "{variant}");
            // The blocker sleeps right after tick `after`, for exactly block_ms.
            let sleep = tl.marks.iter().find(|m| m.label == "sleep").unwrap();
            let awake = tl.marks.iter().find(|m| m.label == "awake").unwrap();
            assert_eq!(sleep.t_ms, ticks_at[after - 1], "{variant}");
            assert_eq!(awake.t_ms - sleep.t_ms, block, "{variant}");
            let ticker = tl.task("ticker").unwrap();
            let blocker = tl.task("blocker").unwrap();
            assert_eq!(ticker.outcome, Outcome::Ok);
            assert_eq!(blocker.outcome, Outcome::Ok);
            let end = ticks_at[ticks - 1].max(awake.t_ms);
            assert_eq!(r.total_ms, end, "{variant}");
        }
    }

    #[test]
    fn defaults() {
        check(&[], 100.0, 500.0, 10, 2);
        // In numbers: the blocked ticker skips from 100 to 600 ms.
        let report = run(&["blocking"], &[], Clock::Virtual);
        assert_eq!(
            tick_times(&report, "blocking"),
            vec![
                0.0, 100.0, 600.0, 700.0, 800.0, 900.0, 1000.0, 1100.0, 1200.0, 1300.0
            ]
        );
        assert_eq!(report.runs[0].total_ms, 1300.0);
    }

    #[test]
    fn other_settings() {
        check(
            &[
                "tick_ms=50",
                "block_ms=320",
                "ticks=6",
                "block_after_ticks=4",
            ],
            50.0,
            320.0,
            6,
            4,
        );
        // A block shorter than the period delays nothing.
        check(
            &[
                "tick_ms=100",
                "block_ms=60",
                "ticks=5",
                "block_after_ticks=1",
            ],
            100.0,
            60.0,
            5,
            1,
        );
        // Blocking after the last tick: no tick is late (and the run still ends).
        check(
            &[
                "tick_ms=100",
                "block_ms=300",
                "ticks=3",
                "block_after_ticks=9",
            ],
            100.0,
            300.0,
            3,
            3,
        );
    }

    #[test]
    fn spawn_blocking_keeps_the_ticker_on_time_on_the_real_clock() {
        let report = run(
            &["spawn-blocking", "blocking"],
            &[
                "tick_ms=40",
                "block_ms=200",
                "ticks=8",
                "block_after_ticks=2",
            ],
            Clock::Real,
        );
        let r = report.run("spawn-blocking").unwrap();
        assert_eq!(r.alive_after, 0);
        assert_eq!(r.error, None);
        let gap = r.timeline.metric("max_tick_gap_ms").unwrap();
        assert!((35.0..100.0).contains(&gap), "spawn-blocking gap {gap}");
        assert!(r.timeline.task("blocking pool").is_some());
        let r = report.run("blocking").unwrap();
        let gap = r.timeline.metric("max_tick_gap_ms").unwrap();
        assert!((195.0..300.0).contains(&gap), "blocking gap {gap}");
    }
}
